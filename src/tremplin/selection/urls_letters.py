from django.urls import path  # noqa: F401

# Prefixes shared with the admissions staff pages.
S = "staff/<slug:school_slug>/"
I = S + "intakes/<slug:intake_slug>/"  # noqa: E741

urlpatterns: list = []
