from django.urls import path

from tremplin.notify import views

app_name = "notify"

urlpatterns = [
    path("staff/<slug:school_slug>/outbox/", views.outbox, name="outbox"),
    path("staff/<slug:school_slug>/outbox/retry/", views.outbox_retry, name="outbox_retry"),
    path("staff/<slug:school_slug>/outbox/try-now/", views.outbox_try_now, name="outbox_try_now"),
]
