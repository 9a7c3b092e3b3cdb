"""Names in the order people expect, on either database.

Ordered as stored, "Aït Ahmed" comes after "Zerouali" and "Élalami" after "Ezzahra": the
accented letter's code point is past "z" (SQLite compares bytes, and so does PostgreSQL
in a C.UTF-8 database), and SQLite's ``lower()`` leaves "É" as it is. ``Unaccented``
orders a name by its letters without their accents, in lower case: on PostgreSQL with
``translate()``, on SQLite, which has no such function, with one of this module's own,
registered on each of its connections (``register_on_sqlite``). Both read the same table,
so both databases order alike.
"""

from __future__ import annotations

import unicodedata

from django.db.models import Func, TextField, Value
from django.db.models.functions import Lower

SQLITE_FUNCTION = "tremplin_unaccented"


def _plain(letter: str) -> str:
    base = unicodedata.normalize("NFKD", letter)[0]
    return base.lower() if base.isascii() and base.isalpha() else ""


# The Latin letters with a diacritic (Latin-1 and Latin Extended-A: French, and the Berber
# and Arabic names as the civil registry writes them in Latin letters, "Aït", "Lahcène"),
# in both cases, each to its plain letter in lower case.
PLAIN = {letter: _plain(letter) for letter in map(chr, range(0xC0, 0x180)) if _plain(letter)}
ACCENTED, UNACCENTED = "".join(PLAIN), "".join(PLAIN.values())
_TABLE = str.maketrans(PLAIN)


def unaccented(text: str | None) -> str | None:
    return None if text is None else text.translate(_TABLE).lower()


class Unaccented(Func):
    """A text in lower case, its accented Latin letters plain: an order of names.

    ``index=True`` in an index: on SQLite it indexes the lower case only, since an index
    may call only the functions every client of the database has (its shell has not this
    module's, and could then write no row of the table). SQLite's lists are a school's, and
    are sorted in memory."""

    output_field = TextField()

    def __init__(self, expression, *, index: bool = False):
        super().__init__(expression)
        self.index = index

    def as_postgresql(self, compiler, connection, **extra_context):
        (expression,) = self.get_source_expressions()
        plain = Func(
            Lower(expression),
            Value(ACCENTED),
            Value(UNACCENTED),
            function="TRANSLATE",
            output_field=TextField(),
        )
        return compiler.compile(plain)

    def as_sqlite(self, compiler, connection, **extra_context):
        if self.index:
            (expression,) = self.get_source_expressions()
            return compiler.compile(Lower(expression))
        return super().as_sql(compiler, connection, function=SQLITE_FUNCTION, **extra_context)


def register_on_sqlite(sender, connection, **kwargs) -> None:
    """``connection_created``: give a SQLite connection ``tremplin_unaccented()``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, unaccented, deterministic=True)
