from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django_scopes import scopes_disabled

from tremplin.core.models import Membership, User
from tremplin.schools.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tremplin.schools.models import BudgetLine, Partner, School, Track


def _counts() -> tuple[int, ...]:
    from tremplin.selection.models import Mark, Offer, RankingRun, ScoreSheet

    models = (School, Partner, Track, BudgetLine, User, Membership)
    models += (Mark, ScoreSheet, RankingRun, Offer)
    return tuple(model.objects.count() for model in models)


@pytest.mark.django_db
def test_the_demo_loads_smara_and_running_it_again_changes_nothing(demo, capsys):
    with scopes_disabled():
        counts = _counts()
        call_command("demo")
        assert _counts() == counts
        school = School.objects.get(slug="smara")
        amounts = sorted(
            BudgetLine.objects.filter(grant__school=school).values_list("amount", flat=True)
        )
    assert [str(a) for a in amounts] == ["500000.00", "600000.00"]
    assert {"INDH", "ANAPEC", "WEB4JOBS"} <= set(Partner.objects.values_list("acronym", flat=True))
    assert DEMO_PASSWORD in capsys.readouterr().out


@pytest.mark.django_db
def test_promotion_2025_is_ranked_70_admitted_30_waitlisted_101_not_retained(demo):
    from tremplin.selection.models import Offer, RankingRun
    from tremplin.training.models import Enrolment

    with scopes_disabled():
        runs = RankingRun.objects.filter(intake__slug="promotion-2025").order_by("number")
        assert [r.published for r in runs] == [False, True]
        published = runs[1]
        assert published.published_by.username == "directrice"
        outcomes = Counter(published.results.values_list("outcome", flat=True))
        assert outcomes["admitted"] == 70
        assert outcomes["waitlisted"] == 30
        assert outcomes["not_retained"] + outcomes["ineligible"] == 101
        assert all(check["ok"] for check in published.checks)
        offers = Counter(Offer.objects.filter(run=published).values_list("status", "origin"))
        # Most accepted; a few declined, one promoted let the offer expire, and each seat
        # they freed went to the waiting list. Every offer is answered (the call is over).
        assert offers["accepted", "ranking"] > 60
        assert offers["declined", "ranking"] >= 3
        assert offers["expired", "waitlist"] == 1
        freed = sum(n for (status, _), n in offers.items() if status in ("declined", "expired"))
        assert sum(n for (_, origin), n in offers.items() if origin == "waitlist") == freed
        assert not any(status == "live" for status, _ in offers)
        assert Enrolment.objects.filter(cohort__intake=published.intake).count() == (
            offers["accepted", "ranking"] + offers["accepted", "waitlist"]
        )
        # Promotion 2026 stays open for a visitor to take through a selection.
        assert not RankingRun.objects.filter(intake__slug="promotion-2026").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda a: a.username)
def test_every_demo_account_logs_in_and_lands_on_its_dashboard(demo, account, settings):
    settings.TWO_FACTOR_REQUIRED = False  # as `make run` does, explicitly
    client = Client()
    response = client.post(
        "/account/login/", {"username": account.username, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    final = response.redirect_chain[-1][0]
    expected = {
        "learner": "/learn/smara/",
        "coordinator": "/coordinator/",
        "admin": "/account/",
    }.get(account.role, "/staff/smara/")
    assert final == expected


@pytest.mark.django_db
def test_the_coordinator_sees_the_grants_total_the_school_sees(demo, settings):
    """The funder's page adds up the budget lines once each, whatever else the school has
    (five tracks in the demo)."""
    settings.TWO_FACTOR_REQUIRED = False
    client = Client()
    client.post("/account/login/", {"username": "coordinateur", "password": DEMO_PASSWORD})
    response = client.get("/coordinator/")
    assert response.status_code == 200
    [smara] = response.context["schools"]
    assert smara.track_count > 1
    assert smara.budget_total == Decimal("1100000.00")
    assert "1\u202f100\u202f000,00" in response.content.decode()
