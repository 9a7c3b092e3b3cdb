"""Erased applications held "X<id>" in place of the CIN, and "X123" is a CIN: the person
whose card it is could not apply to that call. They now hold "~<id>", which no CIN is."""

from django.db import migrations


def forward(apps, schema_editor):
    Application = apps.get_model("admissions", "Application")
    erased = Application.objects.filter(erased_at__isnull=False)
    for pk, cin in erased.values_list("pk", "cin").iterator():
        if cin == f"X{pk}"[:10]:
            Application.objects.filter(pk=pk).update(cin=f"~{pk}")


def backward(apps, schema_editor):
    Application = apps.get_model("admissions", "Application")
    erased = Application.objects.filter(erased_at__isnull=False)
    for pk, cin in erased.values_list("pk", "cin").iterator():
        if cin == f"~{pk}":
            Application.objects.filter(pk=pk).update(cin=f"X{pk}"[:10])


class Migration(migrations.Migration):
    dependencies = [("admissions", "0007_importjob_columns_full_report")]

    operations = [migrations.RunPython(forward, backward)]
