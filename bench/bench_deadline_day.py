"""Deadline day: the application-submit endpoint against the write limit of the stack.

    .venv/bin/python bench/bench_deadline_day.py

Both run in one gunicorn (the same workers, persistent PostgreSQL connections) and are
loaded from 127.0.0.1 by wrk with 32 connections:

- submit: the real form POST (CSRF, full validation, duplicate check, numbering, insert,
  wishes, eligibility, audit event, two outbox messages, sent later by the outbox sweep),
  each request with a new CIN: on PostgreSQL four statements, two reads of the call, the
  number, and one statement writing the application with its rows (core.inserts);
- floor: a minimal view doing one INSERT and one SELECT on the same database, the most a
  write endpoint of this stack can do;
- bare, for scale: a view that returns JSON without touching the database, through the
  same middleware (what every request of this stack costs before it does anything).

Goals: submit reaches at least 50 % of the floor's requests per second, its p99 latency is
within 2x of the floor's, and no request fails. Needs PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/postgres) and wrk (apt-get install wrk).
"""

from __future__ import annotations

import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
from _workers import recreate_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# A port and a database of this run's own: another server on a fixed port (a demo left
# running) would answer in gunicorn's place, and two runs would drop each other's database.
PORT = _free_port()
DB = f"tremplin_bench_deadline_{os.getpid()}"
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = int(os.environ.get("BENCH_SECONDS", "15"))
# On a machine shared with other work, several short rounds (floor then submit, each
# BENCH_SECONDS) and their medians say more than one long run.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
WARM_UP = 3

SUBMIT_LUA = r"""
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  thread_id = tonumber(tid)
end
request = function()
  counter = counter + 1
  -- Each run of wrk has its own letters (OFFSET), so no two runs send the same CIN.
  local first = string.char(65 + (thread_id + OFFSET) % 26)
  local letters = first .. string.char(65 + math.floor((thread_id + OFFSET) / 26) % 26)
  local cin = letters .. string.format("%06d", counter % 1000000)
  local body = string.gsub(BODY, "CIN_HERE", cin)
  return wrk.format("POST", PATH, HEADERS, body)
end
"""


def admin_url() -> str:
    return os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"


def database_url() -> str:
    return admin_url().rsplit("/", 1)[0] + "/" + DB


_ENV: dict = {}


def env() -> dict:
    # One environment for every process of the run (same secret key, same data directory).
    if _ENV:
        return _ENV
    _ENV.update(
        {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "TREMPLIN_HTTPS": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "false",
            "SMS_BACKEND": "locmem",
            "EMAIL_BACKEND": "locmem",
            "TREMPLIN_DATA_DIR": tempfile.mkdtemp(prefix="tremplin-bench-"),
            "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT / 'src'}",
            "LOG_LEVEL": "WARNING",
        }
    )
    return _ENV


def tremplin(*args: str, settings: str = "tremplin.settings") -> None:
    subprocess.run(
        [str(BIN / "tremplin"), *args, f"--settings={settings}"],
        env=env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare_database() -> None:
    recreate_database(admin_url(), DB)
    tremplin("migrate", "--noinput", "-v0")
    tremplin("collectstatic", "--noinput", "-v0")
    tremplin("demo")  # Smara with "Promotion 2026" open
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, payload text)")
        # What autovacuum does on a live database, and what it cannot do here when it is off
        # (as on some of these machines): without statistics the planner takes the new
        # tables for empty, and the plan it prepares for the duplicate check reads the
        # call's applications one by one (the name index, filtered on CIN) instead of the
        # unique (intake, CIN) index; each submission then costs more than the one before.
        conn.execute("ANALYZE")


def portal_applications() -> int:
    with psycopg.connect(database_url()) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM admissions_application a JOIN admissions_intake i "
            "ON a.intake_id = i.id WHERE i.slug = 'promotion-2026' AND a.source = 'portal'"
        ).fetchone()
    return count


def drop_database() -> None:
    recreate_database(admin_url(), DB, drop_only=True)


