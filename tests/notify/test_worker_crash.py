"""A real `tremplin db_worker`, killed with SIGKILL in the middle of a batch of sends."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.notify.outbox_script import phone

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 30
HANG_AFTER = 10  # the first worker hangs inside the 10th send, and is killed there


def database_url(tmp_path: Path) -> str:
    """The database the subprocesses share: the test database on PostgreSQL (committed,
    since the test is transactional), a file on SQLite (the test's own is in memory)."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Outbox:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sms_file = tmp_path / "sms.jsonl"
        self.worker_log = tmp_path / "worker.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
            "DJANGO_SETTINGS_MODULE": "tests.notify.worker_settings",
            "DATABASE_URL": database_url(tmp_path),
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "NOTIFY_TEST_SMS_FILE": str(self.sms_file),
            "NOTIFY_TEST_SMS_DELAY": "0.05",
        }

    def run(self, *args: str, **env: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            env={**self.env, **env},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def tremplin(self, *args: str, **env: str) -> str:
        # No system checks: they would import the whole URLconf for nothing.
        return self.run("-m", "tremplin", *args, "--skip-checks", **env)

    def start_worker(self, **env: str) -> subprocess.Popen:
        options = ["--skip-checks", "--no-reload", "--no-startup-delay", "--interval", "0.05"]
        with self.worker_log.open("w") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "tremplin", "db_worker", *options],
                env={**self.env, **env},
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def sends(self) -> Counter[str]:
        if not self.sms_file.exists():
            return Counter()
        lines = self.sms_file.read_text(encoding="utf-8").splitlines()
        return Counter(json.loads(line)["to"] for line in lines)

    def statuses(self) -> dict[str, dict]:
        return json.loads(self.run("-m", "tests.notify.outbox_script", "report"))


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_no_message_and_resends_none_recorded_as_sent(
    tmp_path,
):
    outbox = Outbox(tmp_path)
    if connection.vendor == "sqlite":
        outbox.tremplin("migrate", "--verbosity", "0")
    outbox.run("-m", "tests.notify.outbox_script", "seed", str(MESSAGES))
    assert outbox.sends() == Counter()

    worker = outbox.start_worker(NOTIFY_TEST_SMS_HANG_AFTER=str(HANG_AFTER))
    try:
        wait_for(
            lambda: outbox.sends().total() >= HANG_AFTER or worker.poll() is not None,
            30,
            "the first sends",
        )
        assert worker.poll() is None, outbox.worker_log.read_text()[-3000:]
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()

    before = outbox.statuses()
    sent_before = {to for to, row in before.items() if row["status"] == "sent"}
    in_flight = {to for to, row in before.items() if row["status"] == "sending"}
    assert len(sent_before) == HANG_AFTER - 1, before
    assert len(in_flight) == 1, before  # handed to the gateway, not yet recorded as sent
    assert sum(outbox.sends().values()) == HANG_AFTER

    # Restart: the worker runs every task still queued; the in-flight message's task died
    # with the first worker, so the sweep (`send_outbox`, from cron or a sidecar) sends it
    # once its claim has expired.
    outbox.tremplin("db_worker", "--batch", "--no-reload", "--no-startup-delay")
    time.sleep(1.1)  # NOTIFY_CLAIM_TIMEOUT in the worker settings
    assert "1 sent" in outbox.tremplin("send_outbox")

    after = outbox.statuses()
    sends = outbox.sends()
    assert len(after) == MESSAGES
    assert {row["status"] for row in after.values()} == {"sent"}
    assert set(sends) == set(after) == {phone(i) for i in range(MESSAGES)}, "none lost"
    assert all(sends[to] == 1 for to in sent_before), "none recorded as sent is sent again"
    # The one message in flight at the kill is the only one that may arrive twice.
    assert {to for to, n in sends.items() if n > 1} <= in_flight
