"""Forms of the staff pages of admissions."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment
from tremplin.admissions.intakes import TrackPlaces, current_places
from tremplin.admissions.models import Intake, PrivacyNotice
from tremplin.schools.models import Commune, Province, Track

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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
            fields = [
                "title", "title_ar", "slug", "description", "description_ar",
                "opens_at", "closes_at",
                "reference_date", "min_age", "max_age", "provinces", "communes",
                "education_levels", "employment_situations", "required_documents",
                "privacy_notice",
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

        def __init__(self, *args, school, **kwargs):
            super().__init__(*args, **kwargs)
            self.school = school
            self.fields["privacy_notice"].queryset = PrivacyNotice.objects.filter(school=school)
            self.fields["provinces"].queryset = Province.objects.order_by("name")
            self.fields["communes"].queryset = Commune.objects.select_related("province").order_by(
                "province__name", "name"
            )
            self.fields["opens_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
            self.fields["closes_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
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
                    initial=places.seats,
                    required=False,
                )
                self.fields[f"waitlist_{track.pk}"] = forms.IntegerField(
                    label=_("Waiting list of %(track)s") % {"track": track},
                    min_value=0,
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
            clash = Intake.objects.filter(school=self.school, slug=slug).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                raise ValidationError(_("Another call of the school already uses this slug."))
            return slug

        def clean(self):
            cleaned = super().clean()
            opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
            if opens and closes and closes <= opens:
                self.add_error("closes_at", _("The closing date must come after the opening."))
            low, high = cleaned.get("min_age"), cleaned.get("max_age")
            if low is not None and high is not None and low > high:
                self.add_error("max_age", _("The maximum age must be at least the minimum age."))
            places = self.track_places()
            if not any(p.seats for p in places.values()):
                self.add_error(None, _("Give seats to at least one track."))
            for track, p in places.items():
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
    class Meta:
        model = PrivacyNotice
        fields = ["cndp_authorisation", "text", "text_ar"]
        widgets = {
            "cndp_authorisation": forms.TextInput(attrs={"dir": "ltr"}),
            "text": forms.Textarea(attrs={"rows": 10, "dir": "ltr", "lang": "fr"}),
            "text_ar": forms.Textarea(attrs={"rows": 10, "dir": "rtl", "lang": "ar"}),
        }


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
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        # Staff may write in French on an Arabic page, or the other way round.
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=_(
            "Recorded in the audit log. For a decision of “not eligible”, the applicant also "
            "reads it in their space, as written here: write it for them."
        ),
    )


class ErasureForm(forms.Form):
    """Erasing is irreversible: the reason, and an explicit confirmation that works without
    JavaScript."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        error_messages={"required": _("Give the reason for this deletion.")},
    )
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
