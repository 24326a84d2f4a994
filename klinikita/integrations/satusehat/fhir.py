"""SATUSEHAT (FHIR R4) payloads built from our tables.

Plain functions: no I/O, no database, no Reflex. Everything SATUSEHAT would reject for a reason
staff can fix is caught here first and raised as a `PayloadError` whose messages, in Bahasa
Indonesia, say what is missing and where to fix it. Rules: /work/shared/satusehat/API.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from klinikita.models.clinical import Diagnosis, Examination, Visit, VisitStatus
from klinikita.models.enums import BranchTimeZone, Duty
from klinikita.models.facility import Branch, Room, ServiceUnit
from klinikita.models.people import Employee, Patient
from klinikita.services import coordinates, icd10

JsonDict = dict[str, Any]

SYS_IDS = "http://sys-ids.kemkes.go.id"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DIAGNOSIS_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
CONDITION_CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
LOCATION_PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"

# SATUSEHAT refuses earlier dates; a small lead over `now` absorbs clocks that run fast.
EARLIEST_ACCEPTED = datetime(2014, 6, 3, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)

_ZONE_LABELS = {zone.value: zone.label for zone in BranchTimeZone}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


class PayloadError(ValueError):
    """Local data SATUSEHAT would reject. `problems` are messages for clinic staff."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


def _raise_if(problems: list[str]) -> None:
    if problems:
        raise PayloadError(problems)


# ----- small helpers ----------------------------------------------------------------------
def utc_instant(dt: datetime) -> str:
    """`YYYY-MM-DDThh:mm:ss+00:00` in UTC, the only format SATUSEHAT accepts everywhere."""
    return _aware_utc(dt).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _aware_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt!r}: SATUSEHAT times need a time zone")
    return dt.astimezone(UTC)


def _stored_utc(dt: datetime | None) -> datetime | None:
    """A time read from our tables. They store UTC, but SQLite hands it back without a zone."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _whole_second(dt: datetime) -> datetime:
    # Payloads carry whole seconds, so compare what SATUSEHAT will see.
    return dt.replace(microsecond=0)


def _local_text(dt: datetime, branch: Branch) -> str:
    """A time as staff read it: `31 Agu 2023 08:10 WIB` in the branch's zone."""
    try:
        zone, label = ZoneInfo(branch.timezone), _ZONE_LABELS.get(branch.timezone, branch.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, label = UTC, "UTC"
    local = dt.astimezone(zone)
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M} {label}"


def _coding(system: str, code: str, display: str | None = None) -> JsonDict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> JsonDict:
    return {"coding": [_coding(system, code, display)]}


def _reference(reference: str, display: str | None = None) -> JsonDict:
    ref = {"reference": reference}
    if display:
        ref["display"] = display
    return ref


def _period(start: datetime, end: datetime | None = None) -> JsonDict:
    period = {"start": utc_instant(start)}
    if end is not None:
        period["end"] = utc_instant(end)
    return period


def _org_id(branch: Branch) -> str:
    return (branch.ss_organization_id or "").strip()


def _branch_problems(branch: Branch) -> list[str]:
    if _org_id(branch):
        return []
    return [
        f'Cabang "{branch.name}" belum punya Organization ID SATUSEHAT. '
        "Isi Organization ID di menu Pengaturan > Cabang."
    ]


def _ensure_same(what: str, expected: int | None, actual: int | None) -> None:
    """Rows handed in must belong together; a mismatch is a bug in the caller, not in data."""
    if expected is not None and actual is not None and expected != actual:
        raise ValueError(f"{what}: expected id {expected}, got {actual}")


# ----- Organization (service unit) and Location (room) ------------------------------------
def unit_code(unit: ServiceUnit) -> str:
    """Our identifier value for a unit's Organization; stable because the id never changes."""
    return f"UNIT-{unit.id}"


def room_code(room: Room) -> str:
    """Our identifier value for a room's Location."""
    return f"ROOM-{room.id}"


