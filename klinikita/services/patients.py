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

from sqlalchemy import Select, bindparam, column, func, literal_column, select, table, text
from sqlmodel import Session

from klinikita.models import Branch, Patient
from klinikita.models.enums import Sex
from klinikita.models.patient_search import FTS_TABLE
from klinikita.models.people import normalize_name
from klinikita.services import mrn
from klinikita.services.dates import parse_typed_date
from klinikita.services.text_input import invisible_problem

PAGE_SIZE = 20
BPJS_DIGITS = 13  # a BPJS Kesehatan card number
COUNT_CAP = 1000
MIN_CONTAINS = 3  # trigram indexes need three characters
_TOP = "\U0010ffff"  # sorts after every character: the end of a prefix range


class SearchKind(StrEnum):
    AUTO = "auto"
    NAME = "name"  # name starts with
    NAME_CONTAINS = "name_contains"
    NIK = "nik"
    BPJS = "bpjs"
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
    SearchKind.BPJS: "No. BPJS",
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


def parse_search_date(term: str) -> date | None:
    """A birth date typed into the search box (17-08-1990, 17/08/1990, 1990-08-17)."""
    if term.strip().isdigit():  # digits alone are a No. RM, a NIK or a phone, not a date
        return None
    return parse_typed_date(term)


_SEPARATORS = re.compile(r"[\s\-()]")  # typed inside phone numbers and NIKs


