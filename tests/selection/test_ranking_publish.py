"""Publication: a named person, a comment, once per call, offers and letters in the same
transaction; the confirmation page and the command."""

import importlib
import sys
import types

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from tests.selection.builders import give_marks, make_closed_intake, make_scheme
from tests.selection.test_ranking_runs import INTERVIEW, run_now
from tremplin.admissions.models import Application, Intake
from tremplin.core.models import AuditEvent
from tremplin.selection.models import Letter, RankingRun
from tremplin.selection.ranking import ranking_publish


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)


@pytest.fixture
def followups(monkeypatch):
    """offers_open and letter_batch_start, recorded instead of run (their parts test them)."""
    recorders = {}
    for module, name in (("offers", "offers_open"), ("letters", "letter_batch_start")):
        path = f"tremplin.selection.{module}"
        try:
            target = importlib.import_module(path)
        except ImportError:  # the other part is not written yet
            target = types.ModuleType(path)
            monkeypatch.setitem(sys.modules, path, target)
        recorders[module] = Recorder()
        monkeypatch.setattr(target, name, recorders[module], raising=False)
    return recorders


@pytest.fixture
def intake(world):
    intake = make_closed_intake(world.smara, n=10, seats=3, waitlist=2)
    make_scheme(intake)
    give_marks(intake, {"test": [12] * 10, "interview": INTERVIEW})
    return intake


def publish(run, user, comment="Validated by the jury on 12 September."):
    with scope(school=run.intake.school):
        return ranking_publish(run=run, actor=user, comment=comment)


def test_publishing_records_who_when_why_opens_offers_and_starts_the_letters(
    world, intake, followups
):
    run = run_now(intake, world.users["director"])
    with scopes_disabled():
        Application.objects.filter(intake=intake, number=2).update(erased_at=intake.closes_at)
    published = publish(run, world.users["director"])
    assert published.published_by == world.users["director"]
    assert published.publication_comment == "Validated by the jury on 12 September."
    assert followups["offers"].calls == [{"run": published, "actor": world.users["director"]}]
    (letters,) = followups["letters"].calls
    assert letters["kind"] == Letter.Kind.DECISION and letters["notify"] is True
    assert letters["intake"] == intake and letters["actor"] == world.users["director"]
    with scopes_disabled():
        expected = set(intake.applications.exclude(number=2).values_list("pk", flat=True))
        event = AuditEvent.objects.get(action="tremplin.selection.ranking.published")
    assert set(letters["application_ids"]) == expected  # everyone but the erased one
    assert event.actor == world.users["director"] and event.reason == published.publication_comment
    assert event.data["seed"] == 2025 and event.data["counts"]["admitted"] == 3


def test_a_comment_is_required(world, intake, followups):
    run = run_now(intake, world.users["director"])
    with pytest.raises(ValidationError):
        publish(run, world.users["director"], comment="   ")
    run.refresh_from_db()
    assert not run.published and not followups["offers"].calls


def test_a_second_publication_is_refused_with_a_clear_message(world, intake, followups):
    first = run_now(intake, world.users["director"])
    second = run_now(intake, world.users["director"])
    publish(first, world.users["director"])
    with pytest.raises(ValidationError) as error:
        publish(second, world.users["admissions"])
    assert "Run #1 of this call is already published" in " ".join(error.value.messages)
    with pytest.raises(ValidationError):
        publish(first, world.users["admissions"])
    with scopes_disabled():
        assert RankingRun.objects.filter(published_at__isnull=False).count() == 1
    assert len(followups["offers"].calls) == 1


def test_an_unfinished_run_an_open_call_or_a_failed_check_cannot_be_published(
    world, intake, followups
):
    with scope(school=intake.school):
        from tremplin.selection.ranking import ranking_run_start

        pending = ranking_run_start(intake=intake, actor=world.users["director"], enqueue=False)
    with pytest.raises(ValidationError):
        publish(pending, world.users["director"])
    done = run_now(intake, world.users["director"])
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(status=Intake.Status.OPEN)
    with pytest.raises(ValidationError, match="still open"):
        publish(done, world.users["director"])
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(status=Intake.Status.CLOSED)
        Application.objects.filter(intake=intake, number=1).update(eligibility="pending")
    unscreened = run_now(intake, world.users["director"])
    with pytest.raises(ValidationError, match="checks"):
        publish(unscreened, world.users["director"])
    assert not followups["offers"].calls


