"""The days a report filter names: typed dates, the branch's local day bounds in UTC (the
tables store UTC), local times for the rows, and the CSV file a report exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from klinikita.models import Branch
from klinikita.services.errors import ValidationFailed
from klinikita.services.patients import format_date
from klinikita.services.report_csv import csv_filename
from klinikita.services.visit_queue import branch_zone, local_today

# The days a filter may name: every day the branch's zone and a day's end can be computed
# for (year 1 or 9999 would overflow), with centuries to spare either side.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class CsvFile:
    """An export: its text, the number of data rows in it and its file name."""

    text: str
    rows: int
    filename: str


def parse_day(text: str, field: str) -> date | None:
    """A date from an <input type=date> ('2026-11-25'); '' is no bound. Raises
    ValidationFailed for a text that is no date or one outside FIRST_DAY..LAST_DAY."""
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: "Tanggal tidak valid."}) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(
            {field: f"Tanggal di luar rentang (tahun {FIRST_DAY.year} sampai {LAST_DAY.year})."}
        )
    return day


def check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_to < date_from:
        raise ValidationFailed({"date_to": "Tanggal akhir sebelum tanggal awal."})


def day_start_utc(branch: Branch | None, day: date) -> datetime:
    """The UTC moment at which `day` begins in the branch's zone."""
    local = datetime.combine(day, time.min, tzinfo=branch_zone(branch))
    return local.astimezone(UTC)


def local_datetime_text(moment: datetime | None, branch: Branch | None) -> str:
    """'25 Nov 2026 14:03:09' in the branch's zone."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(branch_zone(branch))
    return f"{format_date(local.date())} {local:%H:%M:%S}"


def at_between(column, branch: Branch | None, date_from: date | None, date_to: date | None):  # noqa: ANN001, ANN201
    """Conditions keeping `column` (a UTC moment) within the local days from..to."""
    conditions = []
    if date_from:
        conditions.append(column >= day_start_utc(branch, date_from))
    if date_to:
        conditions.append(column < day_start_utc(branch, date_to + timedelta(days=1)))
    return conditions


def export_day(session: Session, branch_id: int) -> date:
    """The branch's local date, for file names."""
    return local_today(session.get(Branch, branch_id))


def csv_file(session: Session, branch_id: int, report: str, text: str, rows: int) -> CsvFile:
    """The export of `report` named with the branch's local date."""
    return CsvFile(text, rows, csv_filename(report, export_day(session, branch_id)))
