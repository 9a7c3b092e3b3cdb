"""Statements the server plans once: a cursor for the hot paths of deadline day.

On the portal's submit, each statement is a few rows read or written, and planning it costs
the server more than running it (about 1 ms for the call's read, against 0.1 ms to run). A
statement sent through ``prepared_cursor`` is prepared by psycopg once it has run
``prepare_threshold`` times on a connection (see settings), and then runs without being
planned again. Django's own cursors bind parameters on the client and are never prepared.

A prepared statement keeps its plan until the statistics of its tables change: PostgreSQL's
autovacuum (on by default) must run, or a plan made when the applications table was nearly
empty (the duplicate check by the name index, filtered on CIN) stays while it fills, each
submission slower than the last (seen in the deadline-day benchmark with autovacuum off).
"""

import psycopg
from django.db import connection


def prepared_cursor():
    """A cursor whose statements PostgreSQL prepares after a few runs; Django's own cursor
    on other databases. Wrapped as Django wraps its cursors (errors, the queries that tests
    and debug capture); once prepared, psycopg keeps no text for a statement, and Django
    logs it as None."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)  # binds on the server
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)
