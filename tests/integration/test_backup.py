"""Backups taken while the app writes, restored into empty databases (SQLite and PostgreSQL),
the refusals of a restore, and which backups retention keeps."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from klinikita.db import make_engine, session_scope
from klinikita.migrations import alembic_config, upgrade_to_head
from klinikita.models import Patient, SyncJob, SyncLog
from klinikita.models.enums import Sex
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import audit, backups
from klinikita.services.backups import (
    BackupRefused,
    Retention,
    backups_to_keep,
    create_backup,
    libpq_connection,
    prune,
    restore_backup,
    table_counts,
)
from klinikita.services.outbox import SUBJECTS
from klinikita.settings import PROJECT_ROOT
from tests.factories import (
    make_clinic,
    make_completed_visit,
    make_nurse,
    make_patient,
    make_user,
    make_visit,
)
from tests.pg import require_pg, temporary_pg_database

# The tables the writer thread adds rows to while a backup is taken.
WRITTEN = {"audit_log", "patient"}


@contextmanager
def _database(kind: str, tmp_path: Path, name: str) -> Iterator[str]:
    """The URL of a new, empty database of `kind`."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    require_pg()
    with temporary_pg_database(f"klinikita_backup_{name}") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request) -> str:  # noqa: ANN001
    return request.param


