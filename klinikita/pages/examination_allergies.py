"""The Alergi section at the top of an open visit on the Pemeriksaan page (layout only)."""

from __future__ import annotations

import reflex as rx

from klinikita.components.allergy_banner import allergy_banner
from klinikita.components.forms import field_error, labelled
from klinikita.state.examination import ExamAllergyState as A

_MUTED = rx.color("gray", 11)
_SEVERITIES = (("ringan", "Ringan"), ("sedang", "Sedang"), ("berat", "Berat"))


def _row(allergy: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(allergy["display"], size="3", weight="medium"),
            rx.text(
                allergy["category"],
                rx.cond(allergy["severity_label"] != "", " · " + allergy["severity_label"], ""),
                rx.cond(allergy["reaction"] != "", " · " + allergy["reaction"], ""),
                size="2",
                color=_MUTED,
            ),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            A.can_allergy & A.can_change,
            rx.button(
                "Cabut",
                on_click=A.ask_withdraw_allergy(allergy["id"]),
                size="3",
                variant="soft",
                color_scheme="red",
                id="allergy-withdraw-" + allergy["id"],
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
        id="allergy-" + allergy["id"],
    )


def _withdraw_form() -> rx.Component:
    return rx.cond(
        A.allergy_withdrawing != "",
        rx.hstack(
            labelled(
                "Alasan mencabut",
                rx.input(
                    value=A.allergy_form["reason"],
                    on_change=lambda v: A.set_allergy_field("reason", v),
                    placeholder="mis. salah catat",
                    size="3",
                    width="100%",
                    id="allergy-reason",
                ),
                field_error(A.allergy_errors, "reason"),
            ),
            rx.button(
                "Cabut alergi",
                on_click=A.withdraw_allergy,
                size="3",
                color_scheme="red",
                id="allergy-withdraw-confirm",
            ),  # fmt: skip
            align="end",
            spacing="2",
            width="100%",
        ),
    )


def _drug_result(item: rx.Var) -> rx.Component:
    return rx.button(
        item["name"],
        rx.cond(item["kfa"] != "", " · KFA " + item["kfa"], " · tanpa KFA"),
        on_click=A.pick_allergy_drug(item["id"], item["name"]),
        variant="ghost",
        size="3",
        width="100%",
        justify="start",
        id="allergy-drug-" + item["id"],
    )


def _form() -> rx.Component:
    kind = A.allergy_form["kind"]
    what = rx.cond(
        kind == "drug",
        labelled(
            "Obat (dari daftar obat cabang)",
            rx.vstack(
                rx.input(
                    value=A.allergy_form["item_name"],
                    on_change=A.search_allergy_drug,
                    debounce_timeout=300,
                    placeholder="Ketik nama obat",
                    size="3",
                    width="100%",
                    id="allergy-drug-search",
                ),
                rx.vstack(rx.foreach(A.allergy_drugs, _drug_result), spacing="1", width="100%"),
                spacing="1",
                width="100%",
            ),
            field_error(A.allergy_errors, "item_id"),
        ),
        labelled(
            "Alergen",
            rx.select.root(
                rx.select.trigger(placeholder="Pilih alergen", width="100%", id="allergy-allergen"),
                rx.select.content(
                    rx.foreach(
                        A.allergy_options,
                        lambda o: rx.select.item(
                            o["label"] + " (" + o["category"] + ")", value=o["key"]
                        ),
                    )  # fmt: skip
                ),
                value=A.allergy_form["allergen"],
                on_change=lambda v: A.set_allergy_field("allergen", v),
                size="3",
            ),
            field_error(A.allergy_errors, "allergen"),
        ),
    )
    return rx.vstack(
        rx.segmented_control.root(
            rx.segmented_control.item("Alergen umum", value="substance"),
            rx.segmented_control.item("Obat", value="drug"),
            value=kind,
            on_change=lambda v: A.set_allergy_field("kind", v),
            size="3",
            id="allergy-kind",
        ),
        what,
        rx.grid(
            labelled(
                "Reaksi",
                rx.input(
                    value=A.allergy_form["reaction"],
                    on_change=lambda v: A.set_allergy_field("reaction", v),
                    placeholder="mis. gatal, ruam, sesak",
                    size="3",
                    width="100%",
                    id="allergy-reaction",
                ),
                field_error(A.allergy_errors, "reaction"),
            ),
            labelled(
                "Keparahan",
                rx.select.root(
                    rx.select.trigger(placeholder="Pilih", width="100%", id="allergy-severity"),
                    rx.select.content(
                        *[rx.select.item(label, value=value) for value, label in _SEVERITIES]
                    ),
                    value=A.allergy_form["severity"],
                    on_change=lambda v: A.set_allergy_field("severity", v),
                    size="3",
                ),
                field_error(A.allergy_errors, "severity"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.button(
                rx.icon("plus", size=16),
                "Catat alergi",
                on_click=A.record_allergy,
                size="3",
                variant="soft",
                id="allergy-add",
            ),  # fmt: skip
            rx.cond(
                A.allergy_status != "allergies",
                rx.button(
                    "Tidak ada alergi",
                    on_click=A.record_no_allergy,
                    size="3",
                    variant="outline",
                    color_scheme="gray",
                    id="allergy-none",
                ),  # fmt: skip
            ),
            field_error(A.allergy_errors, "kind"),
            spacing="2",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )


def allergy_section() -> rx.Component:
    """Alergi: the banner, the active allergies (withdraw one with a reason) and the form."""
    return rx.card(
        rx.vstack(
            rx.heading("Alergi", size="4"),
            allergy_banner(A.allergies),
            rx.cond(
                A.allergy_status == "allergies",
                rx.vstack(rx.foreach(A.allergies, _row), spacing="2", width="100%"),
            ),
            _withdraw_form(),
            rx.cond(A.can_allergy & A.can_change, _form()),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="allergies",
        on_mount=A.refresh_allergies,
    )
