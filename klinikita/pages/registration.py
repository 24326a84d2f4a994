"""Pendaftaran: the patient, the visit's choices, the queue number, today's queue."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.finished_toggle import finished_toggle
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.models.clinical import VisitStatus
from klinikita.pages.patients import patient_form
from klinikita.state.patients import PatientState
from klinikita.state.registration import ALL_UNITS
from klinikita.state.registration import RegistrationState as S

STATUS_COLORS = {
    VisitStatus.REGISTERED.value: "amber",
    VisitStatus.IN_EXAMINATION.value: "blue",
    VisitStatus.COMPLETE.value: "green",
    VisitStatus.CANCELLED.value: "gray",
}
SEARCH_PAUSE_MS = 300  # search as you type: sent after this pause in typing
# Two columns (patient | visit) from 1280 px; stacked on a 1024 px screen.
_TWO_COLUMNS = {"columns": rx.breakpoints(initial="1", lg="2"), "spacing": "4", "width": "100%"}


def _muted(*children, **props) -> rx.Component:
    props.setdefault("size", "2")
    return rx.text(*children, color=rx.color("gray", 11), **props)


# ----- the patient ------------------------------------------------------------------------
def _result(row: rx.Var) -> rx.Component:
    return rx.button(
        rx.vstack(
            rx.text(row["name"], weight="medium", size="3", color=rx.color("gray", 12)),
            rx.text(
                "No. RM ",
                row["mrn"],
                " · NIK ",
                row["nik"],
                " · ",
                row["birth_date"],
                size="2",
                color=rx.color("gray", 11),
            ),
            spacing="0",
            align="start",
        ),
        on_click=S.pick_patient(row["id"]),
        variant="surface",
        color_scheme="gray",
        size="3",
        width="100%",
        # A Radix button centres what it holds; a list of people reads from the left.
        justify_content="flex-start",
        height="auto",
        padding_y="8px",
        text_align="left",
        id="reg-patient-result-" + row["id"],
    )


def _chosen_patient() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("user-check", size=22, color=rx.color("accent", 11)),
            rx.vstack(
                rx.text(S.patient["name"], weight="bold", size="4", id="reg-patient-name"),
                _muted("No. RM ", S.patient["mrn"], " · lahir ", S.patient["birth_date"]),
                _muted("NIK ", S.patient["nik"]),
                spacing="0",
                flex="1",
                min_width="0",
            ),
            rx.button(
                "Ganti",
                on_click=S.clear_patient,
                variant="soft",
                color_scheme="gray",
                size="3",
                id="reg-patient-clear",
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        variant="surface",
        width="100%",
        id="reg-patient-chosen",
    )


def _patient_finder() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                value=S.search_term,
                on_change=S.set_search_term,
                on_key_down=S.search_on_enter,
                debounce_timeout=SEARCH_PAUSE_MS,
                placeholder="Nama, NIK, No. RM, No. BPJS atau telepon",
                size="3",
                flex="1",
                min_width="200px",
                auto_complete="off",
                auto_focus=True,
                access_key="c",
                id="reg-patient-search",
            ),
            rx.button("Cari", on_click=S.search, size="3", id="reg-patient-search-button"),
            rx.cond(
                S.can_create_patient,
                rx.button(
                    rx.icon("user-plus", size=16),
                    "Pasien baru",
                    on_click=PatientState.open_create_for_registration,
                    size="3",
                    variant="outline",
                    access_key="b",
                    id="reg-new-patient",
                ),
            ),
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        _muted(
            "Pintasan: Alt+C cari pasien · Alt+B pasien baru · Enter pilih/daftarkan",
            size="1",
            id="reg-keys-hint",
        ),
        rx.cond(
            S.search_problem != "",
            rx.text(S.search_problem, color=rx.color("amber", 11), size="2"),
        ),
        rx.cond(
            S.results.length() > 0,
            rx.vstack(
                rx.foreach(S.results, _result),
                rx.cond(
                    S.results_more != "",
                    _muted(
                        "Menampilkan ",
                        S.results_more,
                        " pasien yang cocok; perjelas pencarian (mis. NIK atau No. RM).",
                        id="reg-patient-more",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            rx.cond(
                S.searched & (S.search_problem == ""),
                _muted(
                    "Pasien tidak ditemukan. Periksa ejaan, atau tambahkan dengan Pasien baru.",
                    id="reg-patient-none",
                ),
                _muted(
                    "Ketik nama, NIK, No. RM, No. BPJS atau telepon: hasil muncul sambil "
                    "mengetik; Enter memilih bila hanya satu pasien. Pasien yang belum pernah "
                    "datang: Pasien baru.",
                    id="reg-search-help",
                ),
            ),
        ),
        spacing="2",
        width="100%",
    )


def _patient_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("1. Pasien", size="4"),
            rx.cond(S.patient.contains("id"), _chosen_patient(), _patient_finder()),
            field_error(S.errors, "patient_id"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _new_patient_dialog() -> rx.Component:
    """Kontak -> Pasien's own form and rules (duplicate warning included)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Tambah pasien baru", size="5"),
            rx.dialog.description(
                "Setelah disimpan, pasien langsung dipilih untuk pendaftaran ini.",
                size="2",
                margin_bottom="12px",
            ),
            patient_form(),
            max_width="760px",
            width="96vw",
            max_height="92vh",
            overflow_y="auto",
            id="reg-new-patient-dialog",
        ),
        open=PatientState.form_open,
        on_open_change=PatientState.set_form_open,
    )


