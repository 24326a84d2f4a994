"""Form atoms: a labelled field with its own error line."""

import reflex as rx


def field_error(errors: rx.Var, field: str) -> rx.Component:
    return rx.cond(
        errors.contains(field),
        rx.text(
            errors[field], color="red", size="2", class_name="field-error", id=f"error-{field}"
        ),
    )


def labelled(label: str, control: rx.Component, error: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        error,
        spacing="1",
        width="100%",
    )