def check_unit(unit: ServiceUnit, branch: Branch) -> None:
    _ensure_same("unit branch", branch.id, unit.branch_id)
    problems = _branch_problems(branch)
    if unit.id is None:
        problems.append("Unit layanan belum disimpan; simpan dulu lalu kirim ulang.")
    if not (unit.name or "").strip():
        problems.append("Nama unit layanan kosong. Isi nama unit di menu Referensi.")
    _raise_if(problems)


def organization_for_unit(unit: ServiceUnit, branch: Branch) -> JsonDict:
    """The unit as a sub-Organization of the branch's facility Organization (API.md 6).

    Carries `id` once the unit has one, so the same payload serves a PUT update.
    """
    check_unit(unit, branch)
    org_id = _org_id(branch)
    resource: JsonDict = {"resourceType": "Organization"}
    if unit.ihs_id:
        resource["id"] = unit.ihs_id
    resource |= {
        "active": bool(unit.is_active),
        "identifier": [
            {
                "use": "official",
                "system": f"{SYS_IDS}/organization/{org_id}",
                "value": unit_code(unit),
            }
        ],
        "type": [_concept(ORGANIZATION_TYPE_SYSTEM, "dept", "Hospital Department")],
        "name": unit.name.strip(),
        "partOf": _reference(f"Organization/{org_id}", branch.name),
    }
    return resource


def check_room(room: Room, unit: ServiceUnit | None, branch: Branch) -> None:
    _ensure_same("room branch", branch.id, room.branch_id)
    if unit is not None:
        _ensure_same("room unit", room.unit_id, unit.id)
    problems = _branch_problems(branch)
    if room.id is None:
        problems.append("Ruangan belum disimpan; simpan dulu lalu kirim ulang.")
    if not (room.name or "").strip():
        problems.append("Nama ruangan kosong. Isi nama ruangan di menu Referensi.")
    problems += position_problems(room, branch)
    _raise_if(problems)


def position_problems(room: Room, branch: Branch) -> list[str]:
    """SATUSEHAT needs a Location's latitude and longitude (API.md 7): the room's own, or
    its branch's."""
    if coordinates.position_of(room, branch) is not None:
        return []
    return [
        f'Koordinat ruangan "{room.name}" belum ada. Isi lintang dan bujur cabang di menu '
        "Pengaturan > Cabang (atau koordinat ruangan sendiri di menu Referensi > Ruangan)."
    ]


def location_for_room(room: Room, unit: ServiceUnit | None, branch: Branch) -> JsonDict:
    """The room as a Location managed by its unit's Organization, or the facility's (API.md 7).

    Carries `id` once the room has one, so the same payload serves a PUT update.
    """
    check_room(room, unit, branch)
    position = coordinates.position_of(room, branch)
    assert position is not None  # check_room guarantees it
    org_id = _org_id(branch)
    manager = unit.ihs_id if unit is not None and unit.ihs_id else org_id
    name = room.name.strip()
    unit_name = (unit.name or "").strip() if unit is not None else ""
    description = f"{name}, {unit_name}" if unit_name else name
    resource: JsonDict = {"resourceType": "Location"}
    if room.ihs_id:
        resource["id"] = room.ihs_id
    resource |= {
        "identifier": [{"system": f"{SYS_IDS}/location/{org_id}", "value": room_code(room)}],
        "status": "active" if room.is_active else "inactive",
        "name": name,
        "description": description,
        "mode": "instance",
        "physicalType": _concept(LOCATION_PHYSICAL_TYPE_SYSTEM, "ro", "Room"),
        "position": {"longitude": position.longitude, "latitude": position.latitude},
        "managingOrganization": _reference(f"Organization/{manager}"),
    }
    return resource


