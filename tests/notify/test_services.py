import datetime
import io
import threading
import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test.signals import template_rendered
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from tremplin.core.audit import log_action
from tremplin.core.models import AuditEvent
from tremplin.notify.models import Message
from tremplin.notify.services import message_enqueue, message_send, outbox_flush, retry_delay

PHONE = "+212661234567"
CODE = {"code": "482913", "minutes": 10, "reference": "SMA-25-0042"}
SUBMITTED = {
    "first_name": "Fatima Zahra",
    "reference": "SMA-25-0042",
    "intake_title": "Promotion 2026",
    "school_name": "École Numérique de Smara",
    "space_url": "https://smara.tremplin.ma/espace/",
}

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def enqueue_sms(**kwargs) -> Message:
    return message_enqueue(
        **{
            "channel": "sms",
            "to": PHONE,
            "template": "applicant_code",
            "context": CODE,
            "language": "fr",
            **kwargs,
        }
    )


def reload(message: Message) -> Message:
    with scopes_disabled():
        return Message.objects.get(pk=message.pk)


def all_messages() -> list[Message]:
    with scopes_disabled():
        return list(Message.objects.all())


def test_a_message_enqueued_in_a_transaction_that_rolls_back_is_neither_kept_nor_sent(
    django_capture_on_commit_callbacks, sms_outbox
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        enqueue_sms()
        raise Boom
    assert callbacks == []
    assert all_messages() == []
    assert sms_outbox == []


def test_a_message_enqueued_in_a_transaction_that_commits_is_sent_once(
    django_capture_on_commit_callbacks, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = enqueue_sms()
    message = reload(message)
    assert message.status == Message.Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert [sms.to for sms in sms_outbox] == [PHONE]
    assert "482913" in sms_outbox[0].text

    # A late duplicate task, or the sweep, finds nothing to do.
    assert message_send(message.pk) is None
    assert sum(outbox_flush().values()) == 0
    assert len(sms_outbox) == 1


def test_the_send_is_a_task_that_takes_the_message_id_and_is_enqueued_on_commit(
    django_capture_on_commit_callbacks, dummy_tasks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = enqueue_sms()
    assert dummy_tasks.results == []
    callbacks[0]()
    [task] = dummy_tasks.results
    assert task.task.name == "send_message"
    assert task.kwargs == {"message_id": message.pk, "attempt": 0}
    assert task.task.run_after is None


def test_a_receiver_of_the_news_that_fails_does_not_unsend_the_message(sms_outbox, caplog):
    """The message went: whatever a receiver of ``message_sent`` does wrong is logged."""
    from tremplin.notify.signals import message_sent

    heard = []

    def broken(sender, message, **kwargs):
        heard.append(message.pk)
        raise Boom

    message_sent.connect(broken)
    try:
        with scopes_disabled():
            message = enqueue_sms()
        assert message_send(message.pk) == Message.Status.SENT
    finally:
        message_sent.disconnect(broken)
    assert heard == [message.pk]
    assert reload(message).status == Message.Status.SENT and len(sms_outbox) == 1
    assert f"Message {message.pk} sent, but" in caplog.text


def test_a_failed_send_keeps_the_message_for_a_retry_and_never_undoes_the_change(
    settings, django_capture_on_commit_callbacks, dummy_tasks
):
    settings.SMS_BACKEND = "tests.notify.backends.FailingSmsBackend"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        log_action("tremplin.applications.submitted", data={"reference": "SMA-25-0042"})
        message = enqueue_sms()
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert message_send(message.pk) == Message.Status.PENDING

    with scopes_disabled():
        assert AuditEvent.objects.filter(action="tremplin.applications.submitted").exists()
    message = reload(message)
    assert message.status == Message.Status.PENDING
    assert message.attempts == 1
    assert message.last_error == "ConnectionRefusedError: gateway unreachable"
    wait = message.next_attempt_at - before
    assert datetime.timedelta(seconds=22) <= wait <= datetime.timedelta(seconds=31)
    # The first task, then the retry, deferred to the next attempt.
    _first, retry = dummy_tasks.results
    assert retry.kwargs == {"message_id": message.pk, "attempt": 1}
    assert retry.task.run_after == message.next_attempt_at


def test_a_task_overtaken_by_the_sweep_does_not_retry_early_nor_start_a_second_chain(
    settings, django_capture_on_commit_callbacks, dummy_tasks
):
    """The sweep may take a message before its task runs; when that send fails, the sweep
    schedules the retry after the backoff, and the task, when it runs, does nothing."""
    from tremplin.notify.tasks import send_message

    settings.SMS_BACKEND = "tests.notify.backends.FailingSmsBackend"
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_sms()
    [first_task] = dummy_tasks.results
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_flush() == {"pending": 1}  # the sweep got there first, and failed
    assert reload(message).attempts == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert send_message.call(**first_task.kwargs) is None  # the first task, late
    assert reload(message).attempts == 1
    assert reload(message).status == Message.Status.PENDING
    # One chain of tries: the sweep's retry, after the backoff, and it does try.
    _first, retry = dummy_tasks.results
    assert retry.kwargs == {"message_id": message.pk, "attempt": 1}
    with django_capture_on_commit_callbacks(execute=True):
        assert send_message.call(**retry.kwargs) == Message.Status.PENDING
    assert reload(message).attempts == 2
    assert len(dummy_tasks.results) == 3
    # The sweep, for its part, leaves a message alone until its next try is due.
    assert sum(outbox_flush().values()) == 0
    assert reload(message).attempts == 2


def test_a_failed_send_waits_for_the_sweep_when_the_task_backend_cannot_defer(
    settings, django_capture_on_commit_callbacks, sms_outbox
):
    settings.SMS_BACKEND = "tests.notify.backends.FailingSmsBackend"
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_sms()  # the immediate backend of the tests sends, and fails, now
    assert reload(message).status == Message.Status.PENDING

    settings.SMS_BACKEND = "tremplin.notify.sms.LocmemSmsBackend"
    assert sum(outbox_flush().values()) == 0  # not due yet
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox_flush() == {"sent": 1}
    assert reload(message).attempts == 2
    assert len(sms_outbox) == 1


def test_after_the_last_attempt_the_message_is_marked_failed_and_no_longer_retried(
    settings, django_capture_on_commit_callbacks, dummy_tasks
):
    settings.SMS_BACKEND = "tests.notify.backends.FailingSmsBackend"
    settings.NOTIFY_MAX_ATTEMPTS = 3
    message = enqueue_sms()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # Each retry's task, run without waiting for the backoff.
        outcomes = [message_send(message.pk, attempt=attempt) for attempt in range(4)]
    assert outcomes == ["pending", "pending", "failed", None]
    assert len(callbacks) == 2  # a retry after each failure but the last
    message = reload(message)
    assert message.status == Message.Status.FAILED
    assert message.attempts == 3
    assert sum(outbox_flush().values()) == 0


def test_the_retry_delay_doubles_from_30_seconds_up_to_an_hour():
    for attempts, full in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (30, 3600)]:
        delay = retry_delay(attempts).total_seconds()
        assert full * 0.75 <= delay <= full


def test_the_same_dedupe_key_twice_gives_one_message_sent_once(
    django_capture_on_commit_callbacks, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = enqueue_sms(dedupe_key="applicant_code:SMA-25-0042:1")
        second = enqueue_sms(dedupe_key="applicant_code:SMA-25-0042:1")
        other = enqueue_sms(dedupe_key="applicant_code:SMA-25-0042:2")
    assert second.pk == first.pk
    assert other.pk != first.pk
    assert len(all_messages()) == 2
    assert len(sms_outbox) == 2


def test_a_repeated_request_after_the_first_committed_sends_nothing_more(
    django_capture_on_commit_callbacks, sms_outbox
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            enqueue_sms(dedupe_key="application_submitted:SMA-25-0042:sms")
    assert len(all_messages()) == 1
    assert len(sms_outbox) == 1


def test_messages_without_a_dedupe_key_are_never_merged():
    enqueue_sms()
    enqueue_sms()
    assert len(all_messages()) == 2


def test_a_message_is_rendered_in_the_recipients_language():
    rendered = []

    def record(sender, template, context, **kwargs):
        rendered.append((template.name, translation.get_language()))

    template_rendered.connect(record)
    try:
        with translation.override("fr"):  # the staff member's language is not the applicant's
            message = message_enqueue(
                channel="email",
                to="fatima@example.org",
                template="application_submitted",
                context=SUBMITTED,
                language="ar",
            )
    finally:
        template_rendered.disconnect(record)
    assert rendered == [
        ("notify/application_submitted/subject.txt", "ar"),
        ("notify/application_submitted/body.txt", "ar"),
    ]
    assert message.language == "ar"
    assert "SMA-25-0042" in message.subject
    assert "Fatima Zahra" in message.body
    assert "https://smara.tremplin.ma/espace/" in message.body
    with translation.override("ar"):
        translated = translation.gettext("Your reference: %(reference)s") != (
            "Your reference: %(reference)s"
        )
    if translated:  # once the Arabic catalogue has the notification strings
        assert any("\u0600" <= char <= "\u06ff" for char in message.body)


def test_an_unknown_language_falls_back_to_a_supported_one():
    assert enqueue_sms(language="fr-ma").language == "fr"
    assert enqueue_sms(language="de").language == "fr"


def test_an_email_goes_through_djangos_email_backend_in_the_recipients_language(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_enqueue(
            channel="email",
            to="fatima@example.org",
            template="applicant_code",
            context=CODE,
            language="en",
        )
    [email] = mail.outbox
    assert email.to == ["fatima@example.org"]
    assert email.subject == "482913 is your code for application SMA-25-0042"
    assert "valid for 10 minutes" in email.body
    assert email.extra_headers["Content-Language"] == "en"
    assert email.extra_headers["Message-ID"].startswith(f"<outbox.{message.pk}.")


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("fr", "ltr")])
def test_an_email_carries_the_direction_of_its_language(
    django_capture_on_commit_callbacks, language, direction
):
    """Plain text has no direction: an Arabic email shown left to right put its punctuation
    on the wrong side, and its link became "/http://...". Its HTML copy says it."""
    with django_capture_on_commit_callbacks(execute=True):
        message_enqueue(
            channel="email",
            to="fatima@example.org",
            template="application_submitted",
            context={**SUBMITTED, "first_name": "<b>Fatima</b>"},
            language=language,
        )
    [email] = mail.outbox
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert "SMA-25-0042" in html
    assert '<a dir="ltr" href="https://smara.tremplin.ma/espace/"' in html
    assert "<b>Fatima</b>" not in html and "&lt;b&gt;Fatima&lt;/b&gt;" in html


def test_a_message_may_point_to_the_object_that_caused_it(world):
    message = enqueue_sms(school=world.smara, related=world.users["director"])
    message = reload(message)
    assert message.school == world.smara
    assert message.content_type.model == "user"
    assert message.object_id == str(world.users["director"].pk)


@pytest.mark.parametrize(
    ("channel", "to"),
    [("sms", "0661234567"), ("sms", "+212 661234567"), ("email", "fatima@"), ("email", "")],
)
def test_a_malformed_recipient_is_refused(channel, to):
    with pytest.raises(ValidationError):
        message_enqueue(
            channel=channel, to=to, template="applicant_code", context=CODE, language="fr"
        )
    assert all_messages() == []


def test_a_message_whose_sender_died_is_sent_again_once_its_claim_has_expired(sms_outbox):
    now = timezone.now()
    abandoned = enqueue_sms(to="+212661000001")
    live = enqueue_sms(to="+212661000002")
    with scopes_disabled():
        Message.objects.filter(pk=abandoned.pk).update(
            status="sending", claimed_at=now - datetime.timedelta(minutes=6)
        )
        Message.objects.filter(pk=live.pk).update(
            status="sending", claimed_at=now - datetime.timedelta(seconds=10)
        )
    assert message_send(live.pk) is None  # its sender may still be working on it
    assert outbox_flush() == {"sent": 1}
    assert [sms.to for sms in sms_outbox] == ["+212661000001"]
    assert reload(abandoned).status == Message.Status.SENT
    assert reload(live).status == Message.Status.SENDING


def test_the_sweep_sends_what_is_due_and_leaves_the_rest(sms_outbox):
    now = timezone.now()
    due, later, sent, failed = (enqueue_sms(to=f"+21266100000{i}") for i in range(4))
    with scopes_disabled():
        Message.objects.filter(pk=later.pk).update(
            next_attempt_at=now + datetime.timedelta(minutes=5)
        )
        Message.objects.filter(pk=sent.pk).update(status="sent")
        Message.objects.filter(pk=failed.pk).update(status="failed")
    assert outbox_flush() == {"sent": 1}
    assert [sms.to for sms in sms_outbox] == [due.recipient]


def test_the_send_outbox_command_sends_what_is_due(sms_outbox):
    enqueue_sms()
    enqueue_sms(to="+212661000009")
    out = io.StringIO()
    call_command("send_outbox", "--limit", "1", stdout=out)
    assert out.getvalue().splitlines() == ["Outbox: 1 sent.", "Outbox: 1 sent."]
    assert len(sms_outbox) == 2


@pytest.mark.parametrize(
    "arguments", [("--limit", "0"), ("--limit", "-1"), ("--loop", "--interval", "-1")]
)
def test_the_send_outbox_command_refuses_a_batch_or_interval_below_one(sms_outbox, arguments):
    """A batch of 0 would drain for ever, doing nothing; -1 stopped with a traceback."""
    enqueue_sms()
    with pytest.raises(CommandError, match="above zero"):
        call_command("send_outbox", *arguments, stdout=io.StringIO())
    assert sms_outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_task_backend_failure_at_commit_does_not_fail_the_caller(monkeypatch, sms_outbox):
    from tremplin.notify import tasks

    def broken(*args, **kwargs):
        raise ConnectionError("task queue unavailable")

    monkeypatch.setattr(type(tasks.send_message.get_backend()), "enqueue", broken)
    with transaction.atomic():
        message = enqueue_sms()
    assert reload(message).status == Message.Status.PENDING
    monkeypatch.undo()
    assert outbox_flush() == {"sent": 1}


def test_the_send_outbox_command_can_keep_running_as_a_sidecar(monkeypatch, sms_outbox):
    from tremplin.core.management import sweep  # the loop the sweep commands share

    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 1:
            enqueue_sms(to="+212661000010")  # arrives while the sidecar sleeps
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(sweep.time, "sleep", sleep)
    monkeypatch.setattr(sweep, "close_old_connections", lambda: None)
    enqueue_sms()
    out = io.StringIO()
    call_command("send_outbox", "--loop", "--interval", "5", stdout=out)
    assert naps == [5, 5]
    assert [sms.to for sms in sms_outbox] == [PHONE, "+212661000010"]


def test_the_sidecar_outlives_a_failed_sweep_and_sends_what_is_due_after_it(
    monkeypatch, sms_outbox, caplog
):
    from django.db import OperationalError

    from tremplin.core.management import sweep
    from tremplin.notify.management.commands import send_outbox

    naps, flushes = [], []

    def flush(**kwargs):
        flushes.append(kwargs)
        if len(flushes) == 1:
            raise OperationalError("the database system is shutting down")
        return outbox_flush(**kwargs)

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(send_outbox, "outbox_flush", flush)
    monkeypatch.setattr(sweep.time, "sleep", sleep)
    monkeypatch.setattr(sweep, "close_old_connections", lambda: None)
    enqueue_sms()
    with caplog.at_level("ERROR", logger="tremplin.core.management.sweep"):
        call_command("send_outbox", "--loop", "--interval", "5", stdout=io.StringIO())
    assert naps == [5, 5]
    assert [sms.to for sms in sms_outbox] == [PHONE]  # sent by the sweep after the failure
    assert "send_outbox: the sweep failed" in caplog.text
    assert "shutting down" in caplog.text


def test_a_single_sweep_fails_as_a_command_does(monkeypatch):
    from django.db import OperationalError

    from tremplin.notify.management.commands import send_outbox

    def flush(**kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(send_outbox, "outbox_flush", flush)
    with pytest.raises(OperationalError):
        call_command("send_outbox", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("code", "reply", "outcome"),
    [(550, b"No such user", Message.Status.FAILED), (451, b"Try later", Message.Status.PENDING)],
)
def test_an_smtp_refusal_fails_for_good_only_when_permanent_and_hides_the_address(
    monkeypatch, code, reply, outcome
):
    import smtplib

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"fatima@example.org": (code, reply)})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    message = message_enqueue(
        channel="email",
        to="fatima@example.org",
        template="applicant_code",
        context=CODE,
        language="fr",
    )
    assert message_send(message.pk) == outcome  # 5xx: no such user, for good
    error = reload(message).last_error
    assert error.startswith("SMTPRecipientsRefused: ")
    assert "f***@example.org" in error
    assert "fatima@example.org" not in error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_the_same_dedupe_key_send_one_message(sms_outbox):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for truly concurrent transactions")
    first_inserted = threading.Event()
    results = {}

    def request(name: str) -> None:
        try:
            if name == "second":
                first_inserted.wait(5)
            with transaction.atomic():
                results[name] = enqueue_sms(dedupe_key="application_submitted:SMA-25-0042")
                if name == "first":
                    first_inserted.set()
                    time.sleep(0.3)  # the second request's insert waits on this transaction
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results["first"].pk == results["second"].pk
    assert len(all_messages()) == 1
    assert len(sms_outbox) == 1


def test_a_message_the_gateway_refuses_fails_at_once_without_retries(
    settings, django_capture_on_commit_callbacks, dummy_tasks
):
    settings.SMS_BACKEND = "tests.notify.backends.RefusingSmsBackend"
    message = enqueue_sms()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert message_send(message.pk) == Message.Status.FAILED
    assert callbacks == []  # no retry scheduled
    message = reload(message)
    assert (message.status, message.attempts) == (Message.Status.FAILED, 1)
    assert "HTTP 400" in message.last_error
    assert sum(outbox_flush().values()) == 0


def test_a_gateway_that_asks_to_wait_is_not_tried_again_sooner(settings):
    settings.SMS_BACKEND = "tests.notify.backends.BusySmsBackend"  # Retry-After: 900 s
    message = enqueue_sms()
    before = timezone.now()
    assert message_send(message.pk) == Message.Status.PENDING
    wait = reload(message).next_attempt_at - before
    assert datetime.timedelta(seconds=900) <= wait <= datetime.timedelta(seconds=905)


def test_a_message_that_reaches_the_sender_after_its_expiry_is_not_sent(sms_outbox):
    """A code SMS held up by a gateway outage: once the code has expired, it is not sent
    (the applicant would type a code that no longer works), and it says so."""
    with transaction.atomic():
        late = enqueue_sms(expires_at=timezone.now() + datetime.timedelta(minutes=15))
        on_time = enqueue_sms(expires_at=timezone.now() + datetime.timedelta(minutes=15))
    sms_outbox.clear()  # what the immediate backend sent on commit
    with scopes_disabled():
        Message.objects.filter(pk__in=[late.pk, on_time.pk]).update(status="pending")
        Message.objects.filter(pk=late.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    assert message_send(late.pk) == "expired"
    assert message_send(on_time.pk) == "sent"
    assert reload(late).status == "expired" and reload(late).sent_at is None
    assert [sms.text for sms in sms_outbox] == [reload(on_time).body]
    # Nothing brings it back: the sweep leaves it.
    assert outbox_flush() == {}


def test_a_code_sms_that_fails_too_close_to_its_expiry_expires_instead_of_waiting(
    monkeypatch, sms_outbox
):
    """A retry that would come after the code's end is no retry: it shows as expired, not
    as failed with a "send again" that would send nothing."""
    from tremplin.notify import sms

    with transaction.atomic():
        message = enqueue_sms(expires_at=timezone.now() + datetime.timedelta(seconds=20))
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(status="pending", attempts=0)

    def down(self, to, text):
        raise sms.SmsGatewayError("gateway down")

    monkeypatch.setattr(sms.LocmemSmsBackend, "send", down)
    assert message_send(message.pk) == "expired"  # the first retry waits 22-30 s
    assert reload(message).status == "expired"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("refused", Message.Failure.REFUSED),  # HTTP 400: an unknown number
        (401, Message.Failure.CREDENTIALS),
        (403, Message.Failure.CREDENTIALS),
        (503, Message.Failure.UNAVAILABLE),
        (429, Message.Failure.UNAVAILABLE),
        ("connection", Message.Failure.UNAVAILABLE),
        ("smtp-login", Message.Failure.CREDENTIALS),
        ("smtp-550", Message.Failure.REFUSED),
        ("smtp-451", Message.Failure.UNAVAILABLE),
        ("bug", Message.Failure.OTHER),
    ],
)
def test_each_failure_is_recorded_with_what_staff_can_do_about_it(error, kind):
    """What the outbox tells staff (check the number, renew the token, wait) rests on it;
    a successful send clears it."""
    import smtplib

    from tremplin.notify.services import failure_kind
    from tremplin.notify.sms import SmsGatewayError

    errors = {
        "refused": SmsGatewayError("HTTP 400", status=400, permanent=True),
        "connection": ConnectionRefusedError("gateway unreachable"),
        "smtp-login": smtplib.SMTPAuthenticationError(535, b"bad credentials"),
        "smtp-550": smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"No such user")}),
        "smtp-451": smtplib.SMTPRecipientsRefused({"a@example.org": (451, b"Try later")}),
        "bug": KeyError("context"),
    }
    exc = errors.get(error) or SmsGatewayError(f"HTTP {error}", status=error)
    assert failure_kind(exc) == kind


