"""Laporan: aktivitas, Log server SATUSEHAT, dashboard SATUSEHAT (layout only)."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.data_table import Column, data_table, list_pager
from klinikita.components.filter_bar import (
    date_filter,
    filter_bar,
    labelled_filter,
    reset_and_export,
    select_filter,
)
from klinikita.components.forms import field_error
from klinikita.components.page import page
from klinikita.components.sync_badge import error_detail, fix_link
from klinikita.components.tables import subnav
from klinikita.services.reports import dashboard, sync_log
from klinikita.services.reports.lb1 import AGE_BANDS, SEXES
from klinikita.state.reports import (
    ALL,
    AuditReportState,
    DashboardState,
    DinkesReportState,
    LaporanState,
    PendapatanState,
    SyncLogState,
    band_key,
)

_MUTED = rx.color("gray", 11)
_AUDIT_TAB = ("Laporan aktivitas", routes.LAPORAN_AKTIVITAS)
_LOG_TAB = ("Log server SATUSEHAT", routes.LAPORAN_SATUSEHAT)
_DASHBOARD_TAB = ("Dashboard SATUSEHAT", routes.LAPORAN_DASHBOARD)
_DINKES_TAB = ("Laporan Dinkes", routes.LAPORAN_DINKES)
_PENDAPATAN_TAB = ("Pendapatan", routes.LAPORAN_PENDAPATAN)


def _tabs() -> rx.Component:
    """Laporan aktivitas is the admin's, the SATUSEHAT log is for duties that read the
    medical record (it holds diagnoses), Pendapatan for the cashiers and admin: the others
    do not get those tabs."""
    common = [_DASHBOARD_TAB, _DINKES_TAB]

    def with_revenue(tabs: list[tuple[str, str]]) -> rx.Component:
        return rx.cond(LaporanState.can_revenue, subnav([*tabs, _PENDAPATAN_TAB]), subnav(tabs))

    return rx.cond(
        LaporanState.can_audit,
        subnav([_AUDIT_TAB, _LOG_TAB, *common, _PENDAPATAN_TAB]),
        rx.cond(LaporanState.can_log, with_revenue([_LOG_TAB, *common]), with_revenue(common)),
    )


def _tidy(text: rx.Var) -> rx.Component:
    return rx.text(text, size="2")


def _when(row: rx.Var) -> rx.Component:
    return rx.text(row["at_text"], size="2", white_space="nowrap")


# ----- Laporan aktivitas ---------------------------------------------------------------
def _who(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(row["username"], weight="medium", size="2"),
        rx.text(row["duty"], size="1", color=_MUTED),
        spacing="0",
    )


_AUDIT_COLUMNS = [
    Column("Waktu", _when),
    Column("Pengguna", _who),
    Column("Aksi", lambda row: rx.badge(row["action_label"], variant="soft", size="2")),
    Column("Data", lambda row: rx.text(row["entity"], " ", row["entity_id"], size="2")),
    Column(
        "Perubahan",
        lambda row: rx.text(row["changes"], size="1", color=_MUTED, word_break="break-word"),
        wide_only=True,
        props={"max_width": "360px"},
    ),
]


@page(
    route=routes.LAPORAN_AKTIVITAS,
    title="Laporan aktivitas",
    shell="Laporan",
    on_load=AuditReportState.load,
)
def audit_page() -> rx.Component:
    S = AuditReportState  # noqa: N806
    return rx.vstack(
        _tabs(),
        filter_bar(
            date_filter(S, "date_from", "Dari tanggal"),
            date_filter(S, "date_to", "Sampai tanggal"),
            select_filter(
                S,
                "user_id",
                "Pengguna",
                (ALL, "Semua pengguna"),
                S.user_options,
                "filter-user",
                width="220px",
            ),
            select_filter(
                S, "action", "Aksi", (ALL, "Semua aksi"), S.action_options, "filter-action"
            ),
            actions=(reset_and_export(S.reset_filters, S.export_csv),),
        ),
        data_table(
            S.rows,
            _AUDIT_COLUMNS,
            prefix="audit",
            empty="Tidak ada aktivitas yang cocok dengan filter.",
            paged=S,
        ),
        spacing="4",
        width="100%",
    )


# ----- Log server SATUSEHAT ------------------------------------------------------------
def _result_badge(ok: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(label, color_scheme=rx.cond(ok, "green", "red"), size="2")


def _request(row: rx.Var) -> rx.Component:
    return rx.vstack(
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
    )


def _patient(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["patient_name"] != "",
        rx.vstack(
            rx.text(row["patient_name"], size="2"),
            rx.text("No. RM ", row["mrn"], size="1", color=_MUTED),
            spacing="0",
        ),
        rx.text("-", size="2", color=_MUTED),
    )


_SYNC_COLUMNS = [
    Column("Waktu", _when),
    Column("Hasil", lambda row: _result_badge(row["ok"] == "1", row["result_label"])),
    Column("Resource", lambda row: _tidy(row["resource_type"])),
    Column("Permintaan", _request, wide_only=True, props={"max_width": "320px"}),
    Column("Kode", lambda row: _tidy(row["status_code"])),
    Column(
        "Durasi",
        lambda row: rx.text(row["duration_ms"], " ms", size="2", white_space="nowrap"),
    ),
    Column("Pasien", _patient),
]


def _opens_detail(row: rx.Var) -> dict:
    return {
        "on_click": SyncLogState.open_detail(row["id"]),
        "cursor": "pointer",
        "_hover": {"background": rx.color("accent", 2)},
    }


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
                    _result_badge(d["result_label"] == sync_log.RESULT_OK, d["result_label"]),
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


@page(
    route=routes.LAPORAN_SATUSEHAT,
    title="Log server SATUSEHAT",
    shell="Laporan",
    on_load=SyncLogState.load,
)
def sync_log_page() -> rx.Component:
    S = SyncLogState  # noqa: N806
    return rx.vstack(
        _tabs(),
        filter_bar(
            date_filter(S, "date_from", "Dari tanggal"),
            date_filter(S, "date_to", "Sampai tanggal"),
            select_filter(
                S,
                "result",
                "Hasil",
                (ALL, "Semua hasil"),
                [(sync_log.RESULT_OK, "Berhasil"), (sync_log.RESULT_FAILED, "Gagal")],
                "synclog-filter-result",
                width="160px",
            ),
            select_filter(
                S,
                "resource_type",
                "Jenis resource",
                (ALL, "Semua jenis"),
                [(r, r) for r in sync_log.RESOURCE_TYPES],
                "synclog-filter-resource",
                width="160px",
            ),
            labelled_filter(
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
            actions=(reset_and_export(S.reset_filters, S.export_csv),),
        ),
        rx.cond(
            S.patient_id != 0,
            rx.text(
                "Hanya log pasien yang dipilih dari halaman lain. Tekan Reset untuk semua.",
                size="2",
                color=_MUTED,
            ),
        ),
        data_table(
            S.rows,
            _SYNC_COLUMNS,
            prefix="synclog",
            empty="Tidak ada log yang cocok dengan filter.",
            row_props=_opens_detail,
        ),
        rx.text("Ketuk baris untuk melihat request dan response.", size="1", color=_MUTED),
        list_pager(S, "synclog-pager"),
        _sync_detail(),
        spacing="4",
        width="100%",
    )


# ----- Dashboard SATUSEHAT -------------------------------------------------------------
def _week(week: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(week["label"], size="2", white_space="nowrap"),
        rx.cond(week["current"] == "1", rx.badge("minggu ini", size="1", variant="outline")),
        spacing="2",
        align="center",
    )


def _big(text: rx.Var) -> rx.Component:
    return rx.text(text, size="3", weight="bold")


_WEEK_COLUMNS = [
    Column("Minggu", _week),
    Column("Kunjungan selesai", lambda w: _big(w["visits_completed"])),
    Column(
        "Encounter diterima (% kunjungan)",
        lambda w: rx.text(
            rx.text.strong(w["encounters_accepted"]),
            rx.text.span(" (", w["encounter_share"], ")", color=_MUTED, size="2"),
            size="3",
        ),
    ),
    Column("Condition diterima", lambda w: _big(w["conditions_accepted"])),
    *(
        Column(kind.label, lambda w, key=f"{kind.key}_accepted": _big(w[key]))
        for kind in dashboard.SENT_KINDS
    ),
]


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


def _job_hint(job: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(job["hint"], size="1", color=rx.color("red", 11), word_break="break-word"),
        fix_link(job["hint_link"], job["hint_link_label"], "dashboard-job-fix-" + job["id"]),
        error_detail(job["last_error"], "dashboard-job-detail-" + job["id"]),
        spacing="1",
        align="start",
    )


def _job_status(job: rx.Var) -> rx.Component:
    return rx.badge(
        job["status_label"],
        color_scheme=rx.cond(job["status"] == "dead", "orange", "red"),
        size="2",
    )


_JOB_COLUMNS = [
    Column("Jenis", lambda job: _tidy(job["kind_label"])),
    Column("Status", _job_status),
    Column("Data", lambda job: _tidy(job["subject"])),
    Column("Galat terakhir", _job_hint, props={"max_width": "300px"}),
    Column("Percobaan", lambda job: _tidy(job["attempts"]), wide_only=True),
    Column("Diperbarui", lambda job: _tidy(job["updated_text"]), wide_only=True),
]


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
    return labelled_filter(
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


@page(
    route=routes.LAPORAN_DASHBOARD,
    title="Dashboard SATUSEHAT",
    shell="Laporan",
    on_load=DashboardState.load,
)
def dashboard_page() -> rx.Component:
    S = DashboardState  # noqa: N806
    problems = S.failed_count + S.dead_count
    return rx.vstack(
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
        data_table(
            S.weeks,
            _WEEK_COLUMNS,
            prefix="dashboard-week",
            empty="Belum ada data minggu ini.",
            table_id="dashboard-weeks",
            row_id=lambda week: "dashboard-week-" + week["number"],
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
                data_table(
                    S.jobs,
                    _JOB_COLUMNS,
                    prefix="dashboard-job",
                    empty="Tidak ada kiriman yang gagal.",
                    table_id="dashboard-jobs",
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
    )


@page(route=routes.LAPORAN, title="Laporan", shell="Laporan", on_load=LaporanState.open_default)
def laporan_page() -> rx.Component:
    """/laporan: the tabs while the browser moves on to the first report."""
    return rx.vstack(_tabs(), rx.spinner(size="3"))


# ----- Laporan Dinkes ------------------------------------------------------------------
_CHART_HEIGHT = 260


def _section(title: str, note: str, export, export_id: str, *body: rx.Component) -> rx.Component:  # noqa: ANN001
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.heading(title, size="4"),
                    rx.text(note, size="2", color=_MUTED),
                    spacing="1",
                    flex="1",
                    min_width="240px",
                ),
                rx.button(
                    rx.icon("download", size=16),
                    "Ekspor CSV",
                    on_click=export,
                    size="3",
                    variant="outline",
                    id=export_id,
                ),
                spacing="3",
                wrap="wrap",
                align="center",
                width="100%",
            ),
            *body,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _bar_chart(
    data: rx.Var,
    bars: list[tuple[str, str, str]],
    chart_id: str,
    *,
    label_key: str = "label",
    vertical: bool = False,
    value_width: int = 60,
) -> rx.Component:
    """A bar chart of `data`, one bar (data key, name, colour) per entry of `bars` stacked;
    `vertical` lays the bars out sideways with the labels on the left (long names);
    `value_width` is the room of the value axis's numbers (rupiah need more)."""
    if vertical:
        axes = (
            rx.recharts.x_axis(type_="number", allow_decimals=False),
            rx.recharts.y_axis(data_key=label_key, type_="category", width=260),
        )
    else:
        axes = (
            rx.recharts.x_axis(data_key=label_key),
            rx.recharts.y_axis(allow_decimals=False, width=value_width),
        )
    return rx.box(
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            *axes,
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            *[
                rx.recharts.bar(data_key=key, name=name, fill=rx.color(color, 9), stack_id="a")
                for key, name, color in bars
            ],
            data=data,
            width="100%",
            height=_CHART_HEIGHT,
            layout="vertical" if vertical else "horizontal",
        ),
        width="100%",
        id=chart_id,
    )


