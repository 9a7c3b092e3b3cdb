"""Private files that no row names any more, and their deletion.

A private file is written before the row that names it commits: an applicant's document,
a letter's PDF, the copy attached to an email, an import's file or full report. A process
killed between the two (a worker's SIGKILL, a server restarting mid-request) leaves the
file behind, and a rollback whose clean-up failed does too. Such a file holds personal
data that nobody can reach and that the retention schedule, which erases through the rows,
would keep for ever. The retention sweep deletes it once it is older than ``ORPHAN_AGE``:
no transaction lasts that long, so a file whose row is still to commit is never taken.
On a local disk, it also removes the subdirectories of a recursive directory (one per
connection under ``private/held``) left empty for as long (S3 has no directories).

Each app registers its private directories with what names their files (``register``, in
its ``AppConfig.ready``). A directory registered without ``recursive`` is listed alone: a
subdirectory of its own is another's (``private/imports/marks``, swept by the marks
import).
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.files.storage import Storage, default_storage
from django.db import models
from django.utils import timezone
from django_scopes import scopes_disabled

logger = logging.getLogger(__name__)

ORPHAN_AGE = datetime.timedelta(days=1)
CHUNK = 500  # names per query: well under SQLite's limit of variables


@dataclass(frozen=True)
class Directory:
    path: str
    # Which of the names given a row still names.
    named: Callable[[list[str]], set[str]]
    recursive: bool = False
    storage: Storage = default_storage


DIRECTORIES: dict[str, Directory] = {}


def register(
    path: str,
    named: Callable[[list[str]], set[str]],
    *,
    recursive: bool = False,
    storage: Storage = default_storage,
) -> None:
    DIRECTORIES[path] = Directory(path, named, recursive, storage)


def named_by(field: models.FileField) -> Callable[[list[str]], set[str]]:
    """The names a file field's rows hold, among those given."""

    def named(names: list[str]) -> set[str]:
        found: set[str] = set()
        with scopes_disabled():
            rows = field.model._default_manager
            for start in range(0, len(names), CHUNK):
                chunk = names[start : start + CHUNK]
                found.update(
                    rows.filter(**{f"{field.name}__in": chunk}).values_list(field.name, flat=True)
                )
        return found

    return named


@dataclass
class Orphans:
    found: int = 0
    deleted: int = 0
    failed: int = 0
    pruned: int = 0  # empty directories removed


def private_orphans_delete(
    *, dry_run: bool = False, older_than: datetime.timedelta = ORPHAN_AGE
) -> Orphans:
    """Delete the private files that no row names and that are older than ``older_than``;
    with ``dry_run``, only count them. A file the storage cannot delete is logged and left
    for the next sweep."""
    result = Orphans()
    cutoff = timezone.now() - older_than
    for directory in DIRECTORIES.values():
        names = list(_files(directory.storage, directory.path, directory.recursive))
        unnamed = set(names) - directory.named(names) if names else set()
        for name in sorted(unnamed):
            try:
                # The age last: a stat each (a request each on S3) only for the unnamed.
                if directory.storage.get_modified_time(name) >= cutoff:
                    continue
                result.found += 1
                if not dry_run:
                    directory.storage.delete(name)
                    result.deleted += 1
            except FileNotFoundError:  # deleted meanwhile (an erasure, another sweep)
                continue
            except Exception:  # OSError; on S3, botocore's errors (a missing key too)
                logger.exception(
                    "The private file %s, which no row names, could not be deleted.", name
                )
                result.failed += 1
        if directory.recursive and not dry_run:
            result.pruned += _prune(directory.storage, directory.path, cutoff)
    if result.deleted:
        logger.warning("Deleted %d private files that no row named.", result.deleted)
    return result


def _files(storage: Storage, path: str, recursive: bool) -> Iterator[str]:
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:  # nothing was ever written there
        return
    for name in files:
        yield f"{path}/{name}"
    if recursive:
        for child in directories:
            yield from _files(storage, f"{path}/{child}", recursive)


def _prune(storage: Storage, path: str, cutoff: datetime.datetime) -> int:
    """Remove the subdirectories of ``path`` on a local disk that are empty and untouched
    since ``cutoff``, deepest first; their number. Adding or deleting an entry touches a
    directory: one emptied by this sweep goes with the next, and one a request is writing
    to now is not taken (should it be, its file is refused and asked for again)."""
    try:
        root = storage.path(path)
    except NotImplementedError:  # S3 and the like: no directories to leave behind
        return 0
    pruned = 0
    limit = cutoff.timestamp()
    for parent, _, _ in os.walk(root, topdown=False):
        if parent == root:
            continue
        try:
            if os.stat(parent).st_mtime < limit:
                os.rmdir(parent)  # refused if not empty: then it stays
                pruned += 1
        except OSError:
            continue
    return pruned
