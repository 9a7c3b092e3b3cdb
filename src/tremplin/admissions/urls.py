from django.urls import path

from tremplin.admissions import views_export, views_import
from tremplin.admissions import views_staff as views

app_name = "admissions"

S = "staff/<slug:school_slug>/"
I = S + "intakes/<slug:intake_slug>/"  # noqa: E741
A = I + "applications/<str:reference>/"

urlpatterns = [
    path(S + "intakes/", views.intake_list, name="intake_list"),
    path(S + "intakes/new/", views.intake_create, name="intake_create"),
    path(S + "privacy-notices/new/", views.notice_create, name="notice_create"),
    path(S + "privacy-notices/<int:version>/", views.notice_detail, name="notice_detail"),
    path(I, views.intake_detail, name="intake_detail"),
    path(I + "edit/", views.intake_edit, name="intake_edit"),
    path(I + "status/", views.intake_status, name="intake_status"),
    path(I + "recheck/", views.intake_recheck, name="intake_recheck"),
    path(I + "recheck/status/", views.intake_recheck_status, name="intake_recheck_status"),
    path(I + "applications/", views.application_list, name="application_list"),
    path(
        I + "applications/export.<str:fmt>",
        views_export.application_export,
        name="application_export",
    ),
    path(I + "applications/exports/", views_export.export_create, name="export_create"),
    path(
        I + "applications/exports/<int:export_id>/",
        views_export.export_detail,
        name="export_detail",
    ),
    path(
        I + "applications/exports/<int:export_id>/download",
        views_export.export_download,
        name="export_download",
    ),
    path(I + "import/", views_import.import_form, name="import_form"),
    path(I + "import/<int:job_id>/", views_import.import_detail, name="import_detail"),
    path(I + "import/<int:job_id>/report.csv", views_import.import_report, name="import_report"),
    path(I + "import/template.xlsx", views_import.import_template, name="import_template"),
    path(I + "references/", views_import.references_send_view, name="references_send"),
    path(A, views.application_detail, name="application_detail"),
    path(A + "identity/", views.application_identity, name="application_identity"),
    path(A + "erase/", views.application_erase, name="application_erase"),
    path(A + "contact/", views.application_contact, name="application_contact"),
    path(A + "eligibility/", views.application_eligibility, name="application_eligibility"),
    path(
        A + "documents/<int:document_id>/",
        views.application_document,
        name="application_document",
    ),
]