def start_server() -> subprocess.Popen:
    workers = str(2 * os.cpu_count() + 1)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "tremplin.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", workers, "--worker-class", "sync", "--log-level", "warning",
         # Trying another configuration: BENCH_GUNICORN_ARGS="--workers 3 --threads 2".
         *os.environ.get("BENCH_GUNICORN_ARGS", "").split()],
        env={**env(), "DJANGO_SETTINGS_MODULE": "deadline_settings"},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    _SERVER[:] = [server.pid]
    for _ in range(100):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit status {server.returncode})")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def csrf_and_ids() -> tuple[str, str, dict]:
    """A CSRF cookie/token pair and the ids the form needs (province, commune, track, the
    privacy notice's version)."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = f"http://127.0.0.1:{PORT}/schools/smara/calls/promotion-2026/apply/"
    html = opener.open(url, timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    # The version of the privacy notice the page shows, sent back with the consent.
    notice = re.search(r'name="notice_version" value="([0-9]+)"', html).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    with psycopg.connect(database_url()) as conn:
        commune, province = conn.execute(
            "SELECT id, province_id FROM schools_commune WHERE code = '221.01.01'"
        ).fetchone()
        (track,) = conn.execute("SELECT id FROM schools_track WHERE code = 'dev-web'").fetchone()
    return (
        token,
        cookie,
        {"commune": commune, "province": province, "track": track, "notice": notice},
    )


_RUNS = iter(range(0, 26 * 26, 2))  # the CIN letters of each run of wrk (2 threads)
_SERVER: list[int] = []  # the process group of gunicorn


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by gunicorn (master and workers), the PostgreSQL backends of the
    bench database, and the finished child processes (wrk). Where the time of a request goes
    whatever else the machine runs; zeros where /proc is missing."""
    ticks = {"gunicorn": 0, "postgres": 0}
    with psycopg.connect(database_url()) as conn:
        backends = {
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB]
            ).fetchall()
        }
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            continue
        used = int(fields[11]) + int(fields[12])  # utime + stime
        if _SERVER and int(fields[2]) == _SERVER[0]:
            ticks["gunicorn"] += used
        elif pid in backends:
            ticks["postgres"] += used
    hertz = os.sysconf("SC_CLK_TCK")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        **{name: value / hertz for name, value in ticks.items()},
        "wrk": children.ru_utime + children.ru_stime,
    }


