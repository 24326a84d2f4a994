"""Patient search at scale: p50/p95 of the app's patient search per kind of term, next to the
same query as hand-written SQL on the bare driver (the limit), on SQLite and PostgreSQL.

    .venv/bin/python bench/patient_search.py                  # 1,000,000 patients, both databases
    .venv/bin/python bench/patient_search.py --n 100000 --db sqlite
    .venv/bin/python bench/patient_search.py --reuse          # keep the seeded databases

The schema comes from the real migrations (alembic head). The patients are seeded with plain
Core inserts (executemany / insertmanyvalues), the search objects (SQLite's FTS5 table,
PostgreSQL's trigram index) built once after the load. Without `--reuse` SQLite uses a
temporary file and PostgreSQL a temporary database, dropped afterwards; with `--reuse` they
are `klinikita-bench-search-<n>.db` in the system's temporary folder and the database
`klinikita_bench_search_<n>`, seeded on the first run and used as they are by later runs.

Targets, per kind of term: the app's p95 <= 50 ms, and <= 2 x the bare SQL's p95.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KLINIKITA_SIMULATOR_DATA", "none")

import psycopg  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from klinikita.db import make_engine, read_scope, session_scope  # noqa: E402
from klinikita.migrations import upgrade_to_head  # noqa: E402
from klinikita.models import Branch, Patient  # noqa: E402
from klinikita.models.patient_search import (  # noqa: E402
    create_search_objects,
    drop_search_objects,
)
from klinikita.services.patients import (  # noqa: E402
    COUNT_CAP,
    PAGE_SIZE,
    PatientPage,
    SearchKind,
    search_patients,
)

BRANCH_ID = 1
P95_TARGET_MS = 50.0
RATIO_TARGET = 2.0


def app_search(url: str, term: str, kind: SearchKind) -> PatientPage:
    """The bench's one call into the app: a search as the patient list makes it, on a read
    session of its own."""
    with read_scope(url) as session:
        return search_patients(session, BRANCH_ID, term, kind)


FIRST = (
    "Budi Siti Agus Dewi Ahmad Sri Rina Joko Andi Nur Eko Wahyu Putri Rudi Indah Hendra Fitri "
    "Dian Yusuf Ratna Bambang Lestari Teguh Ayu Rizky Maya Fajar Nadia Arif Wulan Dedi Intan Adi "
    "Anisa Bayu Citra Dimas Eka Fauzi Gita Hadi Ika Irfan Kartika Lukman Mega Novi Oki Puspita "
    "Rahmat Sari Taufik Umi Vina Wawan Yanti Zainal Ketut Made Komang Wayan"
).split()
LAST = (
    "Santoso Wijaya Saputra Hidayat Kusuma Lestari Pratama Nugroho Setiawan Wibowo Siregar "
    "Nasution Simanjuntak Harahap Purba Gunawan Halim Susanto Hartono Kurniawan Utomo Rahayu "
    "Permana Sitompul Tanjung Lubis Hutapea Pangaribuan Sinaga Manurung Putra Putri Ramadhan "
    "Firmansyah Maulana Syahputra Hakim Rahman Hasibuan Daulay Simatupang Ginting Tarigan "
    "Sembiring Karo Sitepu Barus Munthe Marpaung Panjaitan Situmorang Sihombing Tambunan"
).split()
KINDS = (SearchKind.NIK, SearchKind.MRN, SearchKind.NAME, SearchKind.NAME_CONTAINS)
COLS = "id, mrn, nik, name, birth_date, sex, phone, ihs_number, sync_status, sync_error"
BATCH = 20_000


# ----- synthetic data ----------------------------------------------------------------
def synthetic(n: int, seed: int = 7) -> Iterator[tuple]:
    """(mrn, nik, name, name_norm, birth_date, sex, phone) of patient 1..n, the same on
    every run."""
    rnd = random.Random(seed)
    start = date(1940, 1, 1)
    for i in range(1, n + 1):
        born = start + timedelta(days=rnd.randrange(30000))
        female = rnd.random() < 0.5
        day = born.day + (40 if female else 0)
        nik = f"{rnd.randrange(110101, 947199):06d}{day:02d}{born.month:02d}{born.year % 100:02d}"
        nik += f"{i % 10000:04d}"
        parts = [rnd.choice(FIRST)]
        if rnd.random() < 0.6:
            parts.append(rnd.choice(FIRST))
        parts.append(rnd.choice(LAST))
        name = " ".join(parts)
        phone = "08" + "".join(rnd.choice("0123456789") for _ in range(10))
        yield (f"{i:07d}", nik, name, name.casefold(), born, "female" if female else "male", phone)


def pick_terms(n: int, count: int, seed: int = 11) -> dict[SearchKind, list[str]]:
    """`count` terms of each kind, taken from patients of the seeded set."""
    rnd = random.Random(seed)
    wanted = set(rnd.sample(range(n), min(count, n)))
    sample = [row for i, row in enumerate(synthetic(n)) if i in wanted]
    rnd.shuffle(sample)
    contains = []
    for r in sample:
        last = r[3].split()[-1]
        k = rnd.randint(4, min(6, len(last)))
        at = rnd.randrange(0, len(last) - k + 1)
        contains.append(last[at : at + k])
    return {
        SearchKind.NIK: [r[1] for r in sample],
        SearchKind.MRN: [r[0] for r in sample],
        SearchKind.NAME: [r[3][: rnd.randint(3, 8)].strip() for r in sample],
        SearchKind.NAME_CONTAINS: contains,
    }


# ----- seeding -------------------------------------------------------------------------
def patient_count(url: str) -> int | None:
    """How many patients the database at `url` holds; None when it has no schema yet."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not engine.dialect.has_table(conn, "patient"):
                return None
            return conn.execute(select(func.count()).select_from(Patient.__table__)).scalar()
    finally:
        engine.dispose()


