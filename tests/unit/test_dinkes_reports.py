"""Laporan Dinkes: visits per day/unit/payer, the ten most common diagnoses, new and
returning patients, LB1 (age bands, sex, new and old cases), and their CSV files."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from klinikita.models import Patient, Room, ServiceUnit
from klinikita.models.enums import Duty, Sex
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied, ValidationFailed
from klinikita.services.reports import dinkes, lb1
from tests.factories import make_branch, make_clinic, make_visit_on
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)

NOV = dinkes.Month(2026, 11)


def _actor(branch, duty=Duty.ADMIN) -> Actor:
    return Actor(user_id=1, username="u", full_name="U", duty=duty, branch_id=branch.id)


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    dental = ServiceUnit(branch_id=branch.id, name="Poli Gigi")
    db.add(dental)
    db.flush()
    dental_room = Room(branch_id=branch.id, unit_id=dental.id, name="Ruang Gigi")
    db.add(dental_room)
    db.commit()

    def person(name: str, born: date, sex: str) -> Patient:
        p = Patient(
            branch_id=branch.id, mrn=name[:6], name=name, birth_date=born, sex=sex, nik=None
        )
        db.add(p)
        db.commit()
        return p

    return {
        "db": db,
        "branch": branch,
        "unit": unit,
        "room": room,
        "dental": dental,
        "dental_room": dental_room,
        "doctor": doctor,
        "patient": patient,  # male, born 1992
        "person": person,
    }


def _visit(c, patient, day, **kw):
    unit = kw.pop("unit", c["unit"])
    room = c["dental_room"] if unit is c["dental"] else c["room"]
    return make_visit_on(c["db"], c["branch"], unit, room, c["doctor"], patient, day, **kw)


# ----- visits per day, unit and payer --------------------------------------------------
def test_visits_per_day_unit_and_payer(clinic):
    c = clinic
    ani = c["person"]("Ani", date(1990, 1, 1), Sex.FEMALE)
    _visit(c, c["patient"], date(2026, 11, 2), payer="bpjs")
    _visit(c, ani, date(2026, 11, 2), unit=c["dental"])
    _visit(c, ani, date(2026, 11, 4), status="registered", payer="bpjs")
    _visit(c, c["patient"], date(2026, 11, 4), status="cancelled")  # never counted
    _visit(c, c["patient"], date(2026, 11, 6))  # outside the range
    other = make_branch(c["db"], "Klinik Lain")
    del other

    found = dinkes.visit_counts(c["db"], _actor(c["branch"]), date(2026, 11, 1), date(2026, 11, 5))
    assert found.total == 3
    assert [(d.key, d.count) for d in found.days] == [
        ("2026-11-01", 0),
        ("2026-11-02", 2),
        ("2026-11-03", 0),
        ("2026-11-04", 1),
        ("2026-11-05", 0),
    ]
    assert [(u.label, u.count) for u in found.units] == [("Poli Umum", 2), ("Poli Gigi", 1)]
    assert [(p.label, p.count) for p in found.payers] == [("BPJS", 2), ("Umum", 1)]

    export = dinkes.visit_counts_csv(
        c["db"], _actor(c["branch"], Duty.KASIR), date(2026, 11, 1), date(2026, 11, 5)
    )
    lines = _parse(export.text)
    assert lines[0] == list(dinkes.VISIT_CSV_HEADERS)
    assert ["Per hari", "2026-11-02", "2"] in lines
    assert ["Per unit", "Poli Gigi", "1"] in lines
    assert ["Per penjamin", "BPJS", "2"] in lines
    assert lines[-1] == ["Total", "2026-11-01 s.d. 2026-11-05", "3"]
    assert export.filename.startswith("kunjungan-per-hari-unit-penjamin-")


def test_visit_range_is_required_ordered_and_bounded(clinic):
    actor = _actor(clinic["branch"])
    with pytest.raises(ValidationFailed) as missing:
        dinkes.visit_counts(clinic["db"], actor, None, date(2026, 11, 1))
    assert "date_from" in missing.value.errors
    with pytest.raises(ValidationFailed):
        dinkes.visit_counts(clinic["db"], actor, date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(ValidationFailed) as long:
        dinkes.visit_counts(clinic["db"], actor, date(2025, 1, 1), date(2026, 11, 1))
    assert "366" in long.value.errors["date_to"]
    with pytest.raises(PermissionDenied):
        dinkes.visit_counts(clinic["db"], _actor(clinic["branch"], Duty.PERAWAT), None, None)


# ----- ten most common diagnoses ------------------------------------------------------
def test_top_diagnoses_of_the_month(clinic):
    c = clinic
    ani = c["person"]("Ani", date(1990, 1, 1), Sex.FEMALE)
    _visit(c, c["patient"], date(2026, 11, 2), codes=("J06.9", "I10"))
    _visit(c, ani, date(2026, 11, 2), codes=("J06.9",))
    _visit(c, ani, date(2026, 11, 9), codes=("K30", "J06.9"))
    _visit(c, c["patient"], date(2026, 11, 10), codes=("I10",))
    _visit(c, c["patient"], date(2026, 10, 31), codes=("A09",))  # October
    _visit(c, ani, date(2026, 11, 12), status="in_examination", codes=("A09",))  # not done
    found = dinkes.top_diagnoses(c["db"], _actor(c["branch"]), NOV)
    assert [(r.rank, r.code, r.count) for r in found.rows] == [
        (1, "J06.9", 3),
        (2, "I10", 2),
        (3, "K30", 1),
    ]
    assert found.visits == 4
    # No display stored: the ICD-10 table's text.
    assert found.rows[1].display == "Essential (primary) hypertension"

    export = dinkes.top_diagnoses_csv(c["db"], _actor(c["branch"]), NOV)
    assert _parse(export.text)[1] == ["1", "J06.9", found.rows[0].display, "3"]
    assert export.filename.startswith("10-besar-diagnosis-2026-11-")


def test_top_diagnoses_keep_ten_and_need_clinical_reading(clinic):
    c = clinic
    codes = ["A09", "B01.9", "E11.9", "I10", "J00", "J02.9", "J06.9", "K30", "L30.9", "M54.5"]
    codes.append("R50.9")
    for i, code in enumerate(codes):
        _visit(c, c["patient"], date(2026, 11, 1 + i), codes=(code,))
    _visit(c, c["patient"], date(2026, 11, 20), codes=("R50.9",))
    found = dinkes.top_diagnoses(c["db"], _actor(c["branch"]), NOV)
    assert len(found.rows) == 10
    assert found.rows[0].code == "R50.9"
    with pytest.raises(PermissionDenied):  # the cashier has Laporan, not diagnoses
        dinkes.top_diagnoses(c["db"], _actor(c["branch"], Duty.KASIR), NOV)


def test_a_stored_display_is_shown_and_a_formula_is_neutralised(clinic):
    from klinikita.models import Diagnosis

    c = clinic
    visit = _visit(c, c["patient"], date(2026, 11, 3))
    c["db"].add(Diagnosis(visit_id=visit.id, icd10_code="J06.9", display="=HYPERLINK(1)"))
    c["db"].commit()
    export = dinkes.top_diagnoses_csv(c["db"], _actor(c["branch"]), NOV)
    assert _parse(export.text)[1][2] == "'=HYPERLINK(1)"


# ----- new and returning ---------------------------------------------------------------
def test_new_and_returning_patients(clinic):
    c = clinic
    ani = c["person"]("Ani", date(1990, 1, 1), Sex.FEMALE)
    budi = c["person"]("Budi", date(1980, 1, 1), Sex.MALE)
    _visit(c, c["patient"], date(2026, 10, 1))  # seen before the range
    _visit(c, budi, date(2026, 10, 5), status="cancelled")  # a cancelled visit is no visit
    _visit(c, c["patient"], date(2026, 11, 2))
    _visit(c, ani, date(2026, 11, 2), hour=8)  # Ani's first ever
    _visit(c, ani, date(2026, 11, 3), unit=c["dental"])  # Ani again: returning
    _visit(c, budi, date(2026, 11, 3))  # Budi's first (the cancelled one does not count)
    found = dinkes.new_and_returning(
        c["db"], _actor(c["branch"]), date(2026, 11, 2), date(2026, 11, 3)
    )
    assert [(d.day.isoformat(), d.new, d.returning) for d in found.days] == [
        ("2026-11-02", 1, 1),
        ("2026-11-03", 1, 1),
    ]
    assert (found.new_patients, found.returning_patients) == (2, 1)
    export = dinkes.new_and_returning_csv(
        c["db"], _actor(c["branch"]), date(2026, 11, 2), date(2026, 11, 3)
    )
    assert _parse(export.text)[-1] == ["Jumlah pasien (orang)", "2", "1"]


# ----- LB1 ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("born", "on", "band"),
    [
        (date(2026, 11, 1), date(2026, 11, 1), "0-7h"),
        (date(2026, 11, 1), date(2026, 11, 8), "0-7h"),
        (date(2026, 11, 1), date(2026, 11, 9), "8-28h"),
        (date(2026, 11, 1), date(2026, 11, 29), "8-28h"),
        (date(2026, 11, 1), date(2026, 11, 30), "1-11b"),
        (date(2025, 11, 2), date(2026, 11, 1), "1-11b"),
        (date(2025, 11, 1), date(2026, 11, 1), "1-4"),
        (date(2021, 11, 2), date(2026, 11, 1), "1-4"),
        (date(2021, 11, 1), date(2026, 11, 1), "5-9"),
        (date(2016, 11, 1), date(2026, 11, 1), "10-14"),
        (date(2011, 11, 1), date(2026, 11, 1), "15-19"),
        (date(2006, 11, 1), date(2026, 11, 1), "20-44"),
        (date(1981, 11, 2), date(2026, 11, 1), "20-44"),
        (date(1981, 11, 1), date(2026, 11, 1), "45-54"),
        (date(1971, 11, 1), date(2026, 11, 1), "55-59"),
        (date(1966, 11, 1), date(2026, 11, 1), "60-69"),
        (date(1956, 11, 2), date(2026, 11, 1), "60-69"),
        (date(1956, 11, 1), date(2026, 11, 1), "70+"),
    ],
)
def test_lb1_age_bands(born, on, band):
    assert lb1.age_band(born, on) == band


def test_icd_groups():
    group = lb1.icd_group("J06.9")
    assert (group.category, group.block, group.chapter) == ("J06", "J00-J06", "X")
    assert group.chapter_name == "Penyakit sistem pernapasan"
    assert lb1.icd_group("I10").block == "I10-I15"
    assert lb1.icd_group("A91").block == "A90-A99"  # ICD-10 2010 dengue, placed by hand


def test_lb1_by_group_age_sex_and_new_or_old_case(clinic):
    c = clinic
    baby = c["person"]("Bayi", date(2026, 10, 30), Sex.FEMALE)
    ani = c["person"]("Ani", date(1990, 1, 1), Sex.FEMALE)
    grandpa = c["person"]("Kakek", date(1940, 5, 5), Sex.MALE)
    _visit(c, ani, date(2026, 10, 20), codes=("J06.9",))  # October: Ani's ISPA is old news
    _visit(c, baby, date(2026, 11, 3), codes=("J06.9",))  # 4 days old
    _visit(c, ani, date(2026, 11, 3), codes=("J06.9", "J06.0"))  # one case per category
    _visit(c, grandpa, date(2026, 11, 4), codes=("I10", "J00"))
    _visit(c, grandpa, date(2026, 11, 18), codes=("I10",))  # second time this month: old
    _visit(c, c["patient"], date(2026, 11, 5), status="cancelled", codes=("I10",))
    report = lb1.lb1(c["db"], _actor(c["branch"]), NOV)
    rows = {r.group.category: r for r in report.rows}
    assert list(rows) == ["I10", "J00", "J06"]  # ICD-10 order
    ispa = rows["J06"]
    assert ispa.cells[("0-7h", Sex.FEMALE)] == 1
    assert ispa.cells[("20-44", Sex.FEMALE)] == 1
    assert (ispa.male, ispa.female, ispa.total) == (0, 2, 2)
    assert (ispa.new_cases, ispa.old_cases) == (1, 1)
    hypertension = rows["I10"]
    assert hypertension.cells[("70+", Sex.MALE)] == 2
    assert (hypertension.new_cases, hypertension.old_cases) == (1, 1)
    assert hypertension.group.chapter == "IX"
    assert report.total == 5
    assert [(ch.chapter, ch.total) for ch in report.chapters] == [("X", 3), ("IX", 2)]
    assert len(ispa.cells) == len(lb1.AGE_BANDS) * 2

    export = lb1.lb1_csv(c["db"], _actor(c["branch"]), NOV)
    lines = _parse(export.text)
    headers = lines[0]
    assert headers[6:8] == ["0-7 hari L", "0-7 hari P"]
    assert headers[-5:] == ["Jumlah L", "Jumlah P", "Jumlah", "Kasus baru", "Kasus lama"]
    j06 = next(line for line in lines if line[4] == "J06")
    assert j06[:4] == [
        "X",
        "Penyakit sistem pernapasan",
        "J00-J06",
        "Acute upper respiratory infections",
    ]
    assert j06[headers.index("0-7 hari P")] == "1"
    assert j06[headers.index("20-44 tahun P")] == "1"
    assert j06[-5:] == ["0", "2", "2", "1", "1"]
    assert export.filename.startswith("lb1-2026-11-")
    with pytest.raises(PermissionDenied):
        lb1.lb1(c["db"], _actor(c["branch"], Duty.KASIR), NOV)


def test_month_parsing():
    assert dinkes.parse_month("2026-11") == NOV
    assert NOV.label == "November 2026"
    assert (NOV.first, NOV.last) == (date(2026, 11, 1), date(2026, 11, 30))
    for bad in ("", "2026-13", "November", "2026-1-1"):
        with pytest.raises(ValidationFailed):
            dinkes.parse_month(bad)
