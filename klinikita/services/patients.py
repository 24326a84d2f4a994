"""Finding patients: search by NIK, No. RM, name (prefix or contains), phone or birth date.

Plain functions returning page DTOs (no ORM objects leave this module). Every query is served
by an index, so a page comes back in milliseconds with a million patients:
- NIK, phone, birth date: (branch_id, column) indexes; No. RM: the unique (branch_id, mrn).
- Name prefix: a range on (branch_id, name_norm); byte order, so the index also gives the
  order of the results.
- Name contains: PostgreSQL's trigram index (pg_trgm) on name_norm, SQLite's FTS5 trigram
  table (models/patient_search.py); newest first, so the first page stops early.
Totals are counted up to COUNT_CAP ("1000+" beyond), never over the whole table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlmodel import Session

from klinikita.models import Patient
from klinikita.models.enums import Sex
from klinikita.models.patient_search import FTS_TABLE
from klinikita.models.people import normalize_name

PAGE_SIZE = 20
COUNT_CAP = 1000
MIN_CONTAINS = 3  # trigram indexes need three characters
_TOP = "\U0010ffff"  # sorts after every character: the end of a prefix range


class SearchKind(StrEnum):
    AUTO = "auto"
    NAME = "name"  # name starts with
    NAME_CONTAINS = "name_contains"
    NIK = "nik"
    MRN = "mrn"
    PHONE = "phone"
    BIRTH_DATE = "birth_date"

    @property
    def label(self) -> str:
        return SEARCH_KIND_LABELS[self]


SEARCH_KIND_LABELS = {
    SearchKind.AUTO: "Otomatis",
    SearchKind.NAME: "Nama (awalan)",
    SearchKind.NAME_CONTAINS: "Nama (mengandung)",
    SearchKind.NIK: "NIK",
    SearchKind.MRN: "No. RM",
    SearchKind.PHONE: "Telepon",
    SearchKind.BIRTH_DATE: "Tanggal lahir",
}

MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def format_date(value: date | None) -> str:
    """25 Nov 2026."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if value else ""


@dataclass(frozen=True)
class PatientRow:
    id: int
    mrn: str
    nik: str
    name: str
    birth_date: str  # 25 Nov 2026
    sex: str  # label
    phone: str
    ihs_number: str
    sync_status: str
    sync_error: str


@dataclass(frozen=True)
class PatientPage:
    rows: list[PatientRow]
    page: int
    page_size: int
    total: int  # at most COUNT_CAP
    total_capped: bool  # more than COUNT_CAP match
    kind: str  # the kind actually searched (AUTO resolved)
    problem: str = ""  # why the term could not be searched, for staff

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def total_label(self) -> str:
        return f"{self.total}+" if self.total_capped else str(self.total)


_COLUMNS = (
    Patient.id,
    Patient.mrn,
    Patient.nik,
    Patient.name,
    Patient.birth_date,
    Patient.sex,
    Patient.phone,
    Patient.ihs_number,
    Patient.sync_status,
    Patient.sync_error,
)

_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), (3, 2, 1)),  # 25-11-2026
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), (1, 2, 3)),  # 2026-11-25
)


def parse_search_date(term: str) -> date | None:
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(term.strip())
        if match:
            try:
                return date(int(match[y]), int(match[m]), int(match[d]))
            except ValueError:
                return None
    return None


def resolve_kind(term: str) -> SearchKind:
    """What a term typed into the one search box most likely is."""
    term = term.strip()
    compact = re.sub(r"[\s\-()]", "", term)
    if parse_search_date(term):
        return SearchKind.BIRTH_DATE
    if compact.isdigit() and len(compact) == 16:
        return SearchKind.NIK
    if compact.startswith(("+62", "08", "62")) and compact.lstrip("+").isdigit():
        if len(compact) >= 8:
            return SearchKind.PHONE
    if any(c.isdigit() for c in term):
        return SearchKind.MRN
    return SearchKind.NAME


