"""Writing a new row and the rows that point to it in one round trip (``insert_family``).

Made for the busiest request of the year, the portal's submit: an application, its wishes,
its audit event and its outbox messages. Saved one by one through the ORM, that is a
transaction of six or seven statements, and on deadline day each statement costs the
server more CPU than the work it does. On PostgreSQL ``insert_family`` writes them all with
one statement: the new row in a data-modifying CTE, each dependent row in another that
reads the new id from it. One statement is one transaction, so the rows exist together or
not at all. Other databases get the same rows, saved one by one in a savepoint.

The values are those ``Model.save()`` would write: the same defaults, ``auto_now`` fields and
conversions, taken from the models' fields. A model that adds a column needs nothing here.
"""

import datetime
import decimal
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, models, transaction
from django.utils.functional import Promise

from tremplin.core.prepared import prepared_cursor


@dataclass(frozen=True)
class Dependent:
    """A row to write with the new row: ``links`` name its fields (attnames) that take the
    new row's id; a text field (a generic relation's ``object_id``) gets it as text."""

    obj: models.Model
    links: tuple[str, ...]


def insert_family(
    parent: models.Model, dependents: Sequence[Dependent], *, unless: Sequence[str]
) -> bool:
    """Insert ``parent`` and ``dependents``, or nothing at all if a row of ``parent``'s
    table already has the values of the ``unless`` fields (a unique constraint's).

    Returns True when written; then every object has its id, as after ``save()``. False
    means another row won: that conflict is the only one absorbed, any other error raises.
    """
    if connection.vendor == "postgresql":
        if not connection.in_atomic_block:
            return _insert_in_one_statement(parent, dependents, unless)
        # Inside the caller's transaction, a savepoint keeps it usable if the statement fails.
        with transaction.atomic():
            return _insert_in_one_statement(parent, dependents, unless)
    try:
        with transaction.atomic():
            parent.save(force_insert=True)
            for dependent in dependents:
                _link(dependent, parent)
                dependent.obj.save(force_insert=True)
    except IntegrityError:
        for obj in (parent, *(d.obj for d in dependents)):  # rolled back: unsaved again
            obj.pk, obj._state.adding = None, True
        lookup = {name: getattr(parent, _attname(parent, name)) for name in unless}
        if type(parent)._base_manager.filter(**lookup).exists():
            return False
        raise
    return True


def _attname(obj: models.Model, name: str) -> str:
    return obj._meta.get_field(name).attname


def _is_text(field: models.Field) -> bool:
    return isinstance(field, models.CharField | models.TextField)


def _link(dependent: Dependent, parent: models.Model) -> None:
    for field in dependent.obj._meta.concrete_fields:
        if field.attname in dependent.links:
            setattr(dependent.obj, field.attname, str(parent.pk) if _is_text(field) else parent.pk)


def _json_row(obj: models.Model, links: tuple[str, ...] = ()) -> str:
    """The row of ``obj`` as save() writes it (defaults, ``auto_now``, conversions), as JSON
    keyed by column, without its id and links (the statement fills them)."""
    row = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.attname in links:
            continue
        value = field.pre_save(obj, add=True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{field}: a database expression cannot be written this way.")
        if isinstance(field, models.JSONField):  # a value, encoded as save() encodes it
            value = json.loads(json.dumps(value, cls=field.encoder))
        else:
            value = field.get_prep_value(value)
        row[field.column] = value
    return json.dumps(row, ensure_ascii=False, default=_json_value)


def _json_value(value):
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()  # all the digits: Django's encoder cuts microseconds
    if isinstance(value, decimal.Decimal | uuid.UUID | Promise):
        return str(value)
    raise TypeError(f"Cannot write {type(value).__name__} as a column value.")


def _insert_in_one_statement(
    parent: models.Model, dependents: Sequence[Dependent], unless: Sequence[str]
) -> bool:
    """One statement, a row of JSON per object: ``jsonb_populate_record`` turns each into a
    row of its table (every column, in the table's order) to which the statement adds the
    new id from the table's sequence and the links to the parent. Short and with few
    parameters, the statement's text is the same for every submission of the same shape."""
    quote = connection.ops.quote_name
    conflict = ", ".join(quote(parent._meta.get_field(name).column) for name in unless)

    def new_row(obj: models.Model, extra: str = "") -> str:
        table, pk = quote(obj._meta.db_table), obj._meta.pk.column
        return (
            f"INSERT INTO {table} SELECT r.* FROM {'parent, ' if extra else ''}"  # noqa: S608
            f"jsonb_populate_record(NULL::{table}, %s::jsonb || jsonb_build_object("
            f"'{pk}', nextval(pg_get_serial_sequence('{table}', '{pk}')){extra})) r"
        )

    # Identifiers from the models' metadata; every value in a parameter.
    parts = [
        f"WITH parent AS ({new_row(parent)} ON CONFLICT ({conflict}) DO NOTHING "
        f"RETURNING {quote(parent._meta.pk.column)} AS id)"
    ]
    params = [_json_row(parent)]
    for number, dependent in enumerate(dependents):
        obj = dependent.obj
        links = "".join(
            f", '{field.column}', parent.id{'::text' if _is_text(field) else ''}"
            for field in obj._meta.concrete_fields
            if field.attname in dependent.links
        )
        # FROM parent: no row when the parent was not written, so nothing is.
        parts.append(
            f"d{number} AS ({new_row(obj, links)} RETURNING {quote(obj._meta.pk.column)} AS id)"
        )
        params.append(_json_row(obj, dependent.links))
    names = ["parent", *(f"d{n}" for n in range(len(dependents)))]
    ids = ", ".join(f"(SELECT id FROM {name})" for name in names)  # noqa: S608
    sql = ",\n".join(parts) + f"\nSELECT {ids}"
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row[0] is None:
        return False
    for obj, pk_value in zip([parent, *(d.obj for d in dependents)], row, strict=True):
        obj.pk = pk_value
        obj._state.adding = False
        obj._state.db = connection.alias
    for dependent in dependents:
        _link(dependent, parent)
    return True
