"""What each kind of outbox job does: prepare (database), send (HTTP), outcome (data).

`prepare` runs in a transaction and returns either a `Send` (an async function that talks to
SATUSEHAT and returns a result) or a final answer (`Done`, `Fail`, `Wait`). A `Done` carries
the ids to write back as plain data (`RowUpdate`s); the worker writes the outcomes of a whole
batch with one UPDATE per table, in the transaction that marks the jobs done.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select
from sqlalchemy import select as core_select
from sqlmodel import Session

from klinikita.db import Statements, for_ids, ids_params, statements
from klinikita.integrations.satusehat import fhir, reconcile
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
from klinikita.services import outbox, vitals_by

log = logging.getLogger("klinikita.satusehat")


@dataclass(frozen=True)
class RowUpdate:
    """Columns to set on one row (by id): what an outcome writes back, as data."""

    table: str
    id: int
    values: dict[str, Any]


@dataclass
class Done:
    result: dict[str, Any]
    updates: tuple[RowUpdate, ...] = ()


@dataclass
class Fail:
    """Rejected, or local data SATUSEHAT would reject: staff must fix it, then resend."""

    message: str


@dataclass
class Retry:
    message: str
    retry_after: float | None = None
    min_delay: float = 0.0
    key_refused: bool = False  # SATUSEHAT refused the branch's keys (the worker records it)


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
        return Retry(outcome.message, min_delay=60.0, key_refused=True)
    if isinstance(outcome, Rejected | Duplicate):
        return Fail(outcome.message)
    return Retry(f"Jawaban tak terduga: {outcome!r}")


def _set_sync(table: str, row_id: int, status: str, error: str | None = None, **fields: Any):
    """The subject row's new sync state (and ids it received)."""
    values = {**fields, "sync_status": status, "sync_error": error, "updated_at": utcnow()}
    return RowUpdate(table, row_id, values)


def _table(row) -> str:  # noqa: ANN001
    return type(row).__tablename__