# ----- vital signs --------------------------------------------------------------------------
@dataclass(frozen=True)
class VitalSign:
    attribute: str  # on Examination
    label: str  # for staff
    loinc: str  # its LOINC code, also the key of Examination.observation_ids
    display: str
    unit: str  # human label
    ucum: str  # UCUM code
    # LOINC codings sent in Observation.code, in order; empty: `loinc` with `display` alone.
    codings: tuple[tuple[str, str], ...] = ()

    def code(self) -> JsonDict:
        pairs = self.codings or ((self.loinc, self.display),)
        return {"coding": [_coding(LOINC_SYSTEM, code, text) for code, text in pairs]}


VITAL_SIGNS: tuple[VitalSign, ...] = (
    VitalSign("systolic", "tekanan darah sistolik", "8480-6", "Systolic blood pressure",
              "mm[Hg]", "mm[Hg]"),
    VitalSign("diastolic", "tekanan darah diastolik", "8462-4", "Diastolic blood pressure",
              "mm[Hg]", "mm[Hg]"),
    VitalSign("pulse", "nadi", "8867-4", "Heart rate", "beats/minute", "/min"),
    VitalSign("respiratory_rate", "frekuensi napas", "9279-1", "Respiratory rate",
              "breaths/minute", "/min"),
    VitalSign("temperature", "suhu tubuh", "8310-5", "Body temperature", "Cel", "Cel"),
    VitalSign("height", "tinggi badan", "8302-2", "Body height", "cm", "cm"),
    VitalSign("weight", "berat badan", "29463-7", "Body weight", "kg", "kg"),
    # The FHIR R4 vital-signs profile codes oxygen saturation as 2708-6; pulse oximetry
    # (how clinics measure it) adds 59408-5 beside it. 59408-5 stays the key of the ids
    # already stored.
    VitalSign("spo2", "saturasi oksigen (SpO2)", "59408-5",
              "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%",
              (("2708-6", "Oxygen saturation in Arterial blood"),
               ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"))),
)  # fmt: skip


def filled_vitals(examination: Examination | None) -> list[tuple[VitalSign, float | int]]:
    """The vital signs recorded in an examination, in a fixed order."""
    if examination is None:
        return []
    found = []
    for vital in VITAL_SIGNS:
        value = getattr(examination, vital.attribute)
        if value is not None:
            found.append((vital, value))
    return found


# ----- the visit bundle ----------------------------------------------------------------------
class EntryKind(StrEnum):
    ENCOUNTER = "encounter"
    CONDITION = "condition"
    OBSERVATION = "observation"
    WITHDRAWN = "withdrawn"  # a resource the visit no longer has, marked entered-in-error


class EntryRef(NamedTuple):
    """What a bundle entry is: the Encounter (ref = visit id), a Condition (ref = Diagnosis id)
    or an Observation (ref = LOINC code, the key of Examination.observation_ids)."""

    kind: EntryKind
    ref: int | str | None


@dataclass(frozen=True)
class VisitBundle:
    """A transaction Bundle and, by entry index, what each entry is. The transaction-response
    lists its entries in the same order, so server ids are written back by index."""

    bundle: JsonDict
    entries: dict[int, EntryRef]


@dataclass(frozen=True)
class HeldIds:
    """What SATUSEHAT already holds of a visit (a send after the first updates these in
    place): its Encounter, the Condition of each Diagnosis id, the Observation of each LOINC
    code, and the resources to withdraw (`Visit.retracted`)."""

    encounter_id: str
    conditions: Mapping[int, str] = field(default_factory=dict)
    observations: Mapping[str, str] = field(default_factory=dict)
    retracted: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class _VisitTimes:
    arrived: datetime
    exam_started: datetime
    completed: datetime
    vitals: datetime


def _person_problems(person: Patient | Employee, who: str, where: str) -> list[str]:
    """Encounter needs the IHS number; the NIK is how it is looked up, so say which is missing."""
    if (person.ihs_number or "").strip():
        return []
    nik = (person.nik or "").strip()
    if not nik:
        return [
            f"{who} belum punya NIK, jadi nomor IHS-nya tidak bisa dicari di SATUSEHAT. "
            f"Isi NIK di {where}."
        ]
    if len(nik) != 16 or not nik.isdigit():
        return [f"NIK {who.lower()} tidak valid (harus 16 angka). Perbaiki di {where}."]
    return [
        f"{who} belum punya nomor IHS SATUSEHAT. Cari nomor IHS dari {where}; "
        "jika tidak ditemukan, pastikan NIK sudah benar."
    ]


def patient_problems(patient: Patient) -> list[str]:
    who = f"Pasien {patient.name} (No. RM {patient.mrn})"
    return _person_problems(patient, who, "data pasien (menu Kontak)")


def doctor_problems(doctor: Employee) -> list[str]:
    return _person_problems(doctor, f"Dokter {doctor.name}", "data karyawan (menu Kontak)")


def vitals_by_problems(performer: Employee) -> list[str]:
    """What keeps the employee who measured the vitals from being named as their performer."""
    try:
        duty = Duty(performer.main_duty).label
    except ValueError:
        duty = "Karyawan"
    who = f"{duty} {performer.name} (yang mengukur tanda vital)"
    return _person_problems(performer, who, "data karyawan (menu Kontak)")


def _other_performer(doctor: Employee, vitals_by: Employee | None) -> Employee | None:
    """The vitals' performer when it is someone other than the visit's doctor."""
    if vitals_by is None or vitals_by.id == doctor.id:
        return None
    return vitals_by


def room_problems(room: Room, branch: Branch | None = None) -> list[str]:
    if (room.ihs_id or "").strip():
        return []
    if branch is not None and coordinates.position_of(room, branch) is None:
        return position_problems(room, branch)
    return [
        f'Ruangan "{room.name}" belum terdaftar sebagai Location SATUSEHAT. '
        "Kirim data ruangan di menu Referensi."
    ]


# What to do when a visit time is missing, by the name staff know the moment by.
_MISSING_TIME_HINTS = {
    "datang": "Periksa data pendaftaran kunjungan.",
    "mulai diperiksa": "Mulai pemeriksaan pasien di menu Pemeriksaan.",
    "selesai": "Selesaikan pemeriksaan di menu Pemeriksaan.",
}


def _time_problems(label: str, moment: datetime | None, branch: Branch, now: datetime) -> list[str]:
    """A missing time, or one SATUSEHAT refuses: before 2014-06-03 or in the future."""
    if moment is None:
        hint = _MISSING_TIME_HINTS.get(label, "")
        return [f"Waktu {label} belum tercatat. {hint}".strip()]
    if moment < EARLIEST_ACCEPTED:
        return [
            f"Waktu {label} ({_local_text(moment, branch)}) lebih awal dari 3 Jun 2014; "
            "SATUSEHAT tidak menerima tanggal ini. Perbaiki waktu kunjungan."
        ]
    if moment > now + CLOCK_SKEW:
        return [
            f"Waktu {label} ({_local_text(moment, branch)}) ada di masa depan. "
            "Periksa tanggal dan jam komputer, lalu perbaiki waktu kunjungan."
        ]
    return []


def _order_problems(steps: list[tuple[str, datetime | None]], branch: Branch) -> list[str]:
    """No recorded step may come before an earlier one; one message per misplaced step,
    naming the first step it precedes (`selesai` before `datang` says more than before
    `mulai diperiksa`)."""
    problems: list[str] = []
    recorded = [(label, _whole_second(t)) for label, t in steps if t is not None]
    for position, (label, moment) in enumerate(recorded):
        earlier = [(lbl, t) for lbl, t in recorded[:position] if moment < t]
        if earlier:
            before_label, before = earlier[0]
            problems.append(
                f"Waktu {label} ({_local_text(moment, branch)}) lebih awal dari waktu "
                f"{before_label} ({_local_text(before, branch)}). Perbaiki waktu kunjungan."
            )
    return problems


def visit_time_problems(
    visit: Visit, examination: Examination | None, branch: Branch, now: datetime
) -> list[str]:
    steps = [
        ("datang", _stored_utc(visit.arrived_at)),
        ("mulai diperiksa", _stored_utc(visit.exam_started_at)),
        ("selesai", _stored_utc(visit.completed_at)),
    ]
    problems: list[str] = []
    for label, moment in steps:
        problems += _time_problems(label, moment, branch, now)
    order = _order_problems(steps, branch)
    problems += order
    arrived, completed = steps[0][1], steps[2][1]
    # Rule 10121: a finished Encounter must end strictly after it starts.
    if not order and arrived and completed and _whole_second(completed) <= _whole_second(arrived):
        problems.append(
            f"Waktu selesai ({_local_text(completed, branch)}) harus setelah waktu datang "
            f"({_local_text(arrived, branch)}). Perbaiki waktu kunjungan."
        )
    # Without their own time, vitals take the start of the examination, checked above.
    vitals_at = _stored_utc(examination.vitals_at) if examination is not None else None
    if vitals_at is not None and filled_vitals(examination):
        label = "pemeriksaan tanda vital"
        problems += _time_problems(label, vitals_at, branch, now)
        problems += _order_problems([("datang", arrived), (label, vitals_at)], branch)
    return problems


def diagnosis_problems(diagnoses: Sequence[Diagnosis]) -> list[str]:
    if not diagnoses:
        return ["Belum ada diagnosis. Isi minimal satu diagnosis ICD-10 di menu Pemeriksaan."]
    problems: list[str] = []
    seen_codes: set[str] = set()
    seen_ranks: set[int] = set()
    for diagnosis in diagnoses:
        code = icd10.normalize(diagnosis.icd10_code)
        if not icd10.is_valid(code):
            problems.append(
                f'Kode ICD-10 "{diagnosis.icd10_code}" tidak dikenal. '
                "Pilih kode dari daftar ICD-10 di menu Pemeriksaan."
            )
        elif code in seen_codes:
            problems.append(f"Diagnosis {code} tercatat lebih dari sekali. Hapus salah satunya.")
        seen_codes.add(code)
        if diagnosis.rank < 1:
            problems.append(f"Urutan diagnosis {code} harus 1 atau lebih.")
        elif diagnosis.rank in seen_ranks:
            problems.append(
                f"Ada lebih dari satu diagnosis dengan urutan {diagnosis.rank}. "
                "Perbaiki urutan diagnosis di menu Pemeriksaan."
            )
        seen_ranks.add(diagnosis.rank)
    if 1 not in seen_ranks:
        problems.append("Belum ada diagnosis utama (urutan 1). Tetapkan di menu Pemeriksaan.")
    return problems


def vital_value_problems(examination: Examination | None) -> list[str]:
    return [
        f"Nilai {vital.label} ({value}) harus lebih dari 0. Perbaiki tanda vital di menu "
        "Pemeriksaan."
        for vital, value in filled_vitals(examination)
        if value <= 0
    ]


def _ensure_rows_match(
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    examination: Examination | None,
    diagnoses: Iterable[Diagnosis],
    branch: Branch,
) -> None:
    _ensure_same("visit patient", visit.patient_id, patient.id)
    _ensure_same("visit doctor", visit.doctor_id, doctor.id)
    _ensure_same("visit room", visit.room_id, room.id)
    _ensure_same("visit branch", visit.branch_id, branch.id)
    if examination is not None:
        _ensure_same("examination visit", visit.id, examination.visit_id)
    for diagnosis in diagnoses:
        _ensure_same("diagnosis visit", visit.id, diagnosis.visit_id)


def check_visit(
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    examination: Examination | None,
    diagnoses: Sequence[Diagnosis],
    branch: Branch,
    now: datetime,
    vitals_by: Employee | None = None,
) -> None:
    """Raise `PayloadError` listing every problem SATUSEHAT would reject the visit for.
    `vitals_by`: who measured the vitals (None: the visit's doctor).

    Raises ValueError when the rows do not belong together or `now` has no time zone:
    those are bugs in the caller, not something staff can fix.
    """
    now = _aware_utc(now)
    _ensure_rows_match(visit, patient, doctor, room, examination, diagnoses, branch)
    problems: list[str] = []
    if visit.status == VisitStatus.CANCELLED:
        problems.append("Kunjungan ini dibatalkan; kunjungan batal tidak dikirim ke SATUSEHAT.")
    problems += _branch_problems(branch)
    problems += patient_problems(patient)
    problems += doctor_problems(doctor)
    performer = _other_performer(doctor, vitals_by)
    if performer is not None and filled_vitals(examination):
        problems += vitals_by_problems(performer)
    problems += room_problems(room, branch)
    problems += visit_time_problems(visit, examination, branch, now)
    problems += diagnosis_problems(diagnoses)
    problems += vital_value_problems(examination)
    _raise_if(problems)


def _full_url(visit: Visit, index: int) -> str:
    # Derived from the visit, so resending the same visit builds the very same bundle.
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'klinikita:visit:{visit.uid}:{index}')}"