def _count_table(title: str, rows: rx.Var, prefix: str) -> rx.Component:
    return rx.vstack(
        rx.text(title, weight="bold", size="2"),
        data_table(
            rows,
            [
                Column(title, lambda r: _tidy(r["label"])),
                Column("Kunjungan", lambda r: _big(r["count"])),
            ],
            prefix=prefix,
            empty="Tidak ada kunjungan.",
            row_id=lambda r: f"{prefix}-row-" + r["label"].to(str),
        ),
        spacing="1",
        min_width="260px",
        flex="1",
    )


def _visits_section() -> rx.Component:
    S = DinkesReportState  # noqa: N806
    return _section(
        "Kunjungan per hari, unit dan penjamin",
        "Kunjungan yang tidak dibatalkan, per tanggal kunjungan (waktu cabang).",
        S.export_visits,
        "dinkes-visits-csv",
        rx.text(
            "Jumlah kunjungan: ", rx.text.strong(S.visit_total, id="dinkes-visit-total"), size="3"
        ),
        _bar_chart(S.visit_days, [("count", "Kunjungan", "teal")], "dinkes-visits-chart"),
        rx.flex(
            _count_table("Unit", S.visit_units, "dinkes-unit"),
            _count_table("Penjamin", S.visit_payers, "dinkes-payer"),
            spacing="4",
            wrap="wrap",
            width="100%",
        ),
    )


