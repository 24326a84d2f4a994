"""What SATUSEHAT already holds of a visit, from the Encounter's Conditions and Observations.

When the answer to a send was lost (or never confirmed every id), the resources it carried
may or may not be stored. The worker searches the Encounter's Conditions and Observations
(`?encounter=`, API.md 9 and 10) and `reconcile` matches them to the visit: by our own
identifier (`fhir.condition_identifier`, `fhir.observation_identifier`), or, for resources
sent before they carried one, by their code. What matches is updated in place by the next
Bundle instead of being created again. Plain functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from klinikita.integrations.satusehat.fhir import VITAL_SIGNS, HeldIds, OwnIdentifiers

JsonDict = dict[str, Any]
ENTERED_IN_ERROR = "entered-in-error"


def _codes(resource: JsonDict) -> list[str]:
    """The codes of the resource's `code` (an Observation may carry two LOINC codings)."""
    codings = (resource.get("code") or {}).get("coding") or []
    return [str(c["code"]) for c in codings if isinstance(c, dict) and c.get("code")]


def _own_value(resource: JsonDict, system: str) -> str | None:
    """The value of the resource's identifier in `system` (ours), if it carries one."""
    identifiers = resource.get("identifier") or []
    if isinstance(identifiers, dict):
        identifiers = [identifiers]
    for item in identifiers:
        if isinstance(item, dict) and item.get("system") == system and item.get("value"):
            return str(item["value"])
    return None


def is_withdrawn(resource: JsonDict) -> bool:
    """Marked entered-in-error (an Observation's status, a Condition's verificationStatus)."""
    if resource.get("status") == ENTERED_IN_ERROR:
        return True
    verification = (resource.get("verificationStatus") or {}).get("coding") or []
    return any(isinstance(c, dict) and c.get("code") == ENTERED_IN_ERROR for c in verification)


def _match(
    wanted: Mapping[Any, tuple[str, str]],
    held: Mapping[Any, str],
    found: list[JsonDict],
    system: str,
) -> tuple[dict[Any, str], list[JsonDict]]:
    """Ids for what is `wanted` (key -> (our identifier's value, code)) beyond the `held`
    ones, and the live resources of ours that belong to nothing the visit still has."""
    ids = {key: held[key] for key in wanted if held.get(key)}
    # Only the ids kept: one held under a key the visit no longer has (an SpO2 Observation
    # an earlier version stored under 2708-6) may still be the one a key wants.
    taken = set(ids.values())
    free = [r for r in found if r["id"] not in taken]
    for key, (value, code) in wanted.items():
        if key in ids:
            continue
        by_identifier = [r for r in free if _own_value(r, system) == value]
        # Sent before resources carried our identifier: the code tells them apart (a
        # visit's diagnoses have distinct codes, and it has one Observation per vital).
        by_code = [r for r in free if _own_value(r, system) is None and code in _codes(r)]
        chosen = (by_identifier or by_code or [None])[0]
        if chosen is not None:
            ids[key] = chosen["id"]
            free.remove(chosen)
    strays = [r for r in free if _own_value(r, system) is not None]
    return ids, strays


def _live(found: Iterable[JsonDict], retracted: set[str]) -> list[JsonDict]:
    return [
        r
        for r in found
        if isinstance(r, dict) and r.get("id") and r["id"] not in retracted and not is_withdrawn(r)
    ]


def _withdrawal(resource: JsonDict) -> JsonDict | None:
    """A stray resource of ours as a `Visit.retracted` item, for the Bundle to withdraw."""
    if resource.get("resourceType") == "Condition":
        coding = next(
            (c for c in (resource.get("code") or {}).get("coding") or [] if isinstance(c, dict)),
            {},
        )
        if not coding.get("code"):
            return None
        return {
            "type": "Condition",
            "id": resource["id"],
            "code": coding["code"],
            "display": coding.get("display") or "",
        }
    codes = _codes(resource)
    vital = next((v for v in VITAL_SIGNS if v.loinc in codes), None)
    if vital is None:
        return None
    value = (resource.get("valueQuantity") or {}).get("value")
    return {"type": "Observation", "id": resource["id"], "code": vital.loinc, "value": value}


def reconcile(
    held: HeldIds,
    *,
    conditions: Iterable[JsonDict],
    observations: Iterable[JsonDict],
    own: OwnIdentifiers,
) -> HeldIds:
    """`held` completed with the ids of what SATUSEHAT was found to hold.

    `conditions` and `observations` are the Encounter's, as searched; `own` names what the
    visit has now (its diagnoses and recorded vitals) by our identifiers. Ids `held` already
    has are kept. Resources carrying our identifier that belong to nothing the visit still
    has (a diagnosis removed, a vital cleared before their creation was confirmed) are added
    to the resources to withdraw, so no active copy is left."""
    retracted = {str(r.get("id")) for r in held.retracted}
    condition_ids, condition_strays = _match(
        own.conditions,
        held.conditions,
        _live(conditions, retracted),
        own.condition_system,
    )
    observation_ids, observation_strays = _match(
        {loinc: (value, loinc) for loinc, value in own.observations.items()},
        held.observations,
        _live(observations, retracted),
        own.observation_system,
    )
    withdraw = [_withdrawal(r) for r in condition_strays + observation_strays]
    return replace(
        held,
        conditions=condition_ids,
        observations=observation_ids,
        retracted=list(held.retracted) + [w for w in withdraw if w is not None],
    )
