"""Ranking runs end to end: composites, thresholds, absences, quotas, several tracks,
determinism, failures and immutability."""

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tremplin.admissions.models import Application, IntakeTrack, Wish
from tremplin.core.models import AuditEvent
from tremplin.selection import ranking
from tremplin.selection.checks import SelfCheckError
from tremplin.selection.models import Component, Mark, Quota, RankingResult, RankingRun
from tremplin.selection.ranking import ranking_run_execute, ranking_run_start

TEST = [12, 15, 7, "absent", 10, 11, 14, 9, 13, None]
INTERVIEW = [14, 10, 18, 16, 12, 11, 13, 9, 15, 12]


def run_now(intake, user) -> RankingRun:
    with scope(school=intake.school):
        run = ranking_run_start(intake=intake, actor=user, enqueue=False)
    return ranking_run_execute(run.pk)


def results(run) -> dict:
    """Results by application number."""
    with scopes_disabled():
        return {
            r.application.number: r
            for r in RankingResult.objects.filter(run=run).select_related("application")
        }


def comparable(run) -> list[tuple]:
    fields = ("application_id", "track_id", "marks", "composite", "outcome", "reason",
              "merit_rank", "call_rank", "waitlist_position", "called_by_quota", "lottery",
              "explanation")  # fmt: skip
    with scopes_disabled():
        return list(
            RankingResult.objects.filter(run=run).order_by("application_id").values_list(*fields)
        )


@pytest.fixture
def intake(world):
    return make_closed_intake(world.smara, n=10, seats=3, waitlist=2)


def test_composite_threshold_and_absence_rules_end_to_end(world, intake):
    make_scheme(intake, test_threshold=Decimal(8))
    give_marks(intake, {"test": TEST, "interview": INTERVIEW})
    run = run_now(intake, world.users["director"])
    assert run.status == RankingRun.Status.DONE, run.error
    r = results(run)
    assert r[1].composite == Decimal("13.33")  # (12 + 2 × 14) / 3, rounded half up
    assert r[1].marks == {"test": "12.00", "interview": "14.00"}
    assert (r[3].outcome, r[3].reason) == ("not_retained", "below_threshold")  # 7 < 8
    assert r[3].composite == Decimal("14.33") and r[3].merit_rank is None
    assert (r[4].outcome, r[4].reason) == ("not_retained", "absent")
    assert r[4].marks["test"] == "absent" and r[4].composite is None
    assert r[10].reason == "missing_marks"  # no test mark yet
    assert {c["name"]: c["ok"] for c in run.checks}["marks"] is False
    ranked = sorted((x for x in r.values() if x.merit_rank), key=lambda x: x.merit_rank)
    # 9: 14.33; 1 and 7: 13.33, split by the interview (14 > 13); 2: 11.67; 5; 6; 8.
    assert [x.application.number for x in ranked] == [9, 1, 7, 2, 5, 6, 8]
    assert [x.outcome for x in ranked] == ["admitted"] * 3 + ["waitlisted"] * 2 + [
        "not_retained"
    ] * 2
    assert [x.waitlist_position for x in ranked[3:5]] == [1, 2]
    assert ranked[5].reason == "beyond_waitlist"
    assert run.summary["cutoffs"] == {"": "13.33"}  # the last admitted (no. 7)
    assert run.summary["seats"] == {"": 3} and run.summary["ranked"] == {"": 7}
    assert run.summary["counts"] == {
        "admitted": 3, "waitlisted": 2, "not_retained": 5, "ineligible": 0
    }  # fmt: skip


def test_an_absence_that_counts_as_zero_ranks_the_applicant_with_0(world, intake):
    make_scheme(intake, test_threshold=None)
    with scopes_disabled():
        Component.objects.filter(code="test").update(absence=Component.Absence.ZERO)
    give_marks(intake, {"test": [*TEST[:9], 10], "interview": INTERVIEW})
    run = run_now(intake, world.users["director"])
    r = results(run)[4]
    assert r.composite == Decimal("10.67")  # (0 + 2 × 16) / 3
    assert r.merit_rank and r.reason != "absent"
    assert r.marks["test"] == "absent"


def test_ineligible_and_withdrawn_applicants_appear_with_their_reason(world, intake):
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})
    with scopes_disabled():
        Application.objects.filter(intake=intake, number=1).update(eligibility="ineligible")
        Application.objects.filter(intake=intake, number=2).update(status="withdrawn")
    r = results(run_now(intake, world.users["director"]))
    assert (r[1].outcome, r[1].reason, r[1].merit_rank) == ("ineligible", "ineligible", None)
    assert (r[2].outcome, r[2].reason) == ("not_retained", "withdrawn")