def _new_returning_section() -> rx.Component:
    S = DinkesReportState  # noqa: N806
    return _section(
        "Pasien baru dan lama",
        "Baru: kunjungan pertama pasien di cabang ini. Lama: pasien yang pernah berkunjung.",
        S.export_new_returning,
        "dinkes-new-csv",
        rx.flex(
            _count_card("Pasien baru", S.new_patients, "teal", "dinkes-new-patients"),
            _count_card("Pasien lama", S.returning_patients, "blue", "dinkes-returning-patients"),
            spacing="3",
            wrap="wrap",
        ),
        _bar_chart(
            S.new_days,
            [("baru", "Kunjungan pasien baru", "teal"), ("lama", "Kunjungan pasien lama", "blue")],
            "dinkes-new-chart",
        ),
    )


_TOP_COLUMNS = [
    Column("No.", lambda r: _tidy(r["rank"])),
    Column("Kode", lambda r: rx.code(r["code"])),
    Column("Diagnosis", lambda r: _tidy(r["display"])),
    Column("Kunjungan", lambda r: _big(r["count"])),
]


def _top_section() -> rx.Component:
    S = DinkesReportState  # noqa: N806
    return _section(
        "10 besar diagnosis",
        "Diagnosis pada kunjungan yang selesai di bulan terpilih (satu kali per kunjungan).",
        S.export_top,
        "dinkes-top-csv",
        _bar_chart(
            S.top_rows,
            [("count", "Kunjungan", "orange")],
            "dinkes-top-chart",
            label_key="code",
        ),
        data_table(
            S.top_rows,
            _TOP_COLUMNS,
            prefix="dinkes-top",
            empty="Belum ada diagnosis pada bulan ini.",
            row_id=lambda r: "dinkes-top-row-" + r["code"].to(str),
        ),
    )


