"""The background task of a ranking run: load it by id, run the service."""

from django_tasks import task

from tremplin.selection.ranking import ranking_run_execute


@task()
def run_ranking(run_id: int) -> None:
    ranking_run_execute(run_id)
