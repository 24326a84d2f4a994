"""One filter bar for the list and report pages: a search box, date range and selects,
Reset (and Ekspor CSV), and the page's own buttons at the end; it wraps on a tablet."""

from __future__ import annotations

from typing import Any

import reflex as rx

from klinikita.components.forms import field_error


def filter_bar(*controls: rx.Component, actions: tuple[rx.Component, ...] = ()) -> rx.Component:
    """The filters side by side (their inputs aligned at the bottom), `actions` after them."""
    return rx.flex(
        *controls,
        *actions,
        spacing="3",
        wrap="wrap",
        align="end",
        width="100%",
    )


def search_input(
    value: rx.Var,
    on_change,  # noqa: ANN001
    placeholder: str,
    element_id: str,
    **props: Any,  # noqa: ANN401 (e.g. debounce_timeout)
) -> rx.Component:
    """A search box that takes the room the other controls leave."""
    return rx.input(
        rx.input.slot(rx.icon("search", size=16)),
        placeholder=placeholder,
        value=value,
        on_change=on_change,
        size="3",
        flex="1",
        min_width="220px",
        id=element_id,
        **props,
    )


def labelled_filter(
    label: str, control: rx.Component, error: rx.Component | None = None
) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        error or rx.fragment(),
        spacing="1",
        min_width="150px",
    )


def date_filter(state: Any, field: str, label: str) -> rx.Component:  # noqa: ANN401
    """A date of the state's `set_filter(field, value)`, its error under it."""
    return labelled_filter(
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


def select_filter(
    state: Any,  # noqa: ANN401
    field: str,
    label: str,
    everything: tuple[str, str],
    options: rx.Var | list[tuple[str, str]],
    element_id: str,
    width: str = "180px",
) -> rx.Component:
    """A select of the state's `set_filter(field, value)`; `everything` is the (value,
    label) of "no filter" (Radix selects take no empty value)."""
    if isinstance(options, list):
        items = [rx.select.item(text, value=value) for value, text in options]
    else:
        items = [rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))]
    return labelled_filter(
        label,
        rx.select.root(
            rx.select.trigger(id=element_id, width=width),
            rx.select.content(rx.select.item(everything[1], value=everything[0]), *items),
            value=getattr(state, field),
            on_change=lambda v: state.set_filter(field, v),
            size="3",
        ),
    )


def reset_and_export(on_reset, on_export) -> rx.Component:  # noqa: ANN001
    """'Reset' (every filter back to none) and 'Ekspor CSV' (what the filters keep)."""
    return rx.hstack(
        rx.button(
            "Reset",
            on_click=on_reset,
            size="3",
            variant="soft",
            color_scheme="gray",
            id="filter-reset",
        ),
        rx.button(
            rx.icon("download", size=16),
            "Ekspor CSV",
            on_click=on_export,
            size="3",
            variant="outline",
            id="csv-export",
        ),
        spacing="2",
        align="end",
    )
