"""An open visit's letters: "Surat keterangan sakit" and "Surat rujukan" (doctors), "Cetak
resep" once the visit has prescription lines, the documents already issued for it with
their print pages, and the dialog that issues a letter."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.forms import field_error, labelled
from klinikita.services.print_render import REFERRAL, SICK_LEAVE
from klinikita.state.documents import DocumentIssueState as D
from klinikita.state.examination import ExaminationState

_MUTED = rx.color("gray", 11)


def _input(field: str, placeholder: str = "", **props) -> rx.Component:
    return rx.input(
        value=D.issue_form[field],
        on_change=lambda v: D.set_issue_field(field, v),
        placeholder=placeholder,
        size="3",
        width="100%",
        id=f"document-{field}",
        **props,
    )


def _sick_leave_fields() -> rx.Component:
    return rx.vstack(
        rx.grid(
            labelled(
                "Istirahat mulai",
                _input("start", "hh/bb/tttt", max_length=10),
                field_error(D.issue_errors, "start"),
            ),
            labelled(
                "Sampai dengan",
                _input("end", "hh/bb/tttt", max_length=10),
                field_error(D.issue_errors, "end"),
            ),
            columns="2",
            spacing="3",
            width="100%",
        ),
        rx.el.label(
            rx.hstack(
                rx.checkbox(
                    checked=D.include_diagnosis,
                    on_change=D.set_include_diagnosis,
                    size="3",
                    id="document-include-diagnosis",
                ),
                rx.text("Cantumkan diagnosis di surat", size="3"),
                align="center",
                min_height="44px",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _referral_fields() -> rx.Component:
    return rx.vstack(
        labelled(
            "Fasilitas tujuan (RS, puskesmas, klinik)",
            _input("destination", max_length=150),
            field_error(D.issue_errors, "destination"),
        ),
        labelled(
            "Poli / dokter spesialis tujuan",
            _input("destination_unit", max_length=100),
            field_error(D.issue_errors, "destination_unit"),
        ),
        labelled(
            "Alasan dirujuk",
            rx.text_area(
                value=D.issue_form["reason"],
                on_change=lambda v: D.set_issue_field("reason", v),
                rows="4",
                size="3",
                width="100%",
                id="document-reason",
            ),
            field_error(D.issue_errors, "reason"),
        ),
        rx.text(
            "Diagnosis, anamnesis, hasil pemeriksaan dan terapi diambil dari rekam medis "
            "kunjungan ini.",
            size="2",
            color=_MUTED,
        ),
        spacing="3",
        width="100%",
    )


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(D.issue_kind == SICK_LEAVE.code, SICK_LEAVE.title, REFERRAL.title)
            ),
            rx.vstack(
                rx.cond(D.issue_kind == SICK_LEAVE.code, _sick_leave_fields(), _referral_fields()),
                field_error(D.issue_errors, "visit"),
                rx.hstack(
                    rx.button(
                        "Batal",
                        on_click=D.close_issue,
                        variant="soft",
                        color_scheme="gray",
                        size="3",
                        id="document-cancel",
                    ),
                    rx.button("Buat & cetak", on_click=D.issue, size="3", id="document-issue"),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            max_width="520px",
        ),
        open=D.issue_kind != "",
        on_open_change=lambda _open: D.close_issue(),
    )


def _issued(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(row["title"], " ", rx.code(row["number"], variant="ghost"), size="2"),
            rx.text(
                row["issued_at"],
                rx.cond(row["printed"] != "0", " · dicetak " + row["printed"] + "x", ""),
                size="1",
                color=_MUTED,
            ),
            spacing="0",
        ),
        rx.spacer(),
        rx.link(
            rx.button(rx.icon("printer", size=16), "Buka", variant="soft", size="3"),
            href=routes.CETAK + "?dok=" + row["id"],
        ),
        width="100%",
        align="center",
        id="document-row-" + row["id"],
    )


def visit_documents(visit_id: rx.Var, can_issue: rx.Var, examined: rx.Var) -> rx.Component:
    """The section of the exam page: buttons for the doctor (the resep's once the exam
    page lists prescription lines), the visit's issued documents."""
    return rx.card(
        rx.vstack(
            rx.heading("Surat", size="4"),
            rx.cond(
                can_issue & examined,
                rx.flex(
                    rx.button(
                        rx.icon("file-text", size=16),
                        "Surat keterangan sakit",
                        on_click=D.open_issue(SICK_LEAVE.code, visit_id),
                        size="3",
                        variant="soft",
                        id="document-new-sks",
                    ),
                    rx.button(
                        rx.icon("send", size=16),
                        "Surat rujukan",
                        on_click=D.open_issue(REFERRAL.code, visit_id),
                        size="3",
                        variant="soft",
                        id="document-new-rujukan",
                    ),
                    rx.cond(
                        ExaminationState.prescriptions.length() > 0,
                        rx.button(
                            rx.icon("printer", size=16),
                            "Cetak resep",
                            on_click=D.issue_prescription(visit_id),
                            size="3",
                            variant="soft",
                            id="document-print-resep",
                        ),
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                rx.text("Surat dibuat dokter setelah pemeriksaan dimulai.", size="2", color=_MUTED),
            ),
            rx.foreach(D.visit_documents, _issued),
            _dialog(),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="letters",
        on_mount=D.show_documents(visit_id),
    )