# ----- the visit --------------------------------------------------------------------------
def _select(
    field: str, placeholder: str, options: rx.Var, on_change, element_id: str
) -> rx.Component:  # noqa: ANN001
    return rx.select.root(
        rx.select.trigger(placeholder=placeholder, width="100%", id=element_id),
        rx.select.content(
            rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))
        ),
        value=S.choice[field],
        on_change=on_change,
        disabled=options.length() == 0,
        size="3",
    )


def _setup_gap(gap: rx.Var) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(
            gap["message"],
            " ",
            rx.link(
                gap["link"], href=gap["href"], weight="medium", id="reg-gap-link-" + gap["key"]
            ),
        ),
        color_scheme="amber",
        width="100%",
        id="reg-gap-" + gap["key"],
    )


def _bpjs_number() -> rx.Component:
    return rx.cond(
        S.choice["payer"] == "bpjs",
        labelled(
            "No. BPJS (13 digit)",
            rx.input(
                value=S.choice["bpjs_number"],
                on_change=lambda v: S.set_choice("bpjs_number", v),
                on_key_down=S.register_on_enter,
                placeholder="0001234567890",
                input_mode="numeric",
                max_length=16,
                size="3",
                width="100%",
                auto_complete="off",
                id="reg-bpjs-number",
            ),
            field_error(S.errors, "bpjs_number"),
        ),
    )


def _visit_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("2. Kunjungan", size="4"),
            rx.foreach(S.setup_gaps, _setup_gap),
            rx.grid(
                labelled(
                    "Unit layanan",
                    _select("unit_id", "Pilih unit", S.unit_options, S.pick_unit, "reg-unit"),
                    field_error(S.errors, "unit_id"),
                ),
                labelled(
                    "Ruangan",
                    _select(
                        "room_id",
                        "Pilih ruangan",
                        S.room_options,
                        lambda v: S.set_choice("room_id", v),
                        "reg-room",
                    ),
                    field_error(S.errors, "room_id"),
                ),
                labelled(
                    "Dokter",
                    _select(
                        "doctor_id",
                        "Pilih dokter",
                        S.doctor_options,
                        lambda v: S.set_choice("doctor_id", v),
                        "reg-doctor",
                    ),
                    field_error(S.errors, "doctor_id"),
                ),
                labelled(
                    "Penjamin",
                    _select(
                        "payer",
                        "Pilih penjamin",
                        S.payer_options,
                        lambda v: S.set_choice("payer", v),
                        "reg-payer",
                    ),
                    field_error(S.errors, "payer"),
                ),
                columns="2",
                spacing="3",
                width="100%",
            ),
            _bpjs_number(),
            rx.cond(
                S.can_register,
                rx.vstack(
                    rx.button(
                        rx.icon("clipboard-plus", size=18),
                        "Daftarkan",
                        on_click=S.register,
                        size="3",
                        width="100%",
                        id="reg-submit",
                    ),
                    _muted("Enter: simpan (daftarkan)", size="1", id="reg-submit-hint"),
                    spacing="1",
                    width="100%",
                    align="center",
                ),
                _muted(
                    "Tugas aktif Anda hanya dapat melihat antrean; pendaftaran dilakukan oleh "
                    "petugas pendaftaran."
                ),
            ),
            rx.cond(S.last_number != "", _last_number()),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _last_number() -> rx.Component:
    return rx.callout.root(
        rx.hstack(
            rx.vstack(
                rx.text("Nomor antrean", size="2", weight="medium"),
                rx.text(
                    S.last_number,
                    size="9",
                    weight="bold",
                    line_height="1",
                    id="reg-queue-number",
                ),
                spacing="1",
                align="center",
                min_width="96px",
            ),
            rx.vstack(
                rx.text(S.last_unit, weight="bold", size="4", id="reg-queue-unit"),
                rx.text(S.last_patient, size="3", id="reg-queue-patient"),
                spacing="1",
                min_width="0",
            ),
            spacing="5",
            align="center",
        ),
        color_scheme="green",
        width="100%",
        id="reg-last",
    )


