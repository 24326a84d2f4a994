"""What each kind of outbox job does: prepare (database), send (HTTP), apply (database).

`prepare` runs in a transaction and returns either a `Send` (an async function that talks to
SATUSEHAT and returns a result) or a final answer (`Done`, `Fail`, `Wait`). `Done.apply`
writes the ids back in the transaction that marks the job done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from klinikita.integrations.satusehat import fhir
from klinikita.integrations.satusehat.client import Lookup, SatusehatClient, entry_ids
from klinikita.integrations.satusehat.config import missing_settings
from klinikita.integrations.satusehat.outcomes import (
    AuthFailed,
    Duplicate,
    Ok,
    Outcome,
    Rejected,
    Transient,
)
from klinikita.models import (
    Branch,
    Diagnosis,
    Employee,
    Examination,
    Patient,
    Room,
    ServiceUnit,
    SyncJob,
    Visit,
)
from klinikita.models.base import utcnow
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import outbox

Apply = Callable[[Session], None]


@dataclass
class Done:
    result: dict[str, Any]
    apply: Apply | None = None


@dataclass
class Fail:
    """Rejected, or local data SATUSEHAT would reject: staff must fix it, then resend."""

    message: str


@dataclass
class Retry:
    message: str
    retry_after: float | None = None
    min_delay: float = 0.0


@dataclass
class Wait:
    """Needs another row to be sent first; the job stays queued."""

    waiting_for: str


@dataclass
class Send:
    run: Callable[[SatusehatClient], Awaitable[Done | Fail | Retry]]
    patient_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Prepared = Send | Done | Fail | Wait


def from_outcome(outcome: Outcome) -> Fail | Retry:
    """The job's fate for an outcome that is not a success."""
    if isinstance(outcome, Transient):
        return Retry(outcome.message, outcome.retry_after)
    if isinstance(outcome, AuthFailed):
        # Wrong keys fix themselves only when the admin corrects them; wait out the block.
        return Retry(outcome.message, min_delay=60.0)
    if isinstance(outcome, Rejected | Duplicate):
        return Fail(outcome.message)
    return Retry(f"Jawaban tak terduga: {outcome!r}")


def _set_sync(row, status: str, error: str | None = None, **fields: Any) -> Apply:  # noqa: ANN001
    model, row_id = type(row), row.id

    def apply(session: Session) -> None:
        target = session.get(model, row_id)
        for key, value in fields.items():
            setattr(target, key, value)
        target.sync_status = status
        target.sync_error = error
        target.updated_at = utcnow()
        session.add(target)

    return apply


# ----- NIK lookups -------------------------------------------------------------------
def _prepare_lookup(session: Session, job: SyncJob, model, find_name: str) -> Prepared:  # noqa: ANN001
    row = session.get(model, job.subject_id)
    if row is None:
        return Fail("Data yang akan dicari sudah tidak ada.")
    if row.ihs_number:
        return Done({"ihs_number": row.ihs_number}, _set_sync(row, SyncStatus.SENT))
    nik = (row.nik or "").strip()
    if len(nik) != 16 or not nik.isdigit():
        return Fail("NIK belum diisi atau tidak 16 digit; lengkapi NIK lalu kirim ulang.")
    what = "Pasien" if model is Patient else "Tenaga kesehatan"
    not_found_hint = (
        "Pastikan NIK benar; pasien yang belum terdaftar di SATUSEHAT (Dukcapil) "
        "belum bisa dikirim."
        if model is Patient
        else "Pastikan NIK benar dan nakes terdaftar di SISDMK/KKI dengan STR aktif."
    )

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        found = await getattr(client, find_name)(nik)
        if not isinstance(found, Lookup):
            return from_outcome(found)
        if found.ihs_number is None:
            message = f"{what} dengan NIK ini tidak ditemukan di SATUSEHAT. {not_found_hint}"
            return Done({"found": False}, _set_sync(row, SyncStatus.NOT_FOUND, message))
        return Done(
            {"found": True, "ihs_number": found.ihs_number},
            _set_sync(row, SyncStatus.SENT, None, ihs_number=found.ihs_number),
        )

    return Send(run, patient_id=row.id if model is Patient else None)


# ----- Organization and Location -------------------------------------------------------
def _recover_then_create(
    client: SatusehatClient,
    resource: dict[str, Any],
    search: dict[str, str],
    recover: bool,
) -> Callable[[], Awaitable[Outcome | str]]:
    identifier = resource["identifier"][0]
    kind = resource["resourceType"]

    async def go() -> Outcome | str:
        if recover:
            found = await client.find_by_identifier(
                kind, identifier["system"], identifier["value"], **search
            )
            if isinstance(found, dict):
                return found["id"]
            if found is not None:
                return found
        outcome = await client.create(resource)
        if isinstance(outcome, Ok):
            return outcome.body["id"]
        if isinstance(outcome, Duplicate):
            found = await client.find_by_identifier(
                kind, identifier["system"], identifier["value"], **search
            )
            if isinstance(found, dict):
                return found["id"]
        return outcome

    return go


