from django import forms

from tremplin.schools.models import School


class SchoolProfileForm(forms.ModelForm):
    class Meta:
        model = School
        fields = ["description", "description_ar", "address", "address_ar", "email", "phone"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "description_ar": forms.Textarea(attrs={"rows": 4, "dir": "rtl", "lang": "ar"}),
            "address_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
        }
