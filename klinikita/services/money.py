"""Money as the cashier reads and types it: integer rupiah only, never a float.

- `rupiah(125000)` -> "Rp 125.000" (babel's Indonesian grouping, no decimals).
- `in_words(125000)` -> "seratus dua puluh lima ribu rupiah" (num2words, lang "id").
- `percent_of(amount, percent)` rounds half up to whole rupiah: 10 % of Rp 12.345 is
  Rp 1.235 (1.234,5 rounded up). Integer arithmetic only.
- `take_rupiah` reads a typed amount: digits, grouped with dots or spaces, "Rp" allowed
  (`12.500`, `Rp 12 500`); a comma (decimals) is refused.
"""

from __future__ import annotations

import re

from babel.numbers import format_currency
from num2words import num2words

from klinikita.services.text_input import normalize_text

MAX_AMOUNT = 1_000_000_000_000  # Rp 1 triliun: beyond it a typo, not a bill


def rupiah(amount: int) -> str:
    """`amount` rupiah as printed in Indonesia: "Rp 125.000", "-Rp 5.000"."""
    return format_currency(
        int(amount), "IDR", locale="id_ID", format="¤ #,##0", currency_digits=False
    )


def in_words(amount: int) -> str:
    """`amount` rupiah in Indonesian words, as on a nota ("nol rupiah" for 0)."""
    words = num2words(abs(int(amount)), lang="id")
    return ("minus " if amount < 0 else "") + f"{words} rupiah"


def percent_of(amount: int, percent: int) -> int:
    """`percent` % of `amount`, rounded half up to whole rupiah (both non-negative)."""
    return (amount * percent + 50) // 100


def take_rupiah(
    errors: dict[str, str],
    field: str,
    value: object,
    *,
    label: str,
    maximum: int = MAX_AMOUNT,
    required: bool = False,
) -> int:
    """A whole rupiah amount >= 0 as typed; 0 when empty (an error when `required`), or 0
    with `errors[field]` set to what is wrong."""
    raw = normalize_text(value if isinstance(value, str | int) else "")
    cleaned = re.sub(r"^rp\.?\s*", "", str(raw), flags=re.IGNORECASE).replace(" ", "")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "")
    if not cleaned:
        if required:
            errors.setdefault(field, f"{label} wajib diisi.")
        return 0
    if not (cleaned.isascii() and cleaned.isdigit()):
        errors.setdefault(
            field, f"{label} harus bilangan bulat rupiah tanpa koma (contoh: 12500 atau 12.500)."
        )
        return 0
    amount = int(cleaned)
    if amount > maximum:
        errors.setdefault(field, f"{label} paling besar {rupiah(maximum)}.")
        return 0
    return amount