def _entry(full_url: str, resource: JsonDict) -> JsonDict:
    """POST of a new resource (`full_url` is its urn:uuid), or PUT of one SATUSEHAT holds
    (`full_url` is then "Type/id", and the resource carries the same id)."""
    rtype = resource["resourceType"]
    if full_url.startswith(f"{rtype}/"):
        resource["id"] = full_url.partition("/")[2]
        return {"resource": resource, "request": {"method": "PUT", "url": full_url}}
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": rtype}}


def _withdrawn(
    held: Mapping[str, Any],
    *,
    patient: Patient,
    performer: Employee,
    encounter_url: str,
    at: datetime,
) -> JsonDict | None:
    """A resource the visit no longer has, as entered-in-error (a Condition's clinical status
    must then be absent: FHIR con-5)."""
    if held.get("type") == "Condition":
        code = str(held.get("code") or "")
        condition = _condition(
            code=code,
            display=str(held.get("display") or "") or icd10.describe(code) or code,
            patient=patient,
            encounter_url=encounter_url,
            recorded=at,
        )
        del condition["clinicalStatus"]
        condition["verificationStatus"] = _concept(
            CONDITION_VERIFICATION_SYSTEM, "entered-in-error", "Entered in Error"
        )
        return condition
    vital = next((v for v in VITAL_SIGNS if v.loinc == held.get("code")), None)
    if held.get("type") == "Observation" and vital is not None:
        observation = _observation(
            vital=vital,
            value=held.get("value") or 0,
            patient=patient,
            performer=performer,
            encounter_url=encounter_url,
            measured=at,
        )
        observation["status"] = "entered-in-error"
        return observation
    return None


