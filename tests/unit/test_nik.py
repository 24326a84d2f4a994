from datetime import date

from klinikita.services.nik import nik_problem, nik_warning


def test_well_formed_niks_pass():
    assert nik_problem("9271060312000001") is None
    assert nik_problem("3171074509900001") is None  # a woman: day 05 + 40


def test_length_and_digits():
    assert "16 digit" in nik_problem("12345")
    assert "16 digit" in nik_problem("317107050990000A")
    assert "wajib" in nik_problem("")


def test_impossible_birth_date_part():
    assert "digit 7-12" in nik_problem("3171079913900001")  # month 13
    assert "digit 7-12" in nik_problem("3171070012900001")  # day 0


def test_birth_date_and_sex_disagreeing_with_the_nik_is_a_warning():
    assert nik_warning("3171074509900001", birth_date=date(1990, 9, 5), sex="female") is None
    assert "berbeda" in nik_warning("3171070509900001", birth_date=date(1990, 9, 6), sex=None)
    assert "jenis kelamin" in nik_warning("3171070509900001", birth_date=None, sex="female")
    # SATUSEHAT's own sandbox patient: the NIK's date part does not match; still only a warning.
    assert nik_problem("9271060312000001") is None
    assert nik_warning("9271060312000001", birth_date=date(1992, 1, 9), sex="male")
