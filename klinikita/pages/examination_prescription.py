"""The Resep section of Pemeriksaan: the lines with their remove buttons, a single line
from the drug master, a racikan with its ingredient rows, and the allergy warning dialog."""

from __future__ import annotations

import reflex as rx

from klinikita import styles
from klinikita.components.forms import field_error, labelled
from klinikita.state.examination import RACIKAN_FORM_OPTIONS, RX_ROUTE_OPTIONS
from klinikita.state.examination import ExaminationState as S

_MUTED = rx.color("gray", 11)


def _input(form: rx.Var, setter, errors: rx.Var, prefix: str, field: str, label: str,  # noqa: ANN001
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


def _select(form: rx.Var, setter, errors: rx.Var, prefix: str, field: str, label: str,  # noqa: ANN001
            options: list[tuple[str, str]]) -> rx.Component:  # fmt: skip
    return labelled(
        label,
        rx.select.root(
            rx.select.trigger(width="100%", id=f"{prefix}-{field}"),
            rx.select.content(*[rx.select.item(text, value=value) for value, text in options]),
            value=form[field],
            on_change=lambda v: setter(field, v),
            size="3",
        ),
        field_error(errors, field),
    )


def _usage(form: rx.Var, setter, errors: rx.Var, prefix: str) -> rx.Component:  # noqa: ANN001
    """Dose, how often, route and days: what a line and a racikan share."""
    field = lambda name, label, hint="", **kw: _input(  # noqa: E731
        form, setter, errors, prefix, name, label, hint, **kw
    )
    return rx.grid(
        field("dose", "Dosis", "mis. 1 tablet"),
        field("dose_amount", "Jumlah per dosis", "mis. 1", input_mode="decimal"),
        field("frequency", "Frekuensi", "mis. 3 x sehari"),
        field("times_per_day", "Kali per hari", "mis. 3", input_mode="numeric"),
        _select(form, setter, errors, prefix, "route", "Rute", RX_ROUTE_OPTIONS),
        field("duration_days", "Lama (hari)", "mis. 3", input_mode="numeric"),
        columns=rx.breakpoints(initial="2", sm="3"),
        spacing="3",
        width="100%",
    )


def _search(query: rx.Var, on_change, results: rx.Var, on_pick, prefix: str) -> rx.Component:  # noqa: ANN001
    def result(item: rx.Var) -> rx.Component:
        return rx.button(
            rx.vstack(
                rx.text(item["name"], size="2", text_align="left"),
                # The KFA product (generic name, maker): why a search by generic name found it.
                rx.cond(
                    item["kfa_display"] != "",
                    rx.text(item["kfa_display"], size="1", color=_MUTED, text_align="left"),
                ),
                spacing="0",
                flex="1",
                align="start",
            ),
            rx.cond(
                item["no_kfa"] == "1",
                rx.badge("belum ada kode KFA", color_scheme="amber", size="1"),
                rx.text(item["kfa_code"], size="1", color=_MUTED),
            ),
            on_click=on_pick(item["id"]),
            variant="ghost",
            width="100%",
            min_height=styles.TOUCH_HEIGHT,
            id=f"{prefix}-result-" + item["id"],
        )

    return rx.vstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            value=query,
            on_change=on_change,
            debounce_timeout=300,
            placeholder="Cari obat di daftar Obat & BHP (nama, nama generik, atau kode KFA)",
            size="3",
            width="100%",
            id=f"{prefix}-search",
        ),
        rx.cond(
            results.length() > 0,
            rx.vstack(
                rx.foreach(results, result),
                spacing="0",
                width="100%",
                max_height="300px",
                overflow_y="auto",
                border=styles.border,
                border_radius="8px",
                padding="4px",
            ),
            rx.cond(
                query.length() > 1,
                rx.text("Tidak ada obat yang cocok.", size="2", color=_MUTED),
            ),
        ),
        spacing="2",
        width="100%",
    )


