"""Ranking runs end to end: composites, thresholds, absences, quotas, determinism, failures."""

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tremplin.selection import ranking_compute
from tremplin.selection.checks import SelfCheckError
from tremplin.selection.models import RankingResult, RankingRun
from tremplin.selection.ranking import ranking_run_execute, ranking_run_start


def run_now(intake, user) -> RankingRun:
    with scope(school=intake.school):
        run = ranking_run_start(intake=intake, actor=user, enqueue=False)
    return ranking_run_execute(run.pk)


def results(run) -> dict:
    with scopes_disabled():
        return {
            r.application.number: r
            for r in RankingResult.objects.filter(run=run).select_related("application")
        }


@pytest.fixture
def intake(world):
    return make_closed_intake(world.smara, n=10, seats=3, waitlist=2)


def test_composite_threshold_and_absence_rules_end_to_end(world, intake):
    make_scheme(intake, test_threshold=Decimal(8))
    give_marks(
        intake,
        {
            "test": [12, 15, 7, "absent", 10, 11, 14, 9, 13, None],
            "interview": [14, 10, 18, 16, 12, 11, 13, 9, 15, 12],
        },
    )
    run = run_now(intake, world.users["director"])
    assert run.status == RankingRun.Status.DONE, run.error
    r = results(run)
    # (12 + 2*14) / 3 = 13.33 (half up)
    assert r[1].composite == Decimal("13.33")
    assert r[3].outcome == "not_retained" and r[3].reason == "below_threshold"
    assert r[4].outcome == "not_retained" and r[4].reason == "absent"
    assert r[10].reason == "missing_marks"
    assert [c["ok"] for c in run.checks if c["name"] == "marks"] == [False]
    admitted = sorted(n for n, x in r.items() if x.outcome == "admitted")
    assert len(admitted) == 3
