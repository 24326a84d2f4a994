"""Pemeriksaan: today's patients, then one visit: vitals, SOAP, ICD-10, procedures,
prescriptions and Selesai with the SATUSEHAT result. Tablet first (one column, big targets)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from klinikita import routes, styles
from klinikita.components.finished_toggle import finished_toggle
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.components.sync_badge import error_detail, fix_link, sync_badge
from klinikita.components.visit_documents import visit_documents
from klinikita.pages.examination_allergies import allergy_section
from klinikita.pages.examination_prescription import prescriptions_section
from klinikita.state.examination import VITALS_EMPTY
from klinikita.state.examination import ExaminationState as S
from klinikita.state.master_list import STALE_ERROR

_MUTED = rx.color("gray", 11)
_STATUS_COLORS = (
    ("registered", "gray"),
    ("in_examination", "blue"),
    ("complete", "green"),
    ("cancelled", "red"),
)
# (field, short label, unit, keyboard)
_VITALS = (
    ("systolic", "Sistolik", "mmHg", "numeric"),
    ("diastolic", "Diastolik", "mmHg", "numeric"),
    ("pulse", "Nadi", "/menit", "numeric"),
    ("respiratory_rate", "Napas", "/menit", "numeric"),
    ("temperature", "Suhu", "°C", "decimal"),
    ("weight", "Berat badan", "kg", "decimal"),
    ("height", "Tinggi badan", "cm", "decimal"),
    ("spo2", "SpO2", "%", "numeric"),
)
_SOAP = (
    ("subjective", "S - Subjektif", "Keluhan dan riwayat menurut pasien"),
    ("objective", "O - Objektif", "Hasil pemeriksaan fisik dan penunjang"),
    ("assessment", "A - Asesmen", "Penilaian / diagnosis kerja"),
    ("plan", "P - Rencana", "Terapi, edukasi, rujukan, kontrol"),
)


def _status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.match(
        status,
        *[
            (value, rx.badge(label, color_scheme=color, size="2"))
            for value, color in _STATUS_COLORS
        ],
        rx.badge(label, size="2"),
    )


def _section(title: str, anchor: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"),
        width="100%",
        id=anchor,
    )


# ----- today's list -----------------------------------------------------------------------
def _call_button(row: rx.Var) -> rx.Component:
    """Panggil (or Panggil ulang) the row's number to the waiting-room display."""
    return rx.cond(
        S.can_call & ((row["status"] == "registered") | (row["status"] == "in_examination")),
        rx.button(
            rx.icon("megaphone", size=16),
            rx.cond(S.called_ids.contains(row["id"]), "Panggil ulang ", "Panggil "),
            S.queue_letters[row["unit_name"]].to(str) + " " + row["queue_number"],
            on_click=S.call_visit(row["id"]).stop_propagation,
            variant="soft",
            size="3",
            id="exam-call-" + row["id"],
            class_name="exam-call",
        ),
    )


def _queue_card(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(
                rx.text(row["queue_number"], size="6", weight="bold"),
                min_width="56px",
                height="56px",
                border_radius="10px",
                background=rx.color("accent", 3),
                color=styles.accent_text,
            ),
            rx.vstack(
                rx.text(row["patient_name"], size="4", weight="bold"),
                rx.text(
                    "No. RM ",
                    row["mrn"],
                    " · ",
                    row["unit_name"],
                    " · ",
                    row["room_name"],
                    size="2",
                    color=_MUTED,
                ),  # fmt: skip
                rx.text(
                    row["doctor_name"], " · datang ", row["arrived_time"], size="2", color=_MUTED
                ),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.vstack(
                _status_badge(row["status"], row["status_label"]),
                rx.cond(row["status"] == "complete", sync_badge(row["sync_status"])),
                _call_button(row),
                align="end",
                spacing="1",
            ),
            rx.icon("chevron-right", color=_MUTED),
            align="center",
            spacing="3",
            width="100%",
        ),
        on_click=S.open_visit(row["id"]),
        id="exam-visit-" + row["id"],
        class_name="exam-visit",
        cursor="pointer",
        width="100%",
        _hover={"background": rx.color("accent", 2)},
    )


