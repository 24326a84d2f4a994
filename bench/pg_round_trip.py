"""What one statement costs on this machine, by how long the connection sat idle before it.

    .venv/bin/python bench/pg_round_trip.py [--samples 40]

A click comes after a pause, and its first statement pays for waking a database server that
went idle; the statements after it pay again when the app worked between them (the server
slept meanwhile, and what it and the app had in the CPU's caches is gone). This script shows
those costs with no app code in the way: on a fresh PostgreSQL database (dropped afterwards)
and on a SQLite file set up as the app sets it up (WAL, synchronous=NORMAL), after a pause it
runs a short "click": three indexed reads, then an insert and its commit, each timed alone,
with or without 0.5 ms of Python work before each statement after the first (about what a
handler does between two of its statements). It prints the p50 of each step, and the cost of
the same click back to back (no pause, no work) as the limit, with the ratio.
Why the clinic-flow benchmark's PostgreSQL figures are what they are: bench/README.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pg import temporary_pg_database  # noqa: E402

# (pause before the click in ms, Python work before each later statement in µs)
CASES = ((0, 0), (2, 0), (20, 0), (200, 0), (20, 500))
STEPS = ("read 1", "read 2", "read 3", "insert", "commit")
ROWS = 1000


def _work(us: int) -> None:
    """Busy Python for `us` microseconds, as a handler between two statements."""
    end = time.perf_counter() + us / 1e6
    n = 0
    while time.perf_counter() < end:
        n += 1


def _click(conn, mark: str, key: int, work: int, begin: str = "") -> list[float]:  # noqa: ANN001
    """One click on `conn` (psycopg, which begins by itself, or sqlite3 with `begin`; `mark`
    is the driver's placeholder): each step timed alone, `work` µs of Python before every
    step after the first."""
    if begin:
        conn.execute(begin)
    read = f"SELECT id, name FROM item WHERE id = {mark}"
    insert = f"INSERT INTO note (item_id, body) VALUES ({mark}, {mark})"
    steps = [lambda n=n: conn.execute(read, (key + n,)).fetchall() for n in range(3)]
    steps += [lambda: conn.execute(insert, (key, "x")), conn.commit]
    times = []
    for n, step in enumerate(steps):
        if n:
            _work(work)
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return times


Result = dict[tuple[int, int], list[float]]


def measure(click: Callable[[int, int], list[float]], samples: int) -> Result:
    """p50 of each step (ms) per case; the clicks of all cases interleaved, so a noisy
    moment of the machine spoils every case alike."""
    for n in range(20):  # warm-up: connection caches, prepared plans
        click(n, 0)
    taken: dict[tuple[int, int], list[list[float]]] = {case: [] for case in CASES}
    for n in range(samples):
        for pause, work in CASES:
            if pause:
                time.sleep(pause / 1000)
            taken[(pause, work)].append(click((n * 7) % (ROWS - 3) + 1, work))
    return {
        case: [statistics.median(c[i] for c in clicks) * 1000 for i in range(len(STEPS))]
        for case, clicks in taken.items()
    }


def report(name: str, result: Result) -> None:
    limit = sum(result[(0, 0)])
    print(f"{name}: p50 per statement (ms), the click's statements in all, ratio to the limit")
    print(
        f"  {'pause':>6} {'work':>7} "
        + " ".join(f"{s:>7}" for s in STEPS)
        + f" {'total':>7} {'ratio':>6}"
    )
    for (pause, work), steps in result.items():
        total = sum(steps)
        print(
            f"  {pause:>3} ms {work / 1000:>4.1f} ms "
            + " ".join(f"{v:7.3f}" for v in steps)
            + f" {total:7.3f} {total / limit:6.2f}"
            + ("  (limit)" if (pause, work) == (0, 0) else "")
        )


def run_pg(samples: int) -> dict[int, list[float]]:
    with temporary_pg_database("klinikita_bench_rt") as url:
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE TABLE item (id serial PRIMARY KEY, name text NOT NULL)")
            conn.execute("CREATE TABLE note (id serial PRIMARY KEY, item_id int, body text)")
            conn.execute(
                "INSERT INTO item (name) SELECT 'item ' || n FROM generate_series(1, %s) n",
                (ROWS,),
            )
            conn.commit()
            return measure(lambda key, work: _click(conn, "%s", key, work), samples)


def run_sqlite(samples: int) -> dict[int, list[float]]:
    with tempfile.TemporaryDirectory(prefix="klinikita-bench-rt-") as folder:
        conn = sqlite3.connect(Path(folder) / "rt.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, item_id INT, body TEXT)")
        conn.executemany(
            "INSERT INTO item (name) VALUES (?)", [(f"item {n}",) for n in range(ROWS)]
        )
        try:
            return measure(
                lambda key, work: _click(conn, "?", key, work, "BEGIN IMMEDIATE"), samples
            )
        finally:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40, help="clicks per pause")
    args = parser.parse_args()
    report("PostgreSQL", run_pg(args.samples))
    report("SQLite", run_sqlite(args.samples))


if __name__ == "__main__":
    main()
