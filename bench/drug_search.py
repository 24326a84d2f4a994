"""Drug search at 20,000 items: services.drug_master.search_items next to the same SQL on the
bare driver (SQLite and PostgreSQL), p95 per term kind against the same targets as the
patient search (p95 <= 50 ms and <= 2 x the bare SQL's p95).

Seeds one branch with synthetic items (names built from real primary-care drug names,
strengths and forms, every one with a KFA-shaped code) into databases migrated to head,
checks that both searches return the same rows, then times them interleaved after one untimed
pass (warm cache).

    .venv/bin/python bench/drug_search.py                 # 20,000 items, both databases
    .venv/bin/python bench/drug_search.py --n 50000 --db sqlite --queries 100
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KLINIKITA_SIMULATOR_DATA", "none")

import psycopg  # noqa: E402
from patient_search import percentile, pg_database, timed_pair  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from klinikita.db import make_engine, read_scope, session_scope  # noqa: E402
from klinikita.migrations import upgrade_to_head  # noqa: E402
from klinikita.models import Branch  # noqa: E402
from klinikita.models.drug_search import SEARCHED  # noqa: E402
from klinikita.models.pharmacy import DrugItem  # noqa: E402
from klinikita.services.drug_master import search_items  # noqa: E402

LIMIT = 20
P95_TARGET_MS = 50.0
RATIO_TARGET = 2.0
DRUGS = (
    "Paracetamol Amoxicillin Amlodipine Captopril Metformin Glibenclamide Cetirizine Loratadine "
    "Omeprazole Ranitidine Antasida Ibuprofen Asam-Mefenamat Diclofenac Dexamethasone "
    "Prednisone Salbutamol Ambroxol Guaifenesin Bromhexine CTM Ciprofloxacin Cefadroxil "
    "Cotrimoxazole Metronidazole Simvastatin Allopurinol Bisoprolol Candesartan Furosemide "
    "Hydrochlorothiazide Vitamin-B-Kompleks Vitamin-C Asam-Folat Zinc Oralit Domperidone "
    "Ondansetron Loperamide Attapulgite Ketoconazole Miconazole Gentamicin Hydrocortisone"
).split()
FORMS = ("tablet", "kaplet", "kapsul", "sirup", "salep", "krim", "tetes", "injeksi")
STRENGTHS = ("5 mg", "10 mg", "25 mg", "50 mg", "100 mg", "250 mg", "500 mg", "125 mg/5 mL")
MAKERS = "Kimia Farma,Indofarma,Phapros,Dexa,Sanbe,Hexpharm,Novell,Berno,Mersi,Afi".split(",")


def synthetic(n: int, branch_id: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        drug = rng.choice(DRUGS).replace("-", " ")
        strength, form, maker = rng.choice(STRENGTHS), rng.choice(FORMS), rng.choice(MAKERS)
        # Most items are mapped to KFA: the product's name holds the generic name and maker.
        mapped = rng.random() < 0.7
        rows.append(
            {
                "branch_id": branch_id,
                "name": f"{drug} {strength} {form} {maker} {i:05d}",
                "category": "obat",
                "form_code": "BS066",
                "form_name": "Tablet",
                "strength": strength,
                "unit": form,
                "kfa_code": f"93{rng.randrange(1_000_000):06d}",
                "kfa_display": f"{drug} {strength} {form} ({maker.upper()})" if mapped else "",
                "price": rng.randrange(100, 50_000),
                "min_stock": 0,
                "active": rng.random() > 0.05,
                "version": 1,
            }
        )
    return rows


def seed(url: str, n: int) -> int:
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        branch = Branch(name="Klinik Bench Obat", facility_type="klinik")
        session.add(branch)
        session.flush()
        branch_id = branch.id
        session.execute(insert(DrugItem), synthetic(n, branch_id))
    # Statistics, as PostgreSQL's autovacuum keeps them after a load (the patient bench too).
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    return branch_id


def terms(count: int, seed: int = 9) -> list[str]:
    """What a doctor types: the start of a drug name (3-6 letters), sometimes with a strength."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        drug = rng.choice(DRUGS).replace("-", " ").lower()
        word = drug[: rng.randint(3, 6)]
        out.append(f"{word} {rng.choice(STRENGTHS).split()[0]}" if rng.random() < 0.3 else word)
    return out