def _queue() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(S.duty_hint, size="2", color=_MUTED, id="exam-duty-hint"),
            rx.spacer(),
            rx.cond(
                S.can_call,
                rx.button(
                    rx.icon("megaphone", size=16),
                    "Panggil berikutnya",
                    on_click=S.call_next,
                    size="3",
                    id="exam-call-next",
                ),
            ),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(
            S.branch_key_refused.contains("message"),
            rx.callout.root(
                rx.callout.icon(rx.icon("key-round")),
                rx.callout.text(S.branch_key_refused["message"], id="exam-list-key-refused"),
                fix_link(S.branch_key_refused["link"], S.branch_key_refused["link_label"]),
                color_scheme="red",
                width="100%",
            ),
        ),
        rx.cond(
            S.rows.length() > 0,
            rx.vstack(
                rx.foreach(S.rows, _queue_card),
                finished_toggle(S.rows_hidden, S.rows_all, S.toggle_rows_all, "exam-list"),
                spacing="2",
                width="100%",
                id="exam-list",
            ),
            rx.callout(
                "Belum ada pasien terdaftar hari ini. "
                "Pasien baru muncul di sini begitu didaftarkan.",
                icon="calendar-clock",
                color_scheme="gray",
                id="exam-list-empty",
            ),
        ),
        spacing="3",
        width="100%",
    )


