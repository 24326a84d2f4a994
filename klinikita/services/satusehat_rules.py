"""What SATUSEHAT would reject in our rows, said to clinic staff before anything is sent.

The readiness check, Selesai and the outbox all ask these rules; the FHIR builders
(`integrations/satusehat/fhir.py`) expect rows they accepted. Every problem is a message in
Bahasa Indonesia saying what is missing and where to fix it; `check_*` raise them all at once
as a `PayloadError`, and the `checked_*` functions check, then build the payload.
Rules: docs/satusehat.md, "What the simulator enforces".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from klinikita.integrations.satusehat import fhir, fhir_allergy, fhir_medication, fhir_procedure
from klinikita.integrations.satusehat.fhir import (
    JsonDict,
    aware_utc,
    ensure_rows_match,
    filled_vitals,
    stored_utc,
)
from klinikita.models.allergies import AllergyKind, PatientAllergy
from klinikita.models.clinical import Diagnosis, Examination, Procedure, Visit, VisitStatus
from klinikita.models.enums import BranchTimeZone, Duty, SyncStatus
from klinikita.models.facility import Branch, Room, ServiceUnit
from klinikita.models.people import Employee, Patient
from klinikita.services import coordinates, icd10

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


def _branch_problems(branch: Branch) -> list[str]:
    if (branch.ss_organization_id or "").strip():
        return []
    return [
        f'Cabang "{branch.name}" belum punya Organization ID SATUSEHAT. '
        "Isi Organization ID di menu Pengaturan > Cabang."
    ]


def check_unit(unit: ServiceUnit, branch: Branch) -> None:
    """PayloadError with every reason SATUSEHAT would refuse the unit's Organization."""
    problems = _branch_problems(branch)
    if unit.id is None:
        problems.append("Unit layanan belum disimpan; simpan dulu lalu kirim ulang.")
    if not (unit.name or "").strip():
        problems.append("Nama unit layanan kosong. Isi nama unit di menu Referensi.")
    _raise_if(problems)


def check_room(room: Room, branch: Branch) -> None:
    """PayloadError with every reason SATUSEHAT would refuse the room's Location."""
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
    if not (patient.ihs_number or "").strip() and not (patient.nik or "").strip():
        if patient.is_newborn and patient.mother_nik:
            problems = newborn_problems(patient)
            if not problems and patient.sync_status == SyncStatus.NOT_FOUND:
                problems = [
                    f"SATUSEHAT menolak membuat data bayi {patient.name} dengan NIK ibu: "
                    f"{patient.sync_error or ''} Perbaiki NIK ibu di data pasien (menu Kontak)."
                ]
            return problems or [
                f"Data bayi {patient.name} (No. RM {patient.mrn}) belum dibuat di SATUSEHAT "
                "dengan NIK ibu. Tunggu sebentar, atau kirim ulang dari menu Kontak > Pasien."
            ]
    return _person_problems(patient, who, "data pasien (menu Kontak)")


def newborn_problems(patient: Patient) -> list[str]:
    """What keeps SATUSEHAT from creating a newborn's record by its mother's NIK."""
    where = "Perbaiki di data pasien (menu Kontak)."
    problems = []
    mother = (patient.mother_nik or "").strip()
    if len(mother) != 16 or not mother.isdigit():
        problems.append(f"NIK ibu bayi {patient.name} harus 16 angka. {where}")
    if not patient.village_code:
        problems.append(f"Kelurahan/desa bayi {patient.name} belum dipilih. {where}")
    if patient.sex not in ("male", "female"):
        problems.append(f"Jenis kelamin bayi {patient.name} belum dipilih. {where}")
    if not (patient.name or "").strip() or patient.birth_date is None:
        problems.append(f"Nama dan tanggal lahir bayi wajib diisi. {where}")
    return problems


def checked_newborn_patient(patient: Patient) -> JsonDict:
    """The newborn's `POST Patient` body (`fhir.newborn_patient`), once its data passed."""
    _raise_if(newborn_problems(patient))
    return fhir.newborn_patient(patient)


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
        ("datang", stored_utc(visit.arrived_at)),
        ("mulai diperiksa", stored_utc(visit.exam_started_at)),
        ("selesai", stored_utc(visit.completed_at)),
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
    vitals_at = stored_utc(examination.vitals_at) if examination is not None else None
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


