"""Latitude and longitude inputs with the hint on reading them from a map."""

import reflex as rx

from klinikita.components.forms import field_error, labelled
from klinikita.services.coordinates import MAP_HINT


def _coordinate_input(state, field: str, prefix: str, placeholder: str) -> rx.Component:  # noqa: ANN001
    return rx.input(
        value=state.form[field],
        on_change=lambda v: state.set_field(field, v),
        id=f"{prefix}-{field}",
        name=field,
        placeholder=placeholder,
        input_mode="decimal",
        size="3",
        width="100%",
    )


def coordinate_fields(state, prefix: str, heading: str) -> rx.Component:  # noqa: ANN001
    """`state` has `form`, `errors` and `set_field(field, value)`; ids are `{prefix}-latitude`
    and `{prefix}-longitude`."""
    return rx.vstack(
        rx.text(heading, size="2", weight="bold"),
        rx.grid(
            labelled(
                "Lintang (latitude)",
                _coordinate_input(state, "latitude", prefix, "misalnya -6.2311"),
                field_error(state.errors, "latitude"),
            ),
            labelled(
                "Bujur (longitude)",
                _coordinate_input(state, "longitude", prefix, "misalnya 106.8324"),
                field_error(state.errors, "longitude"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.text(MAP_HINT, size="2", color=rx.color("gray", 11), id=f"{prefix}-position-hint"),
        spacing="2",
        width="100%",
    )