def resolve_kind(term: str) -> SearchKind:
    """What a term typed into the one search box most likely is."""
    term = term.strip()
    # Every kind but a name has a digit (a date, NIK, phone number or No. RM): a name, what
    # the box is typed with most, is told without trying the patterns below.
    if not any(map(str.isdigit, term)):
        return SearchKind.NAME
    if parse_search_date(term):
        return SearchKind.BIRTH_DATE
    compact = _SEPARATORS.sub("", term)
    if compact.isdigit() and len(compact) == 16:
        return SearchKind.NIK
    if compact.startswith(("+62", "08", "62")) and compact.lstrip("+").isdigit():
        if len(compact) >= 8:
            return SearchKind.PHONE
    if compact.isdigit() and len(compact) == BPJS_DIGITS:
        return SearchKind.BPJS  # a No. RM of 13 digits is tried next when none has it
    return SearchKind.MRN


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_query(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


_T = Patient.__table__
_SELECTED = [_T.c[c.key] for c in _COLUMNS]
_BRANCH = bindparam("branch_id")
_TERM = bindparam("term")
_UPTO = bindparam("upto")  # the end of a prefix range: term + _TOP


def _statements(dialect: str, kind: SearchKind | None) -> tuple[Select, Select]:
    """(page, capped count) for a kind on a dialect (None: every active patient)."""
    c = _T.c
    where = [c.branch_id == _BRANCH, c.is_active.is_(True)]
    source = _T
    order = [c.name_norm, c.id]
    if kind == SearchKind.NIK:
        where.append(c.nik == _TERM)
    elif kind == SearchKind.BPJS:
        where.append(c.bpjs_number == _TERM)
    elif kind == SearchKind.MRN:
        where.append(c.mrn == _TERM)
        order = [c.id]
    elif kind == SearchKind.PHONE:
        where += [c.phone >= _TERM, c.phone < _UPTO]
        order = [c.phone, c.id]
    elif kind == SearchKind.BIRTH_DATE:
        where.append(c.birth_date == _TERM)
    elif kind == SearchKind.NAME:
        where += [c.name_norm >= _TERM, c.name_norm < _UPTO]
    elif kind == SearchKind.NAME_CONTAINS and dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        source = fts.join(_T, c.id == fts.c.rowid)
        where.append(text(f"{FTS_TABLE} MATCH :term"))
        order = [fts.c.rowid.desc()]
    elif kind == SearchKind.NAME_CONTAINS:
        where.append(c.name_norm.like(_TERM, escape="\\"))
        order = [c.id.desc()]
    # kind None-like (empty term): every active patient of the branch, by name.
    page = (
        select(*_SELECTED)
        .select_from(source)
        .where(*where)
        .order_by(*order)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    matches = select(literal_column("1")).select_from(source).where(*where).limit(COUNT_CAP + 1)
    count = select(func.count()).select_from(matches.subquery())
    return page, count


# ----- a term's parameters, per kind ------------------------------------------------------
# Each takes the stripped, non-empty term, adds its parameters to `params` and returns
# nothing, or a message for staff when the term cannot be searched that way.
def _nik_term(params: dict, term: str, dialect: str) -> str | None:
    params["term"] = "".join(term.split())
    return None


def _mrn_term(params: dict, term: str, dialect: str) -> str | None:
    params["term"] = term
    return None


def _phone_term(params: dict, term: str, dialect: str) -> str | None:
    from klinikita.services.patient_records import normalize_phone

    phone = normalize_phone(term)
    if not phone:
        return "Ketik nomor telepon (angka)."
    params["term"], params["upto"] = phone, phone + _TOP
    return None


def _birth_date_term(params: dict, term: str, dialect: str) -> str | None:
    born = parse_search_date(term)
    if born is None:
        return "Ketik tanggal lahir seperti 25-11-1990."
    params["term"] = born
    return None


def _contains_term(params: dict, term: str, dialect: str) -> str | None:
    name = normalize_name(term)
    if len(name) < MIN_CONTAINS:
        return f"Ketik minimal {MIN_CONTAINS} huruf untuk pencarian nama yang mengandung."
    params["term"] = _fts_query(name) if dialect == "sqlite" else f"%{_like_escape(name)}%"
    return None


def _name_term(params: dict, term: str, dialect: str) -> str | None:
    name = normalize_name(term)
    params["term"], params["upto"] = name, name + _TOP
    return None


_TERMS = {
    SearchKind.NIK: _nik_term,
    SearchKind.BPJS: _nik_term,  # digits, spaces typed inside removed
    SearchKind.MRN: _mrn_term,
    SearchKind.PHONE: _phone_term,
    SearchKind.BIRTH_DATE: _birth_date_term,
    SearchKind.NAME_CONTAINS: _contains_term,
    SearchKind.NAME: _name_term,
}


_SEX_LABELS = {s.value: s.label for s in Sex}


def _row(r: tuple) -> PatientRow:
    # Positional: the order of _COLUMNS.
    pid, mrn, nik, name, born, sex, phone, ihs_number, sync_status, sync_error = r
    return PatientRow(
        id=pid,
        mrn=mrn,
        nik=nik or "",
        name=name,
        birth_date=format_date(born),
        sex=_SEX_LABELS.get(sex, sex or ""),
        phone=phone or "",
        ihs_number=ihs_number or "",
        sync_status=sync_status,
        sync_error=sync_error or "",
    )


# A kind as passed (a SearchKind or its value) -> the kind searched, AUTO left to the term.
_KINDS: dict[str, SearchKind] = {k.value: k for k in SearchKind}
_AUTO, _NAME = SearchKind.AUTO, SearchKind.NAME
_PAGING = ("limit", "offset")


def search_patients(
    session: Session,
    branch_id: int,
    term: str = "",
    kind: str = SearchKind.AUTO,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> PatientPage:
    """One page of the branch's active patients matching `term` (`kind`, or guessed from the
    term with AUTO), with the total counted up to COUNT_CAP; a term that cannot be searched
    gives no rows and the reason in `problem`. A plain read: `session` may be a
    `db.read_scope()`."""
    term = term.strip()
    invisible = None if term.isprintable() else invisible_problem(term, "Kata pencarian")
    if invisible:
        return PatientPage([], 1, page_size, 0, False, str(kind), invisible)
    wanted = _KINDS.get(kind, _AUTO)
    guessed = wanted is _AUTO
    if guessed:
        wanted = resolve_kind(term) if term else _NAME
    if page < 1:
        page = 1
    dialect = session.get_bind().dialect.name
    params: dict = {"branch_id": branch_id}
    if term:
        problem = _TERMS[wanted](params, term, dialect)
        if problem:
            return PatientPage([], 1, page_size, 0, False, str(wanted), problem)
        page_stmt, count_stmt = _statements(dialect, wanted)
    else:  # every active patient of the branch, by name
        page_stmt, count_stmt = _statements(dialect, None)
    offset = (page - 1) * page_size
    # One extra row tells whether more follow without counting.
    params["limit"], params["offset"] = page_size + 1, offset
    fetched = session.execute(page_stmt, params).all()
    if not fetched and guessed and wanted is SearchKind.BPJS:
        # Thirteen digits nobody has as a BPJS number may be a long No. RM.
        return search_patients(
            session, branch_id, term, SearchKind.MRN, page=page, page_size=page_size
        )
    rows = list(map(_row, fetched[:page_size]))
    if len(fetched) <= page_size:
        total, capped = offset + len(rows), False
    else:
        counted = {k: v for k, v in params.items() if k not in _PAGING}
        total = session.execute(count_stmt, counted).scalar_one()
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    return PatientPage(
        rows=rows,
        page=page,
        page_size=page_size,
        total=total,
        total_capped=capped,
        kind=str(wanted),  # its value (a StrEnum's str)
        problem="",
    )


def next_mrn_preview(session: Session, branch_id: int) -> str:
    """The No. RM the branch's next patient will probably get, as the new-patient form
    shows it (read-only)."""
    branch = session.get(Branch, branch_id)
    return mrn.preview(branch, session) if branch is not None else ""