def _lb1_table() -> rx.Component:
    S = DinkesReportState  # noqa: N806
    head = [
        rx.table.column_header_cell("Kode"),
        rx.table.column_header_cell("Diagnosis"),
        *[
            rx.table.column_header_cell(f"{label} {short}", white_space="nowrap")
            for _, label in AGE_BANDS
            for _, short in SEXES
        ],
        *[rx.table.column_header_cell(t) for t in ("L", "P", "Jumlah", "Baru", "Lama")],
    ]

    def row(r: rx.Var) -> rx.Component:
        cells = [r[band_key(band, sex)] for band, _ in AGE_BANDS for sex, _ in SEXES]
        return rx.table.row(
            rx.table.cell(rx.code(r["code"]), rx.text(r["block"], size="1", color=_MUTED)),
            rx.table.cell(rx.text(r["display"], size="2"), min_width="200px"),
            *[rx.table.cell(c) for c in cells],
            *[rx.table.cell(r[k]) for k in ("male", "female", "total", "new", "old")],
            id="dinkes-lb1-row-" + r["code"].to(str),
        )

    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*head)),
            rx.table.body(rx.foreach(S.lb1_rows, row)),
            size="1",
            variant="surface",
            id="dinkes-lb1-table",
        ),
        overflow_x="auto",
        width="100%",
    )


