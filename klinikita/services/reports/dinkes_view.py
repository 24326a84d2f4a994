"""What the Laporan Dinkes page reads at once: one call per page action.

- `opening`: the branch's today, this month so far and this month's diagnosis reports;
- `range_reports`: visits per day/unit/payer and new vs returning for a date range;
- `month_reports`: the ten most common diagnoses and LB1 of a month (VIEW_CLINICAL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from klinikita.services.audit import Actor
from klinikita.services.permissions import Action, allows, require
from klinikita.services.reports import dinkes, lb1
from klinikita.services.reports.days import export_day


@dataclass(frozen=True)
class RangeReports:
    visits: dinkes.VisitCounts
    patients: dinkes.NewReturning


@dataclass(frozen=True)
class MonthReports:
    top: dinkes.TopDiagnoses
    lb1: lb1.Lb1


@dataclass(frozen=True)
class Opening:
    date_from: date
    date_to: date
    month: dinkes.Month
    ranged: RangeReports
    monthly: MonthReports | None  # None for a duty that does not read diagnoses


def range_reports(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> RangeReports:
    """Both range reports; raises ValidationFailed for a missing, reversed or long range."""
    return RangeReports(
        dinkes.visit_counts(session, actor, date_from, date_to),
        dinkes.new_and_returning(session, actor, date_from, date_to),
    )


def month_reports(session: Session, actor: Actor, month: dinkes.Month) -> MonthReports:
    """Both diagnosis reports of `month`; raises PermissionDenied without VIEW_CLINICAL."""
    return MonthReports(dinkes.top_diagnoses(session, actor, month), lb1.lb1(session, actor, month))


def opening(session: Session, actor: Actor) -> Opening:
    """The page as it opens: the 1st of the branch's current month to today."""
    require(actor.duty, Action.VIEW_LAPORAN)
    today = export_day(session, actor.branch_id)
    month = dinkes.Month(today.year, today.month)
    first = month.first
    monthly = None
    if allows(actor.duty, Action.VIEW_CLINICAL):
        monthly = month_reports(session, actor, month)
    return Opening(first, today, month, range_reports(session, actor, first, today), monthly)


def month_from_text(text: str) -> dinkes.Month:
    """The month the page's field names; raises ValidationFailed at the field `month`."""
    return dinkes.parse_month(text, "month")
