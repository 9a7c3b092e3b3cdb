"""Permission cases of this part of selection, merged into tests/test_permissions.py.

`CASES` maps URL names to their expected answers per persona; `url_values` gives the values
of the URL parameters this part owns, building the objects it needs for Smara (`objects`
holds the open intake and its application built by the `smara_objects` fixture).

The scheme needs `selection.manage`, the runs `ranking.manage`: directors and admissions
officers of Smara hold both; jurors, other schools, coordinators and learners get 404.
"""

from django_scopes import scopes_disabled

from tests.permission_case import Case, staff
from tremplin.selection.models import RankingRun

CASES: dict = {
    "selection:scheme": Case(expect=staff(200)),
    "selection:scheme_seed": Case(method="post", expect=staff(302)),
    "selection:rankings": Case(expect=staff(200)),
    "selection:ranking_start": Case(method="post", expect=staff(302)),
    "selection:ranking_run": Case(expect=staff(200)),
    "selection:ranking_compare": Case(expect=staff(200)),
    "selection:ranking_publish": Case(expect=staff(200)),
    "selection:ranking_export": Case(expect=staff(200)),
    "selection:ranking_export_create": Case(method="post", expect=staff(302)),
}


def url_values(world, objects: dict) -> dict:
    # A finished run, written directly: the permission suite needs its number, not a ranking.
    with scopes_disabled():
        run, _ = RankingRun.objects.get_or_create(
            intake=objects["intake"],
            number=1,
            defaults={"status": RankingRun.Status.DONE, "created_by": world.users["director"]},
        )
    return {"run_number": run.number}
