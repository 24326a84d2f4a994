"""The prescription's SATUSEHAT identifiers, shared by MedicationRequest and
MedicationDispense: `prescription/{org}` carries the visit's prescription number and
`prescription-item/{org}` that number with the line's `line_no`.

The number is derived from the visit's `uid` (the Encounter identifier, random and never
reused), so a restored database or a resend names the same prescription."""

from __future__ import annotations

SYS_IDS = "http://sys-ids.kemkes.go.id"


def prescription_number(visit_uid: str) -> str:
    """The visit's prescription number (one prescription per visit), from its `uid`."""
    return f"RX-{visit_uid}"


def prescription_item_number(visit_uid: str, line_no: int) -> str:
    """One line of it: the prescription number and the line's `line_no`."""
    return f"{prescription_number(visit_uid)}-{line_no}"


def prescription_identifiers(org_id: str, visit_uid: str, line_no: int) -> list[dict[str, str]]:
    """The `identifier` list of a MedicationRequest or MedicationDispense for line `line_no`."""
    return [
        {
            "system": f"{SYS_IDS}/prescription/{org_id}",
            "use": "official",
            "value": prescription_number(visit_uid),
        },
        {
            "system": f"{SYS_IDS}/prescription-item/{org_id}",
            "use": "official",
            "value": prescription_item_number(visit_uid, line_no),
        },
    ]