# ----- NIK lookups -------------------------------------------------------------------
def _prepare_lookup(session: Session, job: SyncJob, model, find_name: str) -> Prepared:  # noqa: ANN001
    row = session.get(model, job.subject_id)
    if row is None:
        return Fail("Data yang akan dicari sudah tidak ada.")
    if row.ihs_number:
        return Done(
            {"ihs_number": row.ihs_number}, (_set_sync(_table(row), row.id, SyncStatus.SENT),)
        )
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
            return Done(
                {"found": False},
                (_set_sync(_table(row), row.id, SyncStatus.NOT_FOUND, message),),
            )
        return Done(
            {"found": True, "ihs_number": found.ihs_number},
            (_set_sync(_table(row), row.id, SyncStatus.SENT, None, ihs_number=found.ihs_number),),
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
            return Done(
                {"id": resource["id"], "updated": True},
                (_set_sync(_table(row), row.id, SyncStatus.SENT),),
            )
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
            return Done(
                {"id": got}, (_set_sync(_table(unit), unit.id, SyncStatus.SENT, None, ihs_id=got),)
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
            return Done(
                {"id": got}, (_set_sync(_table(room), room.id, SyncStatus.SENT, None, ihs_id=got),)
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


def _visits_with(ids: list) -> Select:  # noqa: ANN001
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
    return core_select(*columns).select_from(source).where(v.c.id.in_(ids))


_DIAGNOSIS_COLUMNS = Diagnosis.__table__.c.keys()


def _diagnoses_of(ids: list) -> Select:  # noqa: ANN001
    table = Diagnosis.__table__
    return core_select(table).where(table.c.visit_id.in_(ids)).order_by(table.c.rank, table.c.id)


def _visit_parts(st: Statements, visit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per visit id: its visit, patient, doctor, room, examination, the employee who measured
    its vitals and the user who saved them, as plain rows (attribute access like the models;
    None when missing)."""
    found: dict[int, dict[str, Any]] = {}
    stmt = for_ids(_visits_with, len(visit_ids))
    names = [name for name, _ in (*_PARTS, *_PERFORMER_PARTS)]
    for row in st.rows(stmt, ids_params(visit_ids)):
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
    then their diagnoses, as plain rows (no ORM objects, no identity map, which was most of
    what the worker's database thread spent per visit)."""
    st = statements(session)
    visit_ids = sorted({j.subject_id for j in jobs})
    visits = _visit_parts(st, visit_ids)
    diagnoses: dict[int, list] = defaultdict(list)
    if visits:
        for row in st.rows(for_ids(_diagnoses_of, len(visits)), ids_params(list(visits))):
            d = SimpleNamespace(**dict(zip(_DIAGNOSIS_COLUMNS, row, strict=True)))
            diagnoses[d.visit_id].append(d)
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
) -> Prepared:
    """`performer`: the employee who measured the vitals; `recorder`: the user who saved
    them (services/vitals_by.py)."""
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
        )
    sender = _VisitSender(
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
        },
        held=held,
        # An earlier attempt may have reached SATUSEHAT, its answer lost.
        may_exist=job.attempts > 0,
    )
    try:
        sender.first = sender.build(held)
    except fhir.PayloadError as bad:
        return Fail(" ".join(bad.problems))
    return Send(sender.run, patient_id=patient.id)


def _unsettled(kind: str, outcome: Outcome) -> Fail | Retry:
    """A search that was to tell what SATUSEHAT holds did not answer: nothing is marked
    sent; the job goes again later (or stops, when SATUSEHAT refused the search)."""
    fate = from_outcome(outcome)
    fate.message = f"Memastikan {kind} yang sudah tersimpan di SATUSEHAT: {fate.message}"
    return fate


@dataclass
class _VisitSender:
    """One send of a visit: the first Bundle (POST of everything), or an update in place
    once the Encounter is known (PUT of what SATUSEHAT holds, POST of the rest).

    Before an update (a correction, or a first send whose Encounter turned out to be
    stored: an earlier answer was lost, or a `duplicate` answer), the Encounter's Conditions
    and Observations are searched and matched to the visit (`reconcile.reconcile`), so
    nothing is created twice and nothing the visit no longer has stays active. A search
    that fails leaves the job to retry; a visit is marked sent only when every resource's
    id is known."""

    rows: dict[str, Any]  # what fhir.visit_bundle is built from
    held: fhir.HeldIds | None
    may_exist: bool
    first: fhir.VisitBundle | None = None

    def build(self, held: fhir.HeldIds | None) -> fhir.VisitBundle:
        return fhir.visit_bundle(**self.rows, held=held)

    # ----- what SATUSEHAT holds ----------------------------------------------------------
    async def find_encounter(self, client: SatusehatClient) -> str | None | Fail | Retry:
        visit, branch = self.rows["visit"], self.rows["branch"]
        system = f"{fhir.SYS_IDS}/encounter/{branch.ss_organization_id}"
        subject = self.rows["patient"].ihs_number
        found = await client.find_by_identifier("Encounter", system, visit.uid, subject=subject)
        if found is None or isinstance(found, dict):
            return found["id"] if found else None
        return _unsettled("Encounter", found)

    async def _on_encounter(
        self, client: SatusehatClient, kind: str, encounter_id: str
    ) -> list[dict[str, Any]] | Fail | Retry:
        got = await client.search(kind, encounter=encounter_id)
        if not isinstance(got, Ok):
            return _unsettled(kind, got)
        body = got.body if isinstance(got.body, dict) else {}
        return [e.get("resource") or {} for e in body.get("entry") or []]

    async def reconciled(
        self, client: SatusehatClient, held: fhir.HeldIds
    ) -> fhir.HeldIds | Fail | Retry:
        conditions = await self._on_encounter(client, "Condition", held.encounter_id)
        if not isinstance(conditions, list):
            return conditions
        observations = await self._on_encounter(client, "Observation", held.encounter_id)
        if not isinstance(observations, list):
            return observations
        own = fhir.own_identifiers(
            visit=self.rows["visit"],
            diagnoses=self.rows["diagnoses"],
            examination=self.rows["examination"],
            branch=self.rows["branch"],
        )
        return reconcile.reconcile(held, conditions=conditions, observations=observations, own=own)

    # ----- sending -------------------------------------------------------------------------
    async def run(self, client: SatusehatClient) -> Done | Fail | Retry:
        if self.held is not None:
            return await self.update(client, self.held)
        encounter_id = None
        if self.may_exist:
            found = await self.find_encounter(client)
            if isinstance(found, Fail | Retry):
                return found
            encounter_id = found
        if encounter_id is None:
            outcome = await client.send_transaction(self.first.bundle)
            if isinstance(outcome, Ok):
                return self.written(self.first, outcome)
            if not isinstance(outcome, Duplicate):
                return from_outcome(outcome)
            found = await self.find_encounter(client)
            if isinstance(found, Fail | Retry):
                return found
            if found is None:
                return Fail(outcome.message)
            encounter_id = found
        retracted = list(self.rows["visit"].retracted or [])
        return await self.update(client, fhir.HeldIds(encounter_id, retracted=retracted))

    async def update(self, client: SatusehatClient, held: fhir.HeldIds) -> Done | Fail | Retry:
        """Update the Encounter in place, after matching what it already has: what the
        Bundle would create may be there (an answer lost), and what the visit no longer has
        may be there too (removed before its creation was confirmed)."""
        known = await self.reconciled(client, held)
        if isinstance(known, Fail | Retry):
            return known
        built = self.build(known)
        outcome = await client.send_transaction(built.bundle)
        if not isinstance(outcome, Ok):
            return from_outcome(outcome)
        return self.written(built, outcome, update=True)

    def written(self, built: fhir.VisitBundle, outcome: Ok, update: bool = False) -> Done | Retry:
        """The ids of an accepted Bundle to write back, or a retry when its answer does not
        name every resource (the next attempt finds them)."""
        ids = entry_ids(outcome.body)
        encounter_id, conditions, observations = None, {}, {}
        missing = 0
        for index, (what, ref) in built.entries.items():
            request = built.bundle["entry"][index]["request"]
            rid = ids[index] if index < len(ids) else None
            if not rid and request["method"] == "PUT":
                rid = request["url"].partition("/")[2]
            missing += not rid
            if what == fhir.EntryKind.ENCOUNTER:
                encounter_id = rid
            elif what == fhir.EntryKind.CONDITION:
                conditions[ref] = rid
            elif what == fhir.EntryKind.OBSERVATION:
                observations[ref] = rid
        if missing:
            return Retry(
                f"Jawaban SATUSEHAT tidak memuat id untuk {missing} data kunjungan; "
                "dicocokkan lagi pada percobaan berikutnya."
            )
        return self.write_back(encounter_id, conditions, observations, update)

    def write_back(
        self,
        encounter_id: str,
        conditions: dict[int, str],
        observations: dict[str, str],
        update: bool,
    ) -> Done:
        visit, exam = self.rows["visit"], self.rows["examination"]
        # What this send carries (the worker re-queues the job if the visit changed since).
        sent = {"encounter_id": encounter_id, "sent_revision": visit.sync_revision}
        updates = [_set_sync("visit", visit.id, SyncStatus.SENT, None, **sent)]
        updates += [
            RowUpdate("diagnosis", diag_id, {"condition_id": cond_id})
            for diag_id, cond_id in conditions.items()
        ]
        if exam is not None and (observations or update):
            # After an update this is the whole set: a cleared vital's Observation is gone.
            updates.append(RowUpdate("examination", exam.id, {"observation_ids": observations}))
        return Done(
            {
                "encounter_id": encounter_id,
                "conditions": len(conditions),
                "observations": len(observations),
            },
            tuple(updates),
        )


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
        return prepare_visits(session, [job])[job.id]
    return Fail(f"Jenis tugas tidak dikenal: {job.kind}")


def failed_update(kind: str, subject_id: int, message: str) -> RowUpdate | None:
    """Show a failure on the row the job is about (nothing if that row is gone)."""
    _, model = outbox.SUBJECTS.get(kind, (None, None))
    if model is None:
        return None
    return RowUpdate(
        model.__tablename__,
        subject_id,
        {"sync_status": SyncStatus.FAILED, "sync_error": message},
    )
