from django.urls import path

from tremplin.schools import views

app_name = "public"

urlpatterns = [
    path("", views.index, name="index"),
    path("schools/<slug:school_slug>/", views.school_public, name="school"),
]
