import pytest

from klinikita.services.passwords import hash_password, password_problems, verify_password


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
