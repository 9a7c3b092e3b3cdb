"""Imported applicants told their reference: the portal's confirmation, written with each
application an import creates, when the staff ask for it (the page's box, ``--notify``)."""

import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.admissions.builders import CONSENT, applicant, canonical_csv, make_import_intake
from tremplin.admissions.importing import import_applications
from tremplin.admissions.models import Application, ImportJob
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message
from tremplin.notify.services import outbox_flush

SPACE = "https://tremplin.example.ma/espace/"


@pytest.fixture
def intake(world):
    return make_import_intake(world.smara)


def run(intake, rows, **options):
    options = {"mode": "valid", "dry_run": False, **options}
    return import_applications(
        intake=intake, fileobj=io.BytesIO(canonical_csv(rows)), filename="a.csv", **options
    )


def messages() -> list[Message]:
    with scopes_disabled():
        return list(Message.objects.order_by("pk"))


def applications() -> dict[str, Application]:
    with scopes_disabled():
        return {a.cin: a for a in Application.objects.all()}


ROWS = [
    applicant(0, language="fr"),
    applicant(1, email="samira@example.ma", first_name_ar="سميرة", language="ar"),
]
OTHER_ROWS = [applicant(2), applicant(3)]


@pytest.mark.django_db
def test_each_new_applicant_gets_the_portals_confirmation_in_their_language(
    intake, sms_outbox, mailoutbox
):
    result = run(intake, ROWS, notify_url=SPACE)
    assert result.created == 2
    by_cin = applications()
    fatima, samira = by_cin["JA100000"], by_cin["JA100001"]
    written = messages()
    assert [(m.channel, m.recipient, m.language) for m in written] == [
        ("sms", "+212661000000", "fr"),
        ("sms", "+212661000001", "ar"),
        ("email", "samira@example.ma", "ar"),
    ]
    assert {m.template for m in written} == {"application_imported"}
    assert [m.object_id for m in written] == [str(fatima.pk), str(samira.pk), str(samira.pk)]
    assert {m.school_id for m in written} == {intake.school_id}
    assert fatima.reference in written[0].body and SPACE.rstrip("/") in written[0].body
    assert samira.reference in written[2].body and "سميرة" in written[2].body
    assert SPACE in written[2].body

    # The outbox sweep sends them, as it sends the portal's.
    assert outbox_flush()["sent"] == 3
    assert [sms.to for sms in sms_outbox] == ["+212661000000", "+212661000001"]
    assert [m.to for m in mailoutbox] == [["samira@example.ma"]]


@pytest.mark.django_db
def test_applicants_already_in_the_call_are_not_told_again(intake):
    run(intake, ROWS[:1], notify_url=SPACE)
    again = run(intake, ROWS, notify_url=SPACE)
    assert (again.created, again.duplicates) == (1, 1)
    samira = applications()["JA100001"]
    assert [m.object_id for m in messages()][1:] == [str(samira.pk), str(samira.pk)]
    assert len(messages()) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "options"),
    [
        (ROWS, {"notify_url": ""}),  # not asked for
        (ROWS, {"notify_url": SPACE, "dry_run": True}),
        ([*ROWS, applicant(2, phone="12")], {"notify_url": SPACE, "mode": "all"}),
    ],
    ids=["not-asked", "dry-run", "all-or-nothing-with-a-bad-row"],
)
def test_nothing_is_written_when_not_asked_for_or_nothing_is_imported(intake, rows, options):
    run(intake, rows, **options)
    assert messages() == []


@pytest.mark.django_db
def test_applications_are_not_kept_without_their_confirmations(intake, monkeypatch):
    from tremplin.notify import services

    build = services.message_build

    def fail_on_the_email(**kwargs):
        if kwargs["channel"] == "email":
            raise RuntimeError("the disk is full")
        return build(**kwargs)

    monkeypatch.setattr(services, "message_build", fail_on_the_email)
    with pytest.raises(RuntimeError):
        run(intake, ROWS, notify_url=SPACE)
    assert applications() == {} and messages() == []


