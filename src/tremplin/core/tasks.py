"""Background tasks of the kernel. Tasks are thin: they take plain values and call a service."""

from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task


@task()
def send_email(subject: str, body: str, to: list[str]) -> int:
    return send_mail(subject, body, None, to)


def enqueue_email(*, subject: str, body: str, to: list[str]) -> None:
    """Send once the current transaction commits (never for a change that rolled back)."""
    transaction.on_commit(lambda: send_email.enqueue(subject=subject, body=body, to=to))


def enqueue_in_transaction(task, **kwargs) -> None:
    """Enqueue ``task`` so that it runs if and only if the current transaction commits.

    The database backend writes the task's row in this transaction (no commit of its own);
    the immediate backend runs it now, in this transaction, so whatever it writes commits or
    rolls back with the rest. Any other backend (a broker) gets it once this commits.
    """
    module = type(task.get_backend()).__module__
    if module.startswith("django_tasks_db") or module.endswith(".immediate"):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs), robust=True)
