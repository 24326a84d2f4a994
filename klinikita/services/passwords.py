"""Password policy and bcrypt hashing."""

from __future__ import annotations

import string

import bcrypt

from klinikita.settings import get_settings

MIN_LENGTH = 8
BCRYPT_MAX_BYTES = 72  # bcrypt silently ignores (bcrypt 5: refuses) anything longer

# A hash of a random password, checked when the username is unknown so that the answer
# takes as long as for a real user and timing does not tell which usernames exist.
_DUMMY_HASH = bcrypt.hashpw(
    b"klinikita-dummy-password", bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)
).decode()


def password_problems(password: str) -> list[str]:
    """Every rule of the clinic's password policy that `password` breaks, in words."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Kata sandi minimal {MIN_LENGTH} karakter.")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        problems.append(f"Kata sandi terlalu panjang (maksimal {BCRYPT_MAX_BYTES} byte).")
    if not any(c.isupper() for c in password):
        problems.append("Kata sandi harus memuat huruf besar (A-Z).")
    if not any(c.islower() for c in password):
        problems.append("Kata sandi harus memuat huruf kecil (a-z).")
    if not any(c.isdigit() for c in password):
        problems.append("Kata sandi harus memuat angka (0-9).")
    if not any(c in string.punctuation or not (c.isalnum() or c.isspace()) for c in password):
        problems.append("Kata sandi harus memuat simbol, misalnya ! @ # atau -.")
    return problems


def hash_password(password: str) -> str:
    salt = bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode()


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-ish time: an unknown user still costs one bcrypt check."""
    encoded = password.encode("utf-8")
    if len(encoded) > BCRYPT_MAX_BYTES:
        bcrypt.checkpw(b"x", _DUMMY_HASH.encode())
        return False
    if not password_hash:
        bcrypt.checkpw(encoded, _DUMMY_HASH.encode())
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())
