"""Laporan: Laporan aktivitas (audit trail, admin), Log server SATUSEHAT, dashboard SATUSEHAT.

`LaporanState` holds what the three pages share (which tabs the duty may see); each page has
its own substate with its own filters, rows and paging. Reading handlers ask the permission
table too, so a duty that lost Laporan mid-session gets nothing more from a stale tab.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import ClassVar

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope, session_scope
from klinikita.services import backfill, satusehat_errors
from klinikita.services.audit import Actor
from klinikita.services.errors import ValidationFailed
from klinikita.services.job_notices import JobNotice, wake_workers
from klinikita.services.money import rupiah
from klinikita.services.patients import format_date
from klinikita.services.permissions import Action, allows
from klinikita.services.report_csv import EXPORT_LIMIT
from klinikita.services.reports import (
    audit_log,
    dashboard,
    dinkes,
    dinkes_view,
    lb1,
    revenue,
    sync_log,
)
from klinikita.services.reports.days import CsvFile, parse_day
from klinikita.services.text_input import parse_id, payload_search, payload_text
from klinikita.state import live
from klinikita.state.auth import AuthState
from klinikita.state.paging import PagedList

ALL = "semua"  # the "no filter" value of a select (Radix selects take no empty value)
BOM = "\ufeff"  # so spreadsheet programs read the file as UTF-8


def _download(export: CsvFile) -> rx.event.EventSpec:
    return rx.download(data=BOM + export.text, filename=export.filename, mime_type="text/csv")


def _capped_notice(export: CsvFile) -> list:
    if export.rows < EXPORT_LIMIT:
        return []
    return [
        rx.toast.warning(
            f"Hanya {EXPORT_LIMIT} baris terbaru yang diekspor. Persempit rentang tanggal "
            "untuk mengekspor sisanya."
        )
    ]


def _strings(row: object) -> dict[str, str]:
    return {k: ("" if v is None else str(v)) for k, v in asdict(row).items()}


class LaporanState(AuthState):
    """Shared by the Laporan pages: which tabs and buttons the active duty gets."""

    can_audit: bool = False
    can_log: bool = False
    can_resend: bool = False
    can_revenue: bool = False

    def _access(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None:
            self.can_audit = self.can_log = self.can_resend = self.can_revenue = False
            return None
        self.can_audit = allows(actor.duty, Action.VIEW_AUDIT)
        self.can_revenue = allows(actor.duty, Action.VIEW_PENDAPATAN)
        self.can_log = allows(actor.duty, Action.VIEW_SATUSEHAT_LOG)
        self.can_resend = allows(actor.duty, Action.SATUSEHAT_RESEND)
        return actor

    @rx.event
    def open_default(self):
        """/laporan opens the first report the duty may see."""
        actor = self._access()
        if actor is None or not allows(actor.duty, Action.VIEW_LAPORAN):
            return None
        if self.can_audit:
            return rx.redirect(routes.LAPORAN_AKTIVITAS)
        return rx.redirect(routes.LAPORAN_SATUSEHAT if self.can_log else routes.LAPORAN_DASHBOARD)


class _PagedReport(PagedList, LaporanState, mixin=True):
    """What the paged reports share: a server-side page of rows, filters, the pager."""

    rows: list[dict[str, str]] = []
    errors: dict[str, str] = {}

    def _reload(self) -> None:
        raise NotImplementedError

    def _load_page(self) -> None:
        self._reload()


class AuditReportState(_PagedReport, LaporanState):
    """Laporan aktivitas: the branch's audit trail, filterable by date, user and action."""

    date_from: str = ""
    date_to: str = ""
    user_id: str = ALL
    action: str = ALL
    user_options: list[dict[str, str]] = []
    action_options: list[dict[str, str]] = []

    page_size: ClassVar[int] = audit_log.PAGE_SIZE

    def _filter(self) -> audit_log.AuditFilter:
        return audit_log.AuditFilter(
            date_from=parse_day(self.date_from, "date_from"),
            date_to=parse_day(self.date_to, "date_to"),
            user_id=parse_id(self.user_id),
            action="" if self.action == ALL else self.action,
        )

    def _reload(self) -> None:
        actor = self._authorize(Action.VIEW_AUDIT)
        try:
            flt = self._filter()
            with read_scope() as session:
                found = audit_log.audit_log_page(
                    session, actor.branch_id, flt, self.page, self.page_size
                )
        except ValidationFailed as bad:
            self.errors = bad.errors
            return
        self.errors = {}
        self.rows = [_strings(r) for r in found.rows]
        self._show_page(found)

    @rx.event
    def load(self):
        actor = self._access()
        self.rows = []
        self._first_page()
        # Every visit starts unfiltered (a tab may have been another user's before).
        self.date_from = self.date_to = ""
        self.user_id = self.action = ALL
        self.errors = {}
        if actor is None:
            return
        self.page_allowed = self.can_audit and allows(actor.duty, Action.VIEW_LAPORAN)
        if not self.page_allowed:
            return
        with read_scope() as session:
            options = audit_log.filter_options(session, actor.branch_id)
        self.user_options = [{"value": o.value, "label": o.label} for o in options.users]
        self.action_options = [{"value": o.value, "label": o.label} for o in options.actions]
        self._reload()

    @rx.event
    def set_filter(self, field: str, value: str):
        if field not in ("date_from", "date_to", "user_id", "action"):
            return
        setattr(self, field, payload_search(value, max_length=64))
        self.page = 1
        self._reload()

    @rx.event
    def reset_filters(self):
        self.date_from = self.date_to = ""
        self.user_id = self.action = ALL
        self.page = 1
        self._reload()

    @rx.event
    def export_csv(self):
        actor = self._authorize(Action.VIEW_AUDIT)
        try:
            flt = self._filter()
            with read_scope() as session:
                export = audit_log.audit_log_csv(session, actor.branch_id, flt)
        except ValidationFailed as bad:
            self.errors = bad.errors
            return None
        return [_download(export), *_capped_notice(export)]