def raw_search(url: str, branch_id: int) -> tuple[Callable[[str], list], Callable[[], None]]:
    """search_items' SQL written out for the bare driver (on SQLite from the FTS5 table, as
    the app), one read transaction per search."""
    sqlite = url.startswith("sqlite")
    p = "?" if sqlite else "%s"
    if sqlite:
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    else:
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
    true = "1" if sqlite else "true"

    def search(term: str) -> list:
        words = term.lower().split()
        where = " AND ".join(
            "(" + " OR ".join(f"lower({c}) LIKE {p} ESCAPE '\\'" for c in SEARCHED) + ")"
            for _ in words
        )
        where_params = [f"%{w}%" for w in words for _ in SEARCHED]
        compact = term.replace(" ", "")
        digits = compact.isascii() and compact.isdigit()
        if digits:
            where = f"((kfa_code >= {p} AND kfa_code < {p} AND kfa_code LIKE {p}) OR {where})"
            where_params = [compact, compact + ":", compact + "%", *where_params]
        source, source_params = "drug_item", []
        long_words = [w for w in words if len(w) >= 3]
        if sqlite and long_words:
            # The FTS5 trigram table gives the candidates (models/drug_search.py).
            found = "SELECT rowid AS id FROM drug_item_fts WHERE drug_item_fts MATCH ?"
            source_params = [" AND ".join('"' + w.replace('"', '""') + '"' for w in long_words)]
            if digits:
                found += " UNION SELECT id FROM drug_item WHERE kfa_code >= ? AND kfa_code < ?"
                source_params += [compact, compact + ":"]
            source = f"drug_item JOIN ({found}) AS candidates ON candidates.id = drug_item.id"
        sql = (
            f"SELECT drug_item.* FROM {source} WHERE branch_id = {p} AND active = {true} "
            f"AND {where} ORDER BY CASE WHEN lower(name) LIKE {p} ESCAPE '\\' THEN 0 ELSE 1 "
            f"END, name, drug_item.id LIMIT {LIMIT}"
        )
        params = [*source_params, branch_id, *where_params, f"{term.lower()}%"]
        cur = conn.cursor()
        if sqlite:
            cur.execute("BEGIN")
            cur.execute(sql, params)
        else:
            # Planned for its own patterns every time, as the app's (which writes them into
            # the SQL): never a prepared statement's generic plan.
            cur.execute(sql, params, prepare=False)
        rows = cur.fetchall()
        if sqlite:
            cur.execute("ROLLBACK")
        else:
            conn.rollback()
        return rows

    return search, conn.close


def measure(name: str, url: str, branch_id: int, words: list[str]) -> tuple:
    engine = make_engine(url)

    def app(term: str) -> list:
        with read_scope(engine) as session:
            return [i.id for i in search_items(session, branch_id, term, limit=LIMIT)]

    raw, close = raw_search(url, branch_id)
    try:
        for term in words[:30]:
            assert app(term) == [r[0] for r in raw(term)], (name, term)
        app_times, raw_times = timed_pair([app, raw], words)
    finally:
        close()
        engine.dispose()
    return name, app_times, raw_times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="drug items to seed")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get(
            "KLINIKITA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    words = terms(args.queries)
    results = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="klinikita-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'drugs.db'}"
            results.append(measure("SQLite", url, seed(url, args.n), words))
    if args.db in ("postgresql", "both"):
        with pg_database(args.pg_admin_url, None) as url:
            results.append(measure("PostgreSQL", url, seed(url, args.n), words))
    print(f"\n{args.n:,} drug items; {args.queries} terms\n")
    head = (
        f"{'database':<11}{'app p50':>10}{'app p95':>10}{'raw p95':>10}{'ratio':>7}"
        "  p95<=50ms  ratio<=2"
    )
    print(head)
    print("-" * len(head))
    passed = True
    for name, app, raw in results:
        a50, a95, r95 = percentile(app, 0.5), percentile(app, 0.95), percentile(raw, 0.95)
        ratio = a95 / r95 if r95 else float("inf")
        ok_p95, ok_ratio = a95 <= P95_TARGET_MS, ratio <= RATIO_TARGET
        passed = passed and ok_p95 and ok_ratio
        print(
            f"{name:<11}{a50:>8.2f}ms{a95:>8.2f}ms{r95:>8.2f}ms{ratio:>7.2f}  "
            f"{'PASS' if ok_p95 else 'FAIL':<9}  {'PASS' if ok_ratio else 'FAIL'}"
        )
    print(
        "\napp: services.drug_master.search_items on a db.read_scope() session per search\n"
        "raw: the same SQL on the bare driver, one read transaction per search"
    )
    print(f"\noverall: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