def _encounter(
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    branch: Branch,
    times: _VisitTimes,
    diagnoses: Sequence[tuple[str, Diagnosis, str]],
) -> JsonDict:
    org_id = _org_id(branch)
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": f"{SYS_IDS}/encounter/{org_id}", "value": visit.uid}],
        "status": "finished",
        "class": _coding(ACT_CODE_SYSTEM, "AMB", "ambulatory"),
        "subject": _reference(f"Patient/{patient.ihs_number}", patient.name),
        "participant": [
            {
                "type": [_concept(PARTICIPATION_TYPE_SYSTEM, "ATND", "attender")],
                "individual": _reference(f"Practitioner/{doctor.ihs_number}", doctor.name),
            }
        ],
        "period": _period(times.arrived, times.completed),
        "location": [
            {
                "location": _reference(f"Location/{room.ihs_id}", room.name),
                "period": _period(times.arrived, times.completed),
            }
        ],
        "diagnosis": [
            {
                "condition": _reference(full_url, display),
                "use": _concept(DIAGNOSIS_ROLE_SYSTEM, "DD", "Discharge diagnosis"),
                "rank": diagnosis.rank,
            }
            for full_url, diagnosis, display in diagnoses
        ],
        "statusHistory": [
            {"status": "arrived", "period": _period(times.arrived, times.exam_started)},
            {"status": "in-progress", "period": _period(times.exam_started, times.completed)},
            {"status": "finished", "period": _period(times.completed, times.completed)},
        ],
        "serviceProvider": _reference(f"Organization/{org_id}"),
    }


