from django.urls import path

from tremplin.selection import views_offers as views

# Prefixes shared with the admissions staff pages.
S = "staff/<slug:school_slug>/"
I = S + "intakes/<slug:intake_slug>/"  # noqa: E741

urlpatterns: list = [
    path(I + "offers/", views.offer_list, name="offers"),
    path(I + "offers/promote/", views.offer_promote, name="offer_promote"),
    path(I + "offers/fill/", views.offer_fill, name="offer_fill"),
    path(S + "offers/<int:offer_id>/answer/", views.offer_answer, name="offer_answer"),
    path(S + "offers/<int:offer_id>/withdraw/", views.offer_withdrawal, name="offer_withdrawal"),
    # The applicant's space (see admissions.portal_urls).
    path(
        "applicant/space/offers/<int:offer_id>/accept/",
        views.applicant_offer_accept,
        name="applicant_offer_accept",
    ),
    path(
        "applicant/space/offers/<int:offer_id>/decline/",
        views.applicant_offer_decline,
        name="applicant_offer_decline",
    ),
]
