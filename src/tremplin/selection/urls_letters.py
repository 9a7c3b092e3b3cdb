from django.urls import path

from tremplin.selection import views_letters as views

# Prefixes shared with the admissions staff pages.
S = "staff/<slug:school_slug>/"
I = S + "intakes/<slug:intake_slug>/"  # noqa: E741

urlpatterns: list = [
    path(
        "applicant/space/letters/<int:letter_id>/",
        views.applicant_letter,
        name="applicant_letter",
    ),
    path(S + "letters/<int:letter_id>/", views.staff_letter, name="letter_download"),
    path(I + "letters/", views.batch_list, name="letter_batches"),
    path(I + "letters/batches/<int:letter_batch_id>/", views.batch_detail, name="letter_batch"),
    path(
        I + "letters/batches/<int:letter_batch_id>/retry/",
        views.batch_retry,
        name="letter_batch_retry",
    ),
]
