"""Notification tasks: thin, they take an id and call the service."""

from django_tasks import task

from tremplin.notify import services


@task()
def send_message(message_id: int, attempt: int | None = None) -> str | None:
    # ``attempt`` None: a task queued before tasks carried it, sent if the message is due.
    return services.message_send(message_id, attempt=attempt)
