"""Patient search at scale: p50/p95 of services/patients.search_patients per kind, next to the
same query as hand-written SQL on the raw driver (the floor), on SQLite and PostgreSQL.

    python bench/patient_search.py                      # 1,000,000 patients, both databases
    python bench/patient_search.py --n 100000 --db sqlite
    python bench/patient_search.py --db postgresql --pg-admin-url postgresql://postgres@127.0.0.1/postgres

The schema comes from the real migrations (alembic head). SQLite uses a temporary file; on
PostgreSQL a temporary database is created and dropped afterwards. Targets: p95 <= 50 ms and
service/raw <= 2 for every kind.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KLINIKITA_SIMULATOR_DATA", "none")

import psycopg  # noqa: E402
from sqlmodel import Session  # noqa: E402

from klinikita.db import make_engine, read_connection  # noqa: E402
from klinikita.migrations import upgrade_to_head  # noqa: E402
from klinikita.models.patient_search import (  # noqa: E402
    create_search_objects,
    drop_search_objects,
)
from klinikita.services.patients import (  # noqa: E402
    COUNT_CAP,
    PAGE_SIZE,
    SearchKind,
    search_patients,
)

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


# ----- synthetic data ----------------------------------------------------------------
def synthetic(n: int, seed: int = 7):
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
        yield (
            f"{i:07d}",
            nik,
            name,
            name.casefold(),
            born,
            "female" if female else "male",
            phone,
        )


def pick_terms(rows: list[tuple], count: int, seed: int = 11) -> dict[SearchKind, list[str]]:
    rnd = random.Random(seed)
    sample = rnd.sample(rows, count)
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


# ----- loading -------------------------------------------------------------------------
def load_sqlite(path: str, n: int, keep: list) -> None:
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO branch (name, facility_type, address, phone, timezone, "
            "is_active, mrn_format, ss_environment, ss_auth_url, ss_fhir_url, "
            "ss_organization_id, ss_client_id, ss_secret_encrypted, created_at,"
            " updated_at) VALUES ('Klinik Bench', 'klinik', '', '', "
            "'Asia/Jakarta', 1, '{seq:07d}', 'simulator', '', '', '', '', '', "
            "'2026-01-01', '2026-01-01')"
        )
        drop_search_objects(conn)  # rebuilt in one pass after the load
    engine.dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC).isoformat(sep=" ")
    sql = (
        "INSERT INTO patient (branch_id, mrn, nik, name, name_norm, birth_date, sex, phone, street,"
        " rt, rw, is_newborn, is_foreigner, no_nik_reason, is_active, sync_status, created_at,"
        " updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, '', '', '', 0, 0, '', 1, 'not_sent', ?, ?)"
    )
    batch = []
    for row in synthetic(n):
        keep.append(row)
        batch.append((*row[:4], row[4].isoformat(), row[5], row[6], now, now))
        if len(batch) == 50_000:
            db.executemany(sql, batch)
            batch = []
    if batch:
        db.executemany(sql, batch)
    db.commit()
    db.close()
    engine = make_engine(url)
    with engine.begin() as conn:
        create_search_objects(conn)
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def load_postgresql(url: str, n: int, keep: list) -> None:
    upgrade_to_head(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO branch (name, facility_type, address, phone, timezone, "
            "is_active, mrn_format, ss_environment, ss_auth_url, ss_fhir_url, "
            "ss_organization_id, ss_client_id, ss_secret_encrypted, created_at,"
            " updated_at) VALUES ('Klinik Bench', 'klinik', '', '', "
            "'Asia/Jakarta', true, '{seq:07d}', 'simulator', '', '', '', '', '',"
            " now(), now())"
        )
        drop_search_objects(conn)
    engine.dispose()
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    now = datetime.now(UTC)
    with psycopg.connect(plain) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY patient (branch_id, mrn, nik, name, name_norm, birth_date, sex, phone,"
                " street, rt, rw, is_newborn, is_foreigner, no_nik_reason, is_active, sync_status,"
                " created_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            for row in synthetic(n):
                keep.append(row)
                copy.write_row((1, *row, "", "", "", False, False, "", True, "not_sent", now, now))
        conn.commit()
    engine = make_engine(url)
    with engine.begin() as conn:
        create_search_objects(conn)
    engine.dispose()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE patient")


# ----- the raw floor -------------------------------------------------------------------
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
        return (1, term, term + "\U0010ffff")
    if kind == SearchKind.NAME_CONTAINS:
        return (1, f'"{term}"') if dialect == "sqlite" else (1, f"%{term}%")
    return (1, term)


def _sqlite_raw(path: str) -> sqlite3.Connection:
    # Transactions by hand, like the app's engine (isolation_level=None, BEGIN by hand).
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


# ----- timing --------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed_all(fns: list[Callable[[str], object]], terms: list[str]) -> list[list[float]]:
    """Every function over every term, interleaved (rotating order), after one untimed pass
    of each: the database's cache is equally warm for all (a clinic server's steady state)."""
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


def bench(name: str, url: str, raw_connect: Callable, terms: dict) -> list[tuple]:
    engine = make_engine(url)
    dialect = engine.dialect.name
    queries = raw_queries(dialect)
    results = []
    raw = raw_connect()
    with Session(engine) as session:
        for kind in KINDS:

            def service(term: str, kind=kind) -> object:
                # As the patient list's state calls it: a read connection per search.
                with read_connection(engine) as conn:
                    return search_patients(conn, 1, term, kind)

            page_sql, count_sql = queries[kind]

            def floor(term: str, kind=kind, page_sql=page_sql, count_sql=count_sql) -> object:
                cur = raw.cursor()
                if dialect == "sqlite":
                    cur.execute("BEGIN")  # deferred, as db.read_connection begins
                params = raw_params(dialect, kind, term)
                cur.execute(page_sql, params)
                rows = cur.fetchall()
                if len(rows) > PAGE_SIZE:
                    cur.execute(count_sql, params)
                    cur.fetchone()
                if dialect == "sqlite":
                    cur.execute("ROLLBACK")
                else:
                    raw.rollback()
                return rows

            # Same answers: the floor is a fair comparison.
            for term in terms[kind][:20]:
                got = [r.id for r in service(term).rows]
                want = [r[0] for r in floor(term)][:PAGE_SIZE]
                assert got == want, (name, kind, term, got[:3], want[:3])

            def on_session(term: str, kind=kind, page_sql=page_sql, count_sql=count_sql):
                # The same SQL through an ORM session committed per call (the search path
                # before the read connection; SQLite: BEGIN IMMEDIATE): what the session
                # and its transaction cost.
                conn = session.connection()
                params = raw_params(dialect, kind, term)
                rows = conn.exec_driver_sql(page_sql, params).all()
                if len(rows) > PAGE_SIZE:
                    conn.exec_driver_sql(count_sql, params).scalar()
                session.commit()
                return rows

            svc, flo, ses = timed_all([service, floor, on_session], terms[kind])
            hits = statistics.mean(len(service(t).rows) for t in terms[kind][:50])
            results.append((name, kind, svc, flo, ses, hits))
    raw.close()
    engine.dispose()
    return results


def report(results: list[tuple]) -> None:
    head = (
        f"{'database':<11}{'kind':<14}{'rows':>5}{'svc p50':>10}{'svc p95':>10}"
        f"{'raw p50':>10}{'raw p95':>10}{'ratio':>7}{'sess p95':>10}  target"
    )
    print(head)
    print("-" * len(head))
    for name, kind, svc, flo, ses, hits in results:
        s50, s95 = percentile(svc, 0.5), percentile(svc, 0.95)
        r50, r95 = percentile(flo, 0.5), percentile(flo, 0.95)
        ratio = s95 / r95 if r95 else float("inf")
        ok = "ok" if s95 <= 50 and ratio <= 2 else ("p95 ok" if s95 <= 50 else "MISSED")
        print(
            f"{name:<11}{kind.value:<14}{hits:>5.1f}{s50:>8.2f}ms{s95:>8.2f}ms"
            f"{r50:>8.2f}ms{r95:>8.2f}ms{ratio:>7.2f}{percentile(ses, 0.95):>8.2f}ms  {ok}"
        )
    print(
        "\nsvc: search_patients() on db.read_connection(), one per search (as the state "
        "calls it)\nraw: the same SQL on the bare driver, same transaction shape (SQLite: "
        "deferred BEGIN ... ROLLBACK)\nratio: svc p95 / raw p95; sess: the same SQL through an "
        "ORM session committed per call (the old path)\nrows: rows per page on average "
        "(20 = page full, then a capped count runs too)"
    )


@contextmanager
def pg_database(admin_url: str):
    name = f"klinikita_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="patients to load")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--queries", type=int, default=200, help="terms per kind")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "KLINIKITA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    results = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="klinikita-bench-") as tmp:
            path = str(Path(tmp) / "bench.db")
            rows: list = []
            t0 = time.perf_counter()
            load_sqlite(path, args.n, rows)
            print(f"SQLite: {args.n:,} patients loaded in {time.perf_counter() - t0:.0f} s")
            terms = pick_terms(rows, args.queries)
            del rows
            results += bench("SQLite", f"sqlite:///{path}", lambda: _sqlite_raw(path), terms)
    if args.db in ("postgresql", "both"):
        with pg_database(args.pg_admin_url) as url:
            rows = []
            t0 = time.perf_counter()
            load_postgresql(url, args.n, rows)
            print(f"PostgreSQL: {args.n:,} patients loaded in {time.perf_counter() - t0:.0f} s")
            terms = pick_terms(rows, args.queries)
            del rows
            plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
            results += bench("PostgreSQL", url, lambda: psycopg.connect(plain), terms)
    print()
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
