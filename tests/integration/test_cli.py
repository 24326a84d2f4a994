"""The command line on a fresh database: migrate, first admin, demo seeding."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlmodel import Session, select

from klinikita.db import make_engine
from klinikita.models import Branch, SyncJob, User
from klinikita.settings import PROJECT_ROOT

pytestmark = pytest.mark.processes


def _cli(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "REFLEX_DB_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "klinikita", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_first_admin_on_an_empty_production_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    assert _cli(url, "migrate").returncode == 0
    args = (
        "create-admin",
        "--username",
        "Kepala",
        "--full-name",
        "dr. Kepala Klinik",
        "--email",
        "kepala@klinik.id",
        "--branch",
        "Klinik Sentosa",
        "--password-stdin",
    )
    weak = _cli(url, *args, stdin="lemah\n")
    assert weak.returncode == 1 and "minimal 8 karakter" in weak.stderr
    # The clinic's own name and a year keep the character rules but are easy to guess.
    easy = _cli(url, *args, stdin="Sentosa#2026\n")
    assert easy.returncode == 1 and "terlalu mudah ditebak" in easy.stderr
    made = _cli(url, *args, stdin="Jeruk#Payung-Biru9\n")
    assert made.returncode == 0, made.stderr
    engine = make_engine(url)
    with Session(engine) as session:
        user = session.exec(select(User)).one()
        branch = session.exec(select(Branch)).one()
    engine.dispose()
    assert (user.username, user.main_duty, branch.name) == ("kepala", "admin", "Klinik Sentosa")
    assert "Jeruk#Payung-Biru9" not in user.password_hash
    again = _cli(url, *args, stdin="Jeruk#Payung-Biru9\n")
    assert again.returncode == 1 and "database kosong" in again.stderr


def test_prestart_seeds_the_demo_once_and_prints_the_passwords_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = _cli(url, "prestart", "--demo")
    assert first.returncode == 0, first.stderr
    assert "Admin#2026" in first.stdout and "Data demo dibuat" in first.stdout
    second = _cli(url, "prestart", "--demo")
    assert second.returncode == 0 and "Admin#2026" not in second.stdout
    engine = make_engine(url)
    with Session(engine) as session:
        names = {b.name for b in session.exec(select(Branch)).all()}
        users = {u.username for u in session.exec(select(User)).all()}
        queued = Counter(j.kind for j in session.exec(select(SyncJob)).all())
    engine.dispose()
    assert names == {"Klinik Kita Sehat", "Praktik Dokter Mandiri dr. Sari"}
    assert users == {"admin", "dokter", "perawat", "pendaftaran", "apoteker"}
    # The demo's SATUSEHAT setup is queued for the app's worker: 3 units, 3 rooms, the clinic's
    # doctor, nurse (who performs the vitals) and pharmacist, the practice's own doctor, and
    # 3 patients.
    assert queued == {
        "organization_create": 3,
        "location_create": 3,
        "practitioner_lookup": 4,
        "patient_lookup": 3,
    }
