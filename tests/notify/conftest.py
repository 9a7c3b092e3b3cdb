import pytest

from tremplin.notify.sms import LocmemSmsBackend


@pytest.fixture(autouse=True)
def sms_outbox(settings) -> list:
    """Every SMS sent during the test, in order (like ``mail.outbox`` for emails)."""
    settings.SMS_BACKEND = "tremplin.notify.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def dummy_tasks(settings):
    """A task backend that only records what is enqueued (and supports run_after)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from tremplin.notify.tasks import send_message

    backend = send_message.get_backend()
    backend.clear()
    return backend