@pytest.mark.django_db
def test_queries_grow_with_batches_not_rows(world, intake):
    def queries(first: int, rows: int) -> int:
        data = [applicant(n) for n in range(first, first + rows)]
        with CaptureQueriesContext(connection) as captured:
            result = run(intake, data, batch_size=40, notify_url=SPACE)
        assert result.created == rows
        return len(captured)

    queries(0, 10)  # warm the caches (content types) that a first import fills
    # Two batches either way: of 40 and 40 rows, or of 40 and 3. (Batches of 40 SMS: on
    # SQLite, Django splits an INSERT past 999 parameters, about 45 messages.)
    assert queries(1000, 80) == queries(2000, 43)
    assert len(messages()) == 10 + 80 + 43


@pytest.mark.django_db
def test_applicants_of_a_file_who_share_a_phone_are_all_told(intake, sms_outbox):
    rows = [applicant(n, phone="06 61 23 45 67") for n in range(8)]
    assert run(intake, rows, notify_url=SPACE).created == 8
    assert outbox_flush() == {"sent": 8}
    assert [sms.to for sms in sms_outbox] == ["+212661234567"] * 8


def url(name: str, *args) -> str:
    return reverse(f"admissions:{name}", args=["smara", "promo-2026", *args])


@pytest.mark.django_db
def test_the_page_asks_and_the_real_import_after_a_dry_run_tells_the_applicants(
    world, intake, django_capture_on_commit_callbacks
):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    form = client.get(url("import_form")).content.decode()
    assert "Send each new applicant their reference" in form
    upload = SimpleUploadedFile("a.csv", canonical_csv(ROWS), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("import_form"), {"file": upload, "mode": "all", "dry_run": "on", "notify": "on"}
        )
    with scopes_disabled():
        dry = ImportJob.objects.get()
    # No public address configured (SITE_URL): the one of the site the staff use.
    assert dry.notify_url == "http://testserver" + reverse("portal:access")
    page = client.get(response["Location"]).content.decode()
    assert "each new applicant would be sent their reference" in page
    # The button asks again, ticked as the dry run was.
    assert 'name="notify" id="import-notify" aria-describedby="import-notify-help" checked' in page
    assert messages() == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_detail", dry.pk), {**CONSENT, "notify": "on"})
    with scopes_disabled():
        real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert real.notify_url == dry.notify_url and real.created_count == 2
    assert len(messages()) == 3 and dry.notify_url.rstrip("/") in messages()[0].body
    page = client.get(response["Location"]).content.decode()
    assert "The 2 new applicants are being sent their reference by SMS" in page
    assert reverse("notify:outbox", args=["smara"]) in page


@pytest.mark.django_db
def test_a_dry_run_asks_again_whether_to_send_the_references_and_the_result_says_it(
    world, intake, django_capture_on_commit_callbacks
):
    """A dry run is often sent without the box ticked (it sends nothing anyway): importing it
    for real must not then leave the applicants without their reference unsaid."""
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    upload = SimpleUploadedFile("a.csv", canonical_csv(ROWS), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import_form"), {"file": upload, "mode": "all", "dry_run": "on"})
    with scopes_disabled():
        dry = ImportJob.objects.get()
    page = client.get(url("import_detail", dry.pk)).content.decode()
    assert 'id="import-notify"' in page and "Send each new applicant their reference" in page
    assert 'aria-describedby="import-notify-help" checked' not in page

    with django_capture_on_commit_callbacks(execute=True):  # ticked now
        client.post(url("import_detail", dry.pk), {**CONSENT, "notify": "on"})
    with scopes_disabled():
        real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert real.notify_url.endswith(reverse("portal:access")) and len(messages()) == 3

    # Not ticked: nothing sent, and the result says what it means.
    upload = SimpleUploadedFile("b.csv", canonical_csv(OTHER_ROWS), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), {"file": upload, "mode": "all", **CONSENT})
    page = client.get(response["Location"]).content.decode()
    assert "were not sent their reference, as chosen: they do not know it" in page
    assert len(messages()) == 3


