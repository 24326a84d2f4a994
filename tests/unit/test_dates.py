"""Dates typed day first (services/dates.py): what the birth date fields and the patient
search accept, and what they refuse."""

from __future__ import annotations

from datetime import date

import pytest

from klinikita.services import patient_records as records
from klinikita.services.dates import BIRTH_DATE_FORMAT, parse_typed_date, typed_date
from klinikita.services.errors import ValidationFailed
from klinikita.services.patients import SearchKind, resolve_kind
from tests.patients_support import patient_form


@pytest.mark.parametrize(
    "text",
    [
        "17/08/1990",
        "17-08-1990",
        "17.08.1990",
        "17 08 1990",
        " 17/8/1990 ",
        "17081990",
        "1990-08-17",
    ],
)
def test_day_first_dates_are_read_in_every_usual_spelling(text):
    assert parse_typed_date(text) == date(1990, 8, 17)


@pytest.mark.parametrize(
    "text", ["", "08/17/1990", "31/02/1990", "17/08/90", "1708199", "17/08/1990x", "kemarin"]
)
def test_month_first_impossible_or_short_dates_are_not_dates(text):
    assert parse_typed_date(text) is None


def test_a_date_stands_in_its_field_day_first_and_reads_back_the_same():
    assert typed_date(date(1990, 8, 7)) == "07/08/1990"
    assert parse_typed_date(typed_date(date(1990, 8, 7))) == date(1990, 8, 7)
    assert typed_date(None) == ""


def test_the_patient_form_takes_a_day_first_birth_date(db):
    clean = records.validate(db, patient_form(birth_date="25/11/1990"))
    assert clean.values["birth_date"] == date(1990, 11, 25)


def test_a_month_first_birth_date_is_refused_at_its_field_saying_how_to_write_it(db):
    with pytest.raises(ValidationFailed) as err:
        records.validate(db, patient_form(birth_date="11/25/1990"))
    assert err.value.errors["birth_date"] == BIRTH_DATE_FORMAT
    with pytest.raises(ValidationFailed) as err:
        records.validate(db, patient_form(birth_date=""))
    assert err.value.errors["birth_date"] == "Tanggal lahir wajib diisi."


def test_the_search_box_reads_a_date_but_leaves_bare_digits_to_numbers():
    assert resolve_kind("25/11/1990") == SearchKind.BIRTH_DATE
    assert resolve_kind("25111990") != SearchKind.BIRTH_DATE  # a No. RM or a phone
