"""Administrative regions: loading the official list and reading one level at a time."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from klinikita.models import Region

REGIONS_CSV = Path(__file__).resolve().parent.parent / "data" / "wilayah_kemendagri_2025.csv"
LEVEL_NAMES = {1: "province", 2: "city", 3: "district", 4: "village"}
_BATCH = 5000

_CODE = re.compile(r"[0-9.]{1,13}", re.ASCII)  # 31, 31.71, 31.71.01, 31.71.01.1002


@dataclass(frozen=True)
class RegionOption:
    code: str
    name: str


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def read_csv(path: Path = REGIONS_CSV) -> Iterator[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["kode"].strip()
            yield {
                "code": code,
                "name": row["nama"].strip(),
                "level": code.count(".") + 1,
                "parent_code": parent_of(code),
            }


def load_regions(conn: Connection, path: Path = REGIONS_CSV) -> int:
    """Insert the regions of `path` that are not in the table yet; returns how many.

    Idempotent (a second run inserts nothing) and fast: one executemany per batch. Takes a
    Connection so migration 0004 can call it with its own."""
    table = Region.__table__
    existing = set(conn.execute(select(table.c.code)).scalars())
    batch: list[dict] = []
    inserted = 0
    for row in read_csv(path):
        if row["code"] in existing:
            continue
        batch.append(row)
        if len(batch) >= _BATCH:
            conn.execute(insert(table), batch)
            inserted += len(batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)
        inserted += len(batch)
    return inserted


def children(session: Session, parent_code: str | None) -> list[RegionOption]:
    """The regions directly under `parent_code` (provinces for None), by name."""
    table = Region.__table__
    where = table.c.parent_code.is_(None) if not parent_code else table.c.parent_code == parent_code
    rows = session.execute(
        select(table.c.code, table.c.name).where(where).order_by(table.c.name)
    ).all()
    return [RegionOption(code=r.code, name=r.name) for r in rows]


def names_for(session: Session, codes: list[str]) -> dict[str, str]:
    codes = [c for c in codes if c]
    if not codes:
        return {}
    table = Region.__table__
    rows = session.execute(select(table.c.code, table.c.name).where(table.c.code.in_(codes)))
    return {r.code: r.name for r in rows}


def chain_problem(session: Session, codes: list[str | None]) -> tuple[str, str] | None:
    """(field index name, message) when the chosen codes are not a consistent chain.

    `codes` is [province, city, district, village]; trailing ones may be empty, but a lower
    level needs the one above it."""
    fields = ("province_code", "city_code", "district_code", "village_code")
    chosen = [c if isinstance(c, str) else "" for c in codes]
    # Only what can be a code is looked up (PostgreSQL refuses a NUL in a parameter).
    known = names_for(session, [c for c in chosen if _CODE.fullmatch(c)])
    for level, code in enumerate(chosen):
        if not code:
            if any(chosen[level + 1 :]):
                return fields[level], "Pilih wilayah ini dulu."
            continue
        if code not in known or code.count(".") != level:
            return fields[level], "Kode wilayah tidak dikenal."
        if level and parent_of(code) != chosen[level - 1]:
            return fields[level], "Wilayah ini tidak berada di wilayah di atasnya."
    return None