def _condition(
    *, code: str, display: str, patient: Patient, encounter_url: str, recorded: datetime
) -> JsonDict:
    return {
        "resourceType": "Condition",
        "clinicalStatus": _concept(CONDITION_CLINICAL_SYSTEM, "active", "Active"),
        "category": [
            _concept(CONDITION_CATEGORY_SYSTEM, "encounter-diagnosis", "Encounter Diagnosis")
        ],
        "code": _concept(ICD10_SYSTEM, code, display),
        "subject": _reference(f"Patient/{patient.ihs_number}", patient.name),
        "encounter": _reference(encounter_url),
        "recordedDate": utc_instant(recorded),
    }


def _observation(
    *,
    vital: VitalSign,
    value: float | int,
    patient: Patient,
    performer: Employee,
    encounter_url: str,
    measured: datetime,
) -> JsonDict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [_concept(OBSERVATION_CATEGORY_SYSTEM, "vital-signs", "Vital Signs")],
        "code": vital.code(),
        "subject": _reference(f"Patient/{patient.ihs_number}", patient.name),
        "encounter": _reference(encounter_url),
        "effectiveDateTime": utc_instant(measured),
        "issued": utc_instant(measured),
        "performer": [_reference(f"Practitioner/{performer.ihs_number}", performer.name)],
        "valueQuantity": {
            "value": value,
            "unit": vital.unit,
            "system": UCUM_SYSTEM,
            "code": vital.ucum,
        },
    }


