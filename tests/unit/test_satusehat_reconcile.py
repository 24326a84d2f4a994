"""Our identifiers on a visit's Conditions and Observations, and how what SATUSEHAT was found
to hold is matched to the visit after a lost answer (`reconcile.reconcile`)."""

from __future__ import annotations

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation

from klinikita.integrations.satusehat import fhir
from klinikita.integrations.satusehat.reconcile import is_withdrawn, reconcile
from tests.unit.test_fhir_builders import ORG_ID, VisitRows

CONDITION_SYSTEM = f"http://sys-ids.kemkes.go.id/condition/{ORG_ID}"
OBSERVATION_SYSTEM = f"http://sys-ids.kemkes.go.id/observation/{ORG_ID}"


def _identifiers(bundle: dict, kind: str) -> list[dict]:
    return [
        identifier
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == kind
        for identifier in entry["resource"]["identifier"]
    ]


def test_each_condition_and_observation_carries_a_stable_identifier_of_our_own():
    rows = VisitRows()
    bundle = rows.build().bundle
    conditions = _identifiers(bundle, "Condition")
    observations = _identifiers(bundle, "Observation")
    assert len(conditions) == len(rows.diagnoses) and observations
    assert {i["system"] for i in conditions} == {CONDITION_SYSTEM}
    assert {i["system"] for i in observations} == {OBSERVATION_SYSTEM}
    values = [i["value"] for i in conditions + observations]
    assert len(set(values)) == len(values)  # one per diagnosis, one per measurement
    assert all(v.startswith(rows.visit.uid) for v in values)
    # The same on every build (a retry looks for what the lost one carried) ...
    assert _identifiers(rows.build().bundle, "Condition") == conditions
    # ... and another visit's never collide.
    other = VisitRows()
    assert not {i["value"] for i in _identifiers(other.build().bundle, "Condition")} & set(values)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = {"Condition": Condition, "Observation": Observation}.get(resource["resourceType"])
        if model is not None:
            model.model_validate(resource)
    # What reconciliation looks for is what the Bundle carries.
    own = fhir.own_identifiers(
        visit=rows.visit, diagnoses=rows.diagnoses, examination=rows.examination, branch=rows.branch
    )
    assert (own.condition_system, own.observation_system) == (CONDITION_SYSTEM, OBSERVATION_SYSTEM)
    assert sorted(value for value, _ in own.conditions.values()) == sorted(
        i["value"] for i in conditions
    )
    assert sorted(own.observations.values()) == sorted(i["value"] for i in observations)


def _condition(rid: str, code: str, value: str | None = None, **extra) -> dict:
    resource = {"resourceType": "Condition", "id": rid, "code": {"coding": [{"code": code}]}}
    if value is not None:
        resource["identifier"] = [{"system": CONDITION_SYSTEM, "value": value}]
    return resource | extra


def _observation(rid: str, loinc: str, value: str | None = None, **extra) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"code": loinc}]},
        "valueQuantity": {"value": 1},
    }
    if value is not None:
        resource["identifier"] = [{"system": OBSERVATION_SYSTEM, "value": value}]
    return resource | extra


WITHDRAWN_CONDITION = {"verificationStatus": {"coding": [{"code": "entered-in-error"}]}}


def _reconcile(held, conditions=(), observations=(), diagnoses=None, vitals=None):
    own = fhir.OwnIdentifiers(CONDITION_SYSTEM, OBSERVATION_SYSTEM, diagnoses or {}, vitals or {})
    return reconcile(held, conditions=conditions, observations=observations, own=own)


def test_found_resources_are_matched_by_our_identifier_before_their_code():
    held = fhir.HeldIds("enc")
    found = [
        _condition("legacy", "J06.9"),  # the same code, without our identifier
        _condition("ours", "J06.9", "uid-D1"),
    ]
    known = _reconcile(held, found, diagnoses={1: ("uid-D1", "J06.9")})
    assert known.conditions == {1: "ours"}
    assert known.retracted == []  # a legacy resource nobody claims is left alone


def test_resources_sent_before_they_carried_our_identifier_are_matched_by_code():
    held = fhir.HeldIds("enc", conditions={2: "c2"})
    conditions = [_condition("c2", "R05"), _condition("c1", "J06.9")]
    observations = [_observation("o1", "8480-6"), _observation("o2", "2708-6")]
    known = _reconcile(
        held,
        conditions,
        observations,
        diagnoses={1: ("uid-D1", "J06.9"), 2: ("uid-D2", "R05")},
        vitals={"8480-6": "uid-8480-6", "8462-4": "uid-8462-4"},
    )
    assert known.conditions == {1: "c1", 2: "c2"}
    assert known.observations == {"8480-6": "o1"}  # 8462-4 was never stored: sent as new


def test_an_observation_held_under_another_code_of_it_is_found_not_sent_again():
    """An earlier version stored the SpO2 Observation's id under 2708-6, its first coding;
    the visit's key is 59408-5."""
    held = fhir.HeldIds("enc", observations={"2708-6": "o-spo2"})
    spo2 = _observation("o-spo2", "2708-6")
    spo2["code"]["coding"].append({"code": "59408-5"})
    known = _reconcile(held, observations=[spo2], vitals={"59408-5": "uid-59408-5"})
    assert known.observations == {"59408-5": "o-spo2"} and known.retracted == []


def test_withdrawn_and_retracted_resources_are_never_taken_again():
    retracted = [{"type": "Observation", "id": "o-old", "code": "8480-6", "value": 120}]
    held = fhir.HeldIds("enc", retracted=retracted)
    conditions = [_condition("c-gone", "J06.9", "uid-D1", **WITHDRAWN_CONDITION)]
    observations = [
        _observation("o-old", "8480-6", "uid-8480-6"),  # cleared, then measured again
        _observation("o-err", "8480-6", "uid-8480-6", status="entered-in-error"),
    ]
    known = _reconcile(
        held,
        conditions,
        observations,
        diagnoses={1: ("uid-D1", "J06.9")},
        vitals={"8480-6": "uid-8480-6"},
    )
    assert known.conditions == {} and known.observations == {}
    assert known.retracted == retracted
    assert is_withdrawn(conditions[0]) and is_withdrawn(observations[1])


def test_our_resources_the_visit_no_longer_has_are_withdrawn():
    held = fhir.HeldIds("enc", conditions={1: "c1"}, observations={"8480-6": "o1"})
    conditions = [
        _condition("c1", "J06.9", "uid-D1"),
        _condition("c3", "J20.9", "uid-D3"),  # its diagnosis was removed meanwhile
    ]
    observations = [
        _observation("o1", "8480-6", "uid-8480-6"),
        _observation("o9", "8867-4", "uid-8867-4"),  # its vital was cleared meanwhile
    ]
    known = _reconcile(
        held,
        conditions,
        observations,
        diagnoses={1: ("uid-D1", "J06.9")},
        vitals={"8480-6": "uid-8480-6"},
    )
    assert known.conditions == {1: "c1"} and known.observations == {"8480-6": "o1"}
    assert known.retracted == [
        {"type": "Condition", "id": "c3", "code": "J20.9", "display": ""},
        {"type": "Observation", "id": "o9", "code": "8867-4", "value": 1},
    ]