def test_the_quota_holds_in_the_stored_results(world, intake):
    # Men (even numbers) have the best marks; at least 50 % women among those called.
    make_scheme(intake, women_share=50, test_threshold=None)
    marks = [8, 18, 9, 17, 10, 16, 11, 15, 12, 14]
    give_marks(intake, {"test": marks, "interview": marks})
    run = run_now(intake, world.users["director"])
    called = sorted((x for x in results(run).values() if x.call_rank), key=lambda x: x.call_rank)
    for k in range(1, len(called) + 1):
        women = sum(1 for x in called[:k] if x.application.sex == "F")
        assert women >= -(-k // 2), k
    admitted = [x for x in called if x.outcome == "admitted"]
    assert [x.application.sex for x in admitted] == ["F", "M", "F"]
    assert admitted[0].called_by_quota == "women"
    assert run.summary["cutoffs"] == {"": "18.00"}  # the last admitted on merit
    assert run.summary["quota_cutoffs"] == {"": {"women": "11.00"}}


def test_the_same_inputs_and_seed_give_identical_results(world, intake):
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": [14] * 10})  # everyone tied
    first = run_now(intake, world.users["director"])
    second = run_now(intake, world.users["director"])
    assert comparable(first) == comparable(second)
    assert first.parameters == second.parameters
    assert first.parameters["seed"] == 2025
    # Lottery numbers are a permutation, keyed by reference: ties are all broken.
    lotteries = sorted(r.lottery for r in results(first).values())
    assert lotteries == list(range(1, 11))


def test_parameters_hold_everything_that_decided_the_result(world, intake):
    make_scheme(intake, women_share=40)
    give_marks(intake, {"test": [12] * 10, "interview": [14] * 10})
    parameters = run_now(intake, world.users["director"]).parameters
    assert [(c["code"], c["weight"], c["threshold"], c["absence"]) for c in
            parameters["components"]] == [("test", "1.00", "5.00", "eliminates"),
                                          ("interview", "2.00", None, "eliminates")]  # fmt: skip
    assert parameters["tie_break"] == ["interview", "test"]
    assert parameters["quotas"] == [{"group": "women", "share": "40.00", "track": None}]
    assert parameters["tracks"][0]["seats"] == 3 and parameters["tracks"][0]["waitlist"] == 2
    assert parameters["engine"]["version"] and len(parameters["engine"]["hash"]) == 16


def test_a_failed_self_check_leaves_a_failed_run_and_no_results(world, intake, monkeypatch):
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})

    def broken(inputs, on_progress=None):
        raise SelfCheckError("Track 0 holds 4 applicants for 3 seats.")

    monkeypatch.setattr(ranking, "compute", broken)
    run = run_now(intake, world.users["director"])
    assert run.status == RankingRun.Status.FAILED
    assert run.error == "Track 0 holds 4 applicants for 3 seats."
    assert not results(run)


def test_a_failure_while_storing_stores_nothing(world, intake, monkeypatch):
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})
    real = RankingResult.objects.bulk_create

    def half_then_fail(objs, **kwargs):
        real(list(objs)[:5], **kwargs)
        raise SelfCheckError("interrupted")

    monkeypatch.setattr(RankingResult.objects, "bulk_create", half_then_fail)
    run = run_now(intake, world.users["director"])
    assert run.status == RankingRun.Status.FAILED
    with scopes_disabled():
        assert not RankingResult.objects.filter(run=run).exists()


def test_a_done_run_never_changes(world, intake):
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})
    run = run_now(intake, world.users["director"])
    before, summary = comparable(run), run.summary
    with scopes_disabled():
        Mark.objects.filter(application__number=1, component__code="interview").update(value=20)
    # Delivered again, the task does nothing; later marks do not reach a finished run.
    again = ranking_run_execute(run.pk)
    assert again.summary == summary and comparable(run) == before
    assert results(run)[1].marks["interview"] == "14.00"
    assert results(run_now(intake, world.users["director"]))[1].marks["interview"] == "20.00"


def test_a_run_started_from_the_pages_runs_in_a_task_once_committed(
    world, intake, django_capture_on_commit_callbacks
):
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})
    with django_capture_on_commit_callbacks(execute=True):
        with scope(school=intake.school):
            run = ranking_run_start(intake=intake, actor=world.users["admissions"])
        assert run.number == 1 and run.status == RankingRun.Status.PENDING
    run.refresh_from_db()
    assert (run.status, run.progress) == (RankingRun.Status.DONE, 100)
    with scope(school=intake.school):
        assert ranking_run_start(intake=intake, actor=world.users["admissions"]).number == 2
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="tremplin.selection.ranking.started").count() == 2


