"""NIK (Nomor Induk Kependudukan) checks.

A NIK has 16 digits: region (6), birth date as DDMMYY (6, women add 40 to the day), serial (4).
"""

from __future__ import annotations

from datetime import date

from klinikita.services.text_input import ascii_digits


def _birth_part(nik: str) -> tuple[int, int, int, bool]:
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day > 40
    return (day - 40 if female else day), month, year, female


def nik_problem(nik: str) -> str | None:
    """What makes `nik` impossible, in words for staff, or None."""
    nik = (nik or "").strip()
    if not nik:
        return "NIK wajib diisi."
    if not ascii_digits(nik):
        return "NIK hanya boleh berisi angka 0-9 (tepat 16 digit)."
    if len(nik) != 16:
        return "NIK harus tepat 16 digit angka."
    day, month, _, _ = _birth_part(nik)
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return "Bagian tanggal lahir pada NIK (digit 7-12) tidak valid."
    return None


def nik_warning(nik: str, *, birth_date: date | None, sex: str | None) -> str | None:
    """A mismatch between the NIK's birth-date part and the birth date or sex entered.

    A warning, not an error: real registries hold such NIKs (SATUSEHAT's own sandbox
    patients do), and SATUSEHAT decides by the NIK alone."""
    if nik_problem(nik) is not None:
        return None
    day, month, year, female = _birth_part(nik.strip())
    if birth_date is not None and (day, month, year) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        return "Tanggal lahir pada NIK (digit 7-12) berbeda dengan tanggal lahir yang diisi."
    if sex in ("male", "female") and (sex == "female") != female:
        return "Kode jenis kelamin pada NIK (tanggal +40 untuk perempuan) tidak sesuai."
    return None
