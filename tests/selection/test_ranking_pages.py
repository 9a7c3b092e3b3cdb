"""Staff pages of ranking runs: the runs, the progress, the results table, the comparison
and the export."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tests.selection.test_ranking_runs import INTERVIEW, run_now
from tremplin.core.models import AuditEvent
from tremplin.selection.models import Component, Mark, RankingRun
from tremplin.selection.ranking import ranking_run_start


def ranked_intake(world):
    """Ten applicants of a closed call, marked, for three seats and a waiting list of two."""
    intake = make_closed_intake(world.smara, n=10, seats=3, waitlist=2)
    make_scheme(intake, test_threshold=Decimal(8))
    give_marks(intake, {"test": [12, 15, 7, 16, 10, 11, 14, 9, 13, 12], "interview": INTERVIEW})
    return intake


@pytest.fixture
def intake(world):
    return ranked_intake(world)


def url(intake, name, *args):
    return reverse(name, args=[intake.school.slug, intake.slug, *args])


def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_starting_a_run_from_the_list_leads_to_its_page(world, intake):
    client = world.client("admissions")
    assert (
        "Run a ranking" in english(client).get(url(intake, "selection:rankings")).content.decode()
    )
    response = client.post(url(intake, "selection:ranking_start"))
    assert response.status_code == 302
    assert response["Location"] == url(intake, "selection:ranking_run", 1)
    with scopes_disabled():
        assert RankingRun.objects.get(intake=intake).created_by == world.users["admissions"]


def test_the_progress_is_polled_while_the_run_waits_then_the_page_refreshes(world, intake):
    with scope(school=intake.school):
        run = ranking_run_start(intake=intake, actor=world.users["director"], enqueue=False)
    client = world.client("director")
    page = client.get(url(intake, "selection:ranking_run", run.number)).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    with scopes_disabled():
        RankingRun.objects.filter(pk=run.pk).update(status="running", progress=40)
    partial = client.get(url(intake, "selection:ranking_run", run.number), HTTP_HX_REQUEST="true")
    assert 'value="40"' in partial.content.decode() and "HX-Refresh" not in partial
    with scopes_disabled():
        RankingRun.objects.filter(pk=run.pk).update(status="pending")
    from tremplin.selection.ranking import ranking_run_execute

    ranking_run_execute(run.pk)
    partial = client.get(url(intake, "selection:ranking_run", run.number), HTTP_HX_REQUEST="true")
    assert partial["HX-Refresh"] == "true"


def test_a_failed_run_says_so_and_shows_no_results(world, intake, monkeypatch):
    from tremplin.selection import ranking
    from tremplin.selection.checks import SelfCheckError

    def broken(inputs, on_progress=None):
        raise SelfCheckError("Quota broken at place 4.")

    monkeypatch.setattr(ranking, "compute", broken)
    run = run_now(intake, world.users["director"])
    page = english(world.client("director")).get(url(intake, "selection:ranking_run", run.number))
    body = page.content.decode()
    assert "This run failed and stored no result." in body and "Quota broken at place 4." in body
    assert 'data-testid="results"' not in body


def test_the_results_table_shows_marks_composite_ranks_outcome_and_masks_the_cin(world, intake):
    run = run_now(intake, world.users["director"])
    body = (
        english(world.client("director"))
        .get(url(intake, "selection:ranking_run", run.number))
        .content.decode()
    )
    assert 'data-testid="count-admitted">3<' in body
    row = body.split('data-testid="result-SMA-25-0003"')[1].split("</tr>")[0]
    assert "7.00" in row and "18.00" in row  # marks, as stored, per component
    assert "14.33" in row  # composite
    assert "below an eliminatory threshold" in row
    assert "SE****02" in row and "SE100002" not in body
    assert '<bdi lang="ar">خديجة العلوي</bdi>' in row


def test_the_results_table_filters_by_outcome_and_searches(world, intake):
    run = run_now(intake, world.users["director"])
    client = world.client("director")
    page = client.get(url(intake, "selection:ranking_run", run.number), {"outcome": "waitlisted"})
    assert page.context["page"].paginator.count == 2
    assert all(r["result"].outcome == "waitlisted" for r in page.context["rows"])
    page = client.get(url(intake, "selection:ranking_run", run.number), {"q": "SMA-25-0004"})
    assert [r["result"].application.number for r in page.context["rows"]] == [4]
    # Names are found as staff type them: accents, case and hyphens aside.
    page = client.get(url(intake, "selection:ranking_run", run.number), {"q": "ALAOUÏ-3"})
    assert [r["result"].application.number for r in page.context["rows"]] == [4]
    # With an invisible control character pasted in (PostgreSQL refuses NUL in a query).
    page = client.get(url(intake, "selection:ranking_run", run.number), {"q": "SMA-25-0004\x00"})
    assert [r["result"].application.number for r in page.context["rows"]] == [4]
    # By the full CIN, as staff type it: found, and audited as a look-up of her identity.
    with scopes_disabled():
        fourth = intake.applications.get(number=4)
        assert not AuditEvent.objects.filter(action="tremplin.applications.identity_searched")
    typed = f"{fourth.cin[:2].lower()} {fourth.cin[2:]}"
    page = client.get(url(intake, "selection:ranking_run", run.number), {"q": typed})
    assert [r["result"].application.number for r in page.context["rows"]] == [4]
    with scopes_disabled():
        (event,) = AuditEvent.objects.filter(action="tremplin.applications.identity_searched")
    assert (event.object_id, event.actor) == (str(fourth.pk), world.users["director"])
    page = client.get(url(intake, "selection:ranking_run", run.number), {"sort": "-composite"})
    composites = [r["result"].composite for r in page.context["rows"]]
    present = [c for c in composites if c is not None]
    assert present == sorted(present, reverse=True) and composites[: len(present)] == present


def test_the_results_table_takes_the_same_queries_for_10_or_40_applicants(
    world, django_assert_num_queries
):
    counts = []
    for slug, n in (("small", 10), ("large", 40)):
        intake = make_closed_intake(world.smara, slug=f"promo-{slug}", n=n)
        make_scheme(intake)
        give_marks(intake, {"test": [12] * n, "interview": [13] * n})
        run = run_now(intake, world.users["director"])
        client = world.client("director")
        client.get(url(intake, "selection:ranking_run", run.number))  # warm the session
        with CaptureQueriesContext(connection) as queries:
            client.get(url(intake, "selection:ranking_run", run.number))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Session, user, 2FA devices and school access (8), then the intake, the run, the count
    # and the page of results (with their applications), the previous run, the published one,
    # the call's tracks (is the run still computed with the current seats?), the size of
    # the run's table (is its workbook written in the request?) and the reader's exports.
    with django_assert_num_queries(17):
        client.get(url(intake, "selection:ranking_run", run.number))


def test_compare_shows_who_moved_by_how_much_and_why(world, intake):
    run_now(intake, world.users["director"])
    # Merit order: 4 (16), 9 (14.33), 1 (13.33), 7 (13.33), 10 (12), 2, 5, 6 (11), 8; 3 is
    # below the threshold. No. 6 then gets a better interview: (11 + 2 × 19) / 3 = 16.33.
    with scopes_disabled():
        Mark.objects.filter(application__number=6, component__code="interview").update(value=19)
    second = run_now(intake, world.users["director"])
    client = english(world.client("director"))
    response = client.get(url(intake, "selection:ranking_compare", second.number), {"changed": "0"})
    movements = {m.application.number: m for m in response.context["movements"]}
    assert len(movements) == 10
    moved = movements[6]
    assert (moved.before.outcome, moved.after.outcome) == ("not_retained", "admitted")
    assert moved.rank_before == 8 and moved.rank_after == 1 and moved.moved_by == 7
    assert moved.reasons == ["interview mark: 11.00 → 19.00"]
    pushed = movements[1]  # no. 1 was third: pushed onto the waiting list by no. 6
    assert (pushed.before.outcome, pushed.after.outcome) == ("admitted", "waitlisted")
    assert pushed.moved_by == -1
    assert pushed.reasons == ["Other applicants' marks or situation changed."]
    assert not movements[3].changed and not movements[8].changed
    assert response.context["changes"] == []
    body = response.content.decode()
    assert "▲ +7" in body and "interview mark: 11.00 → 19.00" in body
    only = client.get(url(intake, "selection:ranking_compare", second.number))  # the default
    assert {m.application.number for m in only.context["movements"]} == {
        n for n, m in movements.items() if m.changed
    }
    assert 3 not in {m.application.number for m in only.context["movements"]}


def test_compare_names_a_changed_parameter(world, intake):
    first = run_now(intake, world.users["director"])
    with scopes_disabled():
        Component.objects.filter(code="test").update(weight=3)
    second = run_now(intake, world.users["director"])
    response = english(world.client("director")).get(
        url(intake, "selection:ranking_compare", second.number), {"with": first.number}
    )
    changes = [(c.label, c.before, c.after) for c in response.context["changes"]]
    assert changes == [("Weight of test", "1.00", "3.00")]
    moved = [m for m in response.context["movements"] if m.changed]
    assert moved and all("The parameters changed (see above)." in m.reasons for m in moved)


def test_the_export_is_a_workbook_and_is_audited(world, intake):
    run = run_now(intake, world.users["director"])
    response = english(world.client("admissions")).get(
        url(intake, "selection:ranking_export", run.number)
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    header = rows[0]
    assert header[:3] == ("call rank", "merit rank", "reference")
    assert "composite" in header and "lottery number" in header
    by_reference = {r[2]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert len(by_reference) == 10
    third = by_reference["SMA-25-0003"]
    assert third["CIN"] == "SE100002"  # officers hold the identity permission
    assert third["reason"] == "below an eliminatory threshold"
    assert third["composite"] == 14.33 and third["outcome"] == "not retained"
    with scopes_disabled():
        event = AuditEvent.objects.get(action="tremplin.selection.ranking.exported")
    assert event.actor == world.users["admissions"] and event.data["count"] == 10


def test_without_the_identity_permission_the_export_masks_the_cin(world, intake):
    from tremplin.selection.ranking_results import results_export

    run = run_now(intake, world.users["director"])
    out = io.BytesIO()
    with scope(school=intake.school):
        results_export(run=run, include_identity=False, actor=world.users["director"], out=out)
    rows = list(load_workbook(out).active.values)
    cins = {r[rows[0].index("CIN")] for r in rows[1:]}
    assert "SE****02" in cins and not any(c.startswith("SE1") for c in cins)


def test_a_name_that_looks_like_a_formula_stays_text_as_typed_in_the_export(world, intake):
    from tremplin.admissions.models import Application
    from tremplin.selection.ranking_results import results_export

    with scopes_disabled():
        Application.objects.filter(intake=intake, number=3).update(last_name="-Bakr")
    run = run_now(intake, world.users["director"])
    out = io.BytesIO()
    with scope(school=intake.school):
        results_export(run=run, include_identity=True, actor=world.users["director"], out=out)
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    cell = next(
        row[header.index("last name")]
        for row in sheet.iter_rows(min_row=2)
        if row[2].value == "SMA-25-0003"
    )
    assert cell.value == "-Bakr" and cell.data_type == "s" and cell.quotePrefix
