"""Forms of the applicant portal. They clean values; the rules live in services and
eligibility."""

import calendar
import datetime
import functools
import logging
import re

from django import forms
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tremplin.admissions import held_uploads
from tremplin.admissions.choices import DocumentKind, EducationLevel, Employment, Sex
from tremplin.admissions.portal_reads import Geography
from tremplin.admissions.references import make_reference
from tremplin.admissions.uploads import safe_original_name, validate_document
from tremplin.core.i18n import localized
from tremplin.core.identifiers import ascii_digits, normalize_cin, normalize_phone
from tremplin.core.text import is_name_in, parse_id, reading_order, refuse_control_characters

logger = logging.getLogger(__name__)

MAX_WISHES = 3
# Said on the file fields of a form shown again in another language: the language buttons
# do not send the files (``views_portal._as_typed``).
FILES_NOT_KEPT_ON_SWITCH = _(
    "If you had chosen this file, choose it again: changing the language does not keep files."
)
NOT_A_CIN = _("This is not a CIN number: one or two letters then digits, like AB123456.")
# A reference as ``references.make_reference`` writes it, once its separators are dashes:
# the school's letters, the year's two digits, the number (four digits or more). Typed back
# from an SMS, the dashes may be missing, doubled, spaces, or dashes of another kind.
_REFERENCE = re.compile(r"([A-Z]{2,5})-?([0-9]{2})-?([0-9]{4,})")
_REFERENCE_SEPARATORS = re.compile(
    r"[\s\-_.\u2010-\u2015\u2212\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]+"
)


class NameIn:
    """A validator: the name is written in ``script`` (``core.text.is_name_in``)."""

    def __init__(self, script: str, message):
        self.script, self.message = script, message

    def __call__(self, value: str) -> None:
        refuse_control_characters(value)  # said as such: the more precise message
        if not is_name_in(self.script, value):
            raise ValidationError(self.message, code=f"{self.script}_letters")


LATIN_NAME = NameIn(
    "latin", _("Write this name in Latin letters, as on your CIN card, without digits or symbols.")
)
ARABIC_NAME = NameIn(
    "arabic",
    _("Write this name in Arabic letters, as on your CIN card, without digits or symbols."),
)


class CleanTextMixin:
    """Refuse control characters in every text field (NUL would break PostgreSQL)."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str):
                try:
                    refuse_control_characters(value)
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned


# Module functions, not partials: a form copies its fields, and a function is not copied.
def _province_options() -> list[tuple[str, str]]:
    places = Geography.in_order()[0]
    return [("", "—"), *((str(p.pk), localized(p, "name")) for p in places)]


def _commune_options() -> list[tuple[str, str]]:
    # Before a province is chosen, every commune, the province in the label telling the
    # homonyms apart (``_communes_from`` once one is). With htmx the list is narrowed to
    # the chosen province when it changes.
    return [
        ("", "—"),
        *(
            (str(c.pk), f"{localized(c, 'name')} — {localized(c.province, 'name')}")
            for c in Geography.in_order()[1]
        ),
    ]


class Options:
    """Fixed choices for a ChoiceField (with a blank first unless ``blank=False``), shared by
    every copy of the field. Each form deep-copies its fields, and a list of choices is
    copied label by label: for the portal's form, on the busiest request of the year, that
    was a third of the time spent building it. A callable is not copied."""

    def __init__(self, choices, *, blank: bool = True):
        self.choices = (("", "—"), *choices) if blank else tuple(choices)

    def __call__(self) -> list[tuple[str, str]]:
        return list(self.choices)

    def __deepcopy__(self, memo) -> "Options":
        return self  # never changed


class PlaceChoiceField(forms.ChoiceField):
    """A province or a commune of the reference geography, checked against ``Geography``."""

    def __init__(self, *, kind: str, **kwargs):
        self.kind = kind
        options = _province_options if kind == "province" else _commune_options
        super().__init__(choices=options, **kwargs)

    def prepare_value(self, value):
        return getattr(value, "pk", value)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value)
        pk = parse_id(value)
        place = Geography.find(self.kind, pk) if pk is not None else None
        if place is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return place

    def validate(self, value):
        forms.Field.validate(self, value)  # to_python already refused what is not a choice

    def has_changed(self, initial, data) -> bool:
        return str(self.prepare_value(initial) or "") != str(data or "")


class ContactCleaning:
    """A form's ``phone`` as E.164 and its ``email`` as sent on: the applicant's form and the
    staff's correction read them alike."""

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data["phone"])
        if phone is None:
            raise ValidationError(
                _("Give a Moroccan mobile number, like 06 61 23 45 67."), code="phone"
            )
        return phone

    def clean_email(self):
        # The domain is case-insensitive; the local part may not be, so it is kept as typed.
        return BaseUserManager.normalize_email(self.cleaned_data["email"])


