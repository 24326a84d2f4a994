"""CSV files of the reports: stdlib csv, headers in Bahasa Indonesia, a date in the name."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

# An export is sent to the browser in one message; beyond this many rows staff narrow
# the filters (the page says so) rather than the tab freezing on a huge file.
EXPORT_LIMIT = 50_000


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Quoted where needed (commas, quotes, line breaks), CRLF line ends as RFC 4180."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()


def csv_filename(report: str, day: date) -> str:
    """'laporan-aktivitas-2026-11-25.csv'."""
    return f"{report}-{day.isoformat()}.csv"