def test_a_new_application_does_not_change_anyone_elses_lottery_number(world, intake):
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})
    before = {n: r.lottery for n, r in results(run_now(intake, world.users["director"])).items()}
    with scopes_disabled():
        application = Application.objects.get(intake=intake, number=10)
        application.pk, application.number = None, 11
        application.reference, application.cin = "SMA-25-0011", "SE999999"
        application.save()
    after = results(run_now(intake, world.users["director"]))
    # Numbers are ranks of keyed hashes: the relative order of the ten stays the same.
    order = sorted(before, key=before.get)
    assert sorted(order, key=lambda n: after[n].lottery) == order


def test_several_tracks_allocate_wishes_with_a_waiting_list_per_track(world):
    intake = make_closed_intake(world.smara, n=10, tracks=("dev-web", "data"))
    make_scheme(intake, test_threshold=None)
    with scopes_disabled():
        web, data = IntakeTrack.objects.filter(intake=intake).order_by("track__code")[::-1]
        IntakeTrack.objects.filter(intake=intake).update(seats=2, waitlist=1)
        for a in intake.applications.order_by("number"):
            first, second = (web, data) if a.number % 2 else (data, web)
            Wish.objects.create(application=a, track=first.track, rank=1)
            if a.number > 6:
                Wish.objects.create(application=a, track=second.track, rank=2)
    marks = [20, 19, 18, 17, 16, 15, 14, 13, 12, 11]
    give_marks(intake, {"test": marks, "interview": marks})
    run = run_now(intake, world.users["director"])
    assert run.status == RankingRun.Status.DONE, run.error
    r = results(run)
    outcome = {n: (x.outcome, x.track_id, x.waitlist_position) for n, x in r.items()}
    # web (odd numbers first): 1, 3 admitted; data (even first): 2, 4 admitted.
    assert outcome[1] == ("admitted", web.pk, None) and outcome[3] == ("admitted", web.pk, None)
    assert outcome[2] == ("admitted", data.pk, None) and outcome[4] == ("admitted", data.pk, None)
    assert outcome[5] == ("waitlisted", web.pk, 1) and outcome[6] == ("waitlisted", data.pk, 1)
    assert r[7].reason == "below_cutoffs" and len(r[7].explanation["wishes"]) == 2
    assert run.summary["seats"] == {str(web.pk): 2, str(data.pk): 2}
    assert run.summary["cutoffs"] == {str(web.pk): "18.00", str(data.pk): "17.00"}
    assert {c["name"] for c in run.checks} >= {"capacity", "no_blocking_pair", "cutoffs"}


def test_two_quota_groups_on_one_of_several_tracks_fail_the_run_with_the_reason(world):
    intake = make_closed_intake(world.smara, n=4, tracks=("dev-web", "data"))
    make_scheme(intake, women_share=50)
    with scopes_disabled():
        Quota.objects.create(scheme=intake.scheme, group="neet", share=10)
    run = run_now(intake, world.users["director"])
    assert run.status == RankingRun.Status.FAILED
    assert "one quota group" in run.error


def test_no_code_but_the_ranking_service_writes_runs_or_results():
    """A run is immutable once done: outside selection/ranking.py nothing updates or
    deletes runs or results (the run page, compare, export and decisions only read)."""
    import re
    from pathlib import Path

    import tremplin

    write = re.compile(
        r"(RankingResult|RankingRun)\.objects(?:(?!\n\n).){0,300}?"
        r"\.(update|delete|bulk_update|bulk_create|create|get_or_create|update_or_create)\(",
        re.DOTALL,
    )
    root = Path(tremplin.__file__).parent
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and write.search(path.read_text(encoding="utf-8"))
    )
    assert writers == ["selection/ranking.py"]


def test_a_run_whose_worker_died_is_queued_again_and_completes(
    world, intake, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})
    with scope(school=intake.school):
        run = ranking_run_start(intake=intake, actor=world.users["admissions"], enqueue=False)
    # A worker took it, then was killed: the run stays "running" with no results.
    with scopes_disabled():
        RankingRun.objects.filter(pk=run.pk).update(
            status=RankingRun.Status.RUNNING, claimed_at=timezone.now()
        )
    assert ranking.ranking_runs_resume() == 0  # still within the time a run may take
    with scopes_disabled():
        RankingRun.objects.filter(pk=run.pk).update(
            claimed_at=timezone.now() - datetime.timedelta(minutes=31)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert ranking.ranking_runs_resume() == 1
    with scopes_disabled():
        run.refresh_from_db()
        assert run.status == RankingRun.Status.DONE
        assert RankingResult.objects.filter(run=run).count() == 10