class BirthDateField(forms.DateField):
    """A date typed day first, with the digits of any keyboard (٢١/٠٣/٢٠٠٣), the spaces a
    phone's keyboard adds around separators or puts in their place (21 03 2003). Digits
    alone only as eight (21032003): 1112003 may be 11 January or 1 November."""

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"\s*([/.-])\s*", r"\1", ascii_digits(value).strip())
            value = re.sub(r"^(\d{1,2})\s+(\d{1,2})\s+(\d{4})$", r"\1/\2/\3", value)
            if value.isdigit() and len(value) != 8:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return super().to_python(value)
        except ValidationError:
            if _no_such_day(value):
                raise ValidationError(
                    _("This date does not exist: check the day and the month."), code="no_such_day"
                ) from None
            raise


def _no_such_day(value) -> bool:
    """Whether ``value`` is written day/month/year, with a month, but a day the month does not
    have (31/02/2003): not the order to explain again, but the date to check."""
    found = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})|(\d{2})(\d{2})(\d{4})", str(value))
    if found is None:
        return False
    day, month, year = (int(part) for part in found.groups() if part and part.isdigit())
    return year >= 1 and 1 <= month <= 12 and day > calendar.monthrange(year, month)[1]


class ShownVersionField(forms.IntegerField):
    """The version of the privacy notice the page showed, sent back with the consent. The
    page shows it always as the current one (its ``initial``), whatever was sent: a form
    sent back because the notice changed then carries the new version."""

    widget = forms.HiddenInput

    def bound_data(self, data, initial):
        return initial

    def to_python(self, value):
        # Anything else than a version (tampered with) is no version: no error on a field
        # nobody sees.
        try:
            return super().to_python(value)
        except ValidationError:
            return None


def _communes_from(province_id: int) -> list:
    """The communes grouped by province, the chosen one first: those a person looks for,
    and, without JavaScript, the others still within reach after changing province."""
    provinces = {p.pk: p for p in Geography.in_order()[0]}
    order = [province_id, *(pk for pk in provinces if pk != province_id)]
    return [
        ("", "—"),
        *(
            (
                localized(provinces[pk], "name"),
                [(str(c.pk), localized(c, "name")) for c in Geography.communes_of(pk)],
            )
            for pk in order
        ),
    ]


