"""Run a bench script again as a worker in a fresh process, and read back its figures.

Each measured side runs in its own interpreter so that neither inherits the other's
imports, caches or connections; the worker prints its figures as JSON on its last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_worker(script: str, args: list[str], *, timeout: int, env: dict | None = None) -> dict:
    completed = subprocess.run(
        [sys.executable, script, "--worker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"the {args[0]} run failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def recreate_database(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    """Drop the PostgreSQL database ``name`` (whoever is connected to it), then create it
    again empty unless ``drop_only``; ``admin_url`` names another database of the server."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def run_in_new_database(
    script: str, args: list[str], *, admin_url: str, name: str, timeout: int, env: dict
) -> dict:
    """``run_worker`` on a PostgreSQL database of its own, named ``name`` (created next to
    the one ``admin_url`` names, then dropped), whose URL the worker finds in BENCH_PG_URL."""
    import psycopg

    recreate_database(admin_url, name)
    try:
        url = admin_url.rsplit("/", 1)[0] + "/" + name
        return run_worker(script, args, timeout=timeout, env={**env, "BENCH_PG_URL": url})
    finally:
        try:
            recreate_database(admin_url, name, drop_only=True)
        except psycopg.Error as error:  # said, without hiding the worker's own error
            sys.stderr.write(f"the database {name} was not dropped: {error}\n")


def measure_on(backend: str, measure, *args) -> dict:
    """In a worker: ``measure(database_url, *args)`` on a SQLite file of its own, removed
    whatever happens, or on the PostgreSQL database ``run_in_new_database`` made."""
    if backend == "sqlite":
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tremplin-bench-") as tmp:
            return measure(f"sqlite:///{tmp}/bench.sqlite3", *args)
    return measure(os.environ["BENCH_PG_URL"], *args)
