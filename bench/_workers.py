"""Run a bench script again as a worker in a fresh process, and read back its figures.

Each measured side runs in its own interpreter so that neither inherits the other's
imports, caches or connections; the worker prints its figures as JSON on its last line.
"""

from __future__ import annotations

import json
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
