from django.urls import path

from tremplin.admissions import views_portal as views

app_name = "portal"

urlpatterns = [
    path("schools/<slug:school_slug>/calls/<slug:intake_slug>/", views.intake_page, name="intake"),
    path("schools/<slug:school_slug>/calls/<slug:intake_slug>/apply/", views.apply, name="apply"),
    path("apply/submitted/", views.submitted, name="submitted"),
    path("apply/communes/", views.communes, name="communes"),
    path("applicant/", views.access, name="access"),
    path("applicant/code/", views.code, name="code"),
    path("applicant/space/", views.space, name="space"),
    path("applicant/space/edit/", views.edit, name="edit"),
    path("applicant/space/documents/<slug:kind>/", views.document, name="document"),
    path("applicant/space/withdraw/", views.withdraw, name="withdraw"),
    path("applicant/space/language/", views.messages_language, name="messages_language"),
    path("applicant/space/my-data.json", views.data_download, name="data"),
    path("applicant/space/delete/", views.request_deletion, name="delete"),
    path("applicant/leave/", views.leave, name="leave"),
]
