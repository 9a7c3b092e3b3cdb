"""Forms of the written test, the interviews and the jurors' sheets. They only clean values;
the rules are in the services."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tremplin.core.i18n import localized
from tremplin.selection.assessment_marks import parse_mark
from tremplin.selection.interviews import juror_choices
from tremplin.selection.interviews_rubric import levels_text, parse_levels, plain
from tremplin.selection.models import Criterion, Panel, TestSession

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TestSessionForm(forms.ModelForm):
    class Meta:
        model = TestSession
        fields = [
            "starts_at",
            "ends_at",
            "place",
            "place_ar",
            "capacity",
            "instructions",
            "instructions_ar",
        ]
        widgets = {
            "starts_at": DATETIME_INPUT,
            "ends_at": DATETIME_INPUT,
            "place_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "instructions": forms.Textarea(attrs={"rows": 3}),
            "instructions_ar": forms.Textarea(attrs={"rows": 3, "dir": "rtl", "lang": "ar"}),
        }
        help_texts = {
            "starts_at": gettext_lazy("Moroccan time."),
            "instructions": gettext_lazy("E.g. your CIN, a pen; printed on the convocation."),
        }

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end comes after the start."))
        return data


class SittingMoveForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("Move to"), queryset=TestSession.objects.none(), empty_label=None
    )

    def __init__(self, *args, component, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = TestSession.objects.filter(component=component)


class MarksImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "Excel (.xlsx) or CSV: one column naming the applicant (reference, CIN or candidate "
            "number) and one column “mark” (12,5 or 12.5; “abs” for a no-show)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check the file and show the changes, record nothing"),
        required=False,
        initial=True,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name or "").suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError(_("Only .xlsx and .csv files are accepted."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("This file is too large (at most 5 MB)."))
        return upload


class PanelForm(forms.ModelForm):
    jurors = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Jurors"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=gettext_lazy("The school's jurors, directors and admissions officers."),
    )

    class Meta:
        model = Panel
        fields = ["name", "place", "place_ar"]
        widgets = {"place_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"})}

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurors"].queryset = juror_choices(school)
        self.fields["jurors"].label_from_instance = lambda u: u.get_full_name() or u.username
        if self.instance.pk:
            self.initial["jurors"] = list(self.instance.jurors.values_list("pk", flat=True))


class SlotsGenerateForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(
        label=gettext_lazy("From"), widget=forms.TimeInput(attrs={"type": "time"}), initial="09:00"
    )
    end = forms.TimeField(
        label=gettext_lazy("To"), widget=forms.TimeInput(attrs={"type": "time"}), initial="12:00"
    )
    minutes = forms.IntegerField(
        label=gettext_lazy("Minutes per interview"), min_value=5, max_value=240, initial=20
    )
    break_start = forms.TimeField(
        label=gettext_lazy("Break from (optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    break_end = forms.TimeField(
        label=gettext_lazy("Break until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )


class ReferenceForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Application reference"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("Empty: free the slot."),
    )


class StaffConflictForm(forms.Form):
    juror = forms.ModelChoiceField(label=gettext_lazy("Juror"), queryset=None)
    reference = forms.CharField(label=gettext_lazy("Application reference"), max_length=20)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["juror"].queryset = juror_choices(school)
        self.fields["juror"].label_from_instance = lambda u: u.get_full_name() or u.username


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class CriterionForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Criterion (French)"), max_length=150)
    label_ar = forms.CharField(
        label=gettext_lazy("Criterion (Arabic)"),
        max_length=150,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
    )
    weight = forms.DecimalField(
        label=gettext_lazy("Weight"), min_value=Decimal("0.01"), max_digits=5, decimal_places=2
    )
    levels = forms.CharField(
        label=gettext_lazy("Levels"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 4, "dir": "ltr", "placeholder": "16 | Très clair | واضح جدا\n10 | …"}
        ),
        help_text=gettext_lazy(
            "One per line: mark out of 20 | text in French | text in Arabic. "
            "Empty: the juror gives a mark out of 20."
        ),
    )

    def clean_levels(self):
        return parse_levels(self.cleaned_data.get("levels", ""))

    def criterion(self) -> Criterion:
        data = self.cleaned_data
        return Criterion(
            label=data["label"],
            label_ar=data["label_ar"],
            weight=data["weight"],
            levels=data["levels"],
        )

    @staticmethod
    def initial_for(criterion: Criterion) -> dict:
        return {
            "label": criterion.label,
            "label_ar": criterion.label_ar,
            "weight": criterion.weight,
            "levels": levels_text(criterion.levels),
        }


CriterionFormSet = forms.formset_factory(CriterionForm, extra=1, can_delete=True, max_num=30)


class MarkField(forms.CharField):
    """A mark out of 20 typed as people type it (12,5 or 12.5)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 8)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return parse_mark(value)


class SheetForm(forms.Form):
    """A juror's sheet: one field per criterion (its levels as choices when it has some, else
    a mark out of 20), or one overall mark when the rubric has no criteria; a comment."""

    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, criteria: list[Criterion], amend: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            name = f"c{criterion.pk}"
            if criterion.levels:
                self.fields[name] = forms.ChoiceField(
                    label=localized(criterion, "label"),
                    choices=[
                        (level["mark"], localized(_Level(level), "text"))
                        for level in criterion.levels
                    ],
                    widget=forms.RadioSelect,
                    required=False,
                )
            else:
                self.fields[name] = MarkField(label=localized(criterion, "label"), required=False)
        if not criteria:
            self.fields["overall"] = MarkField(label=gettext_lazy("Mark out of 20"), required=False)
        if amend:
            self.fields["reason"] = forms.CharField(
                label=gettext_lazy("Why change a submitted sheet?"), max_length=200
            )

    def level_fields(self):
        """(criterion, bound field) pairs, for the template."""
        return [(c, self[f"c{c.pk}"]) for c in self.criteria]

    def scores(self) -> dict[int, Decimal | None]:
        result = {}
        for criterion in self.criteria:
            value = self.cleaned_data.get(f"c{criterion.pk}")
            if value in ("", None):
                result[criterion.pk] = None
            else:
                result[criterion.pk] = Decimal(value) if isinstance(value, str) else value
        return result

    def overall_mark(self) -> Decimal | None:
        return self.cleaned_data.get("overall")

    @staticmethod
    def initial_for(sheet, scores: dict[int, Decimal]) -> dict:
        initial = {"comment": sheet.comment if sheet else ""}
        for criterion_id, value in scores.items():
            initial[f"c{criterion_id}"] = plain(value) if value is not None else ""
        if sheet is not None and sheet.mark is not None:
            initial["overall"] = plain(sheet.mark)
        return initial


class _Level:
    """A level descriptor dict seen as an object, for ``localized``."""

    def __init__(self, level: dict):
        self.text = level.get("text", "")
        self.text_ar = level.get("text_ar", "")
