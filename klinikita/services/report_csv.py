"""CSV files of the reports: stdlib csv, headers in Bahasa Indonesia, a date in the name.

Every export goes through `to_csv`, whose cells pass `safe_cell`: text a patient or staff
typed (a name such as `=HYPERLINK(...)`) reaches a spreadsheet as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

# An export is sent to the browser in one message; beyond this many rows staff narrow
# the filters (the page says so) rather than the tab freezing on a huge file.
EXPORT_LIMIT = 50_000


# OWASP's rule for CSV injection: a cell beginning with one of these is read as a formula
# by Excel, LibreOffice Calc or Google Sheets. Line feed and NUL (ASVS 1.2.10) are added.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def safe_cell(value: object) -> object:
    """The cell written for `value`: "" for None; a finite int, float or Decimal as the number
    it is (a spreadsheet reads "-5" as minus five, nothing more); anything else as text, with
    a single quote put before it when it begins with a formula character, which spreadsheets
    take as "show this as text"."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if math.isfinite(value):
            return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Quoted where needed (commas, quotes, line breaks), CRLF line ends as RFC 4180; every
    cell, headers included, through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def csv_filename(report: str, day: date) -> str:
    """'laporan-aktivitas-2026-11-25.csv'."""
    return f"{report}-{day.isoformat()}.csv"