def _lb1_section() -> rx.Component:
    S = DinkesReportState  # noqa: N806
    return _section(
        "LB1: data kesakitan bulanan",
        "Per kode ICD-10 (blok di bawah kode), kelompok umur LB1 dan jenis kelamin (L/P); "
        "kasus baru bila pasien belum pernah didiagnosis kode itu di cabang ini.",
        S.export_lb1,
        "dinkes-lb1-csv",
        rx.text("Jumlah kasus: ", rx.text.strong(S.lb1_total, id="dinkes-lb1-total"), size="3"),
        _bar_chart(
            S.lb1_chapters,
            [("count", "Kasus", "purple")],
            "dinkes-lb1-chart",
            vertical=True,
        ),
        rx.cond(
            S.lb1_rows.length() > 0,
            _lb1_table(),
            rx.text("Belum ada diagnosis pada bulan ini.", size="2", color=_MUTED),
        ),
    )


def _month_filter(state, label: str) -> rx.Component:  # noqa: ANN001
    """A month picker (`state.month`, `state.set_month`) with its error under it."""
    return labelled_filter(
        label,
        rx.input(
            type="month",
            value=state.month,
            on_change=state.set_month,
            size="3",
            id="filter-month",
        ),
        field_error(state.errors, "month"),
    )


@page(
    route=routes.LAPORAN_DINKES,
    title="Laporan Dinkes",
    shell="Laporan",
    on_load=DinkesReportState.load,
)
def dinkes_page() -> rx.Component:
    S = DinkesReportState  # noqa: N806
    return rx.vstack(
        _tabs(),
        filter_bar(
            date_filter(S, "date_from", "Dari tanggal"),
            date_filter(S, "date_to", "Sampai tanggal"),
        ),
        _visits_section(),
        _new_returning_section(),
        rx.cond(
            S.can_clinical,
            rx.vstack(
                filter_bar(
                    _month_filter(S, "Bulan (10 besar diagnosis dan LB1)"),
                ),
                _top_section(),
                _lb1_section(),
                spacing="4",
                width="100%",
            ),
            rx.callout(
                "10 besar diagnosis dan LB1 hanya untuk tugas yang membaca data klinis "
                "(dokter, admin).",
                icon="info",
                id="dinkes-no-clinical",
            ),
        ),
        spacing="4",
        width="100%",
    )


# ----- Laporan pendapatan --------------------------------------------------------------
def _rp(text: rx.Var, *, bold: bool = False) -> rx.Component:
    """Rupiah on one line ("Rp 125.000" never breaks after "Rp")."""
    return rx.text(text, size="3" if bold else "2", weight="bold" if bold else None,
                   white_space="nowrap")  # fmt: skip


def _money_table(title: str, rows: rx.Var, prefix: str, empty: str) -> rx.Component:
    """Rows of revenue (label, notas, paid by patients, covered by payers, total); a row's
    id is `<prefix>-row-<key>` and it carries data-key and data-total (whole rupiah)."""
    return rx.vstack(
        rx.text(title, weight="bold", size="2"),
        data_table(
            rows,
            [
                Column(title, lambda r: _tidy(r["label"])),
                Column("Nota", lambda r: _tidy(r["bills"])),
                Column("Dibayar pasien", lambda r: _rp(r["paid"])),
                Column("Ditanggung penjamin", lambda r: _rp(r["covered"]), wide_only=True),
                Column("Pendapatan", lambda r: _rp(r["total"], bold=True)),
            ],
            prefix=prefix,
            empty=empty,
            row_id=lambda r: f"{prefix}-row-" + r["key"].to(str),
            row_props=lambda r: {
                "custom_attrs": {"data-key": r["key"], "data-total": r["total_value"]}
            },
        ),
        spacing="1",
        min_width="300px",
        flex="1",
        width="100%",
    )


_METHOD_COLUMNS = [
    Column("Cara bayar", lambda r: _tidy(r["label"])),
    Column("Pembayaran", lambda r: _tidy(r["payments"])),
    Column("Jumlah", lambda r: _rp(r["amount"], bold=True)),
]


