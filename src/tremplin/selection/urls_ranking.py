from django.urls import path

from tremplin.selection import views_ranking as views

# Prefixes shared with the admissions staff pages.
S = "staff/<slug:school_slug>/"
I = S + "intakes/<slug:intake_slug>/"  # noqa: E741
R = I + "rankings/<int:run_number>/"

urlpatterns: list = [
    path(I + "scheme/", views.scheme, name="scheme"),
    path(I + "scheme/seed/", views.scheme_seed, name="scheme_seed"),
    path(I + "rankings/", views.rankings, name="rankings"),
    path(I + "rankings/start/", views.ranking_start, name="ranking_start"),
    path(R, views.ranking_run, name="ranking_run"),
    path(R + "compare/", views.ranking_compare, name="ranking_compare"),
    path(R + "publish/", views.ranking_publish_view, name="ranking_publish"),
    path(R + "results.xlsx", views.ranking_export, name="ranking_export"),
    path(R + "exports/", views.ranking_export_create, name="ranking_export_create"),
]
