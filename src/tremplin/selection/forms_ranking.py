"""Forms of the scheme page and of publication. They clean values; the rules that span the
whole scheme (codes, tie-breaks, quotas per track, marks already given) are checked by
`schemes.scheme_save`."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from tremplin.selection.models import Component, Quota, SelectionScheme
from tremplin.selection.schemes import MAX_TIE_KEYS, ComponentChange, QuotaChange, SeatsChange


def _decimal(label, *, low, high, places=2, digits=5, required=True, messages=None):
    return forms.DecimalField(
        label=label,
        min_value=Decimal(low),
        max_value=Decimal(high),
        max_digits=digits,
        decimal_places=places,
        required=required,
        error_messages=messages or {},
        localize=True,
    )


class SettingsForm(forms.Form):
    offer_hours = forms.IntegerField(
        label=_("Time to answer an offer (hours)"),
        min_value=1,
        max_value=24 * 30,
        error_messages={
            "min_value": _("Give at least one hour to answer."),
            "max_value": _("At most 720 hours (30 days)."),
        },
    )
    anonymous_marking = forms.BooleanField(
        label=_("Anonymous marking of the written test (candidate numbers, not names)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    severity_correction = forms.BooleanField(
        label=_("Correct juror severity (put each juror's marks on the common scale)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    disagreement_threshold = _decimal(
        _("Flag jurors' disagreement above (points)"),
        low=0,
        high=20,
        digits=4,
        messages={
            "min_value": _("The disagreement threshold lies between 0 and 20."),
            "max_value": _("The disagreement threshold lies between 0 and 20."),
        },
    )

    def __init__(self, *args, codes: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *codes]
        for k in range(1, MAX_TIE_KEYS + 1):
            self.fields[f"tie_{k}"] = forms.ChoiceField(
                label=_("Tie-break key %(n)s") % {"n": k}, choices=choices, required=False
            )

    @classmethod
    def initial_of(cls, scheme: SelectionScheme) -> dict:
        initial = {
            "offer_hours": scheme.offer_hours,
            "anonymous_marking": scheme.anonymous_marking,
            "severity_correction": scheme.severity_correction,
            "disagreement_threshold": scheme.disagreement_threshold,
        }
        for k, code in enumerate(scheme.tie_break[:MAX_TIE_KEYS], start=1):
            initial[f"tie_{k}"] = code
        return initial

    def tie_break(self) -> list[str]:
        return [self.cleaned_data[f"tie_{k}"] for k in range(1, MAX_TIE_KEYS + 1)]


class ComponentForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.SlugField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
        error_messages={"invalid": _("Letters, digits, - and _ only.")},
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Component.Kind.choices)
    name = forms.CharField(
        label=_("Name (French)"),
        max_length=100,
        widget=forms.TextInput(attrs={"dir": "ltr", "lang": "fr"}),
    )
    name_ar = forms.CharField(
        label=_("Name (Arabic)"),
        max_length=100,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
    )
    weight = _decimal(
        _("Weight"),
        low="0.01",
        high=999,
        messages={"min_value": _("The weight must be more than 0.")},
    )
    threshold = _decimal(
        _("Eliminatory below (out of 20)"),
        low=0,
        high=20,
        digits=4,
        required=False,
        messages={
            "min_value": _("A threshold lies between 0 and 20."),
            "max_value": _("A threshold lies between 0 and 20."),
        },
    )
    absence = forms.ChoiceField(label=_("Absence"), choices=Component.Absence.choices)
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=99, initial=1)

    def change(self) -> ComponentChange:
        d = self.cleaned_data
        if d.get("DELETE"):  # a row to delete needs no other valid field
            return ComponentChange(d.get("id"), "", "", "", "", Decimal(1), None, "", 0, True)
        return ComponentChange(
            id=d.get("id"),
            code=d["code"],
            kind=d["kind"],
            name=d["name"],
            name_ar=d["name_ar"],
            weight=d["weight"],
            threshold=d.get("threshold"),
            absence=d["absence"],
            position=d["position"],
            delete=bool(d.get("DELETE")),
        )


class QuotaForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    group = forms.ChoiceField(label=_("Group"), choices=Quota.Group.choices)
    share = _decimal(
        _("Minimum share (%)"),
        low=0,
        high=100,
        messages={
            "min_value": _("A share lies between 0 and 100 (per cent)."),
            "max_value": _("A share lies between 0 and 100 (per cent)."),
        },
    )
    track = forms.TypedChoiceField(
        label=_("Track"), required=False, coerce=int, empty_value=None, choices=()
    )

    def __init__(self, *args, tracks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["track"].choices = [("", _("every track")), *((t.pk, str(t)) for t in tracks)]
        if len(tracks) <= 1:
            self.fields["track"].widget = forms.HiddenInput()

    def change(self) -> QuotaChange:
        d = self.cleaned_data
        if d.get("DELETE"):
            return QuotaChange(d.get("id"), "", Decimal(0), None, True)
        return QuotaChange(
            id=d.get("id"),
            group=d["group"],
            share=d["share"],
            track_id=d.get("track"),
            delete=bool(d.get("DELETE")),
        )


class _RowsFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove")
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"


def _formsets(extra: int):
    return (
        forms.formset_factory(
            ComponentForm, formset=_RowsFormSet, extra=extra, can_delete=True, max_num=10
        ),
        forms.formset_factory(
            QuotaForm, formset=_RowsFormSet, extra=extra, can_delete=True, max_num=6
        ),
    )


# One empty row to add a component or a quota; none when the scheme is read-only.
ComponentFormSet, QuotaFormSet = _formsets(1)
LockedComponentFormSet, LockedQuotaFormSet = _formsets(0)


class SeatsForm(forms.Form):
    """Seats and waiting list: the intake's for one track, else one pair per track."""

    def __init__(self, *args, intake, tracks, **kwargs):
        super().__init__(*args, **kwargs)
        self.single = len(tracks) <= 1
        self.rows = []
        pairs = [(None, _("Seats"), intake.seats, intake.waitlist)] if self.single else []
        pairs += [] if self.single else [(t.pk, str(t), t.seats, t.waitlist) for t in tracks]
        for track_id, label, seats, waitlist in pairs:
            suffix = "" if track_id is None else f"_{track_id}"
            self.fields[f"seats{suffix}"] = forms.IntegerField(
                label=_("Seats") if self.single else _("Seats: %(track)s") % {"track": label},
                min_value=1,
                initial=seats,
                error_messages={"min_value": _("At least one seat.")},
            )
            self.fields[f"waitlist{suffix}"] = forms.IntegerField(
                label=_("Waiting list")
                if self.single
                else _("Waiting list: %(track)s") % {"track": label},
                min_value=0,
                initial=waitlist,
                error_messages={"min_value": _("A waiting list cannot be negative.")},
            )
            self.rows.append((track_id, label, f"seats{suffix}", f"waitlist{suffix}"))

    def changes(self) -> list[SeatsChange]:
        return [
            SeatsChange(track_id, self.cleaned_data[seats], self.cleaned_data[waitlist])
            for track_id, _label, seats, waitlist in self.rows
        ]

    def pairs(self):
        """(label, seats field, waiting list field) per row, for the template."""
        return [(label, self[seats], self[waitlist]) for _id, label, seats, waitlist in self.rows]