class SyncLogState(_PagedReport, LaporanState):
    """Log server SATUSEHAT: every exchange, filterable; a row opens its request/response."""

    date_from: str = ""
    date_to: str = ""
    result: str = ALL
    resource_type: str = ALL
    patient_text: str = ""
    patient_id: int = 0  # from ?pasien=<id>, e.g. a link from a patient's row
    detail_open: bool = False
    detail: dict[str, str] = {}

    page_size: ClassVar[int] = sync_log.PAGE_SIZE

    def _filter(self) -> sync_log.SyncLogFilter:
        return sync_log.SyncLogFilter(
            date_from=parse_day(self.date_from, "date_from"),
            date_to=parse_day(self.date_to, "date_to"),
            result="" if self.result == ALL else self.result,
            resource_type="" if self.resource_type == ALL else self.resource_type,
            patient_text=self.patient_text,
            patient_id=self.patient_id or None,
        )

    def _reload(self) -> None:
        actor = self._authorize(Action.VIEW_SATUSEHAT_LOG)
        try:
            flt = self._filter()
            with read_scope() as session:
                found = sync_log.sync_log_page(
                    session, actor.branch_id, flt, self.page, self.page_size
                )
        except ValidationFailed as bad:
            self.errors = bad.errors
            return
        self.errors = {}
        self.rows = [_strings(r) for r in found.rows]
        for row in self.rows:
            row["ok"] = "1" if row["ok"] == "True" else ""
        self._show_page(found)

    @rx.event
    def load(self):
        actor = self._access()
        self.rows = []
        self._first_page()
        self.detail_open, self.detail = False, {}
        # Every visit starts unfiltered (a tab may have been another user's before).
        self.date_from = self.date_to = self.patient_text = ""
        self.result = self.resource_type = ALL
        self.patient_id, self.errors = 0, {}
        if actor is None:
            return
        self.page_allowed = self.can_log and allows(actor.duty, Action.VIEW_LAPORAN)
        if not self.page_allowed:
            return
        self.patient_id = parse_id(self.router.url.query_parameters.get("pasien", "")) or 0
        self._reload()

    @rx.event
    def set_filter(self, field: str, value: str):
        if field not in ("date_from", "date_to", "result", "resource_type"):
            return
        setattr(self, field, payload_search(value, max_length=64))
        self.page = 1
        self._reload()

    @rx.event
    def set_patient_text(self, value: str):
        self.patient_text = payload_text(value, max_length=200)

    @rx.event
    def search_patient(self):
        self.patient_id = 0  # typed text replaces a patient given by link
        self.page = 1
        self._reload()

    @rx.event
    def patient_on_enter(self, key: str):
        if key == "Enter":
            self.patient_id = 0
            self.page = 1
            self._reload()

    @rx.event
    def reset_filters(self):
        self.date_from = self.date_to = self.patient_text = ""
        self.result = self.resource_type = ALL
        self.patient_id = 0
        self.page = 1
        self._reload()

    @rx.event
    def open_detail(self, log_id: str):
        actor = self._authorize(Action.VIEW_SATUSEHAT_LOG)
        wanted = parse_id(log_id)
        if wanted is None:
            return rx.toast.error("Log tidak ditemukan di cabang aktif.")
        with read_scope() as session:
            found = sync_log.sync_log_detail(session, actor.branch_id, wanted, duty=actor.duty)
        if found is None:
            return rx.toast.error("Log tidak ditemukan di cabang aktif.")
        self.detail = _strings(found)
        self.detail["bodies_shown"] = "1" if found.bodies_shown else ""
        self.detail_open = True

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = bool(value)
        if not value:
            self.detail = {}

    @rx.event
    def export_csv(self):
        actor = self._authorize(Action.VIEW_SATUSEHAT_LOG)
        try:
            flt = self._filter()
            with read_scope() as session:
                export = sync_log.sync_log_csv(session, actor.branch_id, flt)
        except ValidationFailed as bad:
            self.errors = bad.errors
            return None
        return [_download(export), *_capped_notice(export)]