def test_a_run_computed_before_the_seats_changed_cannot_be_published(world, intake, followups):
    run = run_now(intake, world.users["director"])
    with scopes_disabled():
        Intake.objects.filter(pk=intake.pk).update(seats=1)  # as the call's form saves it
    with pytest.raises(ValidationError, match="run the ranking again"):
        publish(run, world.users["director"])
    assert not followups["offers"].calls
    fresh = run_now(intake, world.users["director"])
    assert publish(fresh, world.users["director"]).published


def test_a_follow_up_failure_publishes_nothing(world, intake, monkeypatch, followups):
    run = run_now(intake, world.users["director"])

    def refuse(**kwargs):
        raise ValidationError("No seats are set for a track of this call.")

    monkeypatch.setattr(sys.modules["tremplin.selection.offers"], "offers_open", refuse)
    with pytest.raises(ValidationError):
        publish(run, world.users["director"])
    run.refresh_from_db()
    assert not run.published
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="tremplin.selection.ranking.published")


def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_confirmation_shows_the_counts_and_the_seed_then_publishes(world, intake, followups):
    run = run_now(intake, world.users["director"])
    url = reverse("selection:ranking_publish", args=["smara", intake.slug, run.number])
    client = english(world.client("admissions"))
    page = client.get(url).content.decode()
    assert 'data-testid="publish-seed">2025<' in page
    assert '<span class="tp-stat">3</span>' in page  # admitted
    response = client.post(url, {"comment": "", "confirm": "on"})
    assert response.status_code == 400
    assert "A comment is required" in response.content.decode()
    response = client.post(url, {"comment": "Jury of 12 September", "confirm": "on"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.published_by == world.users["admissions"]
    second = run_now(intake, world.users["director"])
    url = reverse("selection:ranking_publish", args=["smara", intake.slug, second.number])
    response = client.post(url, {"comment": "Again", "confirm": "on"})
    assert response.status_code == 400
    assert "Run #1 of this call is already published" in response.content.decode()


def test_the_commands_rank_and_publish(world, intake, followups, capsys):
    call_command("rank", "--intake", intake.slug, "--by", "director")
    out = capsys.readouterr().out
    assert "Run #1 of smara/promo-2025: done" in out
    assert "admitted 3, waitlisted 2" in out and "[ok  ] quota" in out
    with pytest.raises(CommandError, match="required"):
        call_command("publish_ranking", "--intake", intake.slug, "--run", "1",
                     "--by", "director", "--comment", " ")  # fmt: skip
    call_command("publish_ranking", "--intake", intake.slug, "--run", "1",
                 "--by", "director", "--comment", "Jury")  # fmt: skip
    assert "published by director" in capsys.readouterr().out
    with scopes_disabled():
        assert RankingRun.objects.get(intake=intake, number=1).published


def test_rank_refuses_an_unknown_intake(world):
    with pytest.raises(CommandError, match="No intake"):
        call_command("rank", "--intake", "nope", "--by", "director")


def test_with_the_real_offers_and_letters_each_admitted_applicant_gets_an_offer(world, intake):
    pytest.importorskip("tremplin.selection.offers")
    pytest.importorskip("tremplin.selection.letters")
    from tremplin.selection.models import LetterBatch, Offer

    run = run_now(intake, world.users["director"])
    publish(run, world.users["director"])
    with scopes_disabled():
        offered = set(Offer.objects.filter(run=run).values_list("application__number", flat=True))
        admitted = set(
            run.results.filter(outcome="admitted").values_list("application__number", flat=True)
        )
        batch = LetterBatch.objects.get(intake=intake, kind=Letter.Kind.DECISION)
    assert offered == admitted and len(offered) == 3
    assert batch.total == 10