def _prefix(col, prefix: str):  # noqa: ANN001, ANN202
    """`col` starts with `prefix`, as an index range (byte order on both databases)."""
    return (col >= prefix) & (col < prefix + _TOP)


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_query(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _base(branch_id: int) -> Select:
    return select(*_COLUMNS).where(Patient.branch_id == branch_id, Patient.is_active.is_(True))


def build_query(
    dialect: str, branch_id: int, kind: SearchKind, term: str
) -> tuple[Select | None, str]:
    """The search as one SELECT (ordered, not yet paged), or None and a message."""
    term = term.strip()
    query = _base(branch_id)
    by_name = (Patient.name_norm, Patient.id)
    if not term:
        return query.order_by(*by_name), ""
    if kind == SearchKind.NIK:
        nik = re.sub(r"\s", "", term)
        return query.where(Patient.nik == nik).order_by(*by_name), ""
    if kind == SearchKind.MRN:
        return query.where(Patient.mrn == term).order_by(Patient.id), ""
    if kind == SearchKind.PHONE:
        from klinikita.services.patient_records import normalize_phone

        phone = normalize_phone(term)
        if not phone:
            return None, "Ketik nomor telepon (angka)."
        return query.where(_prefix(Patient.phone, phone)).order_by(Patient.phone, Patient.id), ""
    if kind == SearchKind.BIRTH_DATE:
        born = parse_search_date(term)
        if born is None:
            return None, "Ketik tanggal lahir seperti 25-11-1990."
        return query.where(Patient.birth_date == born).order_by(*by_name), ""
    name = normalize_name(term)
    if kind == SearchKind.NAME_CONTAINS:
        if len(name) < MIN_CONTAINS:
            return None, f"Ketik minimal {MIN_CONTAINS} huruf untuk pencarian nama yang mengandung."
        if dialect == "sqlite":
            fts = table(FTS_TABLE, column("rowid"))
            return (
                query.select_from(fts)
                .join(Patient, Patient.id == fts.c.rowid)
                .where(text(f"{FTS_TABLE} MATCH :fts_q").bindparams(fts_q=_fts_query(name)))
                .order_by(fts.c.rowid.desc())
            ), ""
        pattern = f"%{_like_escape(name)}%"
        return (
            query.where(Patient.name_norm.like(pattern, escape="\\")).order_by(Patient.id.desc())
        ), ""
    return query.where(_prefix(Patient.name_norm, name)).order_by(*by_name), ""


def _row(r) -> PatientRow:  # noqa: ANN001
    try:
        sex = Sex(r.sex).label
    except ValueError:
        sex = r.sex or ""
    return PatientRow(
        id=r.id,
        mrn=r.mrn,
        nik=r.nik or "",
        name=r.name,
        birth_date=format_date(r.birth_date),
        sex=sex,
        phone=r.phone or "",
        ihs_number=r.ihs_number or "",
        sync_status=r.sync_status,
        sync_error=r.sync_error or "",
    )


def search_patients(
    session: Session,
    branch_id: int,
    term: str = "",
    kind: str = SearchKind.AUTO,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> PatientPage:
    """One page of the branch's active patients matching `term`."""
    wanted = SearchKind(kind) if kind in SearchKind._value2member_map_ else SearchKind.AUTO
    if wanted == SearchKind.AUTO:
        wanted = resolve_kind(term) if term.strip() else SearchKind.NAME
    page = max(1, page)
    dialect = session.get_bind().dialect.name
    query, problem = build_query(dialect, branch_id, wanted, term)
    if query is None:
        return PatientPage([], 1, page_size, 0, False, wanted.value, problem)
    offset = (page - 1) * page_size
    # One extra row tells whether more follow without counting.
    fetched = session.execute(query.limit(page_size + 1).offset(offset)).all()
    rows = [_row(r) for r in fetched[:page_size]]
    if len(fetched) <= page_size:
        total, capped = offset + len(rows), False
    else:
        inner = query.order_by(None).with_only_columns(literal_column("1")).limit(COUNT_CAP + 1)
        total = session.execute(select(func.count()).select_from(inner.subquery())).scalar_one()
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    return PatientPage(rows, page, page_size, total, capped, wanted.value)


def get_patient_row(session: Session, branch_id: int, patient_id: int) -> PatientRow | None:
    found = session.execute(_base(branch_id).where(Patient.id == patient_id)).first()
    return _row(found) if found else None
