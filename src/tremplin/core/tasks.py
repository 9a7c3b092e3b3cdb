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
