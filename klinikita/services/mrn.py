"""Medical record numbers (No. RM): one counter per branch, formatted by the branch's format."""

from __future__ import annotations

import re
import string
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from klinikita.models import Branch, MrnCounter, Patient
from klinikita.services.text_input import invisible_problem
from klinikita.services.visit_queue import branch_zone

DEFAULT_FORMAT = "{seq:06d}"
_PLACEHOLDERS = {"seq", "year"}
MAX_MRN_LENGTH = 32


def format_problem(fmt: str) -> str | None:
    """What is wrong with a No. RM format, in words for staff, or None."""
    fmt = fmt or ""
    if len(fmt) > MAX_MRN_LENGTH or invisible_problem(fmt, "Format"):
        return invisible_problem(fmt, "Format") or "Format terlalu panjang."
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError:
        return "Format tidak valid: periksa tanda kurung kurawal { }."
    fields = [name for _, name, _, _ in parts if name is not None]
    # A width of three digits or more would build a huge number before the length check.
    if any(re.search(r"\d{3}", spec or "") for _, _, spec, _ in parts):
        return f"No. RM hasil format terlalu panjang (maksimal {MAX_MRN_LENGTH} karakter)."
    if "seq" not in fields:
        return "Format harus memuat {seq} (nomor urut), misalnya {seq:06d}."
    unknown = set(fields) - _PLACEHOLDERS
    if unknown:
        return f"Hanya {{seq}} dan {{year}} yang boleh dipakai (bukan {sorted(unknown)[0]})."
    try:
        sample = fmt.format(seq=999999, year=2026)
    except (ValueError, IndexError, KeyError):
        return "Format tidak valid, contoh yang benar: {seq:06d} atau RM{year}-{seq:05d}."
    if len(sample) > MAX_MRN_LENGTH:
        return f"No. RM hasil format terlalu panjang (maksimal {MAX_MRN_LENGTH} karakter)."
    return None


def render(fmt: str, seq: int, year: int) -> str:
    return (fmt or DEFAULT_FORMAT).format(seq=seq, year=year)


def _next_seq(session: Session, branch_id: int) -> int:
    """Increment the branch's counter in the caller's transaction and return the new value.

    The UPDATE locks the counter row (PostgreSQL) or the database (SQLite, BEGIN IMMEDIATE)
    until the caller commits, so two desks never get the same value."""
    stmt = (
        update(MrnCounter)
        .where(MrnCounter.branch_id == branch_id)
        .values(last_seq=MrnCounter.last_seq + 1)
        .returning(MrnCounter.last_seq)
    )
    seq = session.execute(stmt).scalar_one_or_none()
    if seq is not None:
        return seq
    # First patient of the branch: create the row. If another desk created it at the same
    # moment, only this savepoint rolls back and the UPDATE above then waits for its lock.
    try:
        with session.begin_nested():
            session.add(MrnCounter(branch_id=branch_id, last_seq=1))
        return 1
    except IntegrityError:
        return session.execute(stmt).scalar_one()


def allocate_mrn(session: Session, branch: Branch, *, now: datetime | None = None) -> str:
    """The next free No. RM of `branch`, in the caller's transaction."""
    year = (now or datetime.now(branch_zone(branch))).year
    while True:
        mrn = render(branch.mrn_format, _next_seq(session, branch.id), year)
        taken = session.execute(
            select(exists().where(Patient.branch_id == branch.id, Patient.mrn == mrn))
        ).scalar()
        if not taken:  # numbers given by hand or by an import are skipped
            return mrn


def preview(branch: Branch, session: Session) -> str:
    """The number the next patient will probably get (shown read-only on the form)."""
    counter = session.get(MrnCounter, branch.id)
    seq = (counter.last_seq if counter else 0) + 1
    return render(branch.mrn_format, seq, datetime.now(branch_zone(branch)).year)
