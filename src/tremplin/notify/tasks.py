"""Notification tasks: thin, they take an id and call the service."""

from django_tasks import task

from tremplin.notify import services


@task()
def send_message(message_id: int) -> str | None:
    return services.message_send(message_id)