def seed(url: str, n: int) -> None:
    """The schema at head, one branch and `n` patients, inserted in batches with plain Core
    inserts; the search objects built after the load, then the planner's statistics."""
    upgrade_to_head(url)
    with session_scope(url) as session:
        session.add(Branch(name="Klinik Bench", facility_type="klinik"))
    engine = make_engine(url)
    table = Patient.__table__
    now = datetime.now(UTC)
    with engine.begin() as conn:
        drop_search_objects(conn)  # rebuilt in one pass after the load
    with engine.connect() as conn:
        batch: list[dict] = []
        for mrn, nik, name, norm, born, sex, phone in synthetic(n):
            batch.append(
                {
                    "branch_id": BRANCH_ID,
                    "mrn": mrn,
                    "nik": nik,
                    "name": name,
                    "name_norm": norm,
                    "birth_date": born,
                    "sex": sex,
                    "phone": phone,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) == BATCH:
                conn.execute(insert(table), batch)
                conn.commit()
                batch = []
        if batch:
            conn.execute(insert(table), batch)
            conn.commit()
    with engine.begin() as conn:
        create_search_objects(conn)
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE patient")
    engine.dispose()


def seeded(url: str, n: int, what: str) -> None:
    """The database at `url` holds the bench's `n` patients: seeded now unless it already
    does (`--reuse`)."""
    found = patient_count(url)
    if found == n:
        upgrade_to_head(url)
        print(f"{what}: {n:,} patients already seeded, reused", flush=True)
        return
    if found:
        raise SystemExit(f"{what}: the database holds {found:,} patients, not {n:,}")
    t0 = time.perf_counter()
    seed(url, n)
    print(f"{what}: {n:,} patients seeded in {time.perf_counter() - t0:.0f} s", flush=True)


# ----- the bare SQL (the limit) ----------------------------------------------------------
def raw_queries(dialect: str) -> dict[SearchKind, tuple[str, str]]:
    """(page query, capped count) for each kind, hand-written."""
    p = "?" if dialect == "sqlite" else "%s"
    active = "is_active = 1" if dialect == "sqlite" else "is_active"
    base = f"FROM patient WHERE branch_id = {p} AND {active}"
    page = f" LIMIT {PAGE_SIZE + 1}"
    out = {
        SearchKind.NIK: f"{base} AND nik = {p}",
        SearchKind.MRN: f"{base} AND mrn = {p}",
        SearchKind.NAME: f"{base} AND name_norm >= {p} AND name_norm < {p}",
    }
    orders = {
        SearchKind.NIK: " ORDER BY name_norm, id",
        SearchKind.MRN: " ORDER BY id",
        SearchKind.NAME: " ORDER BY name_norm, id",
    }
    if dialect == "sqlite":
        out[SearchKind.NAME_CONTAINS] = (
            "FROM patient_name_fts JOIN patient ON patient.id = patient_name_fts.rowid "
            "WHERE patient.branch_id = ? AND patient.is_active = 1 AND patient_name_fts MATCH ?"
        )
        orders[SearchKind.NAME_CONTAINS] = " ORDER BY patient_name_fts.rowid DESC"
        cols = ", ".join(f"patient.{c}" for c in COLS.split(", "))
    else:
        out[SearchKind.NAME_CONTAINS] = f"{base} AND name_norm LIKE {p}"
        orders[SearchKind.NAME_CONTAINS] = " ORDER BY id DESC"
        cols = COLS
    return {
        kind: (
            f"SELECT {cols} {where}{orders[kind]}{page}",
            f"SELECT count(*) FROM (SELECT 1 {where} LIMIT {COUNT_CAP + 1}) AS t",
        )
        for kind, where in out.items()
    }


def raw_params(dialect: str, kind: SearchKind, term: str) -> tuple:
    if kind == SearchKind.NAME:
        return (BRANCH_ID, term, term + "\U0010ffff")
    if kind == SearchKind.NAME_CONTAINS:
        return (BRANCH_ID, f'"{term}"') if dialect == "sqlite" else (BRANCH_ID, f"%{term}%")
    return (BRANCH_ID, term)


def raw_search(url: str) -> tuple[Callable[[SearchKind, str], list], Callable[[], None]]:
    """The bare-driver search (one read transaction per search, as the app's) and its close."""
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    queries = raw_queries(dialect)
    if dialect == "sqlite":
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
    else:
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))

    def search(kind: SearchKind, term: str) -> list:
        page_sql, count_sql = queries[kind]
        params = raw_params(dialect, kind, term)
        cur = conn.cursor()
        if dialect == "sqlite":
            cur.execute("BEGIN")
        cur.execute(page_sql, params)
        rows = cur.fetchall()
        if len(rows) > PAGE_SIZE:
            cur.execute(count_sql, params)
            cur.fetchone()
        if dialect == "sqlite":
            cur.execute("ROLLBACK")
        else:
            conn.rollback()
        return rows

    return search, conn.close


