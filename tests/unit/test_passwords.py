import pytest

from klinikita.services.passwords import (
    hash_password,
    password_problems,
    password_refusal,
    strength_problem,
    verify_password,
)
from tests.factories import GOOD_PASSWORD


def test_a_password_meeting_every_rule_has_no_problems():
    assert password_problems("Rahasia#2026") == []


@pytest.mark.parametrize(
    ("password", "named_rule"),
    [
        ("Ab#1", "minimal 8 karakter"),
        ("rahasia#2026", "huruf besar"),
        ("RAHASIA#2026", "huruf kecil"),
        ("Rahasia#Kita", "angka"),
        ("Rahasia2026", "simbol"),
    ],
)
def test_each_broken_rule_is_named(password, named_rule):
    problems = password_problems(password)
    assert len(problems) == 1
    assert named_rule in problems[0]


def test_several_broken_rules_are_all_named():
    problems = " ".join(password_problems("abc"))
    for rule in ("minimal 8", "huruf besar", "angka", "simbol"):
        assert rule in problems


def test_password_over_72_bytes_is_refused_with_a_message_not_a_crash():
    # 30 two-byte characters plus ASCII: short in characters, long in bytes.
    password = "Aa1#" + "é" * 35
    assert len(password) < 72 < len(password.encode())
    assert any("terlalu panjang" in p for p in password_problems(password))
    # Verifying such a password never raises either.
    assert verify_password(password, hash_password("Rahasia#2026")) is False


def test_hash_is_bcrypt_and_verifies_only_the_right_password():
    hashed = hash_password("Rahasia#2026")
    assert hashed.startswith("$2") and "Rahasia" not in hashed
    assert verify_password("Rahasia#2026", hashed)
    assert not verify_password("Rahasia#2027", hashed)
    assert not verify_password("Rahasia#2026", None)


# ----- strength (zxcvbn) ---------------------------------------------------------------------
SARI = {"username": "sari", "related": ["Sari Wulandari", "sari@klinik.id", "Klinik Uji"]}


@pytest.mark.parametrize(
    "password",
    [
        "Password1!",  # keeps the character rules, yet it is the classic guess
        "Admin#2026",  # a demo password, printed in the README
        "Rahasia#2026",  # "secret" in Indonesian, and a year
        "Wulandari#2026",  # the user's own name
        "Klinik Uji#2026",  # the clinic's name
        "Klinikita#2026",
    ],
)
def test_passwords_that_keep_the_character_rules_but_are_easy_to_guess_are_refused(password):
    assert password_problems(password) == []
    problem = strength_problem(password, **SARI)
    assert problem is not None


def test_the_refusal_explains_in_indonesian_with_a_hint():
    problem = strength_problem("Password1!", **SARI)
    assert problem.startswith("Kata sandi ini terlalu mudah ditebak.")
    assert "mirip kata sandi yang umum" in problem  # zxcvbn's warning, in Indonesian
    assert "tiga atau empat kata" in problem  # and the general hint
    assert "password" not in problem.lower()  # no English sentence left over
    own = strength_problem("Wulandari#2026", **SARI)
    assert "memuat nama" in own


def test_a_password_containing_the_username_is_refused_whatever_its_case():
    assert "nama pengguna" in strength_problem("Jeruk#SARI-payung9", **SARI)


def test_a_demo_password_is_refused_with_its_own_reason():
    assert "akun demo" in strength_problem("admin#2026", **SARI)


def test_a_strong_password_passes_and_the_test_password_is_one():
    assert strength_problem("Jeruk#Payung-Biru9", **SARI) is None
    assert password_refusal(GOOD_PASSWORD, **SARI) == ""


def test_the_character_rules_come_first_and_name_every_broken_one():
    refusal = password_refusal("abc", **SARI)
    assert "minimal 8" in refusal and "terlalu mudah" not in refusal