def _revenue_section() -> rx.Component:
    S = PendapatanState  # noqa: N806
    return _section(
        "Pendapatan",
        "Nota lunas menurut tanggal bayar (waktu cabang). Dibayar pasien: uang yang diterima "
        "kasir; ditanggung penjamin: bagian BPJS atau asuransi (piutang). Nota batal tidak "
        "dihitung dan dicantumkan terpisah.",
        S.export_revenue,
        "pendapatan-csv",
        rx.text(S.range_label, size="2", color=_MUTED, id="pendapatan-range"),
        rx.flex(
            _count_card("Pendapatan", S.total, "teal", "pendapatan-total-card"),
            _count_card("Dibayar pasien", S.total_paid, "green", "pendapatan-paid-card"),
            _count_card("Ditanggung penjamin", S.total_covered, "blue", "pendapatan-covered-card"),
            _count_card("Nota lunas", S.total_bills, "gray", "pendapatan-bills-card"),
            spacing="3",
            wrap="wrap",
        ),
        # Plain values for tests and screen readers: the cards' headings hold the same text.
        rx.text(
            "Total pendapatan: ",
            rx.text.strong(
                S.total, id="pendapatan-total", custom_attrs={"data-total": S.total_value}
            ),
            " · dibayar pasien ",
            rx.text.strong(S.total_paid, id="pendapatan-paid"),
            " · ditanggung penjamin ",
            rx.text.strong(S.total_covered, id="pendapatan-covered"),
            " · diskon ",
            rx.text.strong(S.total_discount, id="pendapatan-discount"),
            size="2",
        ),
        rx.text(rx.cond(S.chart_by_month, "Per bulan", "Per hari"), size="2", weight="bold"),
        _bar_chart(
            S.chart,
            [("dibayar", "Dibayar pasien", "teal"), ("ditanggung", "Ditanggung penjamin", "blue")],
            "pendapatan-chart",
            value_width=96,
        ),
        rx.vstack(
            rx.text("Per cara bayar", weight="bold", size="2"),
            data_table(
                S.methods,
                _METHOD_COLUMNS,
                prefix="pendapatan-method",
                empty="Tidak ada pembayaran.",
                row_id=lambda r: "pendapatan-method-row-" + r["method"].to(str),
                row_props=lambda r: {
                    "custom_attrs": {"data-method": r["method"], "data-amount": r["amount_value"]}
                },
            ),
            spacing="1",
            width="100%",
        ),
        rx.flex(
            _money_table("Penjamin", S.payers, "pendapatan-payer", "Tidak ada nota lunas."),
            _money_table("Unit", S.units, "pendapatan-unit", "Tidak ada nota lunas."),
            spacing="4",
            wrap="wrap",
            width="100%",
        ),
        _money_table("Dokter", S.doctors, "pendapatan-doctor", "Tidak ada nota lunas."),
        rx.flex(
            _money_table("Hari", S.days, "pendapatan-day", "Tidak ada hari."),
            _money_table("Bulan", S.months, "pendapatan-month", "Tidak ada bulan."),
            spacing="4",
            wrap="wrap",
            width="100%",
        ),
        rx.vstack(
            rx.text("Nota batal", weight="bold", size="2"),
            data_table(
                S.voided,
                [
                    Column("Nota", lambda r: rx.code(r["nota"])),
                    Column("Nama", lambda r: _tidy(r["name"])),
                    Column("Dibayar", lambda r: _tidy(r["paid_at"]), wide_only=True),
                    Column("Dibatalkan", lambda r: _tidy(r["voided_at"])),
                    Column("Oleh", lambda r: _tidy(r["voided_by"]), wide_only=True),
                    Column("Alasan", lambda r: _tidy(r["reason"])),
                    Column("Jumlah", lambda r: _rp(r["total"])),
                ],
                prefix="pendapatan-voided",
                row_id=lambda r: "pendapatan-voided-row-" + r["id"].to(str),
                empty="Tidak ada nota batal.",
            ),
            spacing="1",
            width="100%",
        ),
    )