# ----- timing --------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed_pair(fns: list[Callable[[str], object]], terms: list[str]) -> list[list[float]]:
    """Every function over every term, interleaved (alternating order), after one untimed
    pass of each: the database's cache is equally warm for both (a clinic server's steady
    state)."""
    for term in terms:
        for fn in fns:
            fn(term)
    times: list[list[float]] = [[] for _ in fns]
    for i, term in enumerate(terms):
        for k in range(len(fns)):
            slot = (i + k) % len(fns)
            t0 = time.perf_counter()
            fns[slot](term)
            times[slot].append((time.perf_counter() - t0) * 1000)
    return times


def measure(name: str, url: str, terms: dict[SearchKind, list[str]]) -> list[tuple]:
    raw, close = raw_search(url)
    results = []
    try:
        for kind in KINDS:
            # The same answers: the limit is a fair comparison.
            for term in terms[kind][:20]:
                got = [r.id for r in app_search(url, term, kind).rows]
                want = [r[0] for r in raw(kind, term)][:PAGE_SIZE]
                assert got == want, (name, kind, term, got[:3], want[:3])
            app_times, raw_times = timed_pair(
                [lambda t, k=kind: app_search(url, t, k), lambda t, k=kind: raw(k, t)],
                terms[kind],
            )
            rows = sum(len(app_search(url, t, kind).rows) for t in terms[kind][:50])
            results.append((name, kind, app_times, raw_times, rows / min(50, len(terms[kind]))))
    finally:
        close()
    return results


def report(results: list[tuple]) -> bool:
    head = (
        f"{'database':<11}{'kind':<14}{'rows':>5}{'app p50':>10}{'app p95':>10}"
        f"{'raw p50':>10}{'raw p95':>10}{'ratio':>7}  p95<=50ms  ratio<=2"
    )
    print(head)
    print("-" * len(head))
    passed = True
    for name, kind, app, raw, rows in results:
        a50, a95 = percentile(app, 0.5), percentile(app, 0.95)
        r50, r95 = percentile(raw, 0.5), percentile(raw, 0.95)
        ratio = a95 / r95 if r95 else float("inf")
        p95_ok, ratio_ok = a95 <= P95_TARGET_MS, ratio <= RATIO_TARGET
        passed = passed and p95_ok and ratio_ok
        print(
            f"{name:<11}{kind.value:<14}{rows:>5.1f}{a50:>8.2f}ms{a95:>8.2f}ms"
            f"{r50:>8.2f}ms{r95:>8.2f}ms{ratio:>7.2f}  {'PASS' if p95_ok else 'FAIL':<9}  "
            f"{'PASS' if ratio_ok else 'FAIL'}"
        )
    print(
        "\napp: services.patients.search_patients on a db.read_scope() session, one per "
        "search (as the patient list searches)\nraw: the same SQL on the bare driver, one read "
        "transaction per search\nratio: app p95 / raw p95\nrows: rows per page on average "
        "(20 = a full page, then a capped count runs too)"
    )
    return passed


@contextmanager
def pg_database(admin_url: str, name: str | None) -> Iterator[str]:
    """A database on the server of `admin_url`: `name` (made if missing, kept), or a
    temporary one dropped afterwards."""
    keep = name is not None
    name = name or f"klinikita_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database(n: int, reuse: bool) -> Iterator[str]:
    if reuse:
        yield f"sqlite:///{Path(tempfile.gettempdir()) / f'klinikita-bench-search-{n}.db'}"
        return
    with tempfile.TemporaryDirectory(prefix="klinikita-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="patients to seed")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--queries", type=int, default=200, help="terms per kind")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the seeded databases and use them on later runs (same --n)",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "KLINIKITA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    terms = pick_terms(args.n, args.queries)
    results = []
    if args.db in ("sqlite", "both"):
        with sqlite_database(args.n, args.reuse) as url:
            seeded(url, args.n, "SQLite")
            results += measure("SQLite", url, terms)
    if args.db in ("postgresql", "both"):
        name = f"klinikita_bench_search_{args.n}" if args.reuse else None
        with pg_database(args.pg_admin_url, name) as url:
            seeded(url, args.n, "PostgreSQL")
            results += measure("PostgreSQL", url, terms)
    print(f"\n{args.n:,} patients; {args.queries} terms per kind\n")
    passed = report(results)
    print(f"\noverall: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
