"""Forms of the staff pages of admissions."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment
from tremplin.admissions.forms import ContactCleaning
from tremplin.admissions.intakes import TrackPlaces, current_places, rules_frozen
from tremplin.admissions.models import Intake, PrivacyNotice
from tremplin.core.i18n import localized
from tremplin.core.identifiers import ascii_digits
from tremplin.core.text import reading_order
from tremplin.schools.models import Commune, Province, Track

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# More than any school's track holds: a typo of a few zeros is refused, not stored (on
# PostgreSQL a total beyond 2**31 would not even fit its column).
MAX_SEATS = 10_000
# The age reference date of a call: usually its closing date or the start of the training.
REFERENCE_DATE_SPAN = datetime.timedelta(days=366)
# The years a call's dates may fall in. A closing date in 9999 ("no end") would break the
# dates computed from it (the reference date's span, the erasure date) with a server error.
YEARS = (2000, 2100)
# The slugs that name a page under /staff/<school>/intakes/.
RESERVED_SLUGS = frozenset({"new"})
# The fields of a call's eligibility rules, in the order of the form.
RULE_FORM_FIELDS = (
    "reference_date", "min_age", "max_age", "provinces", "communes",
    "education_levels", "employment_situations", "required_documents",
)  # fmt: skip


class InReadingOrder(forms.models.ModelChoiceIterator):
    """A field's places by their names in the page's language as readers expect them
    (``reading_order``), a commune after its province; sorted here, since neither database
    orders Arabic so (each form of alef apart) nor French without a function."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)

        def key(place):
            names = [place.province, place] if isinstance(place, Commune) else [place]
            return [reading_order(localized(p, "name")) for p in names]

        for place in sorted(self.queryset, key=key):
            yield self.choice(place)


def _in_years(value):
    """``value``, a date-time, refused when its year is not in ``YEARS``. (The reference date
    needs no such check: it must fall within a year of these two.)"""
    if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
        raise ValidationError(
            _("Give a date between %(first)s and %(last)s.") % {"first": YEARS[0], "last": YEARS[1]}
        )
    return value


class LocalDigits:
    """A date or date-time field that reads the digits of an Arabic keyboard too
    (٢١/٠٣/٢٠٢٦)."""

    def to_python(self, value):
        return super().to_python(ascii_digits(value) if isinstance(value, str) else value)


class LocalDigitsDateField(LocalDigits, forms.DateField):
    pass


class LocalDigitsDateTimeField(LocalDigits, forms.DateTimeField):
    pass


