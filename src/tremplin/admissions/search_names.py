"""The search key's safety net: ``Application.search_name`` filled for the applications
written without one.

The key is derived when the row is written (``Application.save()``, and the bulk writers
through ``refresh_search_name``), and migration 0011 filled the rows there before it. During
a rolling deploy, a worker still running the previous release writes applications without
it: the staff's search, which looks at this column only, would never find them. The
``tremplin resume_stalled`` sweep fills them (``search_names_backfill``).
"""

from django.db import transaction
from django_scopes import scopes_disabled

from tremplin.admissions.models import NAME_FIELDS, Application

# Rows locked and written per transaction, and looked at per run of the sweep (every two
# minutes): a rolling deploy leaves a few hundred, the peak of a deadline day a few thousand.
BATCH = 500
LIMIT = 5000


def search_names_backfill(*, batch: int = BATCH, limit: int = LIMIT) -> int:
    """Fill ``search_name`` for the applications that have names but no key, ``batch`` rows
    a transaction, each committed on its own, at most ``limit`` rows a run: the next run
    does the rest. Returns how many were filled.

    An erased application has neither names nor key, on purpose: it is left alone (and
    ``erased_at``, not the empty names, says so, as the partial index of migration 0013 that
    serves this query does). A row locked by a change in progress is skipped: that change's
    ``save()`` derives the key, or the next run fills it."""
    filled, seen, last = 0, 0, 0
    with scopes_disabled():
        missing = (
            Application.objects.filter(search_name="", erased_at__isnull=True)
            .exclude(**{name: "" for name in NAME_FIELDS})
            .order_by("pk")
            .only("pk", "search_name", *NAME_FIELDS)
        )
        while seen < limit:
            with transaction.atomic():
                free = missing.filter(pk__gt=last).select_for_update(skip_locked=True, of=("self",))
                rows = list(free[: min(batch, limit - seen)])
                if not rows:
                    break
                seen, last = seen + len(rows), rows[-1].pk
                for row in rows:
                    row.refresh_search_name()
                Application.objects.bulk_update(rows, ["search_name"])
                filled += len(rows)
    return filled