def _updater(row, resource: dict[str, Any]) -> Callable:  # noqa: ANN001
    """The row is already in SATUSEHAT: send its current state (a rename, deactivation)."""

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        outcome = await client.update(resource)
        if isinstance(outcome, Ok):
            return Done({"id": resource["id"], "updated": True}, _set_sync(row, SyncStatus.SENT))
        return from_outcome(outcome)

    return run


def _prepare_organization(session: Session, job: SyncJob) -> Prepared:
    unit = session.get(ServiceUnit, job.subject_id)
    if unit is None:
        return Fail("Unit layanan sudah tidak ada.")
    branch = session.get(Branch, unit.branch_id)
    try:
        resource = fhir.organization_for_unit(unit, branch)
    except fhir.PayloadError as bad:
        return Fail(" ".join(bad.problems))
    if unit.ihs_id:
        return Send(_updater(unit, resource))
    search = {"partof": branch.ss_organization_id}
    recover = job.attempts > 0

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        got = await _recover_then_create(client, resource, search, recover)()
        if isinstance(got, str):
            return Done({"id": got}, _set_sync(unit, SyncStatus.SENT, None, ihs_id=got))
        return from_outcome(got)

    return Send(run)


def _prepare_location(session: Session, job: SyncJob) -> Prepared:
    room = session.get(Room, job.subject_id)
    if room is None:
        return Fail("Ruangan sudah tidak ada.")
    branch = session.get(Branch, room.branch_id)
    unit = session.get(ServiceUnit, room.unit_id) if room.unit_id else None
    if unit is not None and not unit.ihs_id:
        outbox.ensure_job(session, JobKind.ORGANIZATION_CREATE, unit.branch_id, unit.id)
        return Wait(f"Unit layanan '{unit.name}' belum terkirim")
    try:
        resource = fhir.location_for_room(room, unit, branch)
    except fhir.PayloadError as bad:
        return Fail(" ".join(bad.problems))
    if room.ihs_id:
        return Send(_updater(room, resource))
    identifier = resource["identifier"][0]
    search = {"identifier": f"{identifier['system']}|{identifier['value']}"}
    recover = job.attempts > 0  # an earlier send may have reached SATUSEHAT

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        got = await _recover_then_create(client, resource, search, recover)()
        if isinstance(got, str):
            return Done({"id": got}, _set_sync(room, SyncStatus.SENT, None, ihs_id=got))
        return from_outcome(got)

    return Send(run)


# ----- the visit -------------------------------------------------------------------
def _need_lookup(session: Session, row, kind: str, label: str) -> Fail | Wait | None:  # noqa: ANN001
    """None when `row` has its IHS number; else why the visit waits or fails."""
    if row.ihs_number:
        return None
    if row.sync_status == SyncStatus.NOT_FOUND:
        return Fail(f"{label} tidak ditemukan di SATUSEHAT: {row.sync_error or ''}".strip())
    nik = (row.nik or "").strip()
    if len(nik) != 16 or not nik.isdigit():
        return Fail(f"{label} belum punya NIK 16 digit; lengkapi di Kontak lalu kirim ulang.")
    outbox.ensure_job(session, kind, row.branch_id, row.id)
    return Wait(f"Nomor IHS {label.lower()} sedang dicari")


