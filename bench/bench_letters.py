"""1,000 decision letters rendered by one process, then by a pool of one process per core.

    .venv/bin/python bench/bench_letters.py

The letters are built in memory as the task builds them (plain contexts, half in French and
half in Arabic, every outcome: offer, accepted, waiting list, not retained, ineligible) and
rendered by the task's own code (`letter_pdf.render_chunks`, chunks of `letters.CHUNK`). No
database: the parent's share (reading the applications, storing the files) is left out, on
both sides. Each side runs in its own process, timed from its first letter to its last, so
the pool's start (a fresh interpreter per worker, Django set up, fonts loaded) counts against
it. Goal: the pool at least 1.8x faster on two cores.

Then, once, a few letters in one process with WeasyPrint's HarfBuzz subsetter switched off
(the fontTools fallback it uses when Debian's libharfbuzz-subset0 is missing), to show what
the system check tremplin.W003 is about.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

from _workers import run_worker

ROOT = Path(__file__).resolve().parent.parent
N_LETTERS = int(os.environ.get("BENCH_LETTERS", "1000"))
N_WITHOUT_SUBSET = int(os.environ.get("BENCH_LETTERS_NO_SUBSET", "40"))
GOAL = 1.8

FIRST = [("Fatima", "فاطمة", "F"), ("Khadija", "خديجة", "F"), ("Salma", "سلمى", "F"),
         ("Aicha", "عائشة", "F"), ("Mariam", "مريم", "F"), ("Mohamed", "محمد", "M"),
         ("Youssef", "يوسف", "M"), ("Brahim", "إبراهيم", "M"), ("Ahmed", "أحمد", "M"),
         ("Hamza", "حمزة", "M")]  # fmt: skip
LAST = [("El Idrissi", "الإدريسي"), ("Ould Sidi", "ولد سيدي"), ("Boujemaa", "بوجمعة"),
        ("Laaroussi", "العروسي"), ("Ait Baha", "آيت باها"), ("Benali", "بنعلي")]  # fmt: skip
REASONS = {
    "not_retained": "Your rank comes after the admitted applicants and the waiting list, "
    "which are full.",
    "ineligible": "Your application does not meet the conditions of the call.",
}


def fmt(mark: float) -> str:
    return f"{mark:.2f}".replace(".", ",")  # fr_MA and ar_MA alike


def contexts(n: int, seed: int = 2025) -> list[dict]:
    """Decision letters of a call of `n` applicants, as `letter_contexts` builds them."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        language = "ar" if i % 2 else "fr"
        first, first_ar, sex = rng.choice(FIRST)
        last, last_ar = rng.choice(LAST)
        test, interview = rng.randint(600, 1900) / 100, rng.randint(800, 1950) / 100
        share = i / n
        status = (
            "offer" if share < 0.25 else "accepted" if share < 0.35
            else "waitlisted" if share < 0.5 else "ineligible" if share > 0.95
            else "not_retained"
        )  # fmt: skip
        rows.append(
            {
                "application_id": i + 1,
                "kind": "decision",
                "language": language,
                "reference": f"SMA-25-{i + 1:04d}/D-1",
                "date": "12 septembre 2025" if language == "fr" else "12 شتنبر 2025",
                "school": {
                    "name": "École Numérique de Smara",
                    "name_ar": "المدرسة الرقمية بالسمارة",
                    "initial": "É",
                    "local_name": "École Numérique de Smara"
                    if language == "fr"
                    else "المدرسة الرقمية بالسمارة",
                    "place": "Es-Semara" if language == "fr" else "السمارة",
                    "place_fr": "Es-Semara, Es-Semara",
                    "place_ar": "السمارة، السمارة",
                    "address": "Avenue Mohammed V, Es-Semara",
                    "phone": "05 28 89 00 00",
                    "email": "contact@smara.example.ma",
                },
                "intake": {"title": "Promotion 2025" if language == "fr" else "فوج 2025"},
                "applicant": {
                    "name": f"{first} {last}",
                    "name_ar": f"{first_ar} {last_ar}",
                    "salutation_name": f"{first} {last}"
                    if language == "fr"
                    else f"{first_ar} {last_ar}",
                    "sex": sex,
                    "reference": f"SMA-25-{i + 1:04d}",
                    "cin": f"SE****{i % 100:02d}",
                },
                "decision": {
                    "status": status,
                    "track": "Développement web" if language == "fr" else "تطوير الويب",
                    "published": "12 septembre 2025" if language == "fr" else "12 شتنبر 2025",
                    "deadline": "15 septembre 2025 à 18:00",
                    "deadline_short": "15/09/2025 à 18:00",
                    "marks": [
                        {
                            "name": "Test écrit" if language == "fr" else "الاختبار الكتابي",
                            "weight": "1",
                            "value": fmt(test),
                            "absent": False,
                            "threshold": fmt(5),
                            "below": test < 5,
                        },
                        {
                            "name": "Entretien" if language == "fr" else "المقابلة",
                            "weight": "2",
                            "value": fmt(interview),
                            "absent": False,
                            "threshold": "",
                            "below": False,
                        },
                    ],
                    "composite": fmt((test + 2 * interview) / 3),
                    "rank": i + 1,
                    "ranked": n,
                    "cutoff": fmt(13.42),
                    "seats": n * 35 // 100,
                    "waitlist_position": i - n * 35 // 100 + 1 if status == "waitlisted" else None,
                    "ahead": max(0, i - n * 35 // 100 - 3) if status == "waitlisted" else None,
                    "reason": REASONS.get(status, ""),
                },
            }
        )
    return rows


def busy_seconds() -> float:
    """CPU time used on the whole machine since boot, by every process (Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def pool_cpu_seconds() -> float:
    """CPU time of the fork server and of the workers it forked and reaped (Linux)."""
    import multiprocessing.forkserver as forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), 12-15 after the name.
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def worker(mode: str) -> dict:
    """One side, in this process: render the letters and time it."""
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from tremplin.selection.letter_pdf import render_chunks
    from tremplin.selection.letters import CHUNK

    n = N_WITHOUT_SUBSET if mode == "no-subset" else N_LETTERS
    letters = contexts(n)
    if mode == "no-subset":
        import weasyprint.pdf.fonts

        weasyprint.pdf.fonts.harfbuzz_subset = None  # the fallback when the library is missing
    workers = (os.cpu_count() or 1) if mode == "pool" else 1
    chunks = (letters[i : i + CHUNK] for i in range(0, n, CHUNK))
    started, cpu, busy = time.perf_counter(), time.process_time(), busy_seconds()
    pages = sizes = 0
    for rendered in render_chunks(chunks, workers=workers):
        pages += sum(r.pages for r in rendered)
        sizes += sum(len(r.pdf) for r in rendered)
    seconds = time.perf_counter() - started
    ours = time.process_time() - cpu + (pool_cpu_seconds() if workers > 1 else 0.0)
    return {
        "letters": n,
        "pages": pages,
        "seconds": seconds,
        "cpu": ours,
        # CPU time that other processes took from the cores meanwhile.
        "others": max(0.0, busy_seconds() - busy - ours),
        "bytes": sizes,
        "workers": workers,
    }


def run(mode: str) -> dict:
    return run_worker(__file__, [mode], timeout=1800)


def rate(figures: dict) -> str:
    return (
        f"{figures['seconds']:7.2f} s  {figures['pages'] / figures['seconds']:6.1f} pages/s  "
        f"(CPU {figures['cpu'] / figures['letters'] * 1000:5.1f} ms/letter; other processes "
        f"took {figures['others']:.1f} core-s meanwhile)"
    )


def main() -> int:
    started = time.perf_counter()
    one = run("one")
    pool = run("pool")
    print(
        f"Decision letters: {one['letters']:,} (half French, half Arabic), "
        f"{one['pages']:,} A4 pages, {one['bytes'] / one['letters'] / 1024:.0f} KB each"
    )
    print(f"  one process              {rate(one)}")
    print(f"  pool of {pool['workers']} processes      {rate(pool)}")
    ratio = (pool["pages"] / pool["seconds"]) / (one["pages"] / one["seconds"])
    verdict = "OK" if ratio >= GOAL else "MISSED"
    print(f"  pool / one process: {ratio:.2f}x (goal >= {GOAL}x on 2 cores): {verdict}")
    if N_WITHOUT_SUBSET:
        without = run("no-subset")
        slower = (one["pages"] / one["seconds"]) / (without["pages"] / without["seconds"])
        print(
            f"  without HarfBuzz's subsetter (fontTools), {without['letters']} letters in one "
            f"process: {without['pages'] / without['seconds']:.1f} pages/s, {slower:.1f}x slower"
        )
    print(f"\n(bench ran in {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores)")
    if max(one["others"] / one["seconds"], pool["others"] / pool["seconds"]) > 0.1:
        print(
            "(other processes shared the cores during the run: the figures understate the "
            "speed, the pool's most, since it needs both cores)"
        )
    return 0  # a missed goal is reported, not an error (as the other benches do)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2])))
        sys.exit(0)
    sys.exit(main())