def _line(p: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.badge("R/" + p["line_no"], size="2", variant="surface"),
        rx.vstack(
            rx.text(
                p["medicine"],
                rx.cond(p["compound"] == "1", " (racikan " + p["form"] + ")", ""),
                size="3",
                weight="medium",
            ),
            rx.cond(p["ingredients"] != "", rx.text(p["ingredients"], size="2")),
            rx.text(
                rx.cond(
                    p["quantity"] != "", "Jumlah " + p["quantity"] + " " + p["unit"] + " · ", ""
                ),
                p["frequency"],
                " ",
                p["dose"],
                rx.cond(p["route"] != "", " · rute " + p["route"], ""),
                rx.cond(p["duration_days"] != "", " · " + p["duration_days"] + " hari", ""),
                rx.cond(p["instructions"] != "", " · " + p["instructions"], ""),
                size="2",
                color=_MUTED,
            ),  # fmt: skip
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            S.can_prescribe,
            rx.icon_button(
                rx.icon("trash-2", size=18),
                on_click=S.remove_prescription(p["id"]),
                size="3",
                variant="soft",
                color_scheme="red",
                aria_label="Hapus resep",
                id="prescription-remove-" + p["id"],
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
        id="prescription-" + p["id"],
    )


def _single_form() -> rx.Component:
    field = lambda name, label, hint="", **kw: _input(  # noqa: E731
        S.rx_form, S.set_rx_field, S.rx_errors, "rx", name, label, hint, **kw
    )
    return rx.vstack(
        rx.heading("Obat tunggal", size="3"),
        rx.cond(
            S.rx_form["item_id"] != "",
            rx.hstack(
                rx.icon("pill", size=16),
                rx.text(S.rx_form["item_name"], weight="medium", id="rx-item-chosen"),
                align="center",
            ),
        ),
        _search(S.rx_query, S.search_rx_item, S.rx_results, S.pick_rx_item, "rx"),
        field_error(S.rx_errors, "item_id"),
        _usage(S.rx_form, S.set_rx_field, S.rx_errors, "rx"),
        rx.grid(
            field("quantity", S.rx_quantity_label, "mis. 10", input_mode="numeric"),
            field("instructions", "Aturan pakai", "mis. sesudah makan"),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),  # fmt: skip
        rx.button(
            rx.icon("plus", size=16),
            "Tambah ke resep",
            on_click=S.add_rx_line,
            size="3",
            variant="soft",
            id="rx-add",
        ),
        spacing="2",
        width="100%",
    )


def _ingredient(row: rx.Var, index: rx.Var) -> rx.Component:
    key = "ingredients." + index.to_string() + "."
    return rx.hstack(
        rx.text(row["name"], size="2", flex="1", min_width="0"),
        rx.vstack(
            rx.input(
                value=row["quantity"],
                on_change=lambda v: S.set_racikan_row(index, "quantity", v),
                placeholder="Jumlah " + row["unit"],
                input_mode="numeric",
                size="3",
                width="110px",
                id="racikan-quantity-" + index.to_string(),
            ),
            rx.text(S.racikan_errors[key + "quantity"], color="red", size="1"),
            spacing="0",
        ),
        rx.input(
            value=row["dose_text"],
            on_change=lambda v: S.set_racikan_row(index, "dose_text", v),
            placeholder="Per racikan, mis. 125 mg",
            size="3",
            width="160px",
            id="racikan-dose-" + index.to_string(),
        ),
        rx.icon_button(
            rx.icon("x", size=18),
            on_click=S.remove_racikan_row(index),
            size="3",
            variant="soft",
            color_scheme="gray",
            aria_label="Hapus bahan",
        ),
        align="center",
        spacing="2",
        width="100%",
    )


def _racikan_form() -> rx.Component:
    field = lambda name, label, hint="", **kw: _input(  # noqa: E731
        S.racikan_form, S.set_racikan_field, S.racikan_errors, "racikan", name, label, hint,
        **kw,
    )  # fmt: skip
    return rx.vstack(
        rx.heading("Racikan", size="3"),
        rx.grid(
            field("name", "Nama racikan", "mis. Puyer batuk anak"),
            _select(
                S.racikan_form,
                S.set_racikan_field,
                S.racikan_errors,
                "racikan",
                "form",
                "Bentuk",
                RACIKAN_FORM_OPTIONS,
            ),
            field("quantity", "Jumlah dibuat", "mis. 10", input_mode="numeric"),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),  # fmt: skip
        rx.text("Bahan (minimal dua):", size="2", weight="medium"),
        rx.foreach(S.racikan_rows, _ingredient),
        field_error(S.racikan_errors, "ingredients"),
        _search(
            S.racikan_query,
            S.search_racikan_item,
            S.racikan_results,
            S.pick_racikan_item,
            "racikan",
        ),  # fmt: skip
        _usage(S.racikan_form, S.set_racikan_field, S.racikan_errors, "racikan"),
        field("instructions", "Aturan pakai", "mis. sesudah makan"),
        rx.button(
            rx.icon("plus", size=16),
            "Tambah racikan",
            on_click=S.add_racikan,
            size="3",
            variant="soft",
            id="racikan-add",
        ),
        spacing="2",
        width="100%",
    )


def _allergy_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Peringatan alergi"),
            rx.alert_dialog.description(S.rx_warning, size="2", id="rx-allergy-warning"),
            rx.hstack(
                rx.button(
                    "Batal",
                    on_click=S.cancel_rx_allergy,
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    id="rx-allergy-cancel",
                ),
                rx.button(
                    "Tetap resepkan",
                    on_click=S.confirm_rx_allergy,
                    color_scheme="red",
                    size="3",
                    id="rx-allergy-confirm",
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=S.rx_warning != "",
    )


def prescriptions_section() -> rx.Component:
    """Resep: its lines, then (for a doctor, before Selesai) the two forms."""
    return rx.card(
        rx.vstack(
            rx.heading("Resep", size="4"),
            rx.cond(
                S.prescriptions.length() > 0,
                rx.vstack(rx.foreach(S.prescriptions, _line), spacing="2", width="100%"),
                rx.text("Belum ada resep.", size="2", color=_MUTED),
            ),
            rx.cond(
                S.can_prescribe,
                rx.vstack(
                    rx.divider(),
                    _single_form(),
                    rx.divider(),
                    _racikan_form(),
                    spacing="3",
                    width="100%",
                ),
            ),  # fmt: skip
            _allergy_dialog(),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="prescriptions",
    )
