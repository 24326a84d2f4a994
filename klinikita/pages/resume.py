"""Resume: a patient's visits as cards, newest first, with a clean print layout (layout only)."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.allergy_banner import allergy_banner
from klinikita.components.data_table import list_pager
from klinikita.components.page import page
from klinikita.components.sync_badge import error_detail
from klinikita.models.clinical import VisitStatus
from klinikita.state.auth import AuthState
from klinikita.state.resume import ResumeState as S

_MUTED = rx.color("gray", 11)
_STATUS_COLORS = {
    VisitStatus.REGISTERED.value: "gray",
    VisitStatus.IN_EXAMINATION.value: "blue",
    VisitStatus.COMPLETE.value: "green",
    VisitStatus.CANCELLED.value: "red",
}


def _search() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                value=S.search_term,
                on_change=S.set_search_term,
                on_key_down=S.search_on_enter,
                placeholder="Cari pasien: nama, No. RM, NIK atau tgl lahir (25-11-1990)",
                size="3",
                flex="1",
                min_width="240px",
                id="resume-patient-search",
            ),
            rx.button("Cari", on_click=S.search, size="3", id="resume-patient-search-button"),
            spacing="2",
            width="100%",
            wrap="wrap",
        ),
        rx.cond(
            S.search_problem != "",
            rx.text(S.search_problem, size="2", color=rx.color("amber", 11)),
        ),
        rx.foreach(
            S.results,
            lambda r: rx.card(
                rx.hstack(
                    rx.vstack(
                        rx.text(r["name"], weight="medium"),
                        rx.text(
                            "No. RM ",
                            r["mrn"],
                            " · NIK ",
                            r["nik"],
                            " · ",
                            r["birth_date"],
                            " · ",
                            r["sex"],
                            size="2",
                            color=_MUTED,
                        ),
                        spacing="0",
                        min_width="0",
                    ),
                    rx.spacer(),
                    rx.icon("chevron-right", size=18),
                    align="center",
                    width="100%",
                ),
                on_click=S.pick_patient(r["id"]),
                cursor="pointer",
                width="100%",
                min_height="44px",
                _hover={"background": rx.color("accent", 2)},
                id="resume-patient-result-" + r["id"],
            ),
        ),
        rx.cond(
            S.searched & (S.results.length() == 0) & (S.search_problem == ""),
            rx.callout(
                "Tidak ada pasien yang cocok.",
                icon="search-x",
                color_scheme="gray",
                id="resume-no-match",
            ),
        ),
        rx.cond(
            ~S.searched,
            rx.text(
                "Pilih pasien untuk melihat riwayat kunjungannya.",
                size="2",
                color=_MUTED,
            ),
        ),
        spacing="2",
        width="100%",
        class_name="no-print",
    )


def _scope_note() -> rx.Component:
    """On screen and on paper: what this resume leaves out for the active duty."""
    return rx.cond(
        S.show_clinical,
        rx.fragment(),
        rx.text(
            rx.cond(
                S.show_prescriptions,
                "Resep saja: SOAP, diagnosis, tanda vital dan tindakan hanya untuk "
                "tenaga kesehatan.",
                "Data administrasi saja: isi klinis hanya untuk tenaga kesehatan.",
            ),
            size="1",
            color=_MUTED,
            id="resume-scope-note",
        ),
    )


def _patient_header() -> rx.Component:
    p = S.patient
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading(p["name"], size="5", id="resume-patient-name"),
                rx.text(
                    "No. RM ",
                    rx.text.strong(p["mrn"]),
                    " · NIK ",
                    p["nik"],
                    " · ",
                    p["birth_date"],
                    " · ",
                    p["sex"],
                    size="2",
                ),
                rx.text("IHS: ", p["ihs_number"], " · ", S.total, " kunjungan", size="2"),
                _scope_note(),
                rx.cond(S.show_clinical | S.show_prescriptions, allergy_banner(S.allergies)),
                spacing="1",
                min_width="0",
            ),
            rx.spacer(),
            rx.hstack(
                rx.cond(
                    S.show_clinical,
                    rx.button(
                        rx.icon("printer", size=16),
                        "Cetak",
                        on_click=S.print_with_letterhead,
                        size="3",
                        id="resume-print",
                    ),
                    rx.button(
                        rx.icon("printer", size=16),
                        "Cetak",
                        on_click=S.print_page,
                        size="3",
                        id="resume-print",
                    ),
                ),
                rx.button(
                    "Ganti pasien",
                    on_click=S.change_patient,
                    size="3",
                    variant="soft",
                    color_scheme="gray",
                    id="resume-change-patient",
                ),
                spacing="2",
                class_name="no-print",
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
        class_name="print-card",
        id="resume-patient",
    )


def _section(title: str, body: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color=_MUTED, text_transform="uppercase"),
        body,
        spacing="1",
        width="100%",
    )


def _encounter(card: rx.Var) -> rx.Component:
    vid = card.visit_id.to_string()
    return rx.box(
        rx.cond(
            card.encounter_id != "",
            rx.vstack(
                rx.text("Encounter SATUSEHAT", size="1", color=_MUTED),
                rx.code(card.encounter_id, size="1", variant="ghost", word_break="break-all"),
                spacing="0",
            ),
            rx.vstack(
                rx.text("SATUSEHAT: ", card.sync_label, size="1", color=_MUTED),
                rx.cond(
                    card.sync_error != "",
                    rx.text(card.sync_error, size="1", color=rx.color("red", 11)),
                ),
                error_detail(card.sync_detail),
                spacing="0",
            ),
        ),
        rx.foreach(
            card.resource_ids,
            lambda r: rx.vstack(
                rx.text(r.label, size="1", color=_MUTED),
                rx.code(r.value, size="1", variant="ghost", word_break="break-all"),
                spacing="0",
            ),
        ),
        id="resume-encounter-" + vid,
        data_sync_status=card.sync_status,
        width="100%",
    )


def _date_column(card: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(card.date_text, weight="bold", size="3"),
        rx.text(card.time_text, size="2", color=_MUTED),
        rx.badge(
            card.status_label,
            color_scheme=rx.match(card.status, *_STATUS_COLORS.items(), "gray"),
            size="2",
        ),
        _encounter(card),
        spacing="1",
        width=rx.breakpoints(initial="100%", sm="180px"),
        min_width=rx.breakpoints(initial="0", sm="180px"),
        align="start",
        class_name="resume-date-column",
    )


def _diagnoses(card: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.foreach(
            card.diagnoses,
            lambda d: rx.hstack(
                rx.code(d.code, size="2", variant="soft"),
                rx.vstack(
                    rx.text(d.display, size="2"),
                    rx.cond(
                        d.english != "",
                        rx.text(d.english, size="1", color=rx.color("gray", 11)),
                    ),
                    spacing="0",
                ),
                rx.cond(d.primary, rx.badge("utama", size="1", variant="outline")),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
        ),
        spacing="1",
    )


def _vitals(card: rx.Var) -> rx.Component:
    return rx.flex(
        rx.foreach(
            card.vitals,
            lambda v: rx.text(
                rx.text.span(v.label, ": ", color=_MUTED), v.value, size="2", white_space="nowrap"
            ),
        ),
        spacing="4",
        wrap="wrap",
        row_gap="4px",
    )


def _soap(card: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.foreach(
            card.soap,
            lambda s: rx.text(
                rx.text.strong(s.label, ": "), s.value, size="2", white_space="pre-wrap"
            ),
        ),
        spacing="1",
        width="100%",
    )


def _lines(items: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.foreach(items, lambda line: rx.text("• ", line, size="2")),
        spacing="0",
    )


def _visit_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.flex(
            _date_column(card),
            rx.vstack(
                rx.text(
                    rx.text.strong(card.unit),
                    " · ",
                    card.room,
                    " · ",
                    card.doctor,
                    " · ",
                    card.payer,
                    " · antrean ",
                    card.queue_number,
                    size="2",
                ),
                rx.cond(
                    card.cancel_reason != "",
                    rx.text("Alasan batal: ", card.cancel_reason, size="2", color=_MUTED),
                ),
                rx.cond(card.diagnoses.length() > 0, _section("Diagnosis", _diagnoses(card))),
                rx.cond(card.vitals.length() > 0, _section("Tanda vital", _vitals(card))),
                rx.cond(card.soap.length() > 0, _section("SOAP", _soap(card))),
                rx.cond(
                    card.procedures.length() > 0, _section("Tindakan", _lines(card.procedures))
                ),
                rx.cond(
                    card.prescriptions.length() > 0, _section("Resep", _lines(card.prescriptions))
                ),
                rx.cond(card.allergies.length() > 0, _section("Alergi", _lines(card.allergies))),
                spacing="3",
                flex="1",
                min_width="0",
                width="100%",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="4",
            width="100%",
            class_name="resume-card-body",
        ),
        width="100%",
        class_name="print-card",
        id="resume-visit-" + card.visit_id.to_string(),
    )


def _print_heading() -> rx.Component:
    """Only on paper: whose record, from which branch, which page of it."""
    return rx.text(
        "Resume pasien · ",
        AuthState.branch_name,
        " · halaman ",
        S.page,
        " dari ",
        S.page_count,
        " (kunjungan terbaru dahulu)",
        size="2",
        class_name="print-only",
    )


def _history() -> rx.Component:
    return rx.vstack(
        _print_heading(),
        _patient_header(),
        rx.cond(
            S.cards.length() > 0,
            rx.vstack(rx.foreach(S.cards, _visit_card), spacing="3", width="100%"),
            rx.callout(
                "Pasien ini belum punya kunjungan di cabang ini.",
                icon="calendar-x",
                color_scheme="gray",
                id="resume-empty",
            ),
        ),
        rx.box(
            list_pager(S, "resume-pager"),
            width="100%",
            class_name="no-print",
        ),
        spacing="3",
        width="100%",
    )


@page(route=routes.RESUME, title="Resume", shell="Resume", on_load=S.load)
def resume_page() -> rx.Component:
    return rx.cond(S.patient_id != 0, _history(), _search())
