"""A migration step that replaces one index of a busy table by another without holding its
writes: on PostgreSQL the new index is built, and the old one dropped, CONCURRENTLY (so the
migration must declare ``atomic = False``); other databases do it plainly.

Kept small and stable on purpose: migrations import it, and run it again on every new
database."""

from django.db import migrations


def index_swap(table: str, new: tuple[str, str], old: tuple[str, str]) -> migrations.RunPython:
    """Build ``new`` and drop ``old`` on ``table``; backwards, the other way round. Each index
    is ``(name, columns)``, the columns as SQL: ``'("content_type_id", "object_id")'``."""

    def forward(apps, schema_editor):
        _create(schema_editor, table, new)
        _drop(schema_editor, old)

    def backward(apps, schema_editor):
        _create(schema_editor, table, old)
        _drop(schema_editor, new)

    return migrations.RunPython(forward, backward)


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def _create(schema_editor, table: str, index: tuple[str, str]) -> None:
    name, columns = index
    schema_editor.execute(
        f'CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS "{name}" ON "{table}" {columns}'
    )


def _drop(schema_editor, index: tuple[str, str]) -> None:
    schema_editor.execute(f'DROP INDEX {_concurrently(schema_editor)}IF EXISTS "{index[0]}"')