class DashboardState(LaporanState):
    """Dashboard SATUSEHAT: the last four weeks' sending, what failed, refused keys, and
    sending the completed visits SATUSEHAT does not have yet (backfill)."""

    weeks: list[dict[str, str]] = []
    failed_count: int = 0
    dead_count: int = 0
    jobs: list[dict[str, str]] = []
    key_refused: dict[str, str] = {}  # message and link when SATUSEHAT refused the keys
    can_backfill: bool = False
    backfill_from: str = ""
    backfill_to: str = ""
    backfill_errors: dict[str, str] = {}
    backfill_total: int = 0
    backfill_sent: int = 0
    backfill_failed: int = 0
    _backfill_jobs: list[int] = []

    def _reload(self) -> None:
        actor = self._authorize(Action.VIEW_LAPORAN)
        with read_scope() as session:
            board = dashboard.dashboard(session, actor.branch_id)
        shown = satusehat_errors.key_refused_message(
            satusehat_errors.Subject(branch_id=actor.branch_id),
            may_fix=allows(actor.duty, Action.BRANCH_SETTINGS),
        )
        self.key_refused = shown.shown() if board.key_refused else {}
        self.weeks = [
            {
                "number": str(w.number),
                "label": w.label,
                "visits_completed": str(w.visits_completed),
                "encounters_accepted": str(w.encounters_accepted),
                "encounter_share": (
                    f"{round(100 * w.encounters_accepted / w.visits_completed)}%"
                    if w.visits_completed
                    else "-"
                ),
                "conditions_accepted": str(w.conditions_accepted),
                **{f"{key}_accepted": str(count) for key, count in w.accepted.items()},
                "current": "1" if w.number == len(board.weeks) else "",
            }
            for w in board.weeks
        ]
        self.failed_count, self.dead_count = board.failed_count, board.dead_count
        self.jobs = [_strings(j) for j in board.jobs]

    @rx.event
    def load(self):
        actor = self._access()
        self.weeks, self.jobs, self.failed_count, self.dead_count = [], [], 0, 0
        self.key_refused, self.backfill_errors = {}, {}
        self.backfill_total = self.backfill_sent = self.backfill_failed = 0
        self._backfill_jobs = []
        self.can_backfill = actor is not None and allows(actor.duty, Action.SATUSEHAT_BACKFILL)
        if actor is None or not allows(actor.duty, Action.VIEW_LAPORAN):
            return
        self._reload()
        # Visits completed and sends finished elsewhere in the branch show up here at once.
        live.watch(live.branch_topic(actor.branch_id), self._client_token(), type(self))

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:  # noqa: ARG002
        self._reload()

    @rx.event
    def refresh(self):
        self._reload()

    @rx.event
    def resend_all_failed(self):
        actor = self._authorize(Action.SATUSEHAT_RESEND)
        with session_scope() as session:
            count = dashboard.resend_all(session, actor)
        if count:
            wake_workers()
        self._reload()
        if not count:
            return rx.toast.info("Tidak ada kiriman yang gagal.")
        return rx.toast.success(f"{count} kiriman dimasukkan lagi ke antrean.")

    # ----- Kirim kunjungan yang belum terkirim ------------------------------------------
    @rx.event
    def set_backfill_day(self, field: str, value: str):
        self._authorize(Action.SATUSEHAT_BACKFILL)
        if field not in ("backfill_from", "backfill_to"):
            return
        setattr(self, field, payload_search(value, max_length=10))
        self.backfill_errors = {}

    @rx.event
    def send_unsent(self):
        """Queue every unsent completed visit of the chosen range; progress comes back live
        as each of them ends (`_on_sync_notice`)."""
        actor = self._authorize(Action.SATUSEHAT_BACKFILL)
        try:
            days = (
                parse_day(self.backfill_from, "date_from"),
                parse_day(self.backfill_to, "date_to"),
            )
            with session_scope() as session:
                queued = backfill.send_unsent_visits(
                    session, actor, *days, client_token=self._client_token()
                )
        except ValidationFailed as bad:
            self.backfill_errors = bad.errors
            return None
        self.backfill_errors = {}
        self._backfill_jobs = queued.job_ids
        self.backfill_total, self.backfill_sent, self.backfill_failed = len(queued.job_ids), 0, 0
        if not queued.job_ids:
            return rx.toast.info("Semua kunjungan selesai pada rentang itu sudah terkirim.")
        wake_workers()
        self._reload()
        events = [rx.toast.success(f"{len(queued.job_ids)} kunjungan dimasukkan ke antrean.")]
        if queued.capped:
            events.append(rx.toast.warning("Sebagian kunjungan lain menyusul: tekan lagi nanti."))
        return events

    def _on_sync_notice(self, notice: JobNotice) -> None:
        """A job of this tab ended: count the batch again (one query)."""
        if notice.job_id not in self._backfill_jobs:
            return
        actor = self._current_actor()
        if actor is None:
            return
        with read_scope() as session:
            progress = backfill.backfill_progress(session, actor.branch_id, self._backfill_jobs)
        self.backfill_sent, self.backfill_failed = progress.sent, progress.failed
        if progress.finished:
            self._reload()

    @rx.var
    def backfill_running(self) -> bool:
        return self.backfill_sent + self.backfill_failed < self.backfill_total

    @rx.event
    def export_csv(self):
        actor = self._authorize(Action.VIEW_LAPORAN)
        with read_scope() as session:
            export = dashboard.weeks_csv(session, actor.branch_id)
        return _download(export)

    @rx.event
    def export_jobs_csv(self):
        actor = self._authorize(Action.VIEW_LAPORAN)
        with read_scope() as session:
            export = dashboard.problem_jobs_csv(session, actor.branch_id)
        return _download(export)