def condition_identifier(org_id: str, visit_uid: str, diagnosis_id: int) -> JsonDict:
    """Our identifier of a diagnosis' Condition (API.md 9, rule 10444): stable for as long
    as the diagnosis exists, so a Condition whose creation was not confirmed can be found
    again among the Encounter's Conditions instead of being created twice."""
    return {"system": f"{SYS_IDS}/condition/{org_id}", "value": f"{visit_uid}-D{diagnosis_id}"}


def observation_identifier(org_id: str, visit_uid: str, loinc: str) -> JsonDict:
    """Our identifier of a vital's Observation (API.md 10): the visit and the LOINC code, as
    a visit has one Observation per measurement."""
    return {"system": f"{SYS_IDS}/observation/{org_id}", "value": f"{visit_uid}-{loinc}"}


@dataclass(frozen=True)
class OwnIdentifiers:
    """Our identifiers of what a visit's Bundle creates besides the Encounter: their two
    systems, each diagnosis' Condition (by Diagnosis id: identifier value, ICD-10 code) and
    each recorded vital's Observation (by LOINC code: identifier value)."""

    condition_system: str
    observation_system: str
    conditions: Mapping[int, tuple[str, str]]
    observations: Mapping[str, str]


def own_identifiers(
    *,
    visit: Visit,
    diagnoses: Sequence[Diagnosis],
    examination: Examination | None,
    branch: Branch,
) -> OwnIdentifiers:
    """The identifiers `visit_bundle` gives the visit's Conditions and Observations."""
    org_id, uid = _org_id(branch), visit.uid
    return OwnIdentifiers(
        condition_system=condition_identifier(org_id, uid, 0)["system"],
        observation_system=observation_identifier(org_id, uid, "")["system"],
        conditions={
            d.id: (condition_identifier(org_id, uid, d.id)["value"], icd10.normalize(d.icd10_code))
            for d in diagnoses
        },
        observations={
            v.loinc: observation_identifier(org_id, uid, v.loinc)["value"]
            for v, _ in filled_vitals(examination)
        },
    )


def _diagnosis_display(diagnosis: Diagnosis, code: str) -> str:
    return (diagnosis.display or "").strip() or icd10.describe(code) or code


