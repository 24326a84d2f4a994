"""Preparing outbox jobs: what each kind needs from the database before it is sent.

`prepare_claimed` takes the jobs a worker just claimed and gives, per job, a `Send` (with the
branch's credentials) or a final answer (`Done`, `Fail`, `Wait`), in the caller's
transaction. Visits are read a batch at a time with two joined queries; the other kinds are
rare and read through the ORM. A job whose subject must be sent first (an IHS number, a
unit, a room) queues that job and waits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session

from klinikita.integrations.satusehat import fhir
from klinikita.integrations.satusehat.client import Lookup, PatientCreated, SatusehatClient
from klinikita.integrations.satusehat.config import Credentials, missing_settings
from klinikita.integrations.satusehat.outcomes import Duplicate, Ok, Outcome
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
from klinikita.models.allergies import PatientAllergy
from klinikita.models.base import utcnow
from klinikita.models.clinical import Procedure
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import dispense_sender, outbox, prescribing, satusehat_rules, vitals_by
from klinikita.services.job_results import (
    Done,
    Fail,
    Prepared,
    Retry,
    Send,
    Wait,
    from_outcome,
    set_sync,
)
from klinikita.services.outbox_claims import ClaimedJob
from klinikita.services.satusehat_credentials import credentials_for
from klinikita.services.satusehat_rules import PayloadError
from klinikita.services.visit_sender import VisitSender

log = logging.getLogger("klinikita.satusehat")


def _table(row) -> str:  # noqa: ANN001
    return type(row).__tablename__


# ----- NIK lookups -------------------------------------------------------------------
def _prepare_lookup(session: Session, job: SyncJob, model, find_name: str) -> Prepared:  # noqa: ANN001
    row = session.get(model, job.subject_id)
    if row is None:
        return Fail("Data yang akan dicari sudah tidak ada.")
    if row.ihs_number:
        return Done(
            {"ihs_number": row.ihs_number}, (set_sync(_table(row), row.id, SyncStatus.SENT),)
        )
    nik = (row.nik or "").strip()
    if model is Patient and not nik and row.is_newborn and row.mother_nik:
        return _prepare_newborn(row)
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
            return Done(
                {"found": False},
                (set_sync(_table(row), row.id, SyncStatus.NOT_FOUND, message),),
            )
        return Done(
            {"found": True, "ihs_number": found.ihs_number},
            (set_sync(_table(row), row.id, SyncStatus.SENT, None, ihs_number=found.ihs_number),),
        )

    return Send(run, patient_id=row.id if model is Patient else None)


CITIZEN_NOT_EXISTS = "Citizen Not Exists"


def _prepare_newborn(patient: Patient) -> Prepared:
    """A baby without a NIK: SATUSEHAT creates its record by the mother's NIK (API.md 4.3) and
    answers with the new IHS number. Sending again is safe: a baby already created (same
    mother, birth date, name and birth order) is answered with its existing number."""
    try:
        resource = satusehat_rules.checked_newborn_patient(patient)
    except PayloadError as bad:
        return Fail(" ".join(bad.problems))

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        created = await client.create_patient(resource)
        if not isinstance(created, PatientCreated):
            return from_outcome(created)
        if created.ihs_number is None:
            reason = (
                "NIK ibu tidak dikenal Dukcapil/SATUSEHAT (Citizen Not Exists)"
                if created.message == CITIZEN_NOT_EXISTS
                else f"SATUSEHAT menolak: {created.message or 'tanpa keterangan'}"
            )
            message = (
                f"Data bayi tidak bisa dibuat dengan NIK ibu: {reason}. Periksa NIK ibu di "
                "data pasien, lalu kirim ulang."
            )
            return Done(
                {"created": False, "message": created.message},
                (set_sync(_table(patient), patient.id, SyncStatus.NOT_FOUND, message),),
            )
        return Done(
            {"created": not created.existed, "ihs_number": created.ihs_number},
            (
                set_sync(
                    _table(patient),
                    patient.id,
                    SyncStatus.SENT,
                    None,
                    ihs_number=created.ihs_number,
                ),
            ),
        )

    return Send(run, patient_id=patient.id)


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
            return Done(
                {"id": resource["id"], "updated": True},
                (set_sync(_table(row), row.id, SyncStatus.SENT),),
            )
        return from_outcome(outcome)

    return run


def _prepare_organization(session: Session, job: SyncJob) -> Prepared:
    unit = session.get(ServiceUnit, job.subject_id)
    if unit is None:
        return Fail("Unit layanan sudah tidak ada.")
    branch = session.get(Branch, unit.branch_id)
    try:
        resource = satusehat_rules.checked_organization(unit, branch)
    except PayloadError as bad:
        return Fail(" ".join(bad.problems))
    if unit.ihs_id:
        return Send(_updater(unit, resource))
    search = {"partof": branch.ss_organization_id}
    recover = job.attempts > 0

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        got = await _recover_then_create(client, resource, search, recover)()
        if isinstance(got, str):
            return Done(
                {"id": got}, (set_sync(_table(unit), unit.id, SyncStatus.SENT, None, ihs_id=got),)
            )
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
        resource = satusehat_rules.checked_location(room, unit, branch)
    except PayloadError as bad:
        return Fail(" ".join(bad.problems))
    if room.ihs_id:
        return Send(_updater(room, resource))
    identifier = resource["identifier"][0]
    search = {"identifier": f"{identifier['system']}|{identifier['value']}"}
    recover = job.attempts > 0  # an earlier send may have reached SATUSEHAT

    async def run(client: SatusehatClient) -> Done | Fail | Retry:
        got = await _recover_then_create(client, resource, search, recover)()
        if isinstance(got, str):
            return Done(
                {"id": got}, (set_sync(_table(room), room.id, SyncStatus.SENT, None, ihs_id=got),)
            )
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
    if kind == JobKind.PATIENT_LOOKUP and not nik and row.is_newborn and row.mother_nik:
        outbox.ensure_job(session, kind, row.branch_id, row.id)
        return Wait("Data bayi sedang dibuat di SATUSEHAT dengan NIK ibu")
    if len(nik) != 16 or not nik.isdigit():
        return Fail(f"{label} belum punya NIK 16 digit; lengkapi di Kontak lalu kirim ulang.")
    outbox.ensure_job(session, kind, row.branch_id, row.id)
    return Wait(f"Nomor IHS {label.lower()} sedang dicari")


# Everything a visit's bundle needs, in one statement per batch (the examination is unique
# per visit); diagnoses, many per visit, in a second one.
_PARTS = (("visit", Visit), ("patient", Patient), ("doctor", Employee), ("room", Room))
_PARTS += (("exam", Examination),)
# With who measured the vitals, and the user who saved them (services/vitals_by.py).
_PERFORMER_PARTS = (
    ("vitals_by", tuple(vitals_by.PERFORMER.c)),
    ("vitals_user", vitals_by.RECORDER_COLUMNS),
)


_PART_COLUMNS = [(name, c.name) for name, model in _PARTS for c in model.__table__.c]
_PART_COLUMNS += [(name, c.name) for name, columns in _PERFORMER_PARTS for c in columns]


def _visits_with(ids: Sequence[int]) -> Select:
    v, p, d, r, e = (model.__table__ for _, model in _PARTS)
    source = (
        v.outerjoin(p, p.c.id == v.c.patient_id)
        .outerjoin(d, d.c.id == v.c.doctor_id)
        .outerjoin(r, r.c.id == v.c.room_id)
        .outerjoin(e, e.c.visit_id == v.c.id)
    )
    source = vitals_by.join_performer(source, e)
    columns = [c for _, model in _PARTS for c in model.__table__.c]
    columns += [c for _, part in _PERFORMER_PARTS for c in part]
    return select(*columns).select_from(source).where(v.c.id.in_(ids))


_DIAGNOSIS_COLUMNS = Diagnosis.__table__.c.keys()


def _diagnoses_of(ids: Sequence[int]) -> Select:
    table = Diagnosis.__table__
    return select(table).where(table.c.visit_id.in_(ids)).order_by(table.c.rank, table.c.id)


def _rows_of(session: Session, table, column, ids) -> dict[int, list]:  # noqa: ANN001
    """Rows of `table` whose `column` is one of `ids`, as plain rows grouped by it."""
    found: dict[int, list] = defaultdict(list)
    if not ids:
        return found
    names = table.c.keys()
    for row in session.execute(select(table).where(column.in_(ids)).order_by(table.c.id)):
        plain = SimpleNamespace(**dict(zip(names, row, strict=True)))
        found[getattr(plain, column.name)].append(plain)
    return found


def _visit_extras(session: Session, visit_ids: list[int]) -> dict[str, dict]:
    """The procedures and allergies recorded in the visits (by visit id), and the employees
    who performed the procedures (by id), as plain rows."""
    procedure, allergy, employee = (
        Procedure.__table__,
        PatientAllergy.__table__,
        Employee.__table__,
    )
    procedures = _rows_of(session, procedure, procedure.c.visit_id, visit_ids)
    allergies = _rows_of(session, allergy, allergy.c.recorded_visit_id, visit_ids)
    performer_ids = sorted(
        {p.performed_by_id for rows in procedures.values() for p in rows if p.performed_by_id}
    )
    employees = _rows_of(session, employee, employee.c.id, performer_ids)
    performers = {eid: rows[0] for eid, rows in employees.items()}
    return {"procedures": procedures, "allergies": allergies, "performers": performers}


def _visit_parts(session: Session, visit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per visit id: its visit, patient, doctor, room, examination, the employee who measured
    its vitals and the user who saved them, as plain rows (attribute access like the models;
    None when missing)."""
    found: dict[int, dict[str, Any]] = {}
    names = [name for name, _ in (*_PARTS, *_PERFORMER_PARTS)]
    for row in session.execute(_visits_with(visit_ids)):
        values: dict[str, dict[str, Any]] = {name: {} for name in names}
        for (name, column), value in zip(_PART_COLUMNS, row, strict=True):
            values[name][column] = value
        parts = {
            name: SimpleNamespace(**cols) if cols["id"] is not None else None
            for name, cols in values.items()
        }
        found[parts["visit"].id] = parts
    return found