# ----- Laporan Dinkes --------------------------------------------------------------------
def band_key(band: str, sex: str) -> str:
    """The key of one LB1 cell in a row's dict ('c_0-7h_male')."""
    return f"c_{band}_{sex}"


NO_CLINICAL = "Laporan diagnosis hanya untuk tugas yang membaca data klinis."


class DinkesReportState(LaporanState):
    """Laporan Dinkes: visits per day/unit/payer and new vs returning patients for a date
    range; the ten most common diagnoses and LB1 for a month (only for a duty with
    VIEW_CLINICAL). Each action is one service call; the charts show the tables' rows."""

    date_from: str = ""
    date_to: str = ""
    month: str = ""
    month_label: str = ""
    errors: dict[str, str] = {}
    can_clinical: bool = False
    visit_total: int = 0
    visit_days: list[dict[str, str | int]] = []
    visit_units: list[dict[str, str | int]] = []
    visit_payers: list[dict[str, str | int]] = []
    new_patients: int = 0
    returning_patients: int = 0
    new_days: list[dict[str, str | int]] = []
    top_rows: list[dict[str, str | int]] = []
    top_visits: int = 0
    lb1_rows: list[dict[str, str | int]] = []
    lb1_chapters: list[dict[str, str | int]] = []
    lb1_total: int = 0

    def _keep_errors(self, *, monthly: bool, new: dict[str, str] | None = None) -> None:
        """Replace the errors of one half of the page (the month's or the range's)."""
        kept = {k: v for k, v in self.errors.items() if (k == "month") != monthly}
        self.errors = kept | (new or {})

    def _show_range(self, found: dinkes_view.RangeReports) -> None:
        visits, mix = found.visits, found.patients
        self.visit_total = visits.total
        self.visit_days = [{"label": d.label, "count": d.count} for d in visits.days]
        self.visit_units = [{"label": u.label, "count": u.count} for u in visits.units]
        self.visit_payers = [{"label": p.label, "count": p.count} for p in visits.payers]
        self.new_patients, self.returning_patients = mix.new_patients, mix.returning_patients
        self.new_days = [{"label": d.label, "baru": d.new, "lama": d.returning} for d in mix.days]

    def _show_month(self, found: dinkes_view.MonthReports | None) -> None:
        self.top_rows, self.lb1_rows, self.lb1_chapters = [], [], []
        self.top_visits = self.lb1_total = 0
        if found is None:
            return
        self.month_label = found.top.month.label
        self.top_visits = found.top.visits
        self.top_rows = [
            {"rank": r.rank, "code": r.code, "display": r.display, "count": r.count}
            for r in found.top.rows
        ]
        rows = []
        for r in found.lb1.rows:
            row: dict[str, str | int] = {
                "code": r.group.category,
                "display": r.display,
                "block": r.group.block,
                "chapter": r.group.chapter,
                "male": r.male,
                "female": r.female,
                "total": r.total,
                "new": r.new_cases,
                "old": r.old_cases,
            }
            for (band, sex), n in r.cells.items():
                row[band_key(band, sex)] = n
            rows.append(row)
        self.lb1_rows = rows
        self.lb1_chapters = [
            {"label": f"{c.chapter}. {c.name}", "count": c.total} for c in found.lb1.chapters
        ]
        self.lb1_total = found.lb1.total

    @rx.event
    def load(self):
        """on_load: the 1st of this month to today, and this month's diagnosis reports."""
        actor = self._access()
        self.errors = {}
        self._show_month(None)
        self.visit_days, self.visit_units, self.visit_payers, self.new_days = [], [], [], []
        self.visit_total = self.new_patients = self.returning_patients = 0
        if actor is None:
            return
        self.page_allowed = allows(actor.duty, Action.VIEW_LAPORAN)
        if not self.page_allowed:
            return
        self.can_clinical = allows(actor.duty, Action.VIEW_CLINICAL)
        with read_scope() as session:
            opened = dinkes_view.opening(session, actor)
        self.date_from, self.date_to = opened.date_from.isoformat(), opened.date_to.isoformat()
        self.month, self.month_label = opened.month.text, opened.month.label
        self._show_range(opened.ranged)
        self._show_month(opened.monthly)

    def _read_range(self, actor: Actor) -> None:
        try:
            days = (parse_day(self.date_from, "date_from"), parse_day(self.date_to, "date_to"))
            with read_scope() as session:
                found = dinkes_view.range_reports(session, actor, *days)
        except ValidationFailed as bad:
            self._keep_errors(monthly=False, new=bad.errors)
            return
        self._keep_errors(monthly=False)
        self._show_range(found)

    @rx.event
    def set_filter(self, field: str, value: str):
        actor = self._authorize(Action.VIEW_LAPORAN)
        if field not in ("date_from", "date_to"):
            return
        setattr(self, field, payload_search(value, max_length=10))
        self._read_range(actor)

    @rx.event
    def set_month(self, value: str):
        actor = self._authorize(Action.VIEW_LAPORAN)
        self.month = payload_search(value, max_length=16)
        if not allows(actor.duty, Action.VIEW_CLINICAL):
            return
        try:
            month = dinkes_view.month_from_text(self.month)
            with read_scope() as session:
                found = dinkes_view.month_reports(session, actor, month)
        except ValidationFailed as bad:
            self._keep_errors(monthly=True, new=bad.errors)
            return
        self._keep_errors(monthly=True)
        self._show_month(found)

    def _export(self, monthly: bool, make) -> list | None:  # noqa: ANN001
        """The CSV `make(session, *filter)` builds, the filter read from the page's fields."""
        try:
            if monthly:
                what = (dinkes_view.month_from_text(self.month),)
            else:
                what = (parse_day(self.date_from, "date_from"), parse_day(self.date_to, "date_to"))
            with read_scope() as session:
                export = make(session, *what)
        except ValidationFailed as bad:
            self._keep_errors(monthly=monthly, new=bad.errors)
            return None
        return [_download(export)]

    @rx.event
    def export_visits(self):
        actor = self._authorize(Action.VIEW_LAPORAN)
        return self._export(False, lambda s, *days: dinkes.visit_counts_csv(s, actor, *days))

    @rx.event
    def export_new_returning(self):
        actor = self._authorize(Action.VIEW_LAPORAN)
        return self._export(False, lambda s, *days: dinkes.new_and_returning_csv(s, actor, *days))

    @rx.event
    def export_top(self):
        actor = self._authorize(Action.VIEW_LAPORAN)
        if not allows(actor.duty, Action.VIEW_CLINICAL):
            return rx.toast.error(NO_CLINICAL)
        return self._export(True, lambda s, month: dinkes.top_diagnoses_csv(s, actor, month))

    @rx.event
    def export_lb1(self):
        actor = self._authorize(Action.VIEW_LAPORAN)
        if not allows(actor.duty, Action.VIEW_CLINICAL):
            return rx.toast.error(NO_CLINICAL)
        return self._export(True, lambda s, month: lb1.lb1_csv(s, actor, month))


