"""Administrative regions: loading the official list and reading one level at a time."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
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


# ----- finding a village by typing --------------------------------------------------------
MIN_REGION_TERM = 3
REGION_PICKS = 15
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SCAN_LIMIT = 400  # matching names read before narrowing (a common word matches many)


@dataclass(frozen=True)
class RegionPick:
    """A kelurahan/desa with the levels above it, as the picker lists it."""

    village_code: str
    district_code: str
    city_code: str
    province_code: str
    label: str  # "Cilandak Barat, Kec. Cilandak, Kota Adm. Jakarta Selatan, DKI Jakarta"


def region_words(term: str) -> list[str]:
    """The words of a typed region term, lower case (punctuation and spaces split them)."""
    return [w.casefold() for w in _WORD.findall(term or "")]


def chain_codes(village_code: str) -> tuple[str, str, str, str]:
    """(province, city, district, village) codes of a village code like 31.74.06.1001."""
    parts = village_code.split(".")
    return tuple(".".join(parts[: i + 1]) for i in range(4))  # type: ignore[return-value]


def find_villages(session: Session, term: str, *, limit: int = REGION_PICKS) -> list[RegionPick]:
    """Villages whose own name, or whose kecamatan's, contains one typed word (the longest
    that gives any), with every other word somewhere in the village's full label. Village
    names equal to or starting with the typed words come first. Nothing for a term under
    MIN_REGION_TERM letters."""
    words = region_words(term)
    if not words or len("".join(words)) < MIN_REGION_TERM:
        return []
    for key in sorted(set(words), key=len, reverse=True):
        picks = _picks_for(session, key, words)
        if picks:
            return picks[:limit]
    return []


def _picks_for(session: Session, key: str, words: list[str]) -> list[RegionPick]:
    table = Region.__table__
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found = session.execute(
        select(table.c.code, table.c.level)
        .where(
            table.c.level.in_((3, 4)),
            func.lower(table.c.name).like(f"%{escaped}%", escape="\\"),
        )
        .order_by(table.c.level.desc(), table.c.code)
        .limit(_SCAN_LIMIT)
    ).all()
    villages = [r.code for r in found if r.level == 4]
    districts = [r.code for r in found if r.level == 3]
    if districts:
        villages += session.execute(
            select(table.c.code)
            .where(table.c.parent_code.in_(districts))
            .order_by(table.c.code)
            .limit(_SCAN_LIMIT)
        ).scalars()
    chains = {v: chain_codes(v) for v in dict.fromkeys(villages) if v.count(".") == 3}
    names = names_for(session, list({c for chain in chains.values() for c in chain}))
    phrase = " ".join(words)
    picks: list[tuple[tuple, RegionPick]] = []
    for village, (province, city, district, _) in chains.items():
        parts = [names.get(code, "") for code in (village, district, city, province)]
        label = f"{parts[0]}, Kec. {parts[1]}, {parts[2]}, {parts[3]}"
        lowered = label.casefold()
        if not all(w in lowered for w in words):
            continue
        village_name = parts[0].casefold()
        rank = (
            0 if village_name == phrase else 1 if village_name.startswith(phrase) else 2,
            -sum(w in village_name for w in words),  # more words in its own name first
            lowered,
        )
        picks.append((rank, RegionPick(village, district, city, province, label)))
    picks.sort(key=lambda p: p[0])
    return [pick for _, pick in picks]


def pick_for_code(session: Session, village_code: str) -> RegionPick | None:
    """The picker's entry for one village code (None when it is not a known village)."""
    if not _CODE.fullmatch(village_code or "") or village_code.count(".") != 3:
        return None
    chain = chain_codes(village_code)
    names = names_for(session, list(chain))
    if len(names) != 4:
        return None
    province, city, district, village = (names[c] for c in chain)
    label = f"{village}, Kec. {district}, {city}, {province}"
    return RegionPick(village_code, chain[2], chain[1], chain[0], label)


@dataclass(frozen=True)
class PickedVillage:
    """A village from the picker and the lists the form's four region fields show for it."""

    pick: RegionPick
    cities: list[RegionOption]  # of its province
    districts: list[RegionOption]  # of its city
    villages: list[RegionOption]  # of its district


def picked_village(session: Session, village_code: str) -> PickedVillage | None:
    """What choosing `village_code` in the picker fills in (None: not a known village)."""
    pick = pick_for_code(session, village_code)
    if pick is None:
        return None
    return PickedVillage(
        pick,
        children(session, pick.province_code),
        children(session, pick.city_code),
        children(session, pick.district_code),
    )
