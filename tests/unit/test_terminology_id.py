"""The Indonesian names of diagnoses (ICD-10) and procedures (ICD-9-CM): every listed code is
valid and billable, every listed name and synonym finds its code, and English and code
searches still work."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from klinikita.models import Diagnosis
from klinikita.services import icd9cm, icd10
from klinikita.terminology import icd9cm_codes, indonesian
from tests.factories import make_clinic, make_visit

DATA = Path(indonesian.__file__).parent / "data"
DIAGNOSES = indonesian.diagnosis_terms()
PROCEDURES = indonesian.procedure_terms()


def _file_codes(name: str) -> list[str]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f)]


# ----- the data files ---------------------------------------------------------------------
def test_the_lists_cover_primary_care_and_name_no_code_twice():
    for name, minimum in (("diagnoses_id.csv", 150), ("procedures_id.csv", 50)):
        codes = _file_codes(name)
        assert len(codes) >= minimum, name
        assert len(codes) == len(set(codes)), f"{name} lists a code twice"
    assert (DATA.parent / "README.md").read_text().count("Sumber") >= 1


@pytest.mark.parametrize("code", list(DIAGNOSES))
def test_every_listed_diagnosis_is_a_valid_billable_icd10_code(code):
    assert icd10.normalize(code) == code, "written as SATUSEHAT codes it (E11.9)"
    assert icd10.is_valid(code)
    assert icd10.subcodes(code) == [], f"{code} is a category: list its specific subcode"
    assert DIAGNOSES[code].name.strip()


@pytest.mark.parametrize("code", list(PROCEDURES))
def test_every_listed_procedure_is_a_code_of_the_cms_icd9cm_list(code):
    assert re.fullmatch(r"\d{2}\.\d{1,2}", code)
    assert code in icd9cm_codes.procedure_codes(), f"{code} is not in CMS's ICD-9-CM v32"
    assert icd9cm.is_valid(code) and icd9cm.normalize(code) == code
    assert icd9cm.describe(code) and PROCEDURES[code].name.strip()


def test_the_whole_icd9cm_procedure_list_is_read_from_the_package():
    codes = icd9cm_codes.procedure_codes()
    assert len(codes) > 3800
    assert all(re.fullmatch(r"\d{2}\.\d{1,2}", code) for code in codes)
    assert codes["86.59"] == "Closure of skin and subcutaneous tissue of other sites"
    assert codes["64.0"] == "Circumcision"  # a three-digit code, its title without a space
    assert list(codes) == sorted(codes)


# ----- diagnoses: every name and synonym finds its code ------------------------------------
DIAGNOSIS_WORDS = [
    (code, text) for code, term in DIAGNOSES.items() for text in (term.name, *term.synonyms)
]


@pytest.mark.parametrize(("code", "text"), DIAGNOSIS_WORDS)
def test_every_indonesian_name_and_synonym_finds_its_code(code, text):
    found = [t.code for t in icd10.find(text, limit=25)]
    assert code in found, f"{text!r} did not find {code}: {found}"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("ispa", "J06.9"),
        ("ISPA", "J06.9"),
        ("GEA", "A09.9"),
        ("DM", "E11.9"),
        ("HT", "I10"),
        ("maag", "K30"),
        ("dispepsia", "K30"),
        ("demam tifoid", "A01.0"),
        ("cacar air", "B01.9"),
        ("demam", "R50.9"),
        ("diare", "A09.9"),
        ("infeksi saluran", "J06.9"),
        ("tipes", "A01.0"),
        ("DBD", "A91"),
        ("kencing manis", "E11.9"),
    ],
)
def test_common_words_and_abbreviations_find_the_usual_code_first(query, code):
    first = icd10.find(query, limit=5)[0]
    assert first.code == code
    assert first.indonesian and first.english == icd10.describe(code)


def test_an_indonesian_result_carries_the_english_description():
    (term,) = icd10.find("demam tifoid", limit=1)
    assert (term.code, term.name, term.english) == ("A01.0", "Demam tifoid", "Typhoid fever")


def test_english_and_code_searches_still_work():
    assert icd10.find("typhoid fever", limit=3)[0].code == "A01.0"
    assert [t.code for t in icd10.find("J06", limit=5)] == ["J06", "J06.0", "J06.8", "J06.9"]
    assert icd10.find("e119", limit=1)[0].code == "E11.9"
    unlisted = icd10.find("cholera", limit=3)[0]
    assert unlisted.code.startswith("A00") and not unlisted.indonesian
    assert unlisted.name == unlisted.english


def test_shown_names_put_the_indonesian_first_and_the_english_under_it():
    english = icd10.describe("J06.9")
    assert icd10.shown_names("j069", english) == ("Infeksi saluran pernapasan atas akut", english)
    assert icd10.shown_names("A00.0", "Cholera due to ...") == ("Cholera due to ...", "")


def test_the_branchs_most_used_diagnoses_come_first(db):
    clinic = make_clinic(db)
    branch, visit = clinic[0], make_visit(db, *clinic)
    db.add(Diagnosis(visit_id=visit.id, rank=1, icd10_code="A90", display="Dengue fever"))
    db.add(
        Diagnosis(
            visit_id=visit.id,
            rank=2,
            icd10_code="J06.9",
            display="Acute upper respiratory infection",
        )
    )
    db.commit()
    icd10.forget_usage()
    try:
        assert icd10.find("demam", limit=1)[0].code == "R50.9"
        found = icd10.search_for_branch(db, branch.id, "demam", 5)
        assert found[0].code == "A90"
        assert icd10.branch_usage(db, branch.id) == {"A90": 1, "J06.9": 1}
        # A code search keeps the code order.
        assert icd10.search_for_branch(db, branch.id, "A9", 3)[0].code == "A90"
        assert icd10.search_for_branch(db, branch.id, "R50", 1)[0].code == "R50"
    finally:
        icd10.forget_usage()


# ----- procedures --------------------------------------------------------------------------
PROCEDURE_WORDS = [
    (code, text) for code, term in PROCEDURES.items() for text in (term.name, *term.synonyms)
]


@pytest.mark.parametrize(("code", "text"), PROCEDURE_WORDS)
def test_every_procedure_name_and_synonym_finds_its_code(code, text):
    found = [t.code for t in icd9cm.search(text, limit=25)]
    assert code in found, f"{text!r} did not find {code}: {found}"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("hecting", "86.59"),
        ("jahit luka", "86.59"),
        ("insisi", "86.04"),
        ("nebulizer", "93.94"),
        ("injeksi", "99.29"),
        ("EKG", "89.52"),
        ("cabut gigi", "23.09"),
        ("perawatan luka", "93.57"),
        ("sunat", "64.0"),
        ("IUD", "69.7"),
        ("8659", "86.59"),
        ("86.59", "86.59"),
        ("closure skin", "86.59"),
        ("electrocardiogram", "89.52"),
    ],
)
def test_procedure_search_by_indonesian_code_or_english(query, code):
    assert icd9cm.search(query, limit=5)[0].code == code


def test_procedure_codes_are_checked_and_described():
    assert icd9cm.is_valid("8659") and icd9cm.normalize("8659") == "86.59"
    assert not icd9cm.is_valid("13.34") and icd9cm.is_well_formed("13.34")
    assert not icd9cm.is_well_formed("86-59") and not icd9cm.is_valid("")
    assert not icd9cm.is_valid("86")  # a category is not a code
    assert icd9cm.describe("89.52") == "Electrocardiogram"
    assert icd9cm.indonesian_name("64.0") == "Sirkumsisi"
    assert icd9cm.search("", 5) == [] and icd9cm.search("zzzz", 5) == []


def test_codes_outside_the_indonesian_list_are_found_and_accepted():
    # 47.09 Other appendectomy is in ICD-9-CM but not in the primary-care list.
    assert "47.09" not in PROCEDURES
    assert icd9cm.is_valid("4709") and icd9cm.describe("47.09") == "Other appendectomy"
    assert icd9cm.indonesian_name("47.09") is None
    assert icd9cm.shown_name("47.09") == "Other appendectomy"
    assert icd9cm.shown_name("64.0") == "Sirkumsisi" and icd9cm.shown_name("13.34") is None
    found = icd9cm.search("appendectomy", 20)
    assert "47.09" in [t.code for t in found]
    term = next(t for t in found if t.code == "47.09")
    assert term.name == term.english == "Other appendectomy" and not term.indonesian
    assert icd9cm.search("4709", 3)[0].code == "47.09"
    assert [t.code for t in icd9cm.search("86.5", 50)] == ["86.51", "86.59"]


def test_a_listed_indonesian_term_ranks_before_a_bare_english_title():
    # "suture" is a word of many English titles; the listed suture removal comes first.
    found = icd9cm.search("suture", 15)
    assert found[0].code == "97.38" and found[0].name == "Angkat jahitan kepala dan leher"
    assert len(found) == 15 and not found[-1].indonesian
    listed = [t.indonesian for t in found]
    assert listed == sorted(listed, reverse=True), "every listed one before the others"