# ----- Laporan pendapatan -----------------------------------------------------------------
def _money_row(m: revenue.Money) -> dict[str, str | int]:
    """A revenue row as the page shows it: rupiah text, and the integers for the chart."""
    return {
        "key": m.key,
        "label": m.label,
        "bills": m.bills,
        "paid": rupiah(m.paid),
        "covered": rupiah(m.covered),
        "total": rupiah(m.total),
        "total_value": m.total,
        "dibayar": m.paid,
        "ditanggung": m.covered,
    }


def _shift_row(s: revenue.ClosedShift) -> dict[str, str | int]:
    detail = "; ".join(
        f"{m.label}: seharusnya {rupiah(m.expected)}, dihitung {rupiah(m.counted)}"
        + (f" (selisih {rupiah(m.difference)})" if m.difference else "")
        for m in s.methods
        if m.expected or m.counted
    )
    return {
        "id": str(s.id),
        "cashier": s.cashier,
        "opened": s.opened,
        "closed": s.closed,
        "bills": s.bills,
        "expected": rupiah(s.expected),
        "counted": rupiah(s.counted),
        "difference": rupiah(s.difference),
        "short": "ya" if s.difference < 0 else "",
        "detail": detail,
        "note": s.note,
    }


def _unpaid_row(r: revenue.UnpaidRow) -> dict[str, str | int]:
    return {
        "key": r.key,
        "day": r.day.strftime("%d/%m/%Y"),
        "age": r.age,
        "age_days": r.age_days,
        "name": r.name,
        "mrn": r.mrn,
        "unit": r.unit,
        "doctor": r.doctor,
        "payer": r.payer,
        "state": r.state,
        "amount": "-" if r.amount is None else rupiah(r.amount),
    }


