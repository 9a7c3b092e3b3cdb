from django.urls import path

from tremplin.schools import views

app_name = "schools"

urlpatterns = [
    path("coordinator/", views.coordinator, name="coordinator"),
    path("staff/<slug:school_slug>/", views.dashboard, name="dashboard"),
    path("staff/<slug:school_slug>/profile/", views.school_profile, name="profile"),
    path("staff/<slug:school_slug>/team/", views.team, name="team"),
    path("staff/<slug:school_slug>/team/add/", views.team_add, name="team_add"),
    path(
        "staff/<slug:school_slug>/team/<int:membership_id>/revoke/",
        views.team_revoke,
        name="team_revoke",
    ),
    path("staff/<slug:school_slug>/audit/", views.audit_log, name="audit_log"),
    path("learn/<slug:school_slug>/", views.learner_space, name="learner_space"),
]
