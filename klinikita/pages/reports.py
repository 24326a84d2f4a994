"""Laporan: aktivitas, Log server SATUSEHAT, dashboard SATUSEHAT (layout only)."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.forms import field_error
from klinikita.components.shell import app_shell
from klinikita.components.sync_badge import error_detail, fix_link
from klinikita.components.tables import pager, subnav
from klinikita.services import reports
from klinikita.state.reports import (
    ALL,
    AuditReportState,
    DashboardState,
    LaporanState,
    SyncLogState,
)

_MUTED = rx.color("gray", 11)
_AUDIT_TAB = ("Laporan aktivitas", routes.LAPORAN_AKTIVITAS)
_LOG_TAB = ("Log server SATUSEHAT", routes.LAPORAN_SATUSEHAT)
_DASHBOARD_TAB = ("Dashboard SATUSEHAT", routes.LAPORAN_DASHBOARD)
# Columns shown from 1024 px (hidden on a tablet held upright).
_WIDE = ["none", "none", "none", "table-cell"]


def _tabs() -> rx.Component:
    """Laporan aktivitas is the admin's, the SATUSEHAT log is for duties that read the
    medical record (it holds diagnoses): the others do not get those tabs."""
    return rx.cond(
        LaporanState.can_audit,
        subnav([_AUDIT_TAB, _LOG_TAB, _DASHBOARD_TAB]),
        rx.cond(LaporanState.can_log, subnav([_LOG_TAB, _DASHBOARD_TAB]), subnav([_DASHBOARD_TAB])),
    )


def _field(label: str, control: rx.Component, error: rx.Component | None = None) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        error or rx.fragment(),
        spacing="1",
        min_width="150px",
    )


def _date(state, field: str, label: str) -> rx.Component:  # noqa: ANN001
    return _field(
        label,
        rx.input(
            type="date",
            value=getattr(state, field),
            on_change=lambda v: state.set_filter(field, v),
            size="3",
            id=f"filter-{field}",
        ),
        field_error(state.errors, field),
    )


def _select(
    state,  # noqa: ANN001
    field: str,
    label: str,
    all_label: str,
    options: rx.Var | list[tuple[str, str]],
    element_id: str,
    width: str = "180px",
) -> rx.Component:
    if isinstance(options, list):
        items = [rx.select.item(text, value=value) for value, text in options]
    else:
        items = [rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))]
    return _field(
        label,
        rx.select.root(
            rx.select.trigger(id=element_id, width=width),
            rx.select.content(rx.select.item(all_label, value=ALL), *items),
            value=getattr(state, field),
            on_change=lambda v: state.set_filter(field, v),
            size="3",
        ),
    )


def _toolbar_buttons(state, export) -> rx.Component:  # noqa: ANN001
    return rx.hstack(
        rx.button(
            "Reset",
            on_click=state.reset_filters,
            size="3",
            variant="soft",
            color_scheme="gray",
            id="filter-reset",
        ),
        rx.button(
            rx.icon("download", size=16),
            "Ekspor CSV",
            on_click=export,
            size="3",
            variant="outline",
            id="csv-export",
        ),
        spacing="2",
        align="end",
    )


def _scroll(table: rx.Component) -> rx.Component:
    return rx.box(table, width="100%", overflow_x="auto")


# ----- Laporan aktivitas ---------------------------------------------------------------
def _audit_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["at_text"], size="2", white_space="nowrap")),
        rx.table.cell(
            rx.vstack(
                rx.text(row["username"], weight="medium", size="2"),
                rx.text(row["duty"], size="1", color=_MUTED),
                spacing="0",
            )
        ),
        rx.table.cell(rx.badge(row["action_label"], variant="soft", size="2")),
        rx.table.cell(rx.text(row["entity"], " ", row["entity_id"], size="2")),
        rx.table.cell(
            rx.text(row["changes"], size="1", color=_MUTED, word_break="break-word"),
            max_width="260px",
            display=_WIDE,
        ),
        id="audit-row-" + row["id"],
    )


def audit_page() -> rx.Component:
    S = AuditReportState  # noqa: N806
    return app_shell(
        "Laporan",
        rx.vstack(
            _tabs(),
            rx.flex(
                _date(S, "date_from", "Dari tanggal"),
                _date(S, "date_to", "Sampai tanggal"),
                _select(
                    S,
                    "user_id",
                    "Pengguna",
                    "Semua pengguna",
                    S.user_options,
                    "filter-user",
                    width="220px",
                ),
                _select(S, "action", "Aksi", "Semua aksi", S.action_options, "filter-action"),
                _toolbar_buttons(S, S.export_csv),
                spacing="3",
                wrap="wrap",
                align="end",
                width="100%",
            ),
            rx.cond(
                S.rows.length() > 0,
                _scroll(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Waktu"),
                                rx.table.column_header_cell("Pengguna"),
                                rx.table.column_header_cell("Aksi"),
                                rx.table.column_header_cell("Data"),
                                rx.table.column_header_cell("Kolom berubah", display=_WIDE),
                            )
                        ),
                        rx.table.body(rx.foreach(S.rows, _audit_row)),
                        variant="surface",
                        width="100%",
                        id="audit-table",
                    )
                ),
                rx.callout(
                    "Tidak ada aktivitas yang cocok dengan filter.",
                    icon="search-x",
                    color_scheme="gray",
                    id="audit-empty",
                ),
            ),
            pager(S.page, S.page_count, S.total, S.prev_page, S.next_page, "audit-pager"),
            spacing="4",
            width="100%",
        ),
    )


# ----- Log server SATUSEHAT ------------------------------------------------------------
def _result_badge(ok: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(label, color_scheme=rx.cond(ok, "green", "red"), size="2")


def _sync_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["at_text"], size="2", white_space="nowrap")),
        rx.table.cell(_result_badge(row["ok"] == "1", row["result_label"])),
        rx.table.cell(rx.text(row["resource_type"], size="2")),
        rx.table.cell(
            rx.vstack(
                rx.text(
                    rx.text.strong(row["method"]),
                    " ",
                    row["url_short"],
                    size="1",
                    word_break="break-all",
                ),
                rx.cond(
                    row["error"] != "",
                    rx.text(row["error"], size="1", color=rx.color("red", 11)),
                ),
                spacing="0",
            ),
            max_width="320px",
            display=_WIDE,
        ),
        rx.table.cell(rx.text(row["status_code"], size="2")),
        rx.table.cell(rx.text(row["duration_ms"], " ms", size="2", white_space="nowrap")),
        rx.table.cell(
            rx.cond(
                row["patient_name"] != "",
                rx.vstack(
                    rx.text(row["patient_name"], size="2"),
                    rx.text("No. RM ", row["mrn"], size="1", color=_MUTED),
                    spacing="0",
                ),
                rx.text("-", size="2", color=_MUTED),
            )
        ),
        on_click=SyncLogState.open_detail(row["id"]),
        cursor="pointer",
        _hover={"background": rx.color("accent", 2)},
        id="synclog-row-" + row["id"],
    )


def _body_block(title: str, text: rx.Var, element_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="2", weight="bold"),
        rx.cond(
            text != "",
            rx.el.pre(
                text,
                id=element_id,
                style={
                    "font_family": "var(--code-font-family, monospace)",
                    "font_size": "12px",
                    "white_space": "pre",
                    "overflow": "auto",
                    "max_height": "260px",
                    "width": "100%",
                    "margin": "0",
                    "padding": "8px",
                    "background": rx.color("gray", 2),
                    "border": f"1px solid {rx.color('gray', 5)}",
                    "border_radius": "6px",
                },
            ),
            rx.text("(kosong)", size="2", color=_MUTED, id=element_id),
        ),
        spacing="1",
        width="100%",
    )


def _sync_detail() -> rx.Component:
    d = SyncLogState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Detail pertukaran SATUSEHAT"),
            rx.vstack(
                rx.flex(
                    _result_badge(d["result_label"] == reports.RESULT_OK, d["result_label"]),
                    rx.text(d["at_text"], size="2"),
                    rx.text("Kode status: ", rx.text.strong(d["status_code"]), size="2"),
                    rx.text(
                        "Durasi: ",
                        rx.text.strong(d["duration_ms"], " ms"),
                        size="2",
                        id="synclog-duration",
                    ),
                    spacing="4",
                    wrap="wrap",
                    align="center",
                ),
                rx.text(
                    rx.text.strong(d["method"]), " ", d["url"], size="2", word_break="break-all"
                ),
                rx.cond(d["patient_name"] != "", rx.text("Pasien: ", d["patient_name"], size="2")),
                rx.cond(
                    d["error"] != "",
                    rx.text(d["error"], size="2", color=rx.color("red", 11)),
                ),
                rx.cond(
                    d["bodies_shown"] != "",
                    rx.fragment(
                        _body_block("Permintaan (request)", d["request_text"], "synclog-request"),
                        _body_block("Jawaban (response)", d["response_text"], "synclog-response"),
                    ),
                    rx.text(
                        "Isi permintaan dan jawaban (data klinis pasien) hanya untuk admin.",
                        size="2",
                        color=_MUTED,
                        id="synclog-bodies-admin-only",
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(
                        rx.button(
                            "Tutup",
                            size="3",
                            variant="soft",
                            color_scheme="gray",
                            id="synclog-close",
                        )
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="900px",
            width="95vw",
            id="synclog-detail",
        ),
        open=SyncLogState.detail_open,
        on_open_change=SyncLogState.set_detail_open,
    )


def sync_log_page() -> rx.Component:
    S = SyncLogState  # noqa: N806
    return app_shell(
        "Laporan",
        rx.vstack(
            _tabs(),
            rx.flex(
                _date(S, "date_from", "Dari tanggal"),
                _date(S, "date_to", "Sampai tanggal"),
                _select(
                    S,
                    "result",
                    "Hasil",
                    "Semua hasil",
                    [(reports.RESULT_OK, "Berhasil"), (reports.RESULT_FAILED, "Gagal")],
                    "synclog-filter-result",
                    width="160px",
                ),
                _select(
                    S,
                    "resource_type",
                    "Jenis resource",
                    "Semua jenis",
                    [(r, r) for r in reports.RESOURCE_TYPES],
                    "synclog-filter-resource",
                    width="160px",
                ),
                _field(
                    "Pasien",
                    rx.hstack(
                        rx.input(
                            value=S.patient_text,
                            on_change=S.set_patient_text,
                            on_key_down=S.patient_on_enter,
                            placeholder="Nama, No. RM atau NIK",
                            size="3",
                            width="200px",
                            id="synclog-filter-patient",
                        ),
                        rx.button(
                            "Cari",
                            on_click=S.search_patient,
                            size="3",
                            variant="soft",
                            id="synclog-filter-patient-button",
                        ),
                        spacing="1",
                    ),
                ),
                _toolbar_buttons(S, S.export_csv),
                spacing="3",
                wrap="wrap",
                align="end",
                width="100%",
            ),
            rx.cond(
                S.patient_id != 0,
                rx.text(
                    "Hanya log pasien yang dipilih dari halaman lain. Tekan Reset untuk semua.",
                    size="2",
                    color=_MUTED,
                ),
            ),
            rx.cond(
                S.rows.length() > 0,
                _scroll(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Waktu"),
                                rx.table.column_header_cell("Hasil"),
                                rx.table.column_header_cell("Resource"),
                                rx.table.column_header_cell("Permintaan", display=_WIDE),
                                rx.table.column_header_cell("Kode"),
                                rx.table.column_header_cell("Durasi"),
                                rx.table.column_header_cell("Pasien"),
                            )
                        ),
                        rx.table.body(rx.foreach(S.rows, _sync_row)),
                        variant="surface",
                        width="100%",
                        id="synclog-table",
                    )
                ),
                rx.callout(
                    "Tidak ada log yang cocok dengan filter.",
                    icon="search-x",
                    color_scheme="gray",
                    id="synclog-empty",
                ),
            ),
            rx.text("Ketuk baris untuk melihat request dan response.", size="1", color=_MUTED),
            pager(S.page, S.page_count, S.total, S.prev_page, S.next_page, "synclog-pager"),
            _sync_detail(),
            spacing="4",
            width="100%",
        ),
    )


# ----- Dashboard SATUSEHAT -------------------------------------------------------------
def _week_row(week: rx.Var) -> rx.Component:
    current = week["current"] == "1"
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(week["label"], size="2", white_space="nowrap"),
                rx.cond(current, rx.badge("minggu ini", size="1", variant="outline")),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(rx.text(week["visits_completed"], size="3", weight="bold")),
        rx.table.cell(
            rx.text(
                rx.text.strong(week["encounters_accepted"]),
                rx.text.span(" (", week["encounter_share"], ")", color=_MUTED, size="2"),
                size="3",
            )
        ),
        rx.table.cell(rx.text(week["conditions_accepted"], size="3", weight="bold")),
        id="dashboard-week-" + week["number"],
    )


def _count_card(label: str, value: rx.Var, color: str, element_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color=_MUTED),
            rx.heading(value, size="7", color=rx.color(color, 11)),
            spacing="1",
        ),
        min_width="180px",
        id=element_id,
    )


def _job_row(job: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(job["kind_label"], size="2")),
        rx.table.cell(
            rx.badge(
                job["status_label"],
                color_scheme=rx.cond(job["status"] == "dead", "orange", "red"),
                size="2",
            )
        ),
        rx.table.cell(rx.text(job["subject"], size="2")),
        rx.table.cell(
            rx.vstack(
                rx.text(job["hint"], size="1", color=rx.color("red", 11), word_break="break-word"),
                fix_link(
                    job["hint_link"], job["hint_link_label"], "dashboard-job-fix-" + job["id"]
                ),
                error_detail(job["last_error"], "dashboard-job-detail-" + job["id"]),
                spacing="1",
                align="start",
            ),
            max_width="300px",
        ),
        rx.table.cell(rx.text(job["attempts"], size="2"), display=_WIDE),
        rx.table.cell(rx.text(job["updated_text"], size="2"), display=_WIDE),
        id="dashboard-job-" + job["id"],
    )


def _key_refused_callout() -> rx.Component:
    S = DashboardState  # noqa: N806
    return rx.cond(
        S.key_refused.contains("message"),
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.callout.text(S.key_refused["message"], id="dashboard-key-refused"),
            fix_link(S.key_refused["link"], S.key_refused["link_label"], "dashboard-key-fix"),
            color_scheme="red",
            width="100%",
        ),
    )


def _backfill_date(field: str, label: str) -> rx.Component:
    S = DashboardState  # noqa: N806
    return _field(
        label,
        rx.input(
            type="date",
            value=getattr(S, f"backfill_{field.removeprefix('date_')}"),
            on_change=lambda v: S.set_backfill_day(f"backfill_{field.removeprefix('date_')}", v),
            size="3",
            id=f"backfill-{field}",
        ),
        field_error(S.backfill_errors, field),
    )


def _backfill_card() -> rx.Component:
    """Kirim kunjungan yang belum terkirim (admin), with its live progress."""
    S = DashboardState  # noqa: N806
    return rx.cond(
        S.can_backfill,
        rx.card(
            rx.vstack(
                rx.text("Kirim kunjungan yang belum terkirim", weight="bold", size="3"),
                rx.text(
                    "Semua kunjungan selesai pada rentang tanggal ini yang belum punya ID "
                    "Encounter (dan tidak sedang dikirim) dimasukkan ke antrean.",
                    size="2",
                    color=_MUTED,
                ),
                rx.flex(
                    _backfill_date("date_from", "Dari tanggal"),
                    _backfill_date("date_to", "Sampai tanggal"),
                    rx.button(
                        rx.icon("send", size=16),
                        "Kirim kunjungan yang belum terkirim",
                        on_click=S.send_unsent,
                        size="3",
                        id="backfill-send",
                    ),
                    spacing="3",
                    wrap="wrap",
                    align="end",
                ),
                rx.cond(
                    S.backfill_total > 0,
                    rx.hstack(
                        rx.cond(S.backfill_running, rx.spinner(size="2")),
                        rx.text(
                            S.backfill_sent,
                            " dari ",
                            S.backfill_total,
                            " terkirim",
                            rx.cond(
                                S.backfill_failed > 0,
                                rx.text.span(
                                    ", ", S.backfill_failed, " gagal (lihat daftar di bawah)"
                                ),
                            ),
                            size="3",
                            id="backfill-progress",
                        ),
                        align="center",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="backfill-card",
        ),
    )


def dashboard_page() -> rx.Component:
    S = DashboardState  # noqa: N806
    problems = S.failed_count + S.dead_count
    return app_shell(
        "Laporan",
        rx.vstack(
            _tabs(),
            _key_refused_callout(),
            rx.flex(
                rx.text(
                    "Per minggu (Senin-Minggu, waktu cabang): kunjungan yang selesai dibandingkan "
                    "Encounter dan Condition yang diterima SATUSEHAT.",
                    size="2",
                    color=_MUTED,
                    flex="1",
                    min_width="240px",
                ),
                rx.hstack(
                    rx.button(
                        rx.icon("refresh-cw", size=16),
                        "Muat ulang",
                        on_click=S.refresh,
                        size="3",
                        variant="soft",
                        id="dashboard-refresh",
                    ),
                    rx.button(
                        rx.icon("download", size=16),
                        "Ekspor CSV",
                        on_click=S.export_csv,
                        size="3",
                        variant="outline",
                        id="csv-export",
                    ),
                    spacing="2",
                ),
                spacing="3",
                wrap="wrap",
                align="center",
                width="100%",
            ),
            _scroll(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Minggu"),
                            rx.table.column_header_cell("Kunjungan selesai"),
                            rx.table.column_header_cell("Encounter diterima (% kunjungan)"),
                            rx.table.column_header_cell("Condition diterima"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.weeks, _week_row)),
                    variant="surface",
                    width="100%",
                    id="dashboard-weeks",
                )
            ),
            _backfill_card(),
            rx.flex(
                _count_card("Kiriman gagal", S.failed_count, "red", "dashboard-failed"),
                _count_card("Berhenti dicoba", S.dead_count, "orange", "dashboard-dead"),
                rx.spacer(),
                rx.cond(
                    S.can_resend & (problems > 0),
                    rx.button(
                        rx.icon("send", size=16),
                        "Kirim ulang semua yang gagal",
                        on_click=S.resend_all_failed,
                        size="3",
                        color_scheme="orange",
                        id="resend-all-failed",
                    ),
                ),
                spacing="3",
                wrap="wrap",
                align="center",
                width="100%",
            ),
            rx.cond(
                S.jobs.length() > 0,
                rx.vstack(
                    rx.hstack(
                        rx.text(
                            "Kiriman yang gagal (terbaru dahulu)", weight="bold", size="3", flex="1"
                        ),
                        rx.button(
                            rx.icon("download", size=16),
                            "Ekspor CSV",
                            on_click=S.export_jobs_csv,
                            size="2",
                            variant="outline",
                            id="csv-export-jobs",
                        ),
                        width="100%",
                        align="center",
                    ),
                    _scroll(
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell("Jenis"),
                                    rx.table.column_header_cell("Status"),
                                    rx.table.column_header_cell("Data"),
                                    rx.table.column_header_cell("Galat terakhir"),
                                    rx.table.column_header_cell("Percobaan", display=_WIDE),
                                    rx.table.column_header_cell("Diperbarui", display=_WIDE),
                                )
                            ),
                            rx.table.body(rx.foreach(S.jobs, _job_row)),
                            variant="surface",
                            width="100%",
                            id="dashboard-jobs",
                        )
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.callout(
                    "Tidak ada kiriman yang gagal.",
                    icon="circle-check",
                    color_scheme="green",
                    id="dashboard-no-failures",
                ),
            ),
            spacing="4",
            width="100%",
        ),
    )


def laporan_page() -> rx.Component:
    """/laporan: the tabs while the browser moves on to the first report."""
    return app_shell("Laporan", rx.vstack(_tabs(), rx.spinner(size="3")))
