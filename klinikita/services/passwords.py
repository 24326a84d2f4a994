"""Password policy and bcrypt hashing."""

from __future__ import annotations

import re
import string
import threading
from collections.abc import Iterable
from functools import cache

import bcrypt
from zxcvbn import zxcvbn

from klinikita.settings import get_settings

MIN_LENGTH = 8
# zxcvbn's score runs from 0 (guessed at once) to 4; 3 means about 10^8 guesses or more.
MIN_STRENGTH = 3
# zxcvbn knows English words and names; these are what Indonesian passwords are often made of.
COMMON_WORDS = (
    "klinikita", "klinik", "rahasia", "rahasiaku", "sandi", "katasandi", "kunci", "masuk",
    "bismillah", "alhamdulillah", "indonesia", "merdeka", "garuda", "sayang", "cinta",
    "sehat", "dokter", "perawat", "bidan", "apoteker", "pasien", "puskesmas", "admin",
    "jakarta", "bandung", "surabaya", "selamat", "sukses", "semangat",
)  # fmt: skip
BCRYPT_MAX_BYTES = 72  # bcrypt silently ignores (bcrypt 5: refuses) anything longer
# The longest text a password or username field hands on to the rules, which then say what
# is wrong with it; anything longer is refused at the handler as an invalid payload.
PASSWORD_FIELD_MAX = 1024
USERNAME_FIELD_MAX = 254

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


# ----- strength ----------------------------------------------------------------------------
_GENERAL_HINT = (
    "Pakai gabungan tiga atau empat kata yang tidak saling berhubungan (boleh dipisah "
    "tanda baca), bukan nama, tanggal, nama pengguna, email, atau nama klinik."
)
# zxcvbn's feedback is English; each of its sentences in Indonesian.
_FEEDBACK_ID = {
    "Straight rows of keys are easy to guess.": "Deretan tombol keyboard mudah ditebak.",
    "Short keyboard patterns are easy to guess.": "Pola keyboard yang pendek mudah ditebak.",
    'Repeats like "aaa" are easy to guess.': 'Pengulangan seperti "aaa" mudah ditebak.',
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        'Pengulangan seperti "abcabc" hampir semudah "abc" untuk ditebak.'
    ),
    'Sequences like "abc" or "6543" are easy to guess.': (
        'Urutan seperti "abc" atau "6543" mudah ditebak.'
    ),
    "Recent years are easy to guess.": "Tahun-tahun terakhir mudah ditebak.",
    "Dates are often easy to guess.": "Tanggal mudah ditebak.",
    "This is a top-10 common password.": "Ini salah satu kata sandi yang paling sering dipakai.",
    "This is a top-100 common password.": "Ini salah satu kata sandi yang paling sering dipakai.",
    "This is a very common password.": "Ini kata sandi yang sangat umum.",
    "This is similar to a commonly used password.": "Ini mirip kata sandi yang umum dipakai.",
    "A word by itself is easy to guess.": "Satu kata saja mudah ditebak.",
    "Names and surnames by themselves are easy to guess.": "Nama orang saja mudah ditebak.",
    "Common names and surnames are easy to guess.": "Nama orang yang umum mudah ditebak.",
    "Capitalization doesn't help very much.": "Huruf besar di awal kata hampir tidak membantu.",
    "All-uppercase is almost as easy to guess as all-lowercase.": (
        "Huruf besar semua hampir semudah huruf kecil semua untuk ditebak."
    ),
    "Reversed words aren't much harder to guess.": "Kata yang dibalik tetap mudah ditebak.",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "Mengganti huruf dengan simbol yang mudah diduga, seperti '@' untuk 'a', hampir "
        "tidak membantu."
    ),
    "Avoid repeated words and characters.": "Hindari kata dan karakter yang berulang.",
    "Avoid sequences.": "Hindari urutan huruf atau angka.",
    "Avoid recent years.": "Hindari tahun-tahun terakhir.",
    "Avoid years that are associated with you.": "Hindari tahun yang berkaitan dengan Anda.",
    "Avoid dates and years that are associated with you.": (
        "Hindari tanggal dan tahun yang berkaitan dengan Anda."
    ),
}
_OWN_WORDS = (
    "Kata sandi ini memuat nama, email, nama klinik, atau kata yang umum dipakai di kata "
    "sandi (seperti 'rahasia' atau 'klinikita')."
)
_ZXCVBN_LOCK = threading.Lock()  # zxcvbn keeps the user inputs in a module-wide dictionary


@cache
def _public_passwords() -> frozenset[str]:
    """The demo accounts' passwords: printed in the README, so never a real one."""
    from klinikita.services.seed import DEMO_USERS  # the seed builds on this module

    return frozenset(user.password.lower() for user in DEMO_USERS)


def _words(texts: Iterable[str]) -> list[str]:
    """Each text whole and each of its words (of three letters or more), lower-cased."""
    out: list[str] = []
    for text in texts:
        text = (text or "").strip().lower()
        if text:
            out.append(text)
            out.extend(w for w in re.split(r"[^0-9a-z]+", text) if len(w) >= 3)
    return list(dict.fromkeys(out))


def strength_problem(password: str, *, username: str, related: Iterable[str] = ()) -> str | None:
    """Why `password` is too easy to guess, in words with a hint; None when it is not.

    `related` are the account's other words (full name, email, clinic or branch names):
    a password built from them, from the demo passwords or from COMMON_WORDS scores low.
    Meant for a password that already keeps `password_problems`' rules (72 bytes at most)."""
    lowered = password.lower()
    name = username.strip().lower()
    if name and name in lowered:
        return "Kata sandi tidak boleh memuat nama pengguna."
    if lowered in _public_passwords():
        return (
            "Kata sandi ini milik akun demo dan diumumkan di dokumentasi Klinikita; pilih "
            "kata sandi lain."
        )
    inputs = [*_words([name, *related]), *_public_passwords(), *COMMON_WORDS]
    with _ZXCVBN_LOCK:
        result = zxcvbn(password, user_inputs=inputs)
    if result["score"] >= MIN_STRENGTH:
        return None
    feedback = result["feedback"]
    specific = [
        _FEEDBACK_ID[s]
        for s in (feedback["warning"], *feedback["suggestions"])
        if s in _FEEDBACK_ID
    ]
    if any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"]):
        specific.insert(0, _OWN_WORDS)
    return " ".join(["Kata sandi ini terlalu mudah ditebak.", *specific, _GENERAL_HINT])


def password_refusal(password: str, *, username: str, related: Iterable[str] = ()) -> str:
    """Everything wrong with `password` in one message: the character rules first, then
    (when they are kept) its strength. Empty when it may be set."""
    problems = password_problems(password)
    if problems:
        return " ".join(problems)
    return strength_problem(password, username=username, related=related) or ""