def test_a_failure_is_kept_on_the_message_until_it_is_sent(settings, sms_outbox):
    settings.SMS_BACKEND = "tests.notify.backends.FailingSmsBackend"
    message = enqueue_sms()
    assert message_send(message.pk) == Message.Status.PENDING
    assert reload(message).failure == Message.Failure.UNAVAILABLE
    settings.SMS_BACKEND = "tremplin.notify.sms.LocmemSmsBackend"
    with scopes_disabled():
        Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert message_send(message.pk) == Message.Status.SENT
    assert (reload(message).failure, reload(message).last_error) == ("", "")


@pytest.mark.parametrize(
    "quoted",
    ["Number 212661234567 is not reachable", "unknown number 06 61 23 45 67",
     "to +212 661-234567 refused", "HTTP 400 2026-11-29 0661234567", "0661-23-45-67 refused",
     "00212661234567 unknown"],
)  # fmt: skip
def test_a_phone_number_quoted_by_the_gateway_is_masked_in_the_error(quoted):
    """The outbox shows recipients masked to every reader: so is a number in a refusal,
    in whatever form the gateway writes it, no more of it readable than of a recipient;
    a date beside it stays readable."""
    from tremplin.notify.services import _describe
    from tremplin.notify.sms import SmsGatewayError

    message = Message(channel="sms", recipient="+212600000000")
    text = _describe(SmsGatewayError(f"{quoted} at 2026-11-29 18:00:00"), message)
    assert "2026-11-29 18:00:00" in text
    without_date = text.replace("2026-11-29 18:00:00", "").replace("2026-11-29", "")
    digits = "".join(c for c in without_date if c.isdigit())
    assert "1234" not in digits and "*" in text, text  # the middle of the number is gone