class ApplicationForm(CleanTextMixin, ContactCleaning, forms.Form):
    cin = forms.CharField(
        label=_("National identity card number (CIN)"),
        max_length=20,
        help_text=_("For example AB123456."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr", "spellcheck": "false"}),
    )
    first_name = forms.CharField(
        label=_("First name (Latin letters)"),
        max_length=80,
        validators=[LATIN_NAME],
        widget=forms.TextInput(attrs={"autocomplete": "given-name", "dir": "ltr"}),
    )
    last_name = forms.CharField(
        label=_("Last name (Latin letters)"),
        max_length=80,
        validators=[LATIN_NAME],
        widget=forms.TextInput(attrs={"autocomplete": "family-name", "dir": "ltr"}),
    )
    first_name_ar = forms.CharField(
        label=_("First name in Arabic letters (optional)"),
        max_length=80,
        validators=[ARABIC_NAME],
        required=False,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
    )
    last_name_ar = forms.CharField(
        label=_("Last name in Arabic letters (optional)"),
        max_length=80,
        validators=[ARABIC_NAME],
        required=False,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
    )
    # Typed, not picked: a browser's date field shows the order of the phone's language
    # (month first on an English phone, against the hint) and its calendar opens on today,
    # twenty years of taps from a birth date. Digits alone (21032003) are read too: a phone's
    # number pad has no slash.
    birth_date = BirthDateField(
        label=_("Date of birth"),
        input_formats=["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d%m%Y", "%Y-%m-%d"],
        help_text=_("Day/month/year, for example 21/03/2003, or the digits alone: 21032003."),
        error_messages={
            "invalid": _("Write the date of birth as day/month/year, for example 21/03/2003.")
        },
        widget=forms.DateInput(
            attrs={
                "inputmode": "numeric",
                # Not "bday": a phone's autofill writes it in its own order, month first on
                # an English one, which this day-first field would read the other way.
                "autocomplete": "off",
                "dir": "ltr",
                "maxlength": "14",  # 21 / 03 / 2003
            },
            format="%d/%m/%Y",
        ),
    )
    sex = forms.ChoiceField(
        label=_("Sex"), choices=Options(Sex.choices, blank=False), widget=forms.RadioSelect
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=25,
        help_text=_("We send your confirmation and your codes to this number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "dir": "ltr"}),
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        max_length=254,  # the column's length (RFC 5321's limit on a path), not Django's 320
        widget=forms.EmailInput(attrs={"autocomplete": "email", "dir": "ltr"}),
    )
    province = PlaceChoiceField(kind="province", label=_("Province of residence"))
    commune = PlaceChoiceField(kind="commune", label=_("Commune of residence"))
    education_level = forms.ChoiceField(
        label=_("Education level"), choices=Options(EducationLevel.choices)
    )
    # dir="auto": a diploma or a motivation typed in French keeps its punctuation on the
    # right side of an Arabic page, and one typed in Arabic on a French page.
    diploma = forms.CharField(
        label=_("Last diploma (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"dir": "auto"}),
    )
    employment = forms.ChoiceField(
        label=_("Current situation"), choices=Options(Employment.choices)
    )
    motivation = forms.CharField(
        label=_("Why do you want to join? (optional)"),
        label_suffix="",  # a question: « rejoindre ? (facultatif) : » said it twice
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
    )
    needs_accommodation = forms.BooleanField(
        label=_("I need an accommodation (disability, health) for the tests or the training"),
        required=False,
    )
    accommodation_consent = forms.BooleanField(
        label=_(
            "I agree that the school records this need, only to arrange the tests and the "
            "training for me"
        ),
        required=False,
    )
    privacy_consent = forms.BooleanField(
        label=_("I have read the privacy notice and I agree that my data is used for this call"),
        error_messages={"required": _("To apply, you must accept the privacy notice.")},
    )
    follow_up_consent = forms.BooleanField(
        label=_("I agree to be contacted after the training about my job or studies (optional)"),
        required=False,
    )

    def __init__(
        self,
        *args,
        intake,
        tracks=(),
        with_identity: bool = True,
        with_documents: bool = True,
        holder: str = "",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.intake = intake
        self.tracks = list(tracks)
        self.fields["province"].widget.attrs.update(
            {
                "hx-get": reverse("portal:communes"),
                "hx-target": "#id_commune",
                "hx-swap": "innerHTML",
                # Not disabled while its list reloads (the keyboard would skip it on a slow
                # line): tremplin/communes.js keeps the commune chosen meanwhile.
            }
        )
        if (province := self._province_chosen()) is not None:
            # Listed when the form is shown (the edit page, a form sent back with an error):
            # the province's communes first (``_communes_from``).
            self.fields["commune"].choices = functools.partial(_communes_from, province)
        if len(self.tracks) > 1:
            # In the page's language's order, as the provinces (``Geography.in_order``).
            names = sorted(
                ((str(t.pk), localized(t, "name")) for t in self.tracks),
                key=lambda choice: reading_order(choice[1]),
            )
            choices = [("", "—"), *names]
            for rank in range(1, min(MAX_WISHES, len(self.tracks)) + 1):
                self.fields[f"wish_{rank}"] = forms.ChoiceField(
                    # The first is required; the others say so, as the form's other fields.
                    label=(_("Choice %(rank)s") if rank == 1 else _("Choice %(rank)s (optional)"))
                    % {"rank": rank},
                    choices=choices,
                    required=rank == 1,
                    error_messages={"required": _("Choose the track you want most.")},
                )
        # Not required to apply: a missing document is a reason of ineligibility, which the
        # applicant lifts by sending it from her space until the closing date (``documents``).
        for kind in intake.required_documents if with_documents else ():
            self.fields[f"document_{kind}"] = forms.FileField(
                label=capfirst(DocumentKind(kind).label),  # the kinds are named mid-sentence
                required=False,
                help_text=_(
                    "PDF, JPEG or PNG, at most 5 MB. The call asks for it: if you do not have "
                    "it at hand, apply now and send it from your applicant space before the "
                    "closing date."
                ),
                widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
            )
            # The token of this document as received with a form sent back (``held_uploads``).
            self.fields[f"held_{kind}"] = forms.CharField(
                required=False, max_length=1000, widget=forms.HiddenInput
            )
        # The documents of a form sent back that were received and kept, by kind: their
        # names, for the page to say so; and those this form used in place of a new file.
        self.kept: dict[str, str] = {}
        self.held_used: list[held_uploads.Held] = []
        # Held before, and replaced by a file chosen in this form: to delete once it is sent.
        self.held_superseded: list[held_uploads.Held] = []
        # Whose files this form holds: ``held_uploads.holder_key`` of the connection.
        self.holder = holder
        self.order_fields(self._answers_order())
        if with_identity:
            # The consent is recorded with the version of the notice read: the one the page
            # showed, which staff may have replaced while she was filling in the form.
            self.fields["notice_version"] = ShownVersionField(
                initial=self.intake.notice_version, required=False
            )
        else:
            for name in ("cin", "privacy_consent"):
                del self.fields[name]

    def _province_chosen(self) -> int | None:
        """The province of the form, as sent or else as given to start with, when it is one
        of the geography's."""
        if self.is_bound:
            value = self.data.get(self.add_prefix("province"))
        else:
            value = self.initial.get("province")
        pk = parse_id(str(getattr(value, "pk", value) or ""))
        # find(), not a look in provinces(): an id the copy lacks reloads it (a province
        # added since start-up; the test databases of PostgreSQL, whose ids keep growing).
        return pk if pk is not None and Geography.find("province", pk) is not None else None

    def _answers_order(self) -> list[str]:
        """The tracks wished right after the situation, and the documents before the
        consents, which come last, next to the privacy notice."""
        names = list(self.fields)
        wishes = [name for name in names if name.startswith("wish_")]
        documents = [name for name in names if name.startswith("document_")]
        order = [name for name in names if name not in wishes and name not in documents]
        at = order.index("employment") + 1
        order[at:at] = wishes
        at = order.index("privacy_consent")
        order[at:at] = documents
        return order

    @property
    def wish_fields(self) -> list[forms.BoundField]:
        """The tracks wished, in order: the template groups them under one legend."""
        return [self[name] for name in self.fields if name.startswith("wish_")]

    def clean_cin(self):
        cin = normalize_cin(self.cleaned_data["cin"])
        if cin is None:
            raise ValidationError(NOT_A_CIN, code="cin")
        return cin

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise ValidationError(
                _("The date of birth is in the future: check the year."), code="birth_date"
            )
        if value < datetime.date(1900, 1, 1):
            raise ValidationError(
                _("The date of birth is before 1900: check the year."), code="birth_date"
            )
        return value

    def clean(self):
        cleaned = super().clean()
        province, commune = cleaned.get("province"), cleaned.get("commune")
        if province and commune and commune.province_id != province.pk:
            self.add_error("commune", _("This commune is not in the chosen province."))
        shown = cleaned.get("notice_version")
        # None: a page opened before the version was sent with the consent (a deployment
        # during an open call), or not a version; the call's notice is recorded, as then.
        current = self.intake.notice_version
        if cleaned.get("privacy_consent") and shown is not None and shown != current:
            self.add_error(
                "privacy_consent",
                _(
                    "The privacy notice has changed since the form was opened: read it again "
                    "(version %(version)s) and tick the box if you agree."
                )
                % {"version": current},
            )
            # Shown unticked: the consent given was to the previous version.
            self.data = self.data.copy()
            self.data.pop(self.add_prefix("privacy_consent"), None)
        if cleaned.get("needs_accommodation") and not cleaned.get("accommodation_consent"):
            self.add_error(
                "accommodation_consent",
                _("To record your need, we need your consent. Otherwise untick the need."),
            )
        for kind in self.intake.required_documents:
            upload = cleaned.get(f"document_{kind}")
            if upload:
                try:
                    cleaned[f"content_type_{kind}"] = validate_document(upload)
                except ValidationError as error:
                    self.add_error(f"document_{kind}", error)
                else:  # chosen in place of the one held: that one goes once this is sent
                    before = self._token(kind, cleaned.get(f"held_{kind}"))
                    self.held_superseded += [before] if before else []
            elif kept := self._held(kind, cleaned.get(f"held_{kind}")):
                document, stored = kept
                cleaned[f"document_{kind}"] = stored
                cleaned[f"content_type_{kind}"] = document.content_type
                self.held_used.append(document)
        wishes = [cleaned.get(f"wish_{rank}") for rank in range(1, MAX_WISHES + 1)]
        chosen = [w for w in wishes if w]
        # Under the first choice that repeats one made above it.
        repeated = next(
            (rank for rank, w in enumerate(wishes, start=1) if w and w in wishes[: rank - 1]),
            None,
        )
        if repeated is not None:
            self.add_error(f"wish_{repeated}", _("Choose each track only once."))
        by_pk = {str(t.pk): t for t in self.tracks}
        cleaned["wishes"] = [by_pk[w] for w in chosen] if len(self.tracks) > 1 else self.tracks
        if self._errors:
            self._keep_the_files(cleaned)
        return cleaned

    def _token(self, kind: str, token: str | None) -> held_uploads.Held | None:
        """The document ``token`` names for this call and ``kind``, or None."""
        return held_uploads.held(token, intake_id=self.intake.pk, kind=kind) if token else None

    def _held(self, kind: str, token: str | None):
        """The document held under ``token`` and its file, or None (no token, a token of
        another call, expired, forged, or its file swept)."""
        document = self._token(kind, token)
        stored = document.open() if document else None
        return (document, stored) if stored is not None else None

    def _keep_the_files(self, cleaned: dict) -> None:
        """A page sent back with errors cannot fill its file fields again (browsers do not
        allow it): hold each valid file received, so that the page says it is kept and the
        next submission uses it (``held_uploads``). A file that cannot be held is asked for
        again, or it would be lost without a word, and the application, sent once the
        errors are corrected, found lacking documents."""
        data = self.data.copy()
        tokens = self.hold_files(refused=set(self._errors))
        for kind in self.intake.required_documents:  # a token naming nothing is dropped
            data.pop(self.add_prefix(f"held_{kind}"), None)
        for kind, token in tokens.items():
            data[self.add_prefix(f"held_{kind}")] = token
        self.data = data
        self.say_kept()

    def hold_files(self, *, refused: set[str] = frozenset()) -> dict[str, str]:
        """Hold the valid files this form received, and keep those it was given held: the
        token of each by kind (``kept`` gets their names). A new file replaces the one held
        before, which is deleted; a file refused (``refused``: the file fields with an
        error) leaves it held. A file that cannot be held gets an error asking for it again."""
        tokens = {}
        for kind in self.intake.required_documents:
            name = f"document_{kind}"
            if name not in self.fields:
                continue
            posted = self.data.get(self.add_prefix(f"held_{kind}"))
            upload = self.files.get(self.add_prefix(name))
            if upload and name not in refused and (token := self._hold(name, kind, upload)):
                tokens[kind], self.kept[kind] = token, upload.name
                before = self._token(kind, posted)
                held_uploads.forget([before] if before else [])
            elif kept := self._held(kind, posted):
                tokens[kind], self.kept[kind] = posted, kept[0].name
        return tokens

    def _hold(self, name: str, kind: str, upload) -> str | None:
        """Hold ``upload`` when it is a document: its token, else None."""
        try:
            content_type = validate_document(upload)
        except ValidationError:
            return None
        try:
            return held_uploads.hold(
                upload,
                intake_id=self.intake.pk,
                kind=kind,
                content_type=content_type,
                holder=self.holder,
            )
        except Exception as error:  # HoldRefused; OSError; on S3, botocore's errors
            if isinstance(error, held_uploads.HoldRefused):
                logger.warning("A connection held too many documents: asked for again.")
            else:
                logger.exception("A document of a form sent back could not be held.")
            if hasattr(self, "cleaned_data"):  # checked (not a language switch, which says it)
                self.add_error(
                    name,
                    _(
                        "Choose this file again (%(name)s): a form sent back to correct "
                        "cannot keep the files chosen."
                    )
                    % {"name": Truncator(upload.name).chars(60)},
                )
            return None

    def say_kept(self) -> None:
        """Say on each file field whose document is kept that it need not be chosen again."""
        for kind, original in self.kept.items():
            # Help texts are drawn as HTML: the name, as the applicant's file had it, is
            # escaped ("CV <Fatima> & R&D.pdf"), and isolated (FSI…PDI) so that "ma-cin.pdf"
            # keeps its order in an Arabic sentence.
            name = Truncator(safe_original_name(original)).chars(60)
            said = mark_safe(  # noqa: S308 - both parts escaped here
                escape(
                    _(
                        "Received and kept: %(name)s. No need to choose it again; choose "
                        "another file only to replace it."
                    )
                )
                % {"name": escape(f"\u2068{name}\u2069")}
            )
            # The bound field copies its field's help text when the form is checked.
            self.fields[f"document_{kind}"].help_text = self[f"document_{kind}"].help_text = said

    def documents(self) -> list[tuple[str, object, str]]:
        """(kind, upload, content type) of every document given."""
        return [
            (kind, self.cleaned_data[f"document_{kind}"], self.cleaned_data[f"content_type_{kind}"])
            for kind in self.intake.required_documents
            if self.cleaned_data.get(f"document_{kind}")
            and f"content_type_{kind}" in self.cleaned_data
        ]


def example_reference() -> str:
    """A reference as this year's calls give them, to show what one looks like."""
    return make_reference("SMA", timezone.localdate().year, 42)


class AccessForm(CleanTextMixin, forms.Form):
    """The door of the applicant space. Its errors say only that what was typed cannot be a
    reference or a CIN: whether an application has them is never said here."""

    reference = forms.CharField(
        label=_("Application reference"),
        max_length=20,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocapitalize": "characters"}),
    )
    cin = forms.CharField(
        label=_("National identity card number (CIN)"),
        max_length=20,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocapitalize": "characters"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].help_text = _("It looks like %(example)s.") % {
            "example": example_reference()
        }

    def clean_reference(self):
        # As read from an SMS and typed back: any case, spaces, Arabic digits.
        typed = ascii_digits(self.cleaned_data["reference"]).upper()
        match = _REFERENCE.fullmatch(_REFERENCE_SEPARATORS.sub("-", typed).strip("-"))
        if match is None:
            # What one looks like is in the field's help text, just above.
            raise ValidationError(_("This is not an application reference."), code="reference")
        return "-".join(match.groups())

    def clean_cin(self):
        cin = normalize_cin(self.cleaned_data["cin"])
        if cin is None:
            raise ValidationError(NOT_A_CIN, code="cin")
        return cin


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code received"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "dir": "ltr"}
        ),
    )

    remember = forms.BooleanField(
        label=_("This is my own phone or computer: remember it"), required=False
    )

    def __init__(self, *args, months: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remember"].help_text = ngettext(
            "For %(months)d month, you can then always get a code here, even if someone else "
            "asks for many codes with your reference. Do not tick it on a shared computer.",
            "For %(months)d months, you can then always get a code here, even if someone else "
            "asks for many codes with your reference. Do not tick it on a shared computer.",
            months,
        ) % {"months": months}

    def clean_code(self):
        # Digits only, whatever the keyboard typed them in: "١٢٣ ٤٥٦" is 123456.
        return "".join(ch for ch in ascii_digits(self.cleaned_data["code"]) if ch in "0123456789")


class DocumentForm(forms.Form):
    """One of the call's documents, given or replaced from the applicant space."""

    document_file = forms.FileField(
        help_text=_("PDF, JPEG or PNG, at most 5 MB."),
        widget=forms.FileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_file"].label = capfirst(DocumentKind(kind).label)
        self.content_type = ""

    def clean_document_file(self):
        upload = self.cleaned_data["document_file"]
        self.content_type = validate_document(upload)
        return upload