@pytest.mark.django_db
def test_the_page_tells_nobody_unless_asked(world, intake, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("a.csv", canonical_csv(ROWS), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        world.client("admissions").post(
            url("import_form"), {"file": upload, "mode": "all", **CONSENT}
        )
    with scopes_disabled():
        job = ImportJob.objects.get()
    assert (job.notify_url, job.created_count) == ("", 2)
    assert messages() == []


@pytest.mark.django_db
def test_the_command_tells_them_with_the_sites_address(world, intake, tmp_path, settings):
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv(ROWS))
    settings.SITE_URL = ""
    with pytest.raises(CommandError, match="--notify needs SITE_URL"):
        call_command("import_applications", str(path), "--intake", "promo-2026", "--notify",
                     stdout=io.StringIO())  # fmt: skip
    assert applications() == {}

    settings.SITE_URL = "https://tremplin.example.ma"
    out = io.StringIO()
    call_command("import_applications", str(path), "--intake", "promo-2026", "--notify",
                 stdout=out)  # fmt: skip
    assert "being sent" in out.getvalue()
    link = settings.SITE_URL + reverse("portal:access")
    assert len(messages()) == 3 and all(link.rstrip("/") in m.body for m in messages())


@pytest.mark.django_db
def test_the_page_says_that_imported_rows_lack_the_documents_the_call_asks_for(world):
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    make_import_intake(world.smara)
    assert "which a file cannot carry" not in client.get(url("import_form")).content.decode()
    make_import_intake(world.smara, slug="promo-2027", required_documents=["cin", "photo"])
    page = client.get(url("import_form").replace("promo-2026", "promo-2027")).content.decode()
    assert (
        "This call asks for documents (copy of the national identity card and photo), which a file"
        in page
    )


@pytest.mark.django_db
def test_the_link_is_the_public_sites_whatever_address_the_staff_use(
    world, intake, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://tremplin.example.ma"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "10.0.0.5"]
    upload = SimpleUploadedFile("a.csv", canonical_csv(ROWS), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        world.client("admissions").post(
            url("import_form"),
            {"file": upload, "mode": "all", "notify": "on", **CONSENT},
            HTTP_HOST="10.0.0.5",
        )
    with scopes_disabled():
        job = ImportJob.objects.get()
    assert job.notify_url == "https://tremplin.example.ma" + reverse("portal:access")
    assert all("10.0.0.5" not in m.body for m in messages()) and len(messages()) == 3


@pytest.mark.django_db
def test_staff_send_their_reference_later_to_the_imported_applicants_who_never_got_it(
    world, intake, django_capture_on_commit_callbacks
):
    """Imported without it (the box left unticked): the call's page and the import's result
    say how many wait, and one click sends it to each of them, once. Not to those who have
    it, nor to those who left, nor to an applicant of the online form."""
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    # Told at their import; the messages of the second failed (a refused number).
    run(intake, [applicant(0, language="fr"), applicant(9)], notify_url=SPACE)
    others = [applicant(n) for n in (4, 5, 6)]
    rows = ROWS + OTHER_ROWS + others
    upload = SimpleUploadedFile("b.csv", canonical_csv(rows), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import_form"), {"file": upload, "mode": "valid", **CONSENT})
    with scopes_disabled():
        by_cin = {a.cin: a for a in Application.objects.all()}
        Message.objects.filter(object_id=str(by_cin[applicant(9)["cin"]].pk)).update(
            status=Message.Status.FAILED
        )
        Application.objects.filter(cin=applicant(3)["cin"]).update(status="withdrawn")
        Application.objects.filter(cin=applicant(4)["cin"]).update(
            source="portal", reference_unsent=False
        )
        Application.objects.filter(cin=applicant(5)["cin"]).update(erased_at=timezone.now())
        Application.objects.filter(cin=applicant(6)["cin"]).update(
            deletion_requested_at=timezone.now()
        )
    told_before = len(messages())
    result = client.get(response["Location"]).content.decode()
    assert "3 imported applicants of this call never received their reference" in result
    page = client.get(url("intake_detail")).content.decode()
    assert "Send their reference to these 3 applicants" in page

    sent = client.post(url("references_send"), follow=True).content.decode()
    assert "The 3 imported applicants are being sent their reference by SMS" in sent
    new = messages()[told_before:]
    told = {by_cin_of(m.object_id) for m in new}
    assert told == {applicant(n)["cin"] for n in (1, 2, 9)}
    assert {m.template for m in new} == {"application_imported"}
    samira = next(m for m in new if m.channel == "sms" and m.language == "ar")
    with scopes_disabled():
        assert Application.objects.get(pk=samira.object_id).reference in samira.body
    assert "testserver" in samira.body  # the way to her space
    assert "never received their reference" not in sent
    with scopes_disabled():
        (event,) = AuditEvent.objects.filter(action="tremplin.applications.references_sent")
    assert event.data == {"count": 3} and event.actor == world.users["admissions"]
    # The import's result no longer says that they do not know it.
    result = client.get(response["Location"]).content.decode()
    assert "they do not know it" not in result

    again = client.post(url("references_send"), follow=True).content.decode()  # a replay
    assert "Every imported applicant of this call has their reference." in again
    assert len(messages()) == told_before + len(new)


@pytest.mark.django_db
def test_imported_applicants_are_marked_until_the_outbox_sends_their_reference(
    world, intake, tmp_path, settings
):
    """By the page or by the command, each application an import writes is marked until the
    outbox sends the message with her reference; the call's page counts the marked ones
    with no such message on its way (a partial index, empty nearly always: not the call's
    messages). A message that fails leaves her marked: she is offered again."""
    from tremplin.admissions.imported_references import references_count, references_send

    def marked() -> set[str]:
        with scopes_disabled():
            return set(
                Application.objects.filter(reference_unsent=True).values_list("cin", flat=True)
            )

    def waiting() -> int:
        with scopes_disabled():
            return references_count(intake)

    run(intake, ROWS)  # the page's way, the box left unticked
    run(intake, [applicant(5)], notify_url=SPACE)  # told at once, by the outbox
    path = tmp_path / "candidats.csv"
    path.write_bytes(canonical_csv(OTHER_ROWS))
    call_command("import_applications", str(path), "--intake", "promo-2026",
                 stdout=io.StringIO())  # fmt: skip
    assert marked() == {applicant(n)["cin"] for n in (0, 1, 2, 3, 5)}
    assert waiting() == 4  # the fifth one's message is on its way
    assert outbox_flush()["sent"] == 1
    assert marked() == {applicant(n)["cin"] for n in (0, 1, 2, 3)}

    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    page = client.get(url("intake_detail")).content.decode()
    assert "Send their reference to these 4 applicants" in page  # the command's two too
    with scopes_disabled():
        sent, left = references_send(
            intake=intake, actor=world.users["admissions"], space_url=SPACE
        )
    assert (sent, left) == (4, 0)  # on their way: nobody waits
    settings.SMS_BACKEND = "tests.notify.backends.RefusingSmsBackend"  # an unknown number
    outbox_flush()
    assert marked() == {applicant(n)["cin"] for n in (0, 2, 3)}  # the second had an email
    assert waiting() == 3
    page = client.get(url("intake_detail")).content.decode()
    assert "Send their reference to these 3 applicants" in page
    # Another message with her reference (a change of her eligibility) unmarks her too; a
    # withdrawn applicant is no longer counted.
    from tremplin.admissions.services import _eligibility_notice_context, notify_applicant

    settings.SMS_BACKEND = "tremplin.notify.sms.LocmemSmsBackend"
    with scopes_disabled():
        by_cin = {a.cin: a for a in Application.objects.select_related("intake__school")}
        third = by_cin[applicant(2)["cin"]]
        notify_applicant(third, "eligibility_changed", _eligibility_notice_context(third))
        Application.objects.filter(pk=by_cin[applicant(3)["cin"]].pk).update(status="withdrawn")
    outbox_flush()
    assert marked() == {applicant(n)["cin"] for n in (0, 3)}
    assert waiting() == 1
    page = client.get(url("intake_detail")).content.decode()
    assert "Send their reference to this applicant" in page


@pytest.mark.django_db
def test_the_reference_promises_corrections_only_while_the_call_is_open(world, intake):
    """Imported while the call is open, she may correct her application until its closing
    date, which the message names; her reference sent once it has closed (an import from a
    paper campaign, or staff sending it later) offers only what she can still do."""
    from tremplin.admissions.imported_references import references_send
    from tremplin.core.formatting import format_datetime

    run(intake, [applicant(2, email="a@example.ma", language="fr")], notify_url=SPACE)
    (open_email,) = [m for m in messages() if m.channel == "email"]
    closing = format_datetime(intake.closes_at, "short", "fr")
    assert f"la corriger jusqu'au {closing}" in open_email.body
    assert open_email.subject.startswith("Candidature SMA-") and "enregistrée" in open_email.subject

    with scopes_disabled():
        intake.closes_at = timezone.now() - timezone.timedelta(minutes=1)
        intake.save(update_fields=["closes_at"])
    run(intake, [applicant(3, email="b@example.ma", language="fr")])  # told later
    run(intake, [applicant(4, email="c@example.ma", language="ar")])
    with scopes_disabled():
        sent, left = references_send(
            intake=intake, actor=world.users["admissions"], space_url=SPACE
        )
    assert (sent, left) == (2, 0)
    french, arabic = [m for m in messages() if m.channel == "email"][1:]
    assert "corriger" not in french.body and "date de clôture" not in french.body
    assert "suivre votre candidature, ou la retirer\u00a0:" in french.body
    assert "تصحيح" not in arabic.body and "تتبع ترشيحكم أو سحبه" in arabic.body
    assert SPACE in french.body and SPACE in arabic.body


@pytest.mark.django_db
def test_a_large_call_is_sent_its_references_a_few_thousand_a_click(world, intake, monkeypatch):
    from tremplin.admissions import imported_references

    monkeypatch.setattr(imported_references, "CHUNK", 2)
    monkeypatch.setattr(imported_references, "AT_ONCE", 3)
    run(intake, [applicant(n) for n in range(5)])
    client = world.client("admissions")
    client.cookies["django_language"] = "en"
    first = client.post(url("references_send"), follow=True).content.decode()
    assert "The 3 imported applicants are being sent their reference" in first
    assert "2 more wait for their reference: send it with the button again." in first
    second = client.post(url("references_send"), follow=True).content.decode()
    assert "The 2 imported applicants are being sent" in second and "more wait" not in second
    assert len({m.object_id for m in messages()}) == 5


def by_cin_of(object_id: str) -> str:
    with scopes_disabled():
        return Application.objects.get(pk=object_id).cin


@pytest.fixture
def postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (run with DATABASE_URL)")


@pytest.mark.postgres
def test_clicks_at_once_send_each_reference_once(postgres_only, world):
    """Six clicks at once on « Send their reference », five times (a new import each time):
    each applicant is written to once."""
    intake = make_import_intake(world.smara)
    clients = [world.client("admissions") for _ in range(6)]
    for round_number in range(5):
        rows = [applicant(10 * round_number + n) for n in range(3)]
        run(intake, rows)  # without sending the references
        barrier = threading.Barrier(len(clients))
        answers: list[int] = []

        def click(client, barrier=barrier, answers=answers):
            try:
                barrier.wait()
                answers.append(client.post(url("references_send")).status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=click, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with scopes_disabled():
            about = [m.object_id for m in Message.objects.filter(channel="sms")]
            audited = AuditEvent.objects.filter(action="tremplin.applications.references_sent")
            assert audited.count() == round_number + 1  # one click sent, the others nothing
        assert answers == [302] * len(clients)
        assert len(about) == len(set(about)) == 3 * (round_number + 1), round_number