_ICD9CM = re.compile(r"\d{2}(\.\d{1,2})?", re.ASCII)
_SNOMED = re.compile(r"\d{6,18}", re.ASCII)
_KFA = re.compile(r"9[1-4]\d{6,}", re.ASCII)


def procedure_problems(
    procedures: Sequence[Procedure],
    doctor: Employee,
    performers: Mapping[int, Employee],
    *,
    identity_known: Callable[[Employee], bool] | None = None,
) -> list[str]:
    """What keeps a coded procedure from its Procedure (API.md 11.1): an ICD-9-CM code
    (rule 10015) and a performer with an IHS number (rule 10399; `identity_known`, when
    given, says whether a performer's number is known or can still be looked up).
    Procedures without a code are not sent."""
    problems: list[str] = []
    for procedure in fhir_procedure.sent_procedures(procedures):
        code = procedure.code.strip()
        if not _ICD9CM.fullmatch(code):
            problems.append(
                f'Kode ICD-9-CM tindakan "{procedure.description}" ({code}) tidak valid '
                "(mis. 96.59). Perbaiki tindakan di menu Pemeriksaan."
            )
        performer = performers.get(procedure.performed_by_id) or doctor
        if procedure.performed_by_id not in (None, doctor.id, *performers):
            problems.append(
                f'Pelaksana tindakan "{procedure.description}" tidak ditemukan. '
                "Perbaiki tindakan di menu Pemeriksaan."
            )
        elif performer.id != doctor.id and not (identity_known and identity_known(performer)):
            problems += _person_problems(
                performer,
                f'{performer.name} (pelaksana tindakan "{procedure.description}")',
                "data karyawan (menu Kontak)",
            )
    return problems


def allergy_problems(allergies: Sequence[PatientAllergy]) -> list[str]:
    """What keeps an allergy recorded in the visit from its AllergyIntolerance: a SNOMED CT
    code for an allergen (or "no known allergy"), a KFA code for a drug."""
    problems: list[str] = []
    for allergy in fhir_allergy.sent_allergies(allergies):
        code = (allergy.code or "").strip()
        if allergy.kind == AllergyKind.DRUG:
            if not _KFA.fullmatch(code):
                problems.append(
                    f'Obat "{allergy.display}" pada data alergi belum punya kode KFA. '
                    "Lengkapi kode KFA di menu Apotek > Obat."
                )
        elif not _SNOMED.fullmatch(code):
            problems.append(
                f'Alergi "{allergy.display}" belum punya kode SNOMED CT. Catat ulang alergi '
                "dari daftar alergen di menu Pemeriksaan."
            )
    return problems


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
    procedures: Sequence[Procedure] = (),
    allergies: Sequence[PatientAllergy] = (),
    performers: Mapping[int, Employee] | None = None,
) -> None:
    """Raise `PayloadError` listing every problem SATUSEHAT would reject the visit for.
    `vitals_by`: who measured the vitals (None: the visit's doctor); `procedures` and
    `allergies` (recorded in the visit) with `performers`, the employees who performed
    procedures, by id.

    Raises ValueError when the rows do not belong together or `now` has no time zone:
    those are bugs in the caller, not something staff can fix.
    """
    now = aware_utc(now)
    ensure_rows_match(visit, patient, doctor, room, examination, diagnoses, branch)
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
    problems += procedure_problems(procedures, doctor, performers or {})
    problems += allergy_problems(allergies)
    _raise_if(problems)


def checked_organization(unit: ServiceUnit, branch: Branch) -> JsonDict:
    """The unit's Organization (`fhir.organization_for_unit`), once `check_unit` passed."""
    check_unit(unit, branch)
    return fhir.organization_for_unit(unit, branch)


def checked_location(room: Room, unit: ServiceUnit | None, branch: Branch) -> JsonDict:
    """The room's Location (`fhir.location_for_room`) at the room's own coordinates or its
    branch's, once `check_room` passed."""
    check_room(room, branch)
    position = coordinates.position_of(room, branch)
    assert position is not None  # check_room refused a room without one
    return fhir.location_for_room(
        room, unit, branch, latitude=position.latitude, longitude=position.longitude
    )


