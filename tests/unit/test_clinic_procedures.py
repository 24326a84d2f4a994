"""The clinic's own names for procedures: a branch's procedure tariffs, their ICD-9-CM code
checked against the whole list, and searched by name for the exam page. Real database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from klinikita.models.billing import Tariff
from klinikita.models.enums import Duty
from klinikita.services import tariffs
from klinikita.services.audit import Actor
from klinikita.services.errors import ValidationFailed
from klinikita.services.visit_queue import local_today
from tests.factories import make_branch, make_clinic, make_user


@pytest.fixture
def admin(db):
    branch = make_clinic(db)[0]
    user = make_user(db, "admin-tarif", branches=[branch], main_duty=Duty.ADMIN)
    return Actor(user.id, user.username, user.full_name, Duty.ADMIN, branch.id)


def _procedure(code: str, name: str = "Jahit luka", payer: str = "") -> tariffs.TariffInput:
    return tariffs.TariffInput("procedure", name, "75000", "2026-01-01", code=code, payer=payer)


def test_a_procedure_tariff_code_is_checked_against_the_whole_icd9cm_list(db, admin):
    saved = tariffs.add_tariff(db, admin, _procedure("8659"))
    assert saved.code == "86.59"  # written as SATUSEHAT codes it
    # Outside the primary-care list, but an ICD-9-CM code.
    assert tariffs.add_tariff(db, admin, _procedure("47.09", "Apendektomi")).code == "47.09"
    for typed, message in (("13.34", "tidak dikenal"), ("86-59", "2 angka")):
        with pytest.raises(ValidationFailed) as refused:
            tariffs.add_tariff(db, admin, _procedure(typed))
        assert message in refused.value.errors["code"]
    # Other kinds carry no code, whatever was typed.
    other = tariffs.TariffInput("registration", "Daftar", "10000", "2026-01-01", code="zz")
    assert tariffs.add_tariff(db, admin, other).code == ""


def test_the_branchs_current_procedure_names_are_found_once(db, admin):
    branch_id = admin.branch_id
    other_branch = make_branch(db, "Cabang Lain")
    today = local_today(None)
    start = date(2026, 1, 1)

    def tariff(
        name, code, *, branch=branch_id, payer="", ended=None, kind="procedure", start=start
    ):
        db.add(Tariff(branch_id=branch, kind=kind, name=name, code=code, payer=payer,
                      amount=1000, valid_from=start, ended_on=ended))  # fmt: skip

    tariff("Hecting luka kecil", "86.59")
    tariff("Hecting luka kecil", "86.59", payer="bpjs")  # the same, another payer
    tariff("Hecting  Luka Kecil", "86.59", payer="umum")  # spelled apart: still the same
    tariff("Hecting wajah", "86.59")
    tariff("Hecting lama", "86.59", ended=today)  # ended: not offered
    tariff("Hecting tahun depan", "86.59", start=today + timedelta(days=400))  # not yet
    tariff("Hecting cabang lain", "86.59", branch=other_branch.id)
    tariff("Hecting konsultasi", "", kind="consultation")
    tariff("Nebulizer", "9394")  # an old row's undotted code
    tariff("Rawat luka tanpa kode", "")
    db.commit()

    found = tariffs.clinic_procedures(db, branch_id, "hect")
    assert [(p.name, p.code) for p in found] == [
        ("Hecting luka kecil", "86.59"),
        ("Hecting wajah", "86.59"),
    ]
    assert [p.name for p in tariffs.clinic_procedures(db, branch_id, "luka hec")] == [
        "Hecting luka kecil"
    ]
    assert tariffs.clinic_procedures(db, branch_id, "9394") == [
        tariffs.ClinicProcedure("Nebulizer", "93.94")
    ]
    assert tariffs.clinic_procedures(db, branch_id, "rawat")[0].code == ""
    assert tariffs.clinic_procedures(db, branch_id, "  ") == []
    assert tariffs.clinic_procedures(db, other_branch.id, "hecting")[0].name == (
        "Hecting cabang lain"
    )
