"""A click's statements through psycopg's cursor against the same through libpq (pg_exec).

    .venv/bin/python bench/pg_driver_path.py [--clicks 200] [--pause-ms 20] [--work-us 300]

On a fresh PostgreSQL database (dropped afterwards), a "click" of seven round trips as the
app's write scopes made them before session 13: BEGIN, three indexed reads (a join), an
insert returning its id, an audit insert, COMMIT. Each click comes after a pause (the app's
clicks come after the user's), with some Python work between statements (a handler's own
code). The click runs three ways, interleaved in random order so that a noisy moment of the
machine spoils all alike:
- `cursor`: psycopg's cursor, as SQLAlchemy and the app used it (psycopg begins by itself);
- `libpq`: `klinikita.pg_exec` on a connection in autocommit, BEGIN and COMMIT sent as
  commands (the same seven round trips);
- `libpq, batched`: BEGIN with the first read, COMMIT with the audit insert, in libpq's
  pipeline mode (five round trips), as `db.write_scope` does now.
It prints the p50 and p90 wall time of the database part (the Python work taken out) and
the p50 CPU of this thread for it, with the ratio to the cursor's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg_round_trip import _work  # noqa: E402
from klinikita.pg_exec import LibpqStatements  # noqa: E402
from tests.pg import temporary_pg_database  # noqa: E402

ROWS = 1000
READ = "SELECT i.id, i.name, j.name FROM item i JOIN item j ON j.id = i.id + 1 WHERE i.id = %(k)s"
ADD = "INSERT INTO note (item_id, body, at) VALUES (%(k)s, %(b)s, now()) RETURNING id"
AUDIT = "INSERT INTO audit (note_id, body) VALUES (%(k)s, %(b)s)"


def cursor_click(conn: psycopg.Connection, key: int, work: int) -> None:
    for n in range(3):
        conn.execute(READ, {"k": key + n}).fetchall()
        _work(work)
    note = conn.execute(ADD, {"k": key, "b": "x"}).fetchone()[0]
    _work(work)
    conn.execute(AUDIT, {"k": note, "b": "y"})
    conn.commit()


def libpq_click(st: LibpqStatements, key: int, work: int) -> None:
    st.command(b"BEGIN")
    for n in range(3):
        st.rows(READ, {"k": key + n})
        _work(work)
    note = st.rows(ADD, {"k": key, "b": "x"})[0][0]
    _work(work)
    st.write(AUDIT, {"k": note, "b": "y"})
    st.command(b"COMMIT")


def batched_click(st: LibpqStatements, key: int, work: int) -> None:
    st.run([b"BEGIN", (READ, {"k": key}, True)])
    _work(work)
    for n in (1, 2):
        st.rows(READ, {"k": key + n})
        _work(work)
    note = st.rows(ADD, {"k": key, "b": "x"})[0][0]
    _work(work)
    st.run([(AUDIT, {"k": note, "b": "y"}, False), b"COMMIT"])


def measure(
    ways: dict[str, Callable[[int, int], None]], clicks: int, pause_ms: float, work: int
) -> dict[str, tuple[list[float], list[float]]]:
    taken: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in ways}
    for n in range(clicks + 10):  # the first ten warm up (statements prepared)
        order = list(ways.items())
        random.shuffle(order)
        for name, click in order:
            time.sleep(pause_ms / 1000)
            key = random.randint(1, ROWS - 5)
            wall, cpu = time.perf_counter(), time.thread_time()
            click(key, work)
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            if n >= 10:
                spent = 4 * work / 1e6  # the Python work between statements
                taken[name][0].append((wall - spent) * 1000)
                taken[name][1].append((cpu - spent) * 1000)
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--pause-ms", type=float, default=20)
    parser.add_argument("--work-us", type=int, default=300)
    args = parser.parse_args()
    with temporary_pg_database("klinikita_bench_driver") as url:
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as setup:
            setup.execute("CREATE TABLE item (id serial PRIMARY KEY, name text NOT NULL)")
            setup.execute(
                "CREATE TABLE note (id serial PRIMARY KEY, item_id int, body text, at timestamptz)"
            )
            setup.execute("CREATE TABLE audit (id serial PRIMARY KEY, note_id int, body text)")
            setup.execute(
                "INSERT INTO item (name) SELECT 'item ' || n FROM generate_series(1, %s) n",
                (ROWS,),
            )
        cursor_conn = psycopg.connect(dsn)
        libpq_conn = psycopg.connect(dsn, autocommit=True)
        batched_conn = psycopg.connect(dsn, autocommit=True)
        libpq, batched = LibpqStatements(libpq_conn), LibpqStatements(batched_conn)
        try:
            taken = measure(
                {
                    "cursor": lambda k, w: cursor_click(cursor_conn, k, w),
                    "libpq": lambda k, w: libpq_click(libpq, k, w),
                    "libpq, batched": lambda k, w: batched_click(batched, k, w),
                },
                args.clicks,
                args.pause_ms,
                args.work_us,
            )
        finally:
            for conn in (cursor_conn, libpq_conn, batched_conn):
                conn.close()
    print(
        f"{args.clicks} clicks each, {args.pause_ms:g} ms pause before each, "
        f"{args.work_us} µs of Python before each statement after the first"
    )
    base_wall = statistics.median(taken["cursor"][0])
    base_cpu = statistics.median(taken["cursor"][1])
    for name, (walls, cpus) in taken.items():
        walls = sorted(walls)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(
            f"  {name:15} database wall p50 {wall:.3f} ms (ratio {wall / base_wall:.2f}), "
            f"p90 {walls[int(len(walls) * 0.9)]:.3f} ms; CPU p50 {cpu:.3f} ms "
            f"(ratio {cpu / base_cpu:.2f})"
        )


if __name__ == "__main__":
    main()