def prepare_visits(
    session: Session, jobs: list, branches: dict[int, Branch | None] | None = None
) -> dict[int, Prepared]:
    """Prepare a batch of VISIT_SEND jobs (anything with id, subject_id, attempts) with two
    Core queries per batch: the visits with their patients, doctors, rooms and examinations,
    then their diagnoses, as plain rows (no ORM objects). `branches`: those the caller read
    already, by id (filled in here)."""
    visit_ids = sorted({j.subject_id for j in jobs})
    visits = _visit_parts(session, visit_ids)
    diagnoses: dict[int, list] = defaultdict(list)
    if visits:
        for row in session.execute(_diagnoses_of(list(visits))):
            d = SimpleNamespace(**dict(zip(_DIAGNOSIS_COLUMNS, row, strict=True)))
            diagnoses[d.visit_id].append(d)
    extras = _visit_extras(session, list(visits))
    prescriptions = prescribing.lines_to_send(session, list(visits))
    branches = {} if branches is None else branches  # the caller's, if it read them already
    prepared: dict[int, Prepared] = {}
    now = utcnow()
    for job in jobs:
        parts = visits.get(job.subject_id)
        if parts is None:
            prepared[job.id] = Fail("Kunjungan sudah tidak ada.")
            continue
        visit = parts["visit"]
        if visit.branch_id not in branches:
            branches[visit.branch_id] = session.get(Branch, visit.branch_id)
        try:
            prepared[job.id] = _prepare_visit(
                session,
                job,
                visit=visit,
                branch=branches[visit.branch_id],
                patient=parts["patient"],
                doctor=parts["doctor"],
                room=parts["room"],
                exam=parts["exam"],
                diagnoses=diagnoses.get(visit.id, []),
                now=now,
                performer=parts["vitals_by"],
                recorder=parts["vitals_user"],
                procedures=extras["procedures"].get(visit.id, []),
                allergies=extras["allergies"].get(visit.id, []),
                performers=extras["performers"],
                prescriptions=prescriptions.get(visit.id, []),
            )
        except Exception as exc:  # a bug in one visit spoils only that job
            log.exception("Preparing SATUSEHAT job %s failed", job.id)
            prepared[job.id] = Retry(f"Kesalahan internal: {exc}")
    return prepared