# ----- today's queue ----------------------------------------------------------------------
def _status_badge(row: rx.Var) -> rx.Component:
    return rx.match(
        row["status"],
        *[
            (status, rx.badge(row["status_label"], color_scheme=color, size="2"))
            for status, color in STATUS_COLORS.items()
        ],
        rx.badge(row["status_label"], size="2"),
    )


def _queue_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row["number"], weight="bold", size="5"),
                _muted(row["unit"], size="1", white_space="nowrap"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(row["patient"], weight="medium"),
                _muted("No. RM ", row["mrn"], white_space="nowrap"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(row["room"], white_space="nowrap"), _muted(row["doctor"]), spacing="0"
            ),
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(row["payer"]),
                _muted("datang ", row["arrived"], white_space="nowrap"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                _status_badge(row),
                rx.cond(
                    row["cancel_reason"] != "",
                    _muted(row["cancel_reason"], size="1", max_width="180px"),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.cond(
                S.can_cancel & (row["cancellable"] == "1"),
                rx.button(
                    "Batal",
                    on_click=S.open_cancel(row["id"]),
                    size="3",
                    variant="soft",
                    color_scheme="red",
                    id="queue-cancel-" + row["id"],
                ),
            )
        ),
        align="center",
        id="queue-row-" + row["id"],
    )


def _queue_filter() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id="queue-unit", min_width="180px"),
        rx.select.content(
            rx.select.item("Semua unit", value=ALL_UNITS),
            rx.foreach(S.unit_options, lambda o: rx.select.item(o["label"], value=o["value"])),
        ),
        value=S.queue_unit,
        on_change=S.set_queue_unit,
        size="3",
    )


def _queue() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Antrean hari ini", size="4"),
            rx.spacer(),
            _queue_filter(),
            align="center",
            width="100%",
        ),
        rx.cond(
            S.queue.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("No."),
                        rx.table.column_header_cell("Pasien"),
                        rx.table.column_header_cell("Ruangan / dokter"),
                        rx.table.column_header_cell("Penjamin / datang"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(S.queue, _queue_row)),
                width="100%",
                variant="surface",
                size="2",
                id="queue-table",
            ),
            rx.callout(
                "Belum ada pasien terdaftar hari ini.",
                icon="list-ordered",
                color_scheme="gray",
                id="queue-empty",
            ),
        ),
        finished_toggle(S.queue_hidden, S.queue_all, S.toggle_queue_all, "queue"),
        spacing="3",
        width="100%",
    )


def _cancel_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Batalkan kunjungan?"),
            rx.dialog.description(S.cancel_label, margin_bottom="12px", id="cancel-label"),
            labelled(
                "Alasan pembatalan",
                rx.text_area(
                    value=S.cancel_reason,
                    on_change=S.set_cancel_reason,
                    placeholder="mis. pasien pulang sebelum diperiksa",
                    size="3",
                    width="100%",
                    max_length=300,
                    id="cancel-reason",
                ),
                rx.cond(
                    S.cancel_error != "",
                    rx.text(S.cancel_error, color="red", size="2", id="error-reason"),
                ),
            ),
            _muted("Nomor antreannya tidak dipakai lagi.", margin_top="8px"),
            rx.flex(
                rx.dialog.close(
                    rx.button(
                        "Tutup",
                        variant="soft",
                        color_scheme="gray",
                        size="3",
                        id="cancel-close",
                    )
                ),
                rx.button(
                    "Batalkan kunjungan",
                    on_click=S.confirm_cancel,
                    color_scheme="red",
                    size="3",
                    id="cancel-confirm",
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="480px",
        ),
        open=S.cancel_open,
        on_open_change=S.set_cancel_open,
    )


@page(
    route=routes.PENDAFTARAN,
    title="Pendaftaran",
    shell="Pendaftaran",
    on_load=[PatientState.cancel, S.load],
)
def registration_page() -> rx.Component:
    return rx.vstack(
        rx.grid(_patient_card(), _visit_card(), **_TWO_COLUMNS),
        _queue(),
        _new_patient_dialog(),
        _cancel_dialog(),
        spacing="5",
        width="100%",
    )