# ----- the open visit -------------------------------------------------------------------------
def _header() -> rx.Component:
    h = S.header
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.center(
                    rx.text(h["queue_number"], size="6", weight="bold"),
                    min_width="56px",
                    height="56px",
                    border_radius="10px",
                    background=rx.color("accent", 3),
                    color=styles.accent_text,
                ),
                rx.vstack(
                    rx.text(h["patient_name"], size="5", weight="bold", id="exam-patient-name"),
                    rx.text(
                        "No. RM ",
                        h["mrn"],
                        " · ",
                        h["sex"],
                        " · ",
                        h["age"],
                        " · NIK ",
                        h["nik"],
                        size="2",
                        color=_MUTED,
                    ),  # fmt: skip
                    spacing="1",
                    min_width="0",
                    flex="1",
                ),
                rx.vstack(
                    _status_badge(S.status, h["status_label"]),
                    rx.cond(S.is_complete, sync_badge(S.sync_status)),
                    align="end",
                    spacing="1",
                ),
                align="center",
                spacing="3",
                width="100%",
            ),
            rx.text(
                h["unit_name"],
                " · ",
                h["room_name"],
                " · ",
                h["doctor_name"],
                " · ",
                h["payer"],
                size="2",
            ),  # fmt: skip
            rx.flex(
                rx.text("Datang ", rx.text.strong(h["arrived_time"]), size="2"),
                rx.text("Mulai periksa ", rx.text.strong(h["exam_started_time"]), size="2"),
                rx.text("Selesai ", rx.text.strong(h["completed_time"]), size="2"),
                spacing="4",
                wrap="wrap",
                id="exam-times",
            ),
            rx.cond(
                (S.status == "registered") & S.can_vitals,
                rx.button(
                    rx.icon("play", size=16),
                    "Mulai periksa",
                    on_click=S.start_exam,
                    size="3",
                    id="exam-start",
                ),
            ),
            rx.cond(
                S.is_complete & S.can_edit_record,
                rx.callout(
                    "Kunjungan sudah selesai. Sebagai admin Anda masih dapat mengubahnya; "
                    "perubahan tanda vital dan diagnosis dikirim ke SATUSEHAT sebagai koreksi "
                    "(Encounter yang sama).",
                    icon="shield",
                    color_scheme="amber",
                    size="1",
                    id="exam-admin-edit",
                ),
            ),
            rx.cond(
                S.is_complete & ~S.can_edit_record,
                rx.callout(
                    "Kunjungan sudah selesai; pemeriksaan hanya dapat diubah oleh admin.",
                    icon="lock",
                    color_scheme="gray",
                    size="1",
                    id="exam-locked",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="exam-header",
    )


def _vital_input(field: str, label: str, unit: str, keyboard: str) -> rx.Component:
    return labelled(
        label,
        rx.input(
            rx.input.slot(rx.text(unit, size="2", color=_MUTED), side="right"),
            value=S.vitals[field],
            on_change=lambda v: S.set_vital(field, v),
            input_mode=keyboard,
            size="3",
            width="100%",
            read_only=~(S.can_vitals & S.can_change),
            id=f"vital-{field}",
        ),
        field_error(S.vitals_errors, field),
    )


def _vitals() -> rx.Component:
    return _section(
        "Tanda vital",
        "vitals",
        rx.grid(
            *[_vital_input(*v) for v in _VITALS],
            columns=rx.breakpoints(initial="2", sm="4"),
            spacing="3",
            width="100%",
        ),
        field_error(S.vitals_errors, VITALS_EMPTY),
        field_error(S.vitals_errors, STALE_ERROR),
        rx.hstack(
            rx.cond(
                S.can_vitals & S.can_change,
                rx.button("Simpan tanda vital", on_click=S.save_vitals, size="3", id="vitals-save"),
            ),
            rx.cond(
                S.vitals_time != "",
                rx.text("Diukur pukul ", S.vitals_time, size="2", color=_MUTED),
            ),
            align="center",
            spacing="3",
        ),
    )


def _soap_area(field: str, label: str, placeholder: str) -> rx.Component:
    return labelled(
        label,
        rx.text_area(
            value=S.soap[field],
            on_change=lambda v: S.set_soap(field, v),
            placeholder=placeholder,
            size="3",
            rows="3",
            width="100%",
            read_only=~(S.can_medical & S.can_change),
            id=f"soap-{field}",
        ),
        field_error(S.soap_errors, field),
    )


def _soap() -> rx.Component:
    return _section(
        "SOAP",
        "soap",
        rx.cond(~S.can_medical, rx.text("Diisi oleh dokter.", size="2", color=_MUTED)),
        rx.grid(
            *[_soap_area(*s) for s in _SOAP],
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        field_error(S.soap_errors, STALE_ERROR),
        rx.cond(
            S.can_medical & S.can_change,
            rx.button("Simpan SOAP", on_click=S.save_soap, size="3", id="soap-save"),
        ),
    )


def _names(item: rx.Var, size: str) -> rx.Component:
    """The name staff read (Indonesian when the code is listed) and the English under it."""
    return rx.vstack(
        rx.text(item["display"], size=size),
        rx.cond(
            item["english"] != "",
            rx.text(item["english"], size="1", color=_MUTED, class_name="english-name"),
        ),
        spacing="0",
        flex="1",
        min_width="0",
    )


def _icd_result(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.badge(item["code"], size="2", variant="surface", min_width="64px"),
        _names(item, "2"),
        rx.cond(
            item["taken"] == "1",
            rx.text("sudah dipilih", size="1", color=_MUTED),
            rx.icon("plus", size=18, color=styles.accent_text),
        ),
        on_click=S.add_diagnosis(item["code"]),
        id="icd-result-" + item["code"],
        class_name="icd-result",
        align="center",
        spacing="3",
        width="100%",
        min_height=styles.TOUCH_HEIGHT,
        padding_x="10px",
        border_radius="8px",
        cursor="pointer",
        _hover={"background": rx.color("accent", 3)},
    )


def _icd_subcode(item: rx.Var) -> rx.Component:
    return rx.button(
        item["code"] + " " + item["display"],
        on_click=S.add_diagnosis(item["code"]),
        size="2",
        variant="soft",
        min_height=styles.TOUCH_HEIGHT,
        white_space="normal",
        text_align="left",
        id="icd-subcode-" + item["code"],
    )


def _icd_category_warning() -> rx.Component:
    """A category that has subcodes: SATUSEHAT flags it, so the subcodes are offered first."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.vstack(
            rx.text(
                "Kode ", S.icd_category,
                " adalah kategori; pilih subkode yang lebih spesifik:", size="2",
            ),
            rx.flex(rx.foreach(S.icd_subcodes, _icd_subcode), wrap="wrap", spacing="2"),
            rx.button(
                "Tetap pakai " + S.icd_category,
                on_click=S.add_diagnosis(S.icd_category),
                size="2",
                variant="outline",
                color_scheme="orange",
                min_height=styles.TOUCH_HEIGHT,
                id="icd-keep-category",
            ),
            spacing="2",
            width="100%",
        ),
        color_scheme="orange",
        width="100%",
        id="icd-category-warning",
    )  # fmt: skip


def _diagnosis_row(d: rx.Var) -> rx.Component:
    primary = d["primary"] == "1"
    return rx.hstack(
        rx.cond(
            primary,
            rx.badge("Utama", color_scheme="green", size="2"),
            rx.badge("Sekunder", color_scheme="gray", size="2"),
        ),
        rx.text(d["code"], weight="bold", size="3", min_width="56px"),
        _names(d, "2"),
        rx.cond(
            S.can_medical & S.can_change,
            rx.hstack(
                rx.cond(
                    ~primary,
                    rx.button(
                        "Jadikan utama",
                        on_click=S.set_primary(d["id"]),
                        size="2",
                        variant="soft",
                        min_height=styles.TOUCH_HEIGHT,
                        id="diagnosis-primary-" + d["code"],
                    ),
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=18),
                    on_click=S.remove_diagnosis(d["id"]),
                    size="3",
                    variant="soft",
                    color_scheme="red",
                    aria_label="Hapus diagnosis",
                    id="diagnosis-remove-" + d["code"],
                ),
                spacing="2",
            ),
        ),
        id="diagnosis-" + d["code"],
        class_name="diagnosis-row",
        data_rank=d["rank"],
        align="center",
        spacing="3",
        width="100%",
        padding_y="4px",
    )


def _diagnoses() -> rx.Component:
    return _section(
        "Diagnosis ICD-10",
        "diagnosis",
        rx.cond(
            S.diagnoses.length() > 0,
            rx.vstack(rx.foreach(S.diagnoses, _diagnosis_row), spacing="1", width="100%"),
            rx.text("Belum ada diagnosis.", size="2", color=_MUTED, id="diagnosis-empty"),
        ),
        rx.cond(
            S.can_medical & S.can_change,
            rx.vstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    value=S.icd_query,
                    on_change=S.search_icd,
                    debounce_timeout=300,
                    placeholder="Cari nama, singkatan atau kode (mis. ispa, demam tifoid, DM, J06)",
                    size="3",
                    width="100%",
                    id="icd-search",
                ),
                rx.cond(
                    S.icd_error != "",
                    rx.text(S.icd_error, color="red", size="2", id="error-icd10"),
                ),
                rx.cond(S.icd_category != "", _icd_category_warning()),
                rx.cond(
                    S.icd_results.length() > 0,
                    rx.vstack(
                        rx.foreach(S.icd_results, _icd_result),
                        spacing="0",
                        width="100%",
                        max_height="360px",
                        overflow_y="auto",
                        border=styles.border,
                        border_radius="8px",
                        padding="4px",
                        id="icd-results",
                    ),
                    rx.cond(
                        S.icd_query.length() > 1,
                        rx.text("Tidak ada kode yang cocok.", size="2", color=_MUTED),
                    ),
                ),
                spacing="2",
                width="100%",
            ),
        ),
    )


def _small_input(form: rx.Var, setter, errors: rx.Var, prefix: str, field: str, label: str,
                 placeholder: str = "", **props) -> rx.Component:  # fmt: skip
    return labelled(
        label,
        rx.input(
            value=form[field],
            on_change=lambda v: setter(field, v),
            placeholder=placeholder,
            size="3",
            width="100%",
            id=f"{prefix}-{field}",
            **props,
        ),
        field_error(errors, field),
    )


def _line_remove(handler, row_id: rx.Var, element_id: rx.Var, label: str) -> rx.Component:  # noqa: ANN001
    return rx.cond(
        S.can_medical & S.can_change,
        rx.icon_button(
            rx.icon("trash-2", size=18),
            on_click=handler(row_id),
            size="3",
            variant="soft",
            color_scheme="red",
            aria_label=label,
            id=element_id,
        ),
    )


def _procedure_row(p: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(
            p["code"] != "",
            rx.badge(p["code"], size="2", variant="surface"),
            rx.badge("tanpa kode", size="2", color_scheme="gray"),
        ),
        rx.vstack(
            rx.text(p["description"], size="3", weight="medium"),
            rx.cond(p["note"] != "", rx.text(p["note"], size="2", color=_MUTED)),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        _line_remove(S.remove_procedure, p["id"], "procedure-remove-" + p["id"], "Hapus tindakan"),
        align="center",
        spacing="3",
        width="100%",
        id="procedure-" + p["id"],
    )


def _lines_section(
    title: str,
    anchor: str,
    lines: rx.Var,
    line: Callable[[rx.Var], rx.Component],
    empty: str,
    form: list[rx.Component],
    add: tuple[str, rx.EventHandler, str],
) -> rx.Component:
    """Procedures or prescriptions: the lines (or that there are none), then the form that
    adds one (for a doctor while the visit can change). `add`: label, handler, element id."""
    label, on_add, add_id = add
    return _section(
        title,
        anchor,
        rx.cond(
            lines.length() > 0,
            rx.vstack(rx.foreach(lines, line), spacing="2", width="100%"),
            rx.text(empty, size="2", color=_MUTED),
        ),
        rx.cond(
            S.can_medical & S.can_change,
            rx.vstack(
                *form,
                rx.button(
                    rx.icon("plus", size=16),
                    label,
                    on_click=on_add,
                    size="3",
                    variant="soft",
                    id=add_id,
                ),
                spacing="2",
                width="100%",
            ),
        ),
    )


def _procedure_result(item: rx.Var) -> rx.Component:
    """A clinic's own procedure (its tariff name, "Tindakan klinik") or an ICD-9-CM one."""
    return rx.hstack(
        rx.cond(
            item["code"] != "",
            rx.badge(item["code"], size="2", variant="surface", min_width="64px"),
            rx.badge("tanpa kode", size="2", color_scheme="gray", min_width="64px"),
        ),
        _names(item, "2"),
        rx.cond(
            item["clinic"] == "1",
            rx.badge("Tindakan klinik", size="1", color_scheme="green", variant="soft"),
        ),
        rx.icon("plus", size=18, color=styles.accent_text),
        on_click=S.pick_procedure(item["key"]),
        id="procedure-result-" + item["key"],
        class_name=rx.cond(item["clinic"] == "1", "procedure-result clinic", "procedure-result"),
        align="center",
        spacing="3",
        width="100%",
        min_height=styles.TOUCH_HEIGHT,
        padding_x="10px",
        border_radius="8px",
        cursor="pointer",
        _hover={"background": rx.color("accent", 3)},
    )


def _procedure_search() -> rx.Component:
    """Search the clinic's own procedures and ICD-9-CM; a result fills the code and the
    name."""
    return rx.vstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            value=S.procedure_query,
            on_change=S.search_procedure,
            debounce_timeout=300,
            placeholder="Cari tindakan atau kode (mis. hecting, nebulizer, cabut gigi, 86.59)",
            size="3",
            width="100%",
            id="procedure-search",
        ),
        rx.cond(
            S.procedure_results.length() > 0,
            rx.vstack(
                rx.foreach(S.procedure_results, _procedure_result),
                spacing="0",
                width="100%",
                max_height="320px",
                overflow_y="auto",
                border=styles.border,
                border_radius="8px",
                padding="4px",
                id="procedure-results",
            ),
            rx.cond(
                S.procedure_query.length() > 1,
                rx.text(
                    "Tidak ditemukan di tindakan klinik maupun ICD-9-CM. "
                    "Tulis nama tindakannya tanpa kode.",
                    size="2",
                    color=_MUTED,
                ),
            ),
        ),
        spacing="2",
        width="100%",
    )