def checked_visit_bundle(
    *,
    visit: Visit,
    patient: Patient,
    doctor: Employee,
    room: Room,
    examination: Examination | None,
    diagnoses: Sequence[Diagnosis],
    branch: Branch,
    now: datetime,
    held: fhir.HeldIds | None = None,
    vitals_by: Employee | None = None,
    procedures: Sequence[Procedure] = (),
    allergies: Sequence[PatientAllergy] = (),
    performers: Mapping[int, Employee] | None = None,
    prescriptions: Sequence[fhir_medication.RxLine] = (),
) -> fhir.VisitBundle:
    """The visit's transaction Bundle (`fhir.visit_bundle`) with its Procedures,
    AllergyIntolerances and MedicationRequests, once `check_visit` passed and its
    prescription lines passed `prescription_problems` (before and after building)."""
    rows = dict(
        visit=visit,
        patient=patient,
        doctor=doctor,
        room=room,
        examination=examination,
        diagnoses=diagnoses,
        branch=branch,
        vitals_by=vitals_by,
    )
    performers = performers or {}
    check_visit(**rows, now=now, procedures=procedures, allergies=allergies, performers=performers)
    _raise_if(fhir_medication.kfa_problems(prescriptions))
    org_id = (branch.ss_organization_id or "").strip()
    extras = fhir_procedure.procedure_entries(
        visit=visit,
        patient=patient,
        doctor=doctor,
        performers=performers,
        procedures=procedures,
        diagnoses=diagnoses,
        org_id=org_id,
    )
    extras += fhir_procedure.withdrawn_entries(
        held.retracted if held else (), visit=visit, patient=patient, doctor=doctor
    )
    extras += fhir_allergy.allergy_entries(
        patient=patient, recorder=doctor, allergies=allergies, org_id=org_id
    )
    built = fhir.visit_bundle(**rows, held=held, extras=extras, prescriptions=prescriptions)
    problems = []
    for entry in built.bundle["entry"]:
        if entry["resource"]["resourceType"] == "MedicationRequest":
            problems += medication_request_problems(entry["resource"], org_id)
    _raise_if(problems)
    return built


def medication_request_problems(resource: JsonDict, org_id: str) -> list[str]:
    """What SATUSEHAT refuses in a built MedicationRequest (API.md 11.3): its contained
    Medication's KFA codes (rule 10024), the prescription-item identifier (10388), the
    dispensing organization (10453), and the references to the patient, the visit and the
    prescribing doctor."""
    item_system = f"{fhir.SYS_IDS}/prescription-item/{org_id}"
    problems = []
    name = (resource.get("medicationReference") or {}).get("display") or "obat"
    if not any(
        i.get("system") == item_system and i.get("value") for i in resource.get("identifier", [])
    ):
        problems.append(f"Resep {name} tidak punya nomor item resep (prescription-item).")
    performer = (resource.get("dispenseRequest") or {}).get("performer") or {}
    if performer.get("reference") != f"Organization/{org_id}":
        problems.append(f"Resep {name}: apotek pelaksana harus Organization/{org_id}.")
    for element, prefix in (
        ("subject", "Patient/"),
        ("encounter", ""),
        ("requester", "Practitioner/"),
    ):
        reference = (resource.get(element) or {}).get("reference") or ""
        if not reference.startswith(prefix) or reference.endswith("/"):
            problems.append(f"Resep {name}: rujukan {element} tidak lengkap.")
    for med in resource.get("contained", []):
        codings = [med.get("code", {}).get("coding") or []]
        codings += [i["itemCodeableConcept"]["coding"] for i in med.get("ingredient", [])]
        for coding in codings:
            if not any(
                c.get("system") == fhir_medication.KFA_SYSTEM
                and fhir_medication.kfa_plausible(c.get("code"))
                for c in coding
            ) and (coding or not med.get("ingredient")):
                problems.append(f"Resep {name}: kode KFA obat tidak valid.")
    return problems