class PendapatanState(LaporanState):
    """Laporan pendapatan: revenue of a date range (or a month) per day, method, payer, unit
    and doctor with the voided notas apart, the closed shifts and the unpaid bills; each
    action is one service call, each table exportable to CSV."""

    date_from: str = ""
    date_to: str = ""
    month: str = ""
    errors: dict[str, str] = {}
    range_label: str = ""
    total_bills: int = 0
    total_paid: str = ""
    total_covered: str = ""
    total: str = ""
    total_discount: str = ""
    total_value: int = 0
    chart: list[dict[str, str | int]] = []
    chart_by_month: bool = False
    days: list[dict[str, str | int]] = []
    months: list[dict[str, str | int]] = []
    methods: list[dict[str, str | int]] = []
    payers: list[dict[str, str | int]] = []
    units: list[dict[str, str | int]] = []
    doctors: list[dict[str, str | int]] = []
    voided: list[dict[str, str | int]] = []
    shifts: list[dict[str, str | int]] = []
    unpaid: list[dict[str, str | int]] = []
    unpaid_total: str = ""
    unpaid_limited: bool = False

    def _clear_reports(self) -> None:
        self.chart, self.days, self.months, self.methods = [], [], [], []
        self.payers, self.units, self.doctors, self.voided = [], [], [], []
        self.shifts, self.unpaid = [], []
        self.total_bills = self.total_value = 0
        self.total_paid = self.total_covered = self.total = self.total_discount = ""
        self.unpaid_total, self.unpaid_limited, self.range_label = "", False, ""

    def _show(self, found: revenue.Pendapatan) -> None:
        money = found.revenue
        self.date_from, self.date_to = found.date_from.isoformat(), found.date_to.isoformat()
        self.month = found.month.text
        self.range_label = (
            format_date(found.date_from)
            if found.date_from == found.date_to
            else f"{format_date(found.date_from)} s.d. {format_date(found.date_to)}"
        )
        t = money.total
        self.total_bills, self.total_value = t.bills, t.total
        self.total_paid, self.total_covered = rupiah(t.paid), rupiah(t.covered)
        self.total, self.total_discount = rupiah(t.total), rupiah(t.discount)
        self.chart = [_money_row(m) for m in money.chart]
        self.chart_by_month = money.chart is money.months
        self.days = [_money_row(m) for m in money.days]
        self.months = [_money_row(m) for m in money.months]
        self.methods = [
            {
                "method": m.method,
                "label": m.label,
                "payments": m.payments,
                "amount": rupiah(m.amount),
                "amount_value": m.amount,
            }
            for m in money.methods
        ]
        self.payers = [_money_row(m) for m in money.payers]
        self.units = [_money_row(m) for m in money.units]
        self.doctors = [_money_row(m) for m in money.doctors]
        self.voided = [
            {
                "id": str(v.bill_id),
                "nota": v.nota_number or "-",
                "name": v.name,
                "paid_at": v.paid_at or "-",
                "voided_at": v.voided_at,
                "voided_by": v.voided_by,
                "reason": v.reason,
                "total": rupiah(v.paid + v.covered),
            }
            for v in money.voided
        ]
        self.shifts = [_shift_row(s) for s in found.shifts]
        self.unpaid = [_unpaid_row(r) for r in found.unpaid.rows]
        self.unpaid_total = rupiah(found.unpaid.total)
        self.unpaid_limited = found.unpaid.limited

    @rx.event
    def load(self):
        """on_load: today in the branch's zone."""
        actor = self._access()
        self.errors = {}
        self._clear_reports()
        if actor is None:
            return
        self.page_allowed = allows(actor.duty, Action.VIEW_LAPORAN) and self.can_revenue
        if not self.page_allowed:
            return
        with read_scope() as session:
            self._show(revenue.opening(session, actor))

    def _read(self, actor: Actor, days: tuple) -> None:
        try:
            with read_scope() as session:
                found = revenue.pendapatan(session, actor, *days)
        except ValidationFailed as bad:
            self.errors = bad.errors
            return
        self.errors = {}
        self._show(found)

    def _typed_range(self) -> tuple:
        return (parse_day(self.date_from, "date_from"), parse_day(self.date_to, "date_to"))

    @rx.event
    def set_filter(self, field: str, value: str):
        actor = self._authorize(Action.VIEW_PENDAPATAN)
        if field not in ("date_from", "date_to"):
            return
        setattr(self, field, payload_search(value, max_length=10))
        try:
            days = self._typed_range()
        except ValidationFailed as bad:
            self.errors = bad.errors
            return
        self._read(actor, days)

    @rx.event
    def set_month(self, value: str):
        """The month picker: the range becomes the whole month."""
        actor = self._authorize(Action.VIEW_PENDAPATAN)
        self.month = payload_search(value, max_length=16)
        try:
            month = dinkes.parse_month(self.month, "month")
        except ValidationFailed as bad:
            self.errors = bad.errors
            return
        self._read(actor, revenue.month_range(month))

    def _export(self, make) -> list | None:  # noqa: ANN001
        """The CSV `make(session, date_from, date_to)` builds for the page's range."""
        try:
            days = self._typed_range()
            with read_scope() as session:
                export = make(session, *days)
        except ValidationFailed as bad:
            self.errors = bad.errors
            return None
        return [_download(export)]

    @rx.event
    def export_revenue(self):
        actor = self._authorize(Action.VIEW_PENDAPATAN)
        return self._export(lambda s, *days: revenue.revenue_csv(s, actor, *days))

    @rx.event
    def export_shifts(self):
        actor = self._authorize(Action.VIEW_PENDAPATAN)
        return self._export(lambda s, *days: revenue.shifts_csv(s, actor, *days))

    @rx.event
    def export_unpaid(self):
        actor = self._authorize(Action.VIEW_PENDAPATAN)
        return self._export(lambda s, *days: revenue.unpaid_csv(s, actor, *days))


live.register("visit", DashboardState)