def _procedures() -> rx.Component:
    field = lambda name, label, hint="", **kw: _small_input(  # noqa: E731
        S.procedure_form, S.set_procedure_field, S.procedure_errors, "procedure", name, label,
        hint, **kw,
    )  # fmt: skip
    form = rx.grid(
        field("code", "Kode ICD-9-CM (bila tahu)", "mis. 86.59"),
        field("description", "Tindakan", "mis. Penjahitan luka"),
        field("note", "Catatan", ""),
        columns=rx.breakpoints(initial="1", sm="3"),
        spacing="3",
        width="100%",
    )
    return _lines_section(
        "Tindakan",
        "procedures",
        S.procedures,
        _procedure_row,
        "Belum ada tindakan.",
        [_procedure_search(), form],
        ("Tambah tindakan", S.add_procedure, "procedure-add"),
    )


def _blocker(b: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon("circle-alert", size=18, color=rx.color("red", 10), flex_shrink="0"),
        rx.text(b["message"], size="2", flex="1", min_width="0"),
        rx.link(
            rx.button(b["link_label"], size="2", variant="outline", min_height=styles.TOUCH_HEIGHT),
            href=b["link"],
            underline="none",
            flex_shrink="0",
        ),
        align="center",
        spacing="3",
        width="100%",
        class_name="exam-blocker",
        data_key=b["key"],
    )


