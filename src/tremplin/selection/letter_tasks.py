"""The task that renders a batch of letters: thin, it takes the batch's id."""

from django_tasks import task

from tremplin.selection import letters


@task()
def render_letter_batch(batch_id: int) -> None:
    letters.letter_batch_run(batch_id=batch_id)