def _shifts_section() -> rx.Component:
    S = PendapatanState  # noqa: N806
    return _section(
        "Laporan shift kasir",
        "Shift yang ditutup pada rentang ini: yang seharusnya ada (modal awal ditambah "
        "pembayaran) dibandingkan hasil hitung, per cara bayar.",
        S.export_shifts,
        "pendapatan-shifts-csv",
        data_table(
            S.shifts,
            [
                Column("Kasir", lambda r: _tidy(r["cashier"])),
                Column("Dibuka", lambda r: _tidy(r["opened"]), wide_only=True),
                Column("Ditutup", lambda r: _tidy(r["closed"])),
                Column("Nota", lambda r: _tidy(r["bills"]), wide_only=True),
                Column("Seharusnya", lambda r: _rp(r["expected"])),
                Column("Dihitung", lambda r: _rp(r["counted"])),
                Column(
                    "Selisih",
                    lambda r: rx.text(
                        r["difference"],
                        size="2",
                        weight="bold",
                        white_space="nowrap",
                        color=rx.cond(r["short"] != "", rx.color("red", 11), "inherit"),
                    ),
                ),
                Column(
                    "Rincian",
                    lambda r: rx.vstack(
                        rx.text(r["detail"], size="1", color=_MUTED),
                        rx.text(r["note"], size="1"),
                        spacing="0",
                    ),
                    wide_only=True,
                    props={"max_width": "360px"},
                ),
            ],
            prefix="pendapatan-shift",
            row_id=lambda r: "pendapatan-shift-row-" + r["id"].to(str),
            empty="Tidak ada shift yang ditutup.",
        ),
    )


def _unpaid_section() -> rx.Component:
    S = PendapatanState  # noqa: N806
    return _section(
        "Tagihan belum dibayar",
        "Kunjungan selesai pada rentang ini yang belum lunas (belum ada tagihan atau tagihan "
        "masih terbuka) dan penjualan bebas yang belum dibayar; umur dihitung dari tanggalnya.",
        S.export_unpaid,
        "pendapatan-unpaid-csv",
        rx.text(
            "Tagihan terbuka: ",
            rx.text.strong(S.unpaid_total, id="pendapatan-unpaid-total"),
            size="2",
        ),
        rx.cond(
            S.unpaid_limited,
            rx.callout(
                "Daftar terlalu panjang: hanya yang tertua yang ditampilkan. Persempit rentang.",
                icon="info",
                id="pendapatan-unpaid-limited",
            ),
        ),
        data_table(
            S.unpaid,
            [
                Column("Tanggal", lambda r: _tidy(r["day"])),
                Column("Umur", lambda r: _tidy(r["age"])),
                Column(
                    "Nama",
                    lambda r: rx.vstack(
                        rx.text(r["name"], size="2", weight="medium"),
                        rx.text(r["mrn"], size="1", color=_MUTED),
                        spacing="0",
                    ),
                ),
                Column("Unit", lambda r: _tidy(r["unit"]), wide_only=True),
                Column("Dokter", lambda r: _tidy(r["doctor"]), wide_only=True),
                Column("Penjamin", lambda r: _tidy(r["payer"])),
                Column("Keadaan", lambda r: rx.badge(r["state"], variant="soft", size="2")),
                Column("Tagihan", lambda r: _rp(r["amount"])),
            ],
            prefix="pendapatan-unpaid",
            empty="Semua kunjungan selesai sudah lunas.",
            row_id=lambda r: "pendapatan-unpaid-row-" + r["key"].to(str),
        ),
    )


@page(
    route=routes.LAPORAN_PENDAPATAN,
    title="Laporan pendapatan",
    shell="Laporan",
    on_load=PendapatanState.load,
)
def pendapatan_page() -> rx.Component:
    S = PendapatanState  # noqa: N806
    return rx.vstack(
        _tabs(),
        rx.cond(
            S.can_revenue,
            rx.vstack(
                filter_bar(
                    date_filter(S, "date_from", "Dari tanggal"),
                    date_filter(S, "date_to", "Sampai tanggal"),
                    _month_filter(S, "Atau satu bulan"),
                ),
                _revenue_section(),
                _shifts_section(),
                _unpaid_section(),
                spacing="4",
                width="100%",
            ),
            rx.callout(
                "Laporan pendapatan hanya untuk kasir dan admin.",
                icon="info",
                id="pendapatan-not-allowed",
            ),
        ),
        spacing="4",
        width="100%",
    )