def _fill(url: str) -> None:
    """Every kind of record: users, employees, patients, visits with SATUSEHAT ids, outbox
    jobs in each state, sync log and audit rows."""
    upgrade_to_head(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        branch, unit, room, doctor, patient = make_clinic(s)
        make_user(s, "perawat", branches=[branch])
        make_nurse(s, branch, username="sheila")
        sent = make_completed_visit(s, branch, unit, room, doctor, patient)
        other = make_patient(s, branch, 1)
        waiting = make_visit(s, branch, unit, room, doctor, other, queue_number=2)
        patient.ihs_number = "P02478375538"
        doctor.ihs_number = "10009880728"
        sent.encounter_id = "b7a3c5d2-0c1f-4a57-9b1e-3f2f6c4d8e90"
        s.add_all([patient, doctor, sent])
        jobs = [
            (JobKind.VISIT_SEND, sent.id, JobStatus.DONE),
            (JobKind.VISIT_SEND, waiting.id, JobStatus.PENDING),
            (JobKind.PATIENT_LOOKUP, other.id, JobStatus.IN_PROGRESS),
            (JobKind.PATIENT_LOOKUP, patient.id, JobStatus.FAILED),
            (JobKind.PRACTITIONER_LOOKUP, doctor.id, JobStatus.DEAD),
        ]
        for job_kind, subject_id, status in jobs:
            s.add(
                SyncJob(
                    kind=job_kind,
                    branch_id=branch.id,
                    subject_type=SUBJECTS[job_kind][0],
                    subject_id=subject_id,
                    status=status,
                    attempts=2,
                    result={"id": "abc"} if status == JobStatus.DONE else None,
                    last_error="ditolak" if status == JobStatus.FAILED else None,
                )
            )
        s.flush()
        s.add(
            SyncLog(branch_id=branch.id, method="POST", url="/Encounter", status_code=201, ok=True)
        )
        audit.record(s, None, "create", "patient", patient.id, after=audit.snapshot(patient))
        audit.record(s, None, "update", "visit", sent.id, branch_id=branch.id)
        s.commit()
    engine.dispose()


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the app, in primary key order."""
    engine = make_engine(url)
    out = {}
    with engine.connect() as conn:
        for t in SQLModel.metadata.sorted_tables:
            if t.name == "region":
                continue  # 91,000 code rows the migrations load; counted below
            out[t.name] = conn.execute(select(t).order_by(*t.primary_key.columns)).all()
    engine.dispose()
    return out


class _Writer(threading.Thread):
    """Adds audit rows and patients, as the running app would, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.stop = threading.Event()
        self.written = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with session_scope(self.engine) as s:
                    audit.record(s, None, "view", "patient", self.written)
                    if self.written % 3 == 0:
                        s.add(
                            Patient(
                                branch_id=1,
                                mrn=f"9{self.written:05d}",
                                nik=f"{3171000000000000 + self.written}",
                                name=f"Pasien Baru {self.written}",
                                sex=Sex.FEMALE,
                                birth_date=date(1990, 1, 1),
                            )
                        )
                self.written += 1
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
        finally:
            self.engine.dispose()

    def wait_for(self, count: int) -> None:
        for _ in range(1000):
            if self.written >= count or self.error:
                return
            self.stop.wait(0.01)


def test_a_backup_taken_while_the_app_writes_restores_as_of_its_moment(kind, tmp_path):
    with (
        _database(kind, tmp_path, "source") as source,
        _database(kind, tmp_path, "target") as target,
    ):
        _fill(source)
        before = _rows(source)
        writer = _Writer(source)
        writer.start()
        try:
            writer.wait_for(20)
            written_before = writer.written
            result = create_backup(source, tmp_path / "backups")
            written_after = writer.written
            writer.wait_for(written_after + 5)
        finally:
            writer.stop.set()
            writer.join()
        assert writer.error is None
        assert written_after > written_before  # the app wrote during the backup
        after = _rows(source)

        folder = tmp_path / "backups"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in (result.path, result.manifest_path):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        manifest = json.loads(result.manifest_path.read_text())
        assert manifest["file"] == result.path.name
        assert manifest["database"] == kind
        assert manifest["app_version"] == "0.1.0"
        assert manifest["alembic_revision"] == result.manifest.alembic_revision is not None
        counts = manifest["row_counts"]
        assert counts["region"] > 90_000
        for name, rows in before.items():
            if name not in WRITTEN:
                assert counts[name] == len(rows), name
        assert counts["audit_log"] > len(before["audit_log"])

        restored = restore_backup(result.path, target)
        assert restored.counts_match and not restored.upgraded
        assert [(c.table, c.in_backup) for c in restored.counts] == sorted(counts.items())
        assert restored.unreadable_secrets == []  # this install's key sealed them

        engine = make_engine(target)
        with engine.connect() as conn:
            assert table_counts(conn) == counts
        engine.dispose()
        now = _rows(target)
        for name, rows in before.items():
            if name in WRITTEN:
                # The source's first rows, as it has them: those committed before the backup.
                assert len(rows) <= len(now[name]) == counts[name]
                assert now[name] == after[name][: len(now[name])]
            else:
                assert now[name] == rows, name


def test_restore_refuses_a_target_with_rows_and_takes_a_migrated_empty_one(kind, tmp_path):
    with (
        _database(kind, tmp_path, "source") as source,
        _database(kind, tmp_path, "full") as full,
        _database(kind, tmp_path, "migrated") as migrated,
    ):
        _fill(source)
        result = create_backup(source, tmp_path / "backups")
        _fill(full)
        with pytest.raises(BackupRefused, match="tidak kosong") as refused:
            restore_backup(result.path, full)
        assert "audit_log (" in refused.value.message
        upgrade_to_head(migrated)  # the code tables it loads do not count as data
        restored = restore_backup(result.manifest_path, migrated)
        assert restored.counts_match
        assert _rows(migrated) == _rows(source)


def test_restore_refuses_a_tampered_file_and_a_newer_revision(tmp_path):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    target = f"sqlite:///{tmp_path / 'target.db'}"
    _fill(source)
    result = create_backup(source, tmp_path / "backups")
    original = result.path.read_bytes()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0xFF
    result.path.write_bytes(bytes(tampered))
    with pytest.raises(BackupRefused, match="Checksum"):
        restore_backup(result.path, target)
    result.path.write_bytes(original)

    manifest = json.loads(result.manifest_path.read_text())
    head = manifest["alembic_revision"]
    result.manifest_path.write_text(json.dumps({**manifest, "alembic_revision": "9999_future"}))
    with pytest.raises(BackupRefused) as refused:
        restore_backup(result.path, target)
    assert "9999_future" in refused.value.message and head in refused.value.message
    # Nothing was written.
    assert not (tmp_path / "target.db").exists()


def test_a_backup_of_an_older_revision_is_upgraded_after_its_restore(tmp_path):
    source = f"sqlite:///{tmp_path / 'old.db'}"
    target = f"sqlite:///{tmp_path / 'target.db'}"
    command.upgrade(alembic_config(source), "0011")
    result = create_backup(source, tmp_path / "backups")
    assert result.manifest.alembic_revision == "0011"
    restored = restore_backup(result.path, target)
    assert restored.upgraded and restored.revision == "0011" and restored.counts_match
    engine = make_engine(target)
    with engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    engine.dispose()
    assert revision == restored.head != "0011"


def test_backups_go_to_the_data_folder_by_default(tmp_path, monkeypatch):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    upgrade_to_head(source)
    monkeypatch.setattr(backups, "DATA_DIR", tmp_path / "data")
    moment = datetime(2026, 2, 15, 2, 0, 5, tzinfo=UTC)
    result = create_backup(source, now=moment)
    assert result.path == tmp_path / "data" / "backups" / "klinikita-20260215-020005.sqlite3.gz"
    assert result.manifest.created_at == "2026-02-15T02:00:05Z"
    assert stat.S_IMODE(result.path.parent.stat().st_mode) == 0o700
    with pytest.raises(BackupRefused, match="sudah ada"):
        create_backup(source, now=moment)


def test_pg_tools_get_the_password_in_their_environment_only():
    url, env = libpq_connection("postgresql+psycopg://klinik:r4ha%40sia@db.local:5433/rme")
    assert url == "postgresql://klinik@db.local:5433/rme"
    assert env["PGPASSWORD"] == "r4ha@sia"
    url, env = libpq_connection("postgresql+psycopg://klinik@db.local/rme")
    assert url == "postgresql://klinik@db.local/rme"
    assert env.get("PGPASSWORD") == os.environ.get("PGPASSWORD")


def _stamp(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_retention_keeps_the_newest_of_each_day_week_and_month(tmp_path):
    # A backup every night from 1 Jan 2025 to Sun 15 Feb 2026, and a second one on the last day.
    first = date(2025, 1, 1)
    days = [first + timedelta(days=i) for i in range((date(2026, 2, 15) - first).days + 1)]
    stamps = [_stamp(d) for d in days] + [_stamp(date(2026, 2, 15), 14)]
    kept = backups_to_keep(stamps, Retention(daily=7, weekly=4, monthly=12))
    expected_days = [
        # daily: the last 7 days (the later of 15 Feb's two)
        *(_stamp(date(2026, 2, d)) for d in range(9, 15)),
        _stamp(date(2026, 2, 15), 14),
        # weekly: Sundays ending ISO weeks 2026-W06, W05, W04 (W07 is 15 Feb)
        _stamp(date(2026, 2, 8)),
        _stamp(date(2026, 2, 1)),
        _stamp(date(2026, 1, 25)),
        # monthly: the last day of Jan 2026 and of the ten months before (Feb 2026 is 15 Feb)
        _stamp(date(2026, 1, 31)),
        _stamp(date(2025, 12, 31)),
        *(_stamp(date(2025, m + 1, 1) - timedelta(days=1)) for m in range(3, 12)),
    ]
    assert kept == set(expected_days)
    assert len(kept) == 7 + 3 + 11

    # Months without backups do not use up the monthly count.
    sparse = [_stamp(date(2024, 6, 1)), _stamp(date(2025, 1, 1)), _stamp(date(2026, 1, 1))]
    assert backups_to_keep(sparse, Retention(1, 1, 2)) == set(sparse[1:])
    assert backups_to_keep(sparse, Retention(0, 0, 0)) == {sparse[-1]}

    # Pruning a folder removes the others' files and their manifests, nothing else.
    folder = tmp_path / "backups"
    folder.mkdir()
    for i, stamp in enumerate(stamps):
        name = f"klinikita-{stamp:%Y%m%d-%H%M%S}"
        (folder / f"{name}.{'pgdump' if i % 2 else 'sqlite3.gz'}").write_bytes(b"x")
        (folder / f"{name}.json").write_text("{}")
    (folder / "catatan.txt").write_text("milik operator")
    (folder / "klinikita-20200101-000000.json").write_text("{}")  # a manifest on its own
    pruned = prune(folder, Retention(7, 4, 12))
    assert len(pruned) == 2 * (len(stamps) - len(kept))
    left = {p.name for p in folder.iterdir()}
    assert {"catatan.txt", "klinikita-20200101-000000.json"} <= left
    assert len(left) == 2 * len(kept) + 2
    assert "klinikita-20260215-020000.json" not in left
    assert "klinikita-20260215-140000.json" in left


def _cli(url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "klinikita", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "REFLEX_DB_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.processes
def test_backup_and_restore_commands(tmp_path):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    target = f"sqlite:///{tmp_path / 'target.db'}"
    assert _cli(source, "prestart", "--demo").returncode == 0
    folder = tmp_path / "backups"
    backup = _cli(source, "backup", "--to", str(folder))
    assert backup.returncode == 0, backup.stderr
    written = sorted(folder.iterdir())
    assert [p.suffix for p in written] == [".json", ".gz"]
    assert f"Cadangan ditulis: {written[1]}" in backup.stdout
    assert f"Manifest ditulis: {written[0]}" in backup.stdout

    # Another install: its own key cannot open the branches' SATUSEHAT secrets.
    other_key = Fernet.generate_key().decode()
    restore = _cli(target, "restore", str(written[1]), KLINIKITA_SECRET_KEY=other_key)
    assert restore.returncode == 0, restore.stderr
    lines = restore.stdout.splitlines()
    assert lines[0].split() == ["Tabel", "Cadangan", "Dipulihkan"]
    assert any(line.split() == ["branch", "2", "2"] for line in lines)
    assert "Pemulihan selesai" in restore.stdout
    assert "tidak dapat dibuka dengan kunci enkripsi server ini" in restore.stdout
    assert "Klinik Kita Sehat" in restore.stdout

    again = _cli(target, "restore", str(written[1]))
    assert again.returncode == 1 and "tidak kosong" in again.stderr
