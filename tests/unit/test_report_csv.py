"""CSV exports: formula injection neutralised in every cell (OWASP's rule)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from klinikita.models import AuditLog, Patient, SyncJob, SyncLog
from klinikita.models.enums import Sex
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services.report_csv import safe_cell, to_csv
from klinikita.services.reports import audit_log, dashboard, sync_log
from tests.factories import make_branch
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)

HOSTILE = ['=HYPERLINK("http://x","y")', "=1+1", "@SUM(1)", "+1", "-1+1", "\tx", "\rx"]


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("text", [*HOSTILE, "\nx", "\0x", "-", "=", "@"])
def test_text_beginning_with_a_formula_character_gets_a_quote_before_it(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["Budi", "", " =1+1", "1-1", "a=b", "'=1+1", "0812-3456", "Rp 10.000", "(021) 123"]
)
def test_other_text_is_written_as_it_is(text):
    assert safe_cell(text) == text


def test_numbers_stay_numbers_even_negative_and_none_is_empty():
    assert safe_cell(-5) == -5 and safe_cell(-1.5) == -1.5 and safe_cell(0) == 0
    assert safe_cell(Decimal("-2.50")) == Decimal("-2.50")
    assert safe_cell(None) == ""
    # Not numbers a spreadsheet should compute: text, checked like text.
    assert safe_cell(float("-inf")) == "'-inf"
    assert safe_cell(True) == "True"
    assert safe_cell(date(2026, 11, 25)) == "2026-11-25"


def test_to_csv_writes_every_cell_through_the_rule():
    text = to_csv(("=Nama", "Nilai"), [(name, -3) for name in HOSTILE])
    rows = _parse(text)
    assert rows[0] == ["'=Nama", "Nilai"]
    assert rows[1:] == [["'" + name, "-3"] for name in HOSTILE]


@pytest.fixture
def hostile(db):
    """Patients, a user and a job error named as an attacker would, with their exchanges."""
    branch = make_branch(db)
    patients = [
        Patient(
            branch_id=branch.id,
            mrn=f"{n:06d}",
            name=name,
            sex=Sex.FEMALE,
            birth_date=date(1990, 1, 1),
        )
        for n, name in enumerate(HOSTILE, start=1)
    ]
    db.add_all(patients)
    db.flush()
    at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    db.add_all(
        SyncLog(
            at=at,
            branch_id=branch.id,
            patient_id=p.id,
            resource_type="Patient",
            method="GET",
            url="https://x/Patient",
            status_code=200,
            ok=True,
            error="-bukan angka",
        )
        for p in patients
    )
    db.add_all(
        AuditLog(
            at=at,
            branch_id=branch.id,
            username=name,
            action="create",
            entity="patient",
            entity_id="=2+2",
        )
        for name in HOSTILE
    )
    db.add(
        SyncJob(
            kind=JobKind.PATIENT_LOOKUP,
            branch_id=branch.id,
            subject_type="patient",
            subject_id=patients[0].id,
            status=JobStatus.FAILED,
            attempts=1,
            last_error='=WEBSERVICE("http://x")',
        )
    )
    db.commit()
    return branch


def test_every_export_neutralises_hostile_cells(db, hostile):
    branch = hostile
    export = sync_log.sync_log_csv(db, branch.id, sync_log.SyncLogFilter())
    sync_text, _ = export.text, export.rows
    export = audit_log.audit_log_csv(db, branch.id, audit_log.AuditFilter())
    audit_text, _ = export.text, export.rows
    exports = {
        "sync": sync_text,
        "audit": audit_text,
        "jobs": dashboard.problem_jobs_csv(db, branch.id).text,
        "weeks": dashboard.weeks_csv(db, branch.id).text,
    }
    sync_rows = _parse(exports["sync"])[1:]
    patient_col = sync_log.SYNC_CSV_HEADERS.index("Pasien")
    assert sorted(r[patient_col] for r in sync_rows) == sorted("'" + n for n in HOSTILE)
    assert {r[-1] for r in sync_rows} == {"'-bukan angka"}
    audit_rows = _parse(exports["audit"])[1:]
    assert sorted(r[1] for r in audit_rows) == sorted("'" + n for n in HOSTILE)
    assert {r[5] for r in audit_rows} == {"'=2+2"}
    [job] = _parse(exports["jobs"])[1:]
    assert job[3] == '\'=WEBSERVICE("http://x")'
    for name, text in exports.items():
        for row in _parse(text):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