def wrk(path: str, body: str, headers: dict, seconds: int = DURATION) -> dict:
    script = SUBMIT_LUA.replace("BODY", repr_lua(body)).replace("PATH", repr_lua(path))
    script = script.replace("HEADERS", lua_table(headers)).replace("OFFSET", str(next(_RUNS)))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = cpu_seconds()
    out = subprocess.run(
        ["wrk", f"-t{min(2, CONNECTIONS)}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
         "--timeout", "10s", "-s", handle.name, f"http://127.0.0.1:{PORT}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    after = cpu_seconds()
    os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    failures = (int(bad.group(1)) if bad else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0
    )
    cpu = {name: (after[name] - before[name]) * 1000 / max(total, 1) for name in after}
    return {"rps": rps, "p99": p99, "failures": failures, "requests": total, "cpu": cpu}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def repr_lua(text: str) -> str:
    return "[==[" + text + "]==]"


def lua_table(headers: dict) -> str:
    return "{" + ", ".join(f'["{k}"] = {repr_lua(v)}' for k, v in headers.items()) + "}"


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    prepare_database()
    before = portal_applications()
    server = start_server()
    try:
        token, cookie, ids = csrf_and_ids()
        from urllib.parse import urlencode

        form = urlencode(
            {
                "csrfmiddlewaretoken": token, "cin": "CIN_HERE", "first_name": "Fatima",
                "last_name": "El Idrissi", "first_name_ar": "فاطمة", "last_name_ar": "الإدريسي",
                "birth_date": "2003-03-21", "sex": "F", "phone": "0661234567",
                "email": "fatima@example.ma", "province": ids["province"],
                "commune": ids["commune"], "education_level": "bac", "employment": "neet",
                "wish_1": ids["track"], "privacy_consent": "on", "notice_version": ids["notice"],
            }
        )  # fmt: skip
        base = f"http://127.0.0.1:{PORT}"
        submit_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Referer": f"{base}/schools/smara/calls/promotion-2026/apply/",
        }
        floor_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        apply_path = "/schools/smara/calls/promotion-2026/apply/"
        # Warm both up (connections, caches, templates in every worker), then measure.
        wrk("/bench/floor/", "payload=CIN_HERE", floor_headers, seconds=WARM_UP)
        warm = wrk(apply_path, form, submit_headers, seconds=WARM_UP)
        rounds, bare = [], []
        for _ in range(ROUNDS):
            rounds.append(
                (
                    wrk("/bench/floor/", "payload=CIN_HERE", floor_headers),
                    wrk(apply_path, form, submit_headers),
                )
            )
            bare.append(wrk("/bench/bare/", "", floor_headers))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    saved = portal_applications() - before
    with psycopg.connect(database_url()) as conn:
        (outbox,) = conn.execute("SELECT count(*) FROM notify_message").fetchone()

    print(f"Deadline day, gunicorn on PostgreSQL, wrk {CONNECTIONS} connections, {DURATION} s each")
    if ROUNDS > 1:
        for number, (floor, submit) in enumerate(rounds, start=1):
            print(
                f"  round {number}: floor {floor['rps']:6.0f} req/s p99 {floor['p99']:6.1f} ms; "
                f"submit {submit['rps']:6.0f} req/s p99 {submit['p99']:6.1f} ms; "
                f"{submit['rps'] / floor['rps']:.0%}, p99 {submit['p99'] / floor['p99']:.2f}x"
            )
        print(f"medians of {ROUNDS} rounds:")
    floor, submit = (
        {
            "rps": statistics.median(run["rps"] for run in runs),
            "p99": statistics.median(run["p99"] for run in runs),
            "failures": sum(run["failures"] for run in runs),
            "cpu": {
                name: statistics.median(run["cpu"][name] for run in runs) for name in runs[0]["cpu"]
            },
        }
        for runs in zip(*rounds, strict=True)
    )
    # The ratios of each round (floor and submit measured one after the other), then their
    # median: load from elsewhere on the machine moves both sides of a round together.
    rate = statistics.median(s["rps"] / f["rps"] for f, s in rounds)
    latency = statistics.median(s["p99"] / f["p99"] for f, s in rounds)
    print(
        f"floor  (1 INSERT + 1 SELECT):  {floor['rps']:8.0f} req/s   p99 {floor['p99']:7.1f} ms"
        f"   failures {floor['failures']}"
    )
    print(
        f"submit (full application):     {submit['rps']:8.0f} req/s   p99 {submit['p99']:7.1f} ms"
        f"   failures {submit['failures']}"
    )
    print(
        f"submit / floor: {rate:.0%} of the requests per second (goal at least 50%: "
        f"{'met' if rate >= 0.5 else 'NOT met'}); p99 {latency:.2f}x the floor's "
        f"(goal at most 2x: {'met' if latency <= 2 else 'NOT met'}); "
        f"failures {submit['failures']} (goal 0: {'met' if submit['failures'] == 0 else 'NOT met'})"
    )
    bare_rps = statistics.median(run["rps"] for run in bare)
    bare_cpu = statistics.median(sum(run["cpu"].values()) for run in bare)
    print(
        f"for scale, a bare JSON view (same middleware, no database): {bare_rps:.0f} req/s, "
        f"{bare_cpu:.2f} ms of CPU per request; the floor reaches {floor['rps'] / bare_rps:.0%} "
        f"of it, the submit {submit['rps'] / bare_rps:.0%}"
    )
    for name, run in (("floor", floor), ("submit", submit)):
        cpu = run["cpu"]
        print(
            f"CPU per request, {name:6s}: {sum(cpu.values()):5.2f} ms = gunicorn "
            f"{cpu['gunicorn']:5.2f} + PostgreSQL {cpu['postgres']:5.2f} + wrk {cpu['wrk']:5.2f}"
        )
    cost = sum(submit["cpu"].values()) / max(sum(floor["cpu"].values()), 1e-9)
    print(
        f"a submission costs {cost:.1f}x the floor's CPU: {1 / cost:.0%} of its requests per "
        f"second is what the CPU allows once the machine is saturated"
    )
    sent = warm["requests"] + sum(s["requests"] for _, s in rounds)
    print(
        f"applications saved: {saved} for {sent} submissions sent (warm-up included; wrk "
        f"does not count those in flight at the end); outbox messages: {outbox}; "
        f"failures during the warm-up: {warm['failures']}"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_database()
        if _ENV:  # the run's data directory (static files, media)
            shutil.rmtree(_ENV["TREMPLIN_DATA_DIR"], ignore_errors=True)