def _prepare_visit(  # noqa: C901
    session: Session,
    job,  # noqa: ANN001
    *,
    visit,  # noqa: ANN001
    branch: Branch,
    patient,  # noqa: ANN001
    doctor,  # noqa: ANN001
    room,  # noqa: ANN001
    exam,  # noqa: ANN001
    diagnoses: list,
    now,  # noqa: ANN001
    performer=None,  # noqa: ANN001
    recorder=None,  # noqa: ANN001
    procedures: Sequence = (),
    allergies: Sequence = (),
    performers: dict | None = None,
    prescriptions: list | None = None,
) -> Prepared:
    """`performer`: the employee who measured the vitals; `recorder`: the user who saved
    them (services/vitals_by.py); `procedures` and `allergies` recorded in the visit, and
    `performers`, the employees who performed procedures (by id); `prescriptions`: the
    visit's lines as sent (prescribing.lines_to_send)."""
    prescriptions = prescriptions or []
    missing = missing_settings(branch)
    if missing:
        return Fail(f"Pengaturan SATUSEHAT cabang belum lengkap: {', '.join(missing)}.")
    unlinked = vitals_by.unlinked_problems(exam, performer, recorder)
    if unlinked:
        return Fail(" ".join(unlinked))
    if performer is not None and (performer.id == doctor.id or not fhir.filled_vitals(exam)):
        performer = None  # the doctor, or nobody to name
    people = [(patient, JobKind.PATIENT_LOOKUP, "Pasien")]
    people.append((doctor, JobKind.PRACTITIONER_LOOKUP, "Dokter"))
    if performer is not None:
        people.append((performer, JobKind.PRACTITIONER_LOOKUP, "Pengukur tanda vital"))
    procedure_by = {p.performed_by_id for p in procedures if (p.code or "").strip()}
    performers = {k: v for k, v in (performers or {}).items() if k in procedure_by}
    people += [
        (e, JobKind.PRACTITIONER_LOOKUP, "Pelaksana tindakan")
        for e in performers.values()
        if e.id != doctor.id
    ]
    for row, kind, label in people:
        blocker = _need_lookup(session, row, kind, label)
        if blocker is not None:
            return blocker
    if not room.ihs_id:
        outbox.ensure_job(session, JobKind.LOCATION_CREATE, room.branch_id, room.id)
        return Wait(f"Ruangan '{room.name}' belum terkirim sebagai Location")
    # Sent before and changed since (an admin's correction): update in place.
    held = None
    if visit.encounter_id:
        held = fhir.HeldIds(
            encounter_id=visit.encounter_id,
            conditions={d.id: d.condition_id for d in diagnoses if d.condition_id},
            observations=dict((exam.observation_ids or {}) if exam else {}),
            retracted=list(visit.retracted or []),
            medication_requests={
                p.id: p.medication_request_id for p in prescriptions if p.medication_request_id
            },
        )
    sender = VisitSender(
        rows={
            "visit": visit,
            "patient": patient,
            "doctor": doctor,
            "room": room,
            "examination": exam,
            "diagnoses": diagnoses,
            "branch": branch,
            "now": now,
            "vitals_by": performer,
            "procedures": list(procedures),
            "allergies": list(allergies),
            "performers": performers,
            "prescriptions": prescriptions,
        },
        held=held,
        # An earlier attempt may have reached SATUSEHAT, its answer lost.
        may_exist=job.attempts > 0,
    )
    try:
        sender.first = sender.build(held)
    except PayloadError as bad:
        return Fail(" ".join(bad.problems))
    return Send(sender.run, patient_id=patient.id)