class SchemeForms:
    """The scheme page's forms, bound together: valid only when all of them are."""

    def __init__(self, data, *, scheme: SelectionScheme, tracks, disabled: bool = False):
        components = list(scheme.components.all())
        quotas = list(scheme.quotas.all())
        codes = [(c.code, f"{c.code} — {c}") for c in components]
        self.settings = SettingsForm(
            data, codes=codes, initial=SettingsForm.initial_of(scheme), prefix="s"
        )
        component_formset, quota_formset = (
            (LockedComponentFormSet, LockedQuotaFormSet)
            if disabled
            else (ComponentFormSet, QuotaFormSet)
        )
        self.components = component_formset(
            data,
            prefix="c",
            initial=[
                {
                    "id": c.pk,
                    "code": c.code,
                    "kind": c.kind,
                    "name": c.name,
                    "name_ar": c.name_ar,
                    "weight": c.weight,
                    "threshold": c.threshold,
                    "absence": c.absence,
                    "position": c.position,
                }
                for c in components
            ],
        )
        self.quotas = quota_formset(
            data,
            prefix="q",
            initial=[
                {"id": q.pk, "group": q.group, "share": q.share, "track": q.track_id}
                for q in quotas
            ],
            form_kwargs={"tracks": tracks},
        )
        self.seats = SeatsForm(data, intake=scheme.intake, tracks=tracks, prefix="t")
        if disabled:
            for form in self._forms():
                for field in form.fields.values():
                    field.disabled = True

    def _forms(self):
        return [self.settings, *self.components, *self.quotas, self.seats]

    def is_valid(self) -> bool:
        results = [
            self.settings.is_valid(),
            self.components.is_valid(),
            self.quotas.is_valid(),
            self.seats.is_valid(),
        ]
        return all(results)

    def save_kwargs(self) -> dict:
        def kept(formset):
            # Existing rows, and new rows someone filled in (a blank extra row is skipped).
            return [
                f
                for f in formset
                if f.cleaned_data.get("id")
                or (f.has_changed() and not f.cleaned_data.get("DELETE"))
            ]

        filled, quotas = kept(self.components), kept(self.quotas)
        return {
            "settings": {
                name: self.settings.cleaned_data[name]
                for name in (
                    "offer_hours",
                    "anonymous_marking",
                    "severity_correction",
                    "disagreement_threshold",
                )
            },
            "tie_break": self.settings.tie_break(),
            "components": [f.change() for f in filled],
            "quotas": [f.change() for f in quotas],
            "seats": self.seats.changes(),
        }


class PublishForm(forms.Form):
    comment = forms.CharField(
        label=_("Why this run? (kept with the publication, shown to staff)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("A comment is required: say why this run is published.")},
    )
    confirm = forms.BooleanField(
        label=_("I have checked the results and I publish them in my name."),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Tick the box to confirm.")},
    )
