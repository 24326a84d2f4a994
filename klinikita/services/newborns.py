"""Newborns registered before they have a NIK.

SATUSEHAT creates the patient record of a baby without a NIK by its mother's NIK (API.md 4.3:
`POST Patient` with the identifier `https://fhir.kemkes.go.id/id/nik-ibu`; found again with
`Patient?identifier=.../nik-ibu|<NIK ibu>`, 4.2). The form therefore asks, for a baby
without a NIK: the mother's NIK (16 digits, services/nik.py), the family card (KK) number,
the kelurahan/desa (the address SATUSEHAT stores with the record) and a birth date that
makes it a baby.

Age limit: under one year. API.md sets none; a baby gets its NIK when its birth is
registered with Dukcapil (akta kelahiran and a new KK), which often takes weeks to months
after the neonatal 28 days, and "bayi" in Kemenkes age bands is 0-11 months. An older child
without a NIK is registered with "Tidak punya NIK" and its reason instead.

When the baby later gets its NIK, adding it keeps the IHS number the record was created
with: it is the same person in SATUSEHAT, and the visits already sent name that number.
"""

from __future__ import annotations

from datetime import date

from klinikita.services.nik import nik_problem
from klinikita.services.text_input import ascii_digits

MAX_AGE_YEARS = 1
MAX_BIRTH_ORDER = 9  # twins, triplets, ...: the order among the babies of one birth

MOTHER_NIK_REQUIRED = (
    "NIK ibu wajib diisi untuk bayi yang belum punya NIK: SATUSEHAT membuat data bayi "
    "dengan NIK ibu."
)
KK_REQUIRED = "No. KK wajib diisi untuk bayi yang belum punya NIK (KK orang tua bayi)."
TOO_OLD = (
    "Pendaftaran dengan NIK ibu hanya untuk bayi di bawah 1 tahun. Untuk anak yang lebih "
    "tua, isi NIK anak (tertera di KK) atau pilih Tidak punya NIK."
)
VILLAGE_REQUIRED = (
    "Pilih kelurahan/desa tempat tinggal bayi: SATUSEHAT memerlukan alamat untuk membuat data bayi."
)
SAME_AS_BABY = "NIK ibu tidak boleh sama dengan NIK bayi."
BIRTH_ORDER_HELP = (
    f"Kembar ke- diisi angka 1 sampai {MAX_BIRTH_ORDER} (kosongkan bila bukan kembar)."
)


def one_year_before(today: date) -> date:
    """The same calendar day a year earlier (28 February for 29 February)."""
    try:
        return today.replace(year=today.year - MAX_AGE_YEARS)
    except ValueError:
        return today.replace(year=today.year - MAX_AGE_YEARS, day=28)


def is_baby(born: date, today: date) -> bool:
    """Born today or within the last year (a first birthday is no longer a baby's)."""
    return one_year_before(today) < born <= today


def mother_nik_problem(mother_nik: str) -> str | None:
    """What makes the mother's NIK impossible, in words for staff, or None."""
    problem = nik_problem(mother_nik)
    return problem.replace("NIK", "NIK ibu", 1) if problem else None


def mother_nik_warning(mother_nik: str) -> str | None:
    """A mother's NIK coded male (day of birth not plus 40): a warning, as nik_warning's are."""
    if nik_problem(mother_nik) is not None:
        return None
    if int(mother_nik.strip()[6:8]) <= 40:
        return (
            "NIK ibu berkode laki-laki (digit 7-8 tidak ditambah 40 seperti NIK perempuan); "
            "periksa kembali."
        )
    return None


def take_birth_order(errors: dict[str, str], field: str, value: object) -> int:
    """ "Kembar ke-" as typed: 0 when empty (a single birth), else 1..MAX_BIRTH_ORDER; a
    wrong one sets `errors[field]` and gives 0."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return 0
    if not ascii_digits(text) or not 1 <= int(text) <= MAX_BIRTH_ORDER:
        errors[field] = BIRTH_ORDER_HELP
        return 0
    return int(text)


def check_newborn(
    errors: dict[str, str],
    warnings: dict[str, str],
    *,
    nik: str,
    mother_nik: str,
    kk_number: str,
    born: date | None,
    village_code: str,
    today: date,
) -> None:
    """Add to `errors` (by field) what a newborn's registration lacks, and to `warnings`
    what looks wrong but may be right. A baby with its own NIK is looked up by it: then the
    mother's NIK is optional (checked when given)."""
    if mother_nik:
        problem = mother_nik_problem(mother_nik)
        if problem:
            errors.setdefault("mother_nik", problem)
        elif nik and mother_nik == nik:
            errors.setdefault("mother_nik", SAME_AS_BABY)
        else:
            warning = mother_nik_warning(mother_nik)
            if warning:
                warnings["mother_nik"] = warning
    if nik:
        return
    if not mother_nik:
        errors.setdefault("mother_nik", MOTHER_NIK_REQUIRED)
    if not kk_number:
        errors.setdefault("kk_number", KK_REQUIRED)
    if born is not None and "birth_date" not in errors and not is_baby(born, today):
        errors["birth_date"] = TOO_OLD
    if not village_code:
        errors.setdefault("village_code", VILLAGE_REQUIRED)
