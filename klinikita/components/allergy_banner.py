"""A compact allergy banner any page can show, given a list of allergy dicts from state.

Each dict is what `services/allergies.py::as_dict` gives (as strings): display, reaction,
severity_label, is_none ("True"/"False"). Red with the allergies when there are any;
neutral "Tidak ada alergi" when that was recorded; amber "Alergi belum ditanyakan" when
nothing was recorded.
"""

from __future__ import annotations

import reflex as rx


def _allergy_chip(allergy: rx.Var) -> rx.Component:
    return rx.badge(
        allergy["display"],
        rx.cond(allergy["severity_label"] != "", " (" + allergy["severity_label"] + ")", ""),
        rx.cond(allergy["reaction"] != "", ": " + allergy["reaction"], ""),
        color_scheme="red",
        variant="solid",
        size="2",
        white_space="normal",
    )


def allergy_banner(allergies: rx.Var, element_id: str = "allergy-banner") -> rx.Component:
    """The banner for `allergies` (a list var of allergy dicts)."""
    has_none = allergies.length() == 1
    return rx.cond(
        allergies.length() == 0,
        rx.callout(
            "Alergi belum ditanyakan",
            icon="circle-help",
            color_scheme="amber",
            size="1",
            id=element_id,
            class_name="allergy-unknown",
        ),
        rx.cond(
            has_none & (allergies[0]["is_none"] == "True"),
            rx.callout(
                "Tidak ada alergi",
                icon="circle-check",
                color_scheme="gray",
                size="1",
                id=element_id,
                class_name="allergy-none",
            ),
            rx.callout(
                rx.hstack(
                    rx.text("Alergi:", weight="bold"),
                    rx.foreach(allergies, _allergy_chip),
                    wrap="wrap",
                    spacing="2",
                    align="center",
                ),
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                id=element_id,
                class_name="allergy-present",
            ),
        ),
    )
