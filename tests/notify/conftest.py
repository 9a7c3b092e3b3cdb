import pytest


@pytest.fixture(autouse=True)
def sms_outbox(sms_outbox) -> list:
    """Every test of the outbox keeps its SMS (``tests/conftest.py``)."""
    return sms_outbox


@pytest.fixture
def dummy_tasks(settings):
    """A task backend that only records what is enqueued (and supports run_after)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from tremplin.notify.tasks import send_message

    backend = send_message.get_backend()
    backend.clear()
    return backend