# ModelForm builds its choice fields at class creation: without a scope then (the real
# querysets are set per school in __init__).
with scopes_disabled():

    class IntakeForm(forms.ModelForm):
        education_levels = forms.MultipleChoiceField(
            label=_("Accepted education levels (none ticked: all)"),
            choices=EducationLevel.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        employment_situations = forms.MultipleChoiceField(
            label=_("Accepted situations (none ticked: all)"),
            choices=Employment.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        required_documents = forms.MultipleChoiceField(
            label=_("Required documents"),
            choices=DocumentKind.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )

        class Meta:
            model = Intake
            field_classes = {
                "opens_at": LocalDigitsDateTimeField,
                "closes_at": LocalDigitsDateTimeField,
                "reference_date": LocalDigitsDateField,
            }
            fields = [
                "title", "title_ar", "slug", "description", "description_ar",
                "opens_at", "closes_at", *RULE_FORM_FIELDS, "privacy_notice",
            ]  # fmt: skip
            # Each text in its own direction whatever the page's: French (and the slug) left
            # to right on an Arabic page, Arabic right to left on a French one.
            widgets = {
                "opens_at": DATETIME,
                "closes_at": DATETIME,
                "reference_date": DATE,
                "title": forms.TextInput(attrs={"dir": "ltr", "lang": "fr"}),
                "title_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
                "slug": forms.TextInput(attrs={"dir": "ltr"}),
                "description": forms.Textarea(attrs={"rows": 3, "dir": "ltr", "lang": "fr"}),
                "description_ar": forms.Textarea(attrs={"rows": 3, "dir": "rtl", "lang": "ar"}),
                "provinces": forms.SelectMultiple(attrs={"size": 6}),
                "communes": forms.SelectMultiple(attrs={"size": 6}),
            }
            error_messages = {
                # Django's own says "slug", a word staff do not use.
                "slug": {
                    "invalid": _(
                        "Use only lower-case letters without accents, digits and hyphens, "
                        "such as promotion-2026: it is the call's address."
                    )
                }
            }

        def __init__(self, *args, school, **kwargs):
            super().__init__(*args, **kwargs)
            self.school = school
            self.fields["privacy_notice"].queryset = PrivacyNotice.objects.filter(school=school)
            # In the page's language, in the portal's order (``reading_order``), and each
            # commune with its province: several communes bear the name of their province
            # (Es-Semara, Boujdour).
            # The iterator first: setting the queryset hands the widget its choices.
            self.fields["provinces"].iterator = InReadingOrder
            self.fields["provinces"].queryset = Province.objects.all()
            self.fields["provinces"].label_from_instance = lambda p: localized(p, "name")
            self.fields["communes"].iterator = InReadingOrder
            self.fields["communes"].queryset = Commune.objects.select_related("province")
            self.fields["communes"].label_from_instance = lambda c: (
                f"{localized(c, 'name')} — {localized(c.province, 'name')}"
            )
            # A click on a desktop's list replaces what was chosen: say how to choose several.
            several = _("To choose several, hold Ctrl (⌘ on a Mac) as you click.")
            self.fields["provinces"].help_text = several
            self.fields["communes"].help_text = format_lazy(
                "{} {}",
                _(
                    "Applicants living in one of the provinces or in one of the communes chosen "
                    "are eligible (none chosen: wherever they live)."
                ),
                several,
            )
            self.fields["opens_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
            self.fields["closes_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
            self.fields["reference_date"].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
            if self.instance.pk and self.instance.status != Intake.Status.DRAFT:
                # Its public address is on posters and in messages already sent.
                self.fields["slug"].disabled = True
                self.fields["slug"].help_text = _(
                    "The address of a call that has opened stays as it is: links to it are "
                    "already shared."
                )
            from tremplin.selection.schemes import published_run  # selection builds on this

            published = self.instance.pk and published_run(self.instance)
            # A page opened before the publication sends its rules: the service then refuses
            # a change of them, with its reason, rather than the form ignoring it.
            if published and not any(name in self.data for name in RULE_FORM_FIELDS):
                # Its decisions were taken on them: shown as they are, not offered to change.
                for name in RULE_FORM_FIELDS:
                    self.fields[name].disabled = True
                self.fields[RULE_FORM_FIELDS[0]].help_text = rules_frozen(published)
            attached = {}
            if self.instance.pk:
                attached = {it.track_id: it for it in self.instance.intake_tracks.all()}
            current = current_places(self.instance, attached)
            # Every track the call holds, inactive ones too, so that its seats add up to
            # what staff see; and the school's active tracks, to add one.
            self.tracks = list(
                Track.objects.filter(
                    Q(kind=Track.Kind.TRACK, is_active=True) | Q(pk__in=attached),
                    school=school,
                )
            )
            for track in self.tracks:
                places = current.get(track.pk, TrackPlaces(seats=0))
                self.fields[f"track_{track.pk}"] = forms.IntegerField(
                    label=_("Seats in %(track)s") % {"track": track},
                    min_value=0,
                    max_value=MAX_SEATS,
                    initial=places.seats,
                    required=False,
                )
                self.fields[f"waitlist_{track.pk}"] = forms.IntegerField(
                    label=_("Waiting list of %(track)s") % {"track": track},
                    min_value=0,
                    max_value=MAX_SEATS,
                    initial=places.waitlist,
                    required=False,
                )

        def general_fields(self) -> list:
            """The fields of the call itself; the tracks' are laid out as a table."""
            return [f for f in self if not f.name.startswith(("track_", "waitlist_"))]

        def track_rows(self) -> list:
            """(track, seats field, waiting-list field) for each track of the form."""
            return [
                (track, self[f"track_{track.pk}"], self[f"waitlist_{track.pk}"])
                for track in self.tracks
            ]

        def clean_slug(self):
            slug = self.cleaned_data["slug"]
            if "slug" in self.changed_data:
                # An address typed from a poster: "Promotion-2026" is "promotion-2026".
                slug = slug.lower()
            # Checked when it changes: a call that has opened keeps its address, whatever it is.
            if slug in RESERVED_SLUGS and "slug" in self.changed_data:
                # /staff/<school>/intakes/new/ is the page that creates a call.
                raise ValidationError(
                    _("“%(slug)s” names a page of the site: choose another slug.") % {"slug": slug}
                )
            clash = Intake.objects.filter(school=self.school, slug__iexact=slug).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                raise ValidationError(_("Another call of the school already uses this slug."))
            return slug

        def clean_opens_at(self):
            opens = self.cleaned_data["opens_at"]
            # Checked when it changes: once references carry its year, an opening cannot
            # leave that year (``intakes._refuse_another_year``), odd as the year may be.
            return _in_years(opens) if "opens_at" in self.changed_data else opens

        def clean_closes_at(self):
            return _in_years(self.cleaned_data["closes_at"])

        def clean(self):
            cleaned = super().clean()
            opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
            if opens and closes and closes <= opens:
                self.add_error("closes_at", _("The closing date must come after the opening."))
            elif (
                closes
                and "closes_at" in self.changed_data
                and closes <= timezone.now()
                and self.instance.status != Intake.Status.CLOSED
            ):
                self.add_error(
                    "closes_at",
                    _(
                        "This closing date is already past: applicants could no longer apply "
                        "nor correct their application. To stop the applications now, close "
                        "the call from its page."
                    ),
                )
            reference = cleaned.get("reference_date")
            # Checked when one of its dates changes: a call saved before the check (a
            # published one, whose rules no longer change) keeps being editable.
            dates = {"reference_date", "opens_at", "closes_at"}
            if (
                dates & set(self.changed_data)
                and reference
                and opens
                and closes
                and not (
                    opens.date() - REFERENCE_DATE_SPAN
                    <= reference
                    <= closes.date() + REFERENCE_DATE_SPAN
                )
            ):
                self.add_error(
                    "reference_date",
                    _(
                        "Ages are computed on this date: give one within a year of the call's "
                        "dates (usually its closing date or the start of the training)."
                    ),
                )
            low, high = cleaned.get("min_age"), cleaned.get("max_age")
            if low is not None and high is not None and low > high:
                self.add_error("max_age", _("The maximum age must be at least the minimum age."))
            places = self.track_places()
            # The tracks whose seats are refused (negative, too many): said alone.
            refused = {track for track in self.tracks if f"track_{track.pk}" in self.errors}
            if not refused and not any(p.seats for p in places.values()):
                # On the first track's seats, next to the table, where they are given.
                first = f"track_{self.tracks[0].pk}" if self.tracks else None
                self.add_error(first, _("Give seats to at least one track."))
            for track, p in places.items():
                if track in refused:  # its seats are refused already
                    continue
                if p.waitlist and not p.seats:
                    self.add_error(
                        f"waitlist_{track.pk}",
                        _("A track outside the call has no waiting list: give it seats first."),
                    )
            return cleaned

        def track_places(self) -> dict:
            """Seats and waiting list typed for each track (Track -> TrackPlaces)."""
            value = self.cleaned_data.get
            return {
                track: TrackPlaces(
                    seats=value(f"track_{track.pk}") or 0,
                    waitlist=value(f"waitlist_{track.pk}") or 0,
                )
                for track in self.tracks
            }


class PrivacyNoticeForm(forms.ModelForm):
    def clean_cndp_authorisation(self):
        number = self.cleaned_data["cndp_authorisation"]
        # A call cannot open without it: a dash or "à venir" would stand in for it.
        if not any(ch.isdigit() for ch in number):
            raise ValidationError(
                _(
                    "Give the authorisation number as the CNDP wrote it on its decision (for "
                    "example A-GC-123/2025)."
                )
            )
        return number

    class Meta:
        model = PrivacyNotice
        fields = ["cndp_authorisation", "text", "text_ar"]
        widgets = {
            "cndp_authorisation": forms.TextInput(attrs={"dir": "ltr"}),
            "text": forms.Textarea(attrs={"rows": 10, "dir": "ltr", "lang": "fr"}),
            "text_ar": forms.Textarea(attrs={"rows": 10, "dir": "rtl", "lang": "ar"}),
        }
        help_texts = {
            "text": _(
                "The application form shows after this text the CNDP number and the date on "
                "which the data of applicants who do not join the school is erased (from the "
                "platform's retention period): do not write them in the text."
            ),
        }


def staff_reason(**options) -> forms.CharField:
    """The reason staff give for a decision about an application, kept in the audit log."""
    return forms.CharField(
        label=_("Reason"),
        max_length=1000,
        # Staff may write in French on an Arabic page, or the other way round.
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        **options,
    )


class EligibilityDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("eligible", _("eligible")),
            ("ineligible", _("not eligible")),
            ("rules", _("let the rules decide again")),
        ],
        widget=forms.RadioSelect,
    )
    reason = staff_reason(
        help_text=_(
            "Recorded in the audit log. For a decision of “not eligible”, the applicant also "
            "reads it in their space, as written here: write it for them."
        ),
    )

    def __init__(self, *args, decided_by_staff: bool = False, frozen: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        decision = self.fields["decision"]
        if frozen:
            # Not eligible, the ranking published: it stays so (``screening.
            # _check_published_allows``), its reason can still be written again.
            shown = decision.choices[1:2]
            decision.initial = "ineligible"
        elif not decided_by_staff:  # the rules decide already: nothing to give back
            shown = decision.choices[:2]
        else:
            shown = decision.choices
        if self.is_bound:
            # Shown again with an error, the form offers the same; but a page left open (a
            # colleague gave the decision back, a ranking published since) still sends the
            # others, which the service answers, saying why.
            decision.widget.choices = shown
        else:
            decision.choices = shown


class ContactForm(ContactCleaning, forms.Form):
    """Staff correct the contact details of an application, as its applicant asked."""

    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=25,
        widget=forms.TextInput(attrs={"type": "tel", "dir": "ltr"}),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"dir": "ltr"}),
    )
    reason = staff_reason(
        help_text=_(
            "How the applicant asked for it (a call, a visit), without the number or the "
            "address: recorded in the audit log."
        ),
        error_messages={"required": _("Give the reason for this correction.")},
    )

    def __init__(self, *args, **kwargs):
        # Its own ids: the eligibility decision's form, on the same page, has a reason too
        # (a label would put the cursor in the other form's box).
        kwargs.setdefault("auto_id", "contact_%s")
        super().__init__(*args, **kwargs)


class ErasureForm(forms.Form):
    """Erasing is irreversible: the reason, and an explicit confirmation that works without
    JavaScript."""

    reason = staff_reason(error_messages={"required": _("Give the reason for this deletion.")})
    confirm = forms.BooleanField(
        label=_("I understand that this erasure cannot be undone."),
        error_messages={
            "required": _(
                "Nothing was erased: tick “I understand that this erasure cannot be undone” "
                "to confirm."
            )
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "erase_%s")  # beside the eligibility form's fields
        super().__init__(*args, **kwargs)