def visit_bundle(
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    examination: Examination | None,
    diagnoses: Sequence[Diagnosis],
    branch: Branch,
    now: datetime,
    held: HeldIds | None = None,
    vitals_by: Employee | None = None,
) -> VisitBundle:
    """One transaction Bundle for a finished outpatient visit (API.md 12): the Encounter with
    its full statusHistory, a Condition per diagnosis and an Observation per recorded vital,
    performed by `vitals_by`, who measured them (None: the visit's doctor).

    With `held` (the visit was sent before, and changed since), what SATUSEHAT holds is
    replaced in place (PUT, same ids), what is new is created, and what the visit no longer
    has is withdrawn as entered-in-error.

    Each Condition and Observation carries our own identifier (`own_identifiers`), by which
    it is found again when the answer to its creation was lost."""
    held_conditions = held.conditions if held else {}
    held_observations = held.observations if held else {}
    check_visit(
        visit=visit,
        patient=patient,
        doctor=doctor,
        room=room,
        examination=examination,
        diagnoses=diagnoses,
        branch=branch,
        now=now,
        vitals_by=vitals_by,
    )
    performer = vitals_by or doctor
    arrived = _stored_utc(visit.arrived_at)
    exam_started = _stored_utc(visit.exam_started_at)
    completed = _stored_utc(visit.completed_at)
    assert arrived and exam_started and completed  # check_visit guarantees them
    vitals_at = _stored_utc(examination.vitals_at) if examination is not None else None
    times = _VisitTimes(arrived, exam_started, completed, vitals_at or exam_started)

    encounter_url = f"Encounter/{held.encounter_id}" if held else _full_url(visit, 0)
    entries: dict[int, EntryRef] = {0: EntryRef(EntryKind.ENCOUNTER, visit.id)}
    resources: list[tuple[str, JsonDict]] = []

    ordered = sorted(diagnoses, key=lambda d: (d.rank, d.id or 0))
    linked: list[tuple[str, Diagnosis, str]] = []
    for diagnosis in ordered:
        index = len(resources) + 1
        code = icd10.normalize(diagnosis.icd10_code)
        display = _diagnosis_display(diagnosis, code)
        known = held_conditions.get(diagnosis.id)
        url = f"Condition/{known}" if known else _full_url(visit, index)
        linked.append((url, diagnosis, display))
        entries[index] = EntryRef(EntryKind.CONDITION, diagnosis.id)
        condition = _condition(
            code=code,
            display=display,
            patient=patient,
            encounter_url=encounter_url,
            recorded=completed,
        )
        condition["identifier"] = [condition_identifier(_org_id(branch), visit.uid, diagnosis.id)]
        resources.append((url, condition))

    for vital, value in filled_vitals(examination):
        index = len(resources) + 1
        entries[index] = EntryRef(EntryKind.OBSERVATION, vital.loinc)
        observation = _observation(
            vital=vital,
            value=value,
            patient=patient,
            performer=performer,
            encounter_url=encounter_url,
            measured=times.vitals,
        )
        observation["identifier"] = [
            observation_identifier(_org_id(branch), visit.uid, vital.loinc)
        ]
        known = held_observations.get(vital.loinc)
        url = f"Observation/{known}" if known else _full_url(visit, index)
        resources.append((url, observation))

    for withdrawn in held.retracted if held else ():
        resource = _withdrawn(
            withdrawn,
            patient=patient,
            performer=performer,
            encounter_url=encounter_url,
            at=completed,
        )
        if resource is not None and withdrawn.get("id"):
            entries[len(resources) + 1] = EntryRef(EntryKind.WITHDRAWN, str(withdrawn["id"]))
            resources.append((f"{resource['resourceType']}/{withdrawn['id']}", resource))

    encounter = _encounter(
        visit=visit,
        patient=patient,
        doctor=doctor,
        room=room,
        branch=branch,
        times=times,
        diagnoses=linked,
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(encounter_url, encounter)]
        + [_entry(url, resource) for url, resource in resources],
    }
    return VisitBundle(bundle=bundle, entries=entries)
