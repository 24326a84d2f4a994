"""What text, digits, numbers and dates typed into a form may be (services/text_input.py and
the services that use it)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import func, select

from klinikita.models import Patient
from klinikita.models.enums import Duty
from klinikita.services import examination as exam
from klinikita.services import facility, mrn
from klinikita.services import patient_records as records
from klinikita.services.dates import parse_typed_date
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.nik import nik_problem
from klinikita.services.patient_records import PatientInput, validate
from klinikita.services.patients import search_patients
from klinikita.services.reports import days
from klinikita.services.text_input import (
    payload_form,
    payload_id,
    payload_search,
    payload_text,
    take_digits,
    take_text,
)
from tests.factories import committed_read, make_branch
from tests.patients_support import actor_for, add_regions, patient_form
from tests.pg import sqlite_and_postgresql

FULL_WIDTH_NIK = "３１７１０１２５１１９００００１"
ARABIC_INDIC_NIK = "٣١٧١٠١٢٥١١٩٠٠٠٠١"


def _take(value: object, **rules) -> tuple[str, dict[str, str]]:
    errors: dict[str, str] = {}
    rules = {"label": "Nama", "max_length": 150, **rules}
    return take_text(errors, "name", value, **rules), errors


# ----- text ---------------------------------------------------------------------------------
def test_text_is_nfkc_normalised_and_stripped():
    assert _take("  Ｂｕｄｉ\u00a0Santoso ") == ("Budi Santoso", {})
    assert _take("ﬁtri", collapse_spaces=True) == ("fitri", {})
    assert _take("Budi   Santoso", collapse_spaces=True) == ("Budi Santoso", {})


@pytest.mark.parametrize(
    "text",
    [
        "Budi\x00Santoso",  # NUL
        "\u202eoduB",  # right-to-left override
        "Budi\u2066x\u2069",  # directional isolate
        "\ufeffBudi",  # byte order mark
        "Bu\u200bdi",  # zero-width space
        "Bu\u200ddi",  # zero-width joiner
        "Budi\x1b[31m",  # escape code
        "Budi\nSantoso",  # a line break in a one-line field
        "Budi\u2028Santoso",  # line separator
        "\ue000",  # private use
        "\U000e0041",  # tag character
        "\ud800",  # lone surrogate
        "\U0010fffe",  # unassigned
    ],
)
def test_control_and_invisible_characters_are_refused_with_a_message(text):
    stored, errors = _take(text)
    assert stored == ""
    assert "tak terlihat" in errors["name"] and errors["name"].startswith("Nama ")


def test_a_name_of_zero_width_spaces_only_is_refused():
    assert "tak terlihat" in _take("\u200b\u200b\u200b", required=True)[1]["name"]
    with pytest.raises(ValidationFailed) as failed:
        validate(None, PatientInput(name="\u200b\u200b", birth_date="25/11/1990", sex="male"))
    assert "tak terlihat" in failed.value.errors["name"]


def test_whitespace_only_is_empty_and_lengths_are_the_columns():
    assert _take(" \u3000 ", required=True)[1] == {"name": "Nama wajib diisi."}
    assert "paling banyak 150" in _take("x" * 151)[1]["name"]
    assert _take("x" * 150)[0] == "x" * 150


def test_a_multi_line_field_keeps_line_breaks_and_tabs_only():
    text = "Batuk 3 hari\r\n\tdemam\rmalam"
    assert _take(text, multiline=True) == ("Batuk 3 hari\n\tdemam\nmalam", {})
    assert "tak terlihat" in _take("Batuk\x00", multiline=True)[1]["name"]


def test_anything_but_text_is_no_text():
    for value in (None, 5, ["Budi"], {"a": "b"}):
        assert _take(value, required=True)[1] == {"name": "Nama wajib diisi."}


# ----- digits -------------------------------------------------------------------------------
@pytest.mark.parametrize("nik", [FULL_WIDTH_NIK, ARABIC_INDIC_NIK, "31710125119²0001"])
def test_nik_accepts_ascii_digits_only(nik):
    assert "angka 0-9" in nik_problem(nik)
    errors: dict[str, str] = {}
    assert take_digits(errors, "nik", nik, label="NIK") == ""
    assert errors == {"nik": "NIK hanya boleh berisi angka 0-9."}
    with pytest.raises(ValidationFailed) as failed:
        validate(None, PatientInput(name="Budi", birth_date="25/11/1990", sex="male", nik=nik))
    assert "0-9" in failed.value.errors["nik"]


def test_phone_and_kk_accept_ascii_digits_only():
    with pytest.raises(ValidationFailed) as failed:
        validate(
            None,
            PatientInput(
                name="Budi",
                birth_date="25/11/1990",
                sex="male",
                no_nik=True,
                no_nik_reason="belum punya",
                phone="０８１２３４５６７８",
                kk_number=ARABIC_INDIC_NIK,
            ),
        )
    assert "0-9" in failed.value.errors["phone"]
    assert "0-9" in failed.value.errors["kk_number"]


def test_ascii_nik_and_phone_with_spaces_and_dashes_still_pass():
    errors: dict[str, str] = {}
    assert take_digits(errors, "nik", " 3171 0125 1190 0001 ", label="NIK") == "3171012511900001"
    assert take_digits(errors, "p", "+62 812-3456", label="Telepon", allowed="+-") == "+62812-3456"
    assert errors == {}


def test_typed_dates_take_ascii_digits_only():
    assert parse_typed_date("25/11/1990") == date(1990, 11, 25)
    assert parse_typed_date("٢٥/١١/١٩٩٠") is None
    assert parse_typed_date({"day": 1}) is None


# ----- numbers ------------------------------------------------------------------------------
def test_a_400_digit_pulse_is_out_of_range_with_a_message():
    with pytest.raises(ValidationFailed) as failed:
        exam.parse_vitals({"pulse": "9" * 400})
    assert failed.value.errors == {"pulse": "Nadi di luar rentang wajar (20–250 /menit)."}


@pytest.mark.parametrize("digits", [50, 400])
def test_a_long_temperature_is_out_of_range_not_inf(digits):
    with pytest.raises(ValidationFailed) as failed:
        exam.parse_vitals({"temperature": "9" * digits})
    assert failed.value.errors == {"temperature": "Suhu tubuh di luar rentang wajar (30–45 °C)."}


@pytest.mark.parametrize("raw", [float("inf"), float("nan"), 1e308, 10**400, True, [1], "1e5"])
def test_non_finite_huge_and_non_numbers_are_refused(raw):
    with pytest.raises(ValidationFailed) as failed:
        exam.parse_vitals({"weight": raw})
    assert "Berat badan" in failed.value.errors["weight"]
    assert "inf" not in failed.value.errors["weight"]


def test_plausible_numbers_still_read():
    got = exam.parse_vitals({"temperature": "36,7", "weight": 60.5, "pulse": 80})
    assert (got["temperature"], got["weight"], got["pulse"]) == (36.7, 60.5, 80)


# ----- report dates -------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_report_dates_outside_the_range_are_refused(text):
    with pytest.raises(ValidationFailed) as failed:
        days.parse_day(text, "date_from")
    assert failed.value.errors["date_from"].startswith("Tanggal di luar rentang")


def test_report_dates_inside_the_range_read():
    assert days.parse_day("2026-11-25", "date_to") == date(2026, 11, 25)
    assert days.parse_day("", "date_to") is None


# ----- No. RM format ------------------------------------------------------------------------
def test_a_mrn_format_cannot_ask_for_a_huge_width_or_hold_control_characters():
    assert "terlalu panjang" in mrn.format_problem("{seq:999999999d}")
    assert "tak terlihat" in mrn.format_problem("RM\x00{seq:06d}")
    assert mrn.format_problem("RM{year}-{seq:05d}") is None


# ----- handler payloads ---------------------------------------------------------------------
def test_payload_text_takes_text_numbers_and_null_only():
    assert payload_text("Budi") == "Budi"
    assert payload_text(12) == "12" and payload_text(None) == ""
    for bad in ({"a": 1}, ["Budi"], True):
        with pytest.raises(ServiceError, match="tidak valid"):
            payload_text(bad)
    with pytest.raises(ServiceError, match="terlalu panjang"):
        payload_text("x" * 101, max_length=100)


def test_payload_ids_are_positive_ascii_integers_of_sane_length():
    assert payload_id("12", "Pasien") == 12 and payload_id(7, "Pasien") == 7
    for bad in ("0", "-1", "1.5", "²", "٣", "9" * 400, None, True, [1], {"id": 1}):
        with pytest.raises(NotFound, match="Pasien tidak ditemukan."):
            payload_id(bad, "Pasien")


def test_payload_forms_and_search_terms():
    assert payload_form({"password": "x"}, "password") == "x"
    assert payload_form({}, "password") == ""
    with pytest.raises(ServiceError, match="formulir"):
        payload_form(["password"], "password")
    with pytest.raises(ServiceError, match="tak terlihat"):
        payload_search("Budi\x00")


# ----- on the databases: nothing reaches a statement that PostgreSQL would refuse -----------
both = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": "Budi\x00"}, "name"),
        ({"street": "Jl. Mawar\x00"}, "street"),
        ({"province_code": "31\x00"}, "province_code"),
        ({"nik": "3171012511900001\x00"}, "nik"),
    ],
)
def test_a_nul_in_a_patient_form_is_a_field_error_on_both_databases(both, changes, field):
    branch = make_branch(both)
    add_regions(both)
    actor = actor_for(both, branch, Duty.ADMIN)
    with pytest.raises(ValidationFailed) as failed:
        records.create_patient(both, actor, patient_form(**changes))
    assert field in failed.value.errors
    both.rollback()
    assert both.exec(select(func.count()).select_from(Patient)).one() == 0


def test_a_nul_in_a_search_or_a_unit_name_is_refused_on_both_databases(both):
    branch = make_branch(both)
    actor = actor_for(both, branch, Duty.ADMIN)
    found = committed_read(both, search_patients, branch.id, "Budi\x00")
    assert found.rows == [] and "tak terlihat" in found.problem
    with pytest.raises(ValidationFailed) as failed:
        facility.create_unit(both, actor, facility.UnitInput(name="Poli\x00Umum"))
    assert "tak terlihat" in failed.value.errors["name"]
