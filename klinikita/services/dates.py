"""Dates as staff type them: day first (17/08/1990), never the browser's month-first form.

A browser's own date field shows the format of its language (mm/dd/yyyy on an English
Windows), so the birth date fields are plain text read here instead."""

from __future__ import annotations

import re
from datetime import date

TYPED_DATE_HINT = "hh/bb/tttt"
TYPED_DATE_EXAMPLE = "17/08/1990"
BIRTH_DATE_FORMAT = (
    f"Tulis tanggal lahir sebagai hari/bulan/tahun, mis. {TYPED_DATE_EXAMPLE}, "
    "dengan tanggal yang ada di kalender."
)

_PATTERNS = (
    (re.compile(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})", re.ASCII), (3, 2, 1)),  # 17/08/1990
    (re.compile(r"(\d{2})(\d{2})(\d{4})", re.ASCII), (3, 2, 1)),  # 17081990, on a number pad
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII), (1, 2, 3)),  # 1990-08-17 (ISO)
)


def parse_typed_date(text: str) -> date | None:
    """The date in `text` (day/month/year with / - . or a space, eight digits, or ISO), or
    None when it is not one (31/02/1990 included)."""
    text = text.strip() if isinstance(text, str) else ""
    for pattern, (y, m, d) in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return date(int(match[y]), int(match[m]), int(match[d]))
            except ValueError:
                return None
    return None


def typed_date(value: date | None) -> str:
    """How a date stands in a typed date field: 17/08/1990."""
    return value.strftime("%d/%m/%Y") if value else ""