def _sync_status() -> rx.Component:
    return rx.vstack(
        rx.match(
            S.sync_status,
            (
                "sending",
                rx.vstack(
                    rx.hstack(
                        rx.spinner(size="2"),
                        rx.text("Mengirim ke SATUSEHAT...", size="3", weight="medium"),
                        align="center",
                    ),
                    rx.cond(
                        S.key_refused,
                        rx.vstack(
                            rx.text(
                                S.sync_hint,
                                size="2",
                                color=rx.color("red", 11),
                                id="exam-key-refused",
                            ),
                            fix_link(S.sync_link, S.sync_link_label, "exam-sync-fix"),
                            spacing="1",
                        ),
                        rx.cond(
                            S.sync_waiting != "",
                            rx.text(
                                S.sync_waiting,
                                "...",
                                size="2",
                                color=_MUTED,
                                id="exam-sync-waiting",
                            ),
                        ),
                    ),
                    rx.text(
                        "Halaman tidak perlu ditunggu; hasilnya muncul sendiri di sini.",
                        size="1",
                        color=_MUTED,
                    ),
                    spacing="1",
                ),
            ),
            (
                "sent",
                rx.hstack(
                    rx.icon("circle-check", color=rx.color("green", 10)),
                    rx.text("Terkirim ke SATUSEHAT. Encounter:", size="3"),
                    rx.code(S.encounter_id, size="3", id="exam-encounter-id"),
                    align="center",
                    wrap="wrap",
                ),
            ),
            (
                "failed",
                rx.vstack(
                    rx.text("Gagal dikirim ke SATUSEHAT:", size="3", weight="medium"),
                    rx.text(S.sync_hint, size="2", color=rx.color("red", 11), id="exam-sync-error"),
                    fix_link(S.sync_link, S.sync_link_label, "exam-sync-fix"),
                    error_detail(S.sync_detail, "exam-sync-detail"),
                    rx.cond(
                        S.can_resend,
                        rx.button(
                            rx.icon("refresh-cw", size=16),
                            "Kirim ulang",
                            on_click=S.resend,
                            size="3",
                            color_scheme="orange",
                            id="exam-resend",
                        ),
                    ),
                    spacing="2",
                    align="start",
                ),
            ),
            rx.text("Belum dikirim ke SATUSEHAT.", size="2", color=_MUTED),
        ),
        id="exam-sync-status",
        data_status=S.sync_status,
        width="100%",
    )