def _prepare_visit(session: Session, job: SyncJob, now_fn=utcnow) -> Prepared:  # noqa: ANN001
    visit = session.get(Visit, job.subject_id)
    if visit is None:
        return Fail("Kunjungan sudah tidak ada.")
    if visit.encounter_id:
        return Done({"encounter_id": visit.encounter_id}, _set_sync(visit, SyncStatus.SENT))
    branch = session.get(Branch, visit.branch_id)
    patient = session.get(Patient, visit.patient_id)
    doctor = session.get(Employee, visit.doctor_id)
    room = session.get(Room, visit.room_id)
    missing = missing_settings(branch)
    if missing:
        return Fail(f"Pengaturan SATUSEHAT cabang belum lengkap: {', '.join(missing)}.")
    for blocker in (
        _need_lookup(session, patient, JobKind.PATIENT_LOOKUP, "Pasien"),
        _need_lookup(session, doctor, JobKind.PRACTITIONER_LOOKUP, "Dokter"),
    ):
        if blocker is not None:
            return blocker
    if not room.ihs_id:
        outbox.ensure_job(session, JobKind.LOCATION_CREATE, room.branch_id, room.id)
        return Wait(f"Ruangan '{room.name}' belum terkirim sebagai Location")
    exam = session.exec(select(Examination).where(Examination.visit_id == visit.id)).first()
    diagnoses = list(
        session.exec(
            select(Diagnosis)
            .where(Diagnosis.visit_id == visit.id)
            .order_by(Diagnosis.rank, Diagnosis.id)
        ).all()
    )
    try:
        built = fhir.visit_bundle(
            visit=visit,
            patient=patient,
            doctor=doctor,
            room=room,
            examination=exam,
            diagnoses=diagnoses,
            branch=branch,
            now=now_fn(),
        )
    except fhir.PayloadError as bad:
        return Fail(" ".join(bad.problems))
    system = f"{fhir.SYS_IDS}/encounter/{branch.ss_organization_id}"
    recover = job.attempts > 0  # an earlier send may have reached SATUSEHAT
    visit_id, exam_id = visit.id, exam.id if exam else None
    diagnosis_codes = {d.id: d.icd10_code for d in diagnoses}

    def write_back(encounter_id: str, conditions: dict[int, str], observations: dict[str, str]):
        def apply(session: Session) -> None:
            row = session.get(Visit, visit_id)
            row.encounter_id = encounter_id
            row.sync_status, row.sync_error, row.updated_at = SyncStatus.SENT, None, utcnow()
            session.add(row)
            for diag_id, cond_id in conditions.items():
                diag = session.get(Diagnosis, diag_id)
                diag.condition_id = cond_id
                session.add(diag)
            if exam_id is not None and observations:
                exam_row = session.get(Examination, exam_id)
                exam_row.observation_ids = observations
                session.add(exam_row)

        return Done(
            {
                "encounter_id": encounter_id,
                "conditions": len(conditions),
                "observations": len(observations),
            },
            apply,
        )

    async def recover_existing(client: SatusehatClient) -> Done | Fail | Retry | None:
        found = await client.find_by_identifier(
            "Encounter", system, visit.uid, subject=patient.ihs_number
        )
        if found is None:
            return None
        if not isinstance(found, dict):
            return from_outcome(found)
        encounter_id = found["id"]
        conditions: dict[int, str] = {}
        observations: dict[str, str] = {}
        got = await client.search("Condition", encounter=encounter_id)
        if isinstance(got, Ok):
            by_code = {}
            for entry in got.body.get("entry") or []:
                res = entry.get("resource") or {}
                code = ((res.get("code") or {}).get("coding") or [{}])[0].get("code")
                by_code[code] = res.get("id")
            conditions = {d: by_code[c] for d, c in diagnosis_codes.items() if c in by_code}
        got = await client.search("Observation", encounter=encounter_id)
        if isinstance(got, Ok):
            for entry in got.body.get("entry") or []:
                res = entry.get("resource") or {}
                code = ((res.get("code") or {}).get("coding") or [{}])[0].get("code")
                observations[code] = res.get("id")
        return write_back(encounter_id, conditions, observations)

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        if recover:
            # The last attempt may have reached SATUSEHAT: look before creating again.
            recovered = await recover_existing(client)
            if recovered is not None:
                return recovered
        outcome = await client.send_transaction(built.bundle)
        if isinstance(outcome, Duplicate):
            recovered = await recover_existing(client)
            return recovered or Fail(outcome.message)
        if not isinstance(outcome, Ok):
            return from_outcome(outcome)
        ids = entry_ids(outcome.body)
        encounter_id, conditions, observations = None, {}, {}
        for index, (what, ref) in built.entries.items():
            rid = ids[index] if index < len(ids) else None
            if what == "encounter":
                encounter_id = rid
            elif what == "condition":
                conditions[ref] = rid
            elif what == "observation":
                observations[ref] = rid
        if not encounter_id:
            return Retry("Jawaban transaksi SATUSEHAT tidak memuat id Encounter.")
        return write_back(encounter_id, conditions, observations)

    return Send(run, patient_id=patient.id)


def prepare(session: Session, job: SyncJob) -> Prepared:
    if job.kind == JobKind.PATIENT_LOOKUP:
        return _prepare_lookup(session, job, Patient, "find_patient_by_nik")
    if job.kind == JobKind.PRACTITIONER_LOOKUP:
        return _prepare_lookup(session, job, Employee, "find_practitioner_by_nik")
    if job.kind == JobKind.ORGANIZATION_CREATE:
        return _prepare_organization(session, job)
    if job.kind == JobKind.LOCATION_CREATE:
        return _prepare_location(session, job)
    if job.kind == JobKind.VISIT_SEND:
        return _prepare_visit(session, job)
    return Fail(f"Jenis tugas tidak dikenal: {job.kind}")


def mark_failed(session: Session, job: SyncJob, message: str) -> None:
    """Show the failure on the row the job is about."""
    _, model = outbox.SUBJECTS.get(job.kind, (None, None))
    row = session.get(model, job.subject_id) if model else None
    if row is not None:
        row.sync_status = SyncStatus.FAILED
        row.sync_error = message
        session.add(row)