def prepare(session: Session, job: SyncJob) -> Prepared:
    """Prepare one job of any kind (a visit alone, as `prepare_visits` does a batch)."""
    if job.kind == JobKind.PATIENT_LOOKUP:
        return _prepare_lookup(session, job, Patient, "find_patient_by_nik")
    if job.kind == JobKind.PRACTITIONER_LOOKUP:
        return _prepare_lookup(session, job, Employee, "find_practitioner_by_nik")
    if job.kind == JobKind.ORGANIZATION_CREATE:
        return _prepare_organization(session, job)
    if job.kind == JobKind.LOCATION_CREATE:
        return _prepare_location(session, job)
    if job.kind == JobKind.VISIT_SEND:
        return prepare_visits(session, [job])[job.id]
    if job.kind == JobKind.DISPENSE_SEND:
        return dispense_sender.prepare_dispense(session, job)
    return Fail(f"Jenis tugas tidak dikenal: {job.kind}")


@dataclass(frozen=True)
class Begun:
    """A claimed job, prepared: `creds` are set when `prepared` is a `Send`."""

    job: ClaimedJob
    prepared: Prepared | Retry
    creds: Credentials | None


def prepare_claimed(
    session: Session, claimed: Sequence[ClaimedJob], simulator_base: str
) -> list[Begun]:
    """Prepare jobs just claimed, in the caller's transaction, in their order: each gets its
    `Send` and its branch's credentials, or its final answer (a branch without complete
    settings, or whose secret cannot be opened, fails its jobs). `attempts` of a job to be
    sent counts that send."""
    prepared: dict[int, Prepared | Retry] = {}
    branches: dict[int, Branch | None] = {}  # read once per batch, shared below
    for job in claimed:
        if job.branch_id not in branches:
            branches[job.branch_id] = session.get(Branch, job.branch_id)
        branch = branches[job.branch_id]
        missing = missing_settings(branch) if branch else ["cabang"]
        if missing:
            prepared[job.id] = Fail(
                f"Pengaturan SATUSEHAT cabang belum lengkap: {', '.join(missing)}."
            )
    visits = [j for j in claimed if j.id not in prepared and j.kind == JobKind.VISIT_SEND]
    if visits:
        prepared.update(prepare_visits(session, visits, branches))
    for job in claimed:
        if job.id not in prepared:  # the other kinds are rare: the ORM path
            prepared[job.id] = _prepare_other(session, job.id)
    creds_by_branch: dict[int, Credentials] = {}
    begun: list[Begun] = []
    for job in claimed:
        result, creds = prepared[job.id], None
        if isinstance(result, Send):
            try:
                if job.branch_id not in creds_by_branch:
                    creds_by_branch[job.branch_id] = credentials_for(
                        branches[job.branch_id], simulator_base
                    )
                creds = creds_by_branch[job.branch_id]
            except ValueError as exc:
                result = Fail(str(exc))
        sending = isinstance(result, Send)
        job = job._replace(attempts=job.attempts + (1 if sending else 0))
        begun.append(Begun(job, result, creds))
    return begun


def _prepare_other(session: Session, job_id: int) -> Prepared | Retry:
    try:
        with session.begin_nested():  # a bug in one job spoils only that job
            return prepare(session, session.get(SyncJob, job_id))
    except Exception as exc:
        log.exception("Preparing SATUSEHAT job %s failed", job_id)
        return Retry(f"Kesalahan internal: {exc}")