def _finish() -> rx.Component:
    return _section(
        "Selesai",
        "finish",
        rx.cond(
            S.blockers.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("list-checks")),
                rx.vstack(
                    rx.text("Sebelum selesai, lengkapi dulu:", weight="bold"),
                    rx.foreach(S.blockers, _blocker),
                    spacing="2",
                    width="100%",
                ),
                color_scheme="red",
                width="100%",
                id="exam-blockers",
            ),
        ),
        rx.cond(
            S.is_complete,
            _sync_status(),
            rx.cond(
                S.can_complete,
                rx.button(
                    rx.icon("check-check", size=18),
                    "Selesai",
                    on_click=S.complete,
                    size="4",
                    width="100%",
                    color_scheme="green",
                    id="exam-complete",
                ),
                rx.text(
                    "Dokter menekan Selesai setelah pemeriksaan lengkap.", size="2", color=_MUTED
                ),
            ),
        ),
    )


def _visit() -> rx.Component:
    return rx.vstack(
        rx.button(
            rx.icon("arrow-left", size=16),
            "Daftar pasien hari ini",
            on_click=S.close_visit,
            variant="soft",
            size="3",
            id="exam-back",
        ),
        _header(),
        allergy_section(),
        _vitals(),
        _soap(),
        _diagnoses(),
        _procedures(),
        prescriptions_section(),
        _finish(),
        visit_documents(
            S.visit_id,
            S.can_medical,
            (S.status == "in_examination") | (S.status == "complete"),
        ),
        spacing="4",
        width="100%",
        id="exam-visit",
    )


@page(route=routes.PEMERIKSAAN, title="Pemeriksaan", shell="Pemeriksaan", on_load=S.load)
def examination_page() -> rx.Component:
    return rx.cond(S.visit_id != 0, _visit(), _queue())
