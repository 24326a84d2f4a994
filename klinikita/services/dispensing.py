"""The pharmacy's work on a visit's prescription: the queue, the review, dispensing by
first-expiry-first-out (FEFO), hand-over, cancellation and the labels (etiket).

Stock is only ever taken through `stock_ledger` (`move`, `move_many`). Dispensing locks the
batches it may take from (PostgreSQL: SELECT ... FOR UPDATE, in item order so two pharmacists
never wait for each other in a circle; SQLite: the write lock of BEGIN IMMEDIATE), plans on
the quantities it then reads, and writes the whole dispensing or nothing: two pharmacists
taking the last units of an item at the same moment can never both get them."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlmodel import Session

from klinikita.models import (
    Branch,
    Dispense,
    DispenseLine,
    DrugItem,
    Employee,
    Patient,
    PatientAllergy,
    Prescription,
    PrescriptionIngredient,
    ServiceUnit,
    StockBatch,
    Visit,
)
from klinikita.models.allergies import AllergyKind
from klinikita.models.base import utcnow
from klinikita.models.billing import Bill, BillStatus
from klinikita.models.pharmacy import DispenseStatus, MovementKind
from klinikita.models.satusehat import JobKind
from klinikita.services import audit, outbox, versions
from klinikita.services.allergies import SEVERITY_LABELS
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.permissions import Action, require
from klinikita.services.stock_ledger import Move, move, move_many
from klinikita.services.text_input import take_text
from klinikita.services.visit_queue import branch_zone_of, zone_named, zone_time_text

ENTITY = "dispense"
REASON_MAX = 300
QUANTITY_MAX = 100_000
NOT_FOUND = "Resep tidak ditemukan di cabang ini."
# Waiting first, then what is being prepared, then what is done.
_STATUS_ORDER = {
    DispenseStatus.WAITING.value: 0,
    DispenseStatus.DISPENSED.value: 1,
    DispenseStatus.HANDED_OVER.value: 2,
    DispenseStatus.CANCELLED.value: 3,
}


# ----- what the pages show -------------------------------------------------------------
@dataclass(frozen=True)
class QueueItem:
    dispense_id: int
    version: int
    status: str
    status_label: str
    queued_time: str  # HH:MM, branch time
    visit_id: int
    queue_number: int
    unit_name: str
    doctor_name: str
    patient_name: str
    mrn: str
    lines: int
    sync_status: str


@dataclass(frozen=True)
class Need:
    """Units of one item a prescription line needs from stock (a racikan: one per
    ingredient). `key` names it in the pharmacist's quantity changes."""

    key: str
    prescription_id: int
    item_id: int
    item_name: str
    unit: str
    prescribed: int


@dataclass(frozen=True)
class Take:
    batch_id: int
    batch_number: str
    expiry: date
    quantity: int


@dataclass(frozen=True)
class Ingredient:
    item_id: int
    name: str
    quantity: int
    unit: str
    dose_text: str


@dataclass(frozen=True)
class LineView:
    prescription_id: int
    line_no: int
    name: str
    is_compound: bool
    quantity: str  # as prescribed, with its unit or form
    dose: str
    frequency: str
    instructions: str
    signa: str  # "3 x sehari 1 tablet sesudah makan"
    duration_days: int | None
    ingredients: tuple[Ingredient, ...]
    needs: tuple[Need, ...]
    allergy_match: bool  # an item of it is one the patient is allergic to


@dataclass(frozen=True)
class AllergyView:
    display: str
    reaction: str
    severity: str
    kind: str

    @property
    def severity_label(self) -> str:
        """'Ringan' / 'Sedang' / 'Berat', or '' when no severity was recorded."""
        return SEVERITY_LABELS.get(self.severity, "")


@dataclass(frozen=True)
class DispenseDetail:
    dispense_id: int
    version: int
    status: str
    status_label: str
    visit_id: int
    queue_number: int
    patient_name: str
    mrn: str
    doctor_name: str
    unit_name: str
    note: str
    sync_status: str
    sync_error: str
    lines: tuple[LineView, ...]
    allergies: tuple[AllergyView, ...]
    no_known_allergy: bool
    # need key -> the batches FEFO takes (waiting), or those taken (dispensed, handed over)
    batches: dict[str, tuple[Take, ...]] = field(default_factory=dict)
    # need key -> the units taken and why they differ from the prescription
    dispensed: dict[str, tuple[int, str]] = field(default_factory=dict)
    # need key -> what stock lacks ("tersedia 4 tablet"), for a waiting dispensing
    shortages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """The pharmacist's quantity for a need (`Need.key`), with the reason when it is not the
    prescribed one."""

    quantity: int
    reason: str = ""


class Shortage(ServiceError):
    """Stock cannot cover the dispensing; nothing was written."""


# ----- reading -------------------------------------------------------------------------
def _viewer(actor: Actor) -> None:
    require(actor.duty, Action.VIEW_PRESCRIPTION)


def todays_queue(session: Session, actor: Actor, *, on: date | None = None) -> list[QueueItem]:
    """The active branch's dispensings of today's visits (and any older one still waiting):
    waiting first, each group oldest first."""
    _viewer(actor)
    zone = branch_zone_of(session, actor.branch_id)
    day = on or utcnow().astimezone(zone).date()
    lines = (
        select(func.count(Prescription.id))
        .where(Prescription.visit_id == Dispense.visit_id)
        .scalar_subquery()
    )
    order = case(_STATUS_ORDER, value=Dispense.status, else_=9)
    rows = session.execute(
        select(
            Dispense.id,
            Dispense.version,
            Dispense.status,
            Dispense.queued_at,
            Visit.id,
            Visit.queue_number,
            ServiceUnit.name,
            Employee.name,
            Patient.name,
            Patient.mrn,
            lines,
            Dispense.sync_status,
        )
        .join(Visit, Visit.id == Dispense.visit_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .where(
            Dispense.branch_id == actor.branch_id,
            or_(Visit.visit_date == day, Dispense.status == DispenseStatus.WAITING),
        )
        .order_by(order, Dispense.queued_at, Dispense.id)
    ).all()
    return [
        QueueItem(
            dispense_id=r[0],
            version=r[1],
            status=r[2],
            status_label=DispenseStatus(r[2]).label,
            queued_time=zone_time_text(r[3], zone),
            visit_id=r[4],
            queue_number=r[5],
            unit_name=r[6],
            doctor_name=r[7],
            patient_name=r[8],
            mrn=r[9],
            lines=r[10] or 0,
            sync_status=r[11],
        )
        for r in rows
    ]


def _units(quantity: float | None) -> int:
    """A prescribed quantity as whole dispensing units (a fraction is rounded up)."""
    if quantity is None or quantity <= 0:
        return 0
    return math.ceil(round(quantity, 6))


def _number(quantity: float | None) -> str:
    if quantity is None:
        return ""
    return str(int(quantity)) if float(quantity).is_integer() else f"{quantity:g}"


def signa(line: Prescription) -> str:
    """How to take it, as on a label: "3 x sehari 1 tablet sesudah makan"."""
    parts = [line.frequency.strip(), line.dose.strip(), line.instructions.strip()]
    return " ".join(p for p in parts if p)


def _load(session: Session, actor: Actor, dispense_id: int, *, lock: bool = False) -> Dispense:
    dispense = session.get(
        Dispense, dispense_id, with_for_update=lock, populate_existing=lock or None
    )
    if dispense is None or dispense.branch_id != actor.branch_id:
        raise NotFound(NOT_FOUND)
    return dispense


@dataclass(frozen=True)
class _Head:
    """A dispensing with what its page shows around it, read in one statement."""

    dispense: Dispense
    queue_number: int
    patient_id: int
    patient_name: str
    mrn: str
    doctor_name: str
    unit_name: str
    zone: ZoneInfo  # the branch's time zone


def _load_head(session: Session, actor: Actor, dispense_id: int, *, lock: bool = False) -> _Head:
    """The actor's branch's dispensing (its row locked with `lock`) with its visit's queue
    number, patient, doctor and unit and the branch's time zone; NotFound otherwise."""
    stmt = (
        select(
            Dispense,
            Visit.queue_number,
            Visit.patient_id,
            Patient.name,
            Patient.mrn,
            Employee.name,
            ServiceUnit.name,
            Branch.timezone,
        )
        .join(Visit, Visit.id == Dispense.visit_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
        .join(Branch, Branch.id == Dispense.branch_id)
        .where(Dispense.id == dispense_id, Dispense.branch_id == actor.branch_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Dispense).execution_options(populate_existing=True)
    found = session.execute(stmt).first()
    if found is None:
        raise NotFound(NOT_FOUND)
    return _Head(*found[:7], zone=zone_named(found[7]))


def _lines(session: Session, visit_id: int, allergic_items: set[int]) -> tuple[LineView, ...]:
    """The visit's prescription lines with their ingredients and what each needs: the lines
    with their items in one statement, the ingredients in a second when there is a racikan."""
    found = session.execute(
        select(Prescription, DrugItem)
        .outerjoin(DrugItem, DrugItem.id == Prescription.item_id)
        .where(Prescription.visit_id == visit_id)
        .order_by(Prescription.line_no)
    ).all()
    prescriptions = [p for p, _ in found]
    items = {p.id: item for p, item in found}
    compound_ids = [p.id for p in prescriptions if p.is_compound]
    ingredients: dict[int, list[tuple[PrescriptionIngredient, DrugItem]]] = defaultdict(list)
    if compound_ids:
        for ing, item in session.execute(
            select(PrescriptionIngredient, DrugItem)
            .join(DrugItem, DrugItem.id == PrescriptionIngredient.item_id)
            .where(PrescriptionIngredient.prescription_id.in_(compound_ids))
            .order_by(PrescriptionIngredient.id)
        ):
            ingredients[ing.prescription_id].append((ing, item))
    views = []
    for p in prescriptions:
        needs: list[Need] = []
        parts: list[Ingredient] = []
        if p.is_compound:
            for ing, item in ingredients.get(p.id, []):
                parts.append(Ingredient(item.id, item.name, ing.quantity, item.unit, ing.dose_text))
                needs.append(
                    Need(f"{p.id}:{item.id}", p.id, item.id, item.name, item.unit, ing.quantity)
                )
            unit = p.form or "bungkus"
        else:
            item = items[p.id]
            unit = item.unit if item else p.form
            if item is not None:
                needs.append(
                    Need(
                        f"{p.id}:{item.id}", p.id, item.id, item.name, item.unit, _units(p.quantity)
                    )
                )
        involved = {n.item_id for n in needs}
        views.append(
            LineView(
                prescription_id=p.id,
                line_no=p.line_no,
                name=p.medicine,
                is_compound=p.is_compound,
                quantity=" ".join(x for x in (_number(p.quantity), unit) if x),
                dose=p.dose,
                frequency=p.frequency,
                instructions=p.instructions,
                signa=signa(p),
                duration_days=p.duration_days,
                ingredients=tuple(parts),
                needs=tuple(needs),
                allergy_match=bool(involved & allergic_items),
            )
        )
    return tuple(views)


def _batches(
    session: Session, branch_id: int, item_ids: set[int], today: date, *, lock: bool
) -> dict[int, list[StockBatch]]:
    """The item's batches that can be taken, first expiry first; locked with `lock`
    (PostgreSQL waits for another dispensing holding them, then reads what it left)."""
    if not item_ids:
        return {}
    stmt = (
        select(StockBatch)
        .where(
            StockBatch.branch_id == branch_id,
            StockBatch.item_id.in_(sorted(item_ids)),
            StockBatch.expiry_date >= today,
            StockBatch.quantity > 0,
        )
        .order_by(StockBatch.item_id, StockBatch.expiry_date, StockBatch.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    found: dict[int, list[StockBatch]] = defaultdict(list)
    for batch in session.execute(stmt).scalars():
        found[batch.item_id].append(batch)
    return found


def fefo(batches: list[tuple[int, int]], quantity: int) -> tuple[list[tuple[int, int]], int]:
    """Take `quantity` from `batches` ((batch id, units left), first expiry first): the
    (batch id, units) taken, first expiry first, and how many units are missing."""
    taken = []
    left = quantity
    for batch_id, available in batches:
        if left <= 0:
            break
        take = min(available, left)
        if take > 0:
            taken.append((batch_id, take))
            left -= take
    return taken, max(left, 0)


def _plan(
    needs: list[tuple[Need, int]], batches: dict[int, list[StockBatch]]
) -> tuple[dict[str, list[Take]], dict[str, str]]:
    """FEFO over `needs` ((need, units)), sharing one pool of each item between lines: the
    takes per need key, and what stock lacks per need key."""
    left = {b.id: b.quantity for bs in batches.values() for b in bs}
    by_id = {b.id: b for bs in batches.values() for b in bs}
    plan: dict[str, list[Take]] = {}
    short: dict[str, str] = {}
    for need, units in needs:
        pool = [(b.id, left[b.id]) for b in batches.get(need.item_id, [])]
        taken, missing = fefo(pool, units)
        for batch_id, units_taken in taken:
            left[batch_id] -= units_taken
        plan[need.key] = [Take(i, by_id[i].batch_number, by_id[i].expiry_date, n) for i, n in taken]
        if missing:
            available = units - missing
            short[need.key] = (
                f"Stok {need.item_name} tidak cukup: diminta {units} {need.unit}, "
                f"tersedia {available} {need.unit} (yang belum kedaluwarsa)."
            )
    return plan, short


def _allergies(session: Session, patient_id: int) -> tuple[list[PatientAllergy], bool]:
    rows = (
        session.execute(
            select(PatientAllergy)
            .where(PatientAllergy.patient_id == patient_id, PatientAllergy.active.is_(True))
            .order_by(PatientAllergy.id)
        )
        .scalars()
        .all()
    )
    none = any(r.kind == AllergyKind.NONE for r in rows)
    return [r for r in rows if r.kind != AllergyKind.NONE], none


def detail(session: Session, actor: Actor, dispense_id: int) -> DispenseDetail:
    """One dispensing for review: its lines (racikan with ingredients), the patient's
    active allergies, and the batches planned (waiting) or taken."""
    _viewer(actor)
    head = _load_head(session, actor, dispense_id)
    dispense = head.dispense
    allergies, none_known = _allergies(session, head.patient_id)
    allergic = {a.item_id for a in allergies if a.item_id}
    lines = _lines(session, dispense.visit_id, allergic)
    batches: dict[str, tuple[Take, ...]] = {}
    dispensed: dict[str, tuple[int, str]] = {}
    shortages: dict[str, str] = {}
    if dispense.status == DispenseStatus.WAITING:
        needs = [(n, n.prescribed) for line in lines for n in line.needs]
        today = utcnow().astimezone(head.zone).date()
        pool = _batches(session, actor.branch_id, {n.item_id for n, _ in needs}, today, lock=False)
        plan, shortages = _plan(needs, pool)
        batches = {k: tuple(v) for k, v in plan.items()}
    else:
        taken: dict[str, list[Take]] = defaultdict(list)
        for line, batch in session.execute(
            select(DispenseLine, StockBatch)
            .join(StockBatch, StockBatch.id == DispenseLine.batch_id)
            .where(DispenseLine.dispense_id == dispense.id)
            .order_by(DispenseLine.id)
        ):
            key = f"{line.prescription_id}:{line.item_id}"
            taken[key].append(Take(batch.id, batch.batch_number, batch.expiry_date, line.quantity))
            units, reason = dispensed.get(key, (0, ""))
            dispensed[key] = (units + line.quantity, reason or line.change_reason)
        batches = {k: tuple(v) for k, v in taken.items()}
    return _detail_of(head, allergies, none_known, lines, batches, dispensed, shortages)


def _detail_of(
    head: _Head,
    allergies: list[PatientAllergy],
    none_known: bool,
    lines: tuple[LineView, ...],
    batches: dict[str, tuple[Take, ...]],
    dispensed: dict[str, tuple[int, str]],
    shortages: dict[str, str],
) -> DispenseDetail:
    dispense = head.dispense
    return DispenseDetail(
        dispense_id=dispense.id,
        version=dispense.version,
        status=dispense.status,
        status_label=DispenseStatus(dispense.status).label,
        visit_id=dispense.visit_id,
        queue_number=head.queue_number,
        patient_name=head.patient_name,
        mrn=head.mrn,
        doctor_name=head.doctor_name,
        unit_name=head.unit_name,
        note=dispense.note,
        sync_status=dispense.sync_status,
        sync_error=dispense.sync_error or "",
        lines=lines,
        allergies=tuple(AllergyView(a.display, a.reaction, a.severity, a.kind) for a in allergies),
        no_known_allergy=none_known and not allergies,
        batches=batches,
        dispensed=dispensed,
        shortages=shortages,
    )


# ----- writing -------------------------------------------------------------------------
def _checked_changes(needs: list[Need], changes: dict[str, Change]) -> list[tuple[Need, int, str]]:
    """Each need with the units to take and the reason; ValidationFailed with a message at
    each wrong quantity ("qty:<key>") or missing reason ("reason:<key>")."""
    errors: dict[str, str] = {}
    out = []
    known = {n.key for n in needs}
    for key in changes:
        if key not in known:
            errors[f"qty:{key}"] = "Baris resep ini tidak ada pada resep."
    for need in needs:
        change = changes.get(need.key)
        units = need.prescribed if change is None else change.quantity
        reason = ""
        if isinstance(units, bool) or not isinstance(units, int) or not 0 <= units <= QUANTITY_MAX:
            errors[f"qty:{need.key}"] = f"Jumlah harus bilangan bulat 0 sampai {QUANTITY_MAX}."
            continue
        if change is not None:
            reason = take_text(
                errors,
                f"reason:{need.key}",
                change.reason,
                label="Alasan perubahan jumlah",
                max_length=REASON_MAX,
            )
        if units != need.prescribed and not reason and f"reason:{need.key}" not in errors:
            errors[f"reason:{need.key}"] = (
                f"Jumlah {need.item_name} berbeda dari resep ({need.prescribed} {need.unit}): "
                "tulis alasannya."
            )
        out.append((need, units, reason if units != need.prescribed else ""))
    if errors:
        raise ValidationFailed(errors)
    return out


def _require_branch(actor: Actor, action: Action) -> None:
    require(actor.duty, action)


def dispense(
    session: Session,
    actor: Actor,
    dispense_id: int,
    *,
    expected_version: int | None,
    changes: dict[str, Change] | None = None,
    client_token: str | None = None,
) -> Dispense:
    """Take the prescription's units from stock, first expiry first, and mark it dispensed;
    queue its MedicationDispense for SATUSEHAT. Refused, with nothing written, when stock
    (of batches not expired) cannot cover it: the message names each item and what is
    available. A quantity other than prescribed needs a reason."""
    return _dispense(session, actor, dispense_id, expected_version, changes, client_token)[0]


def dispense_for_review(
    session: Session,
    actor: Actor,
    dispense_id: int,
    *,
    expected_version: int | None,
    changes: dict[str, Change] | None = None,
    client_token: str | None = None,
) -> DispenseDetail:
    """`dispense`, answered with the prescription as `detail` will read it once this
    transaction is committed (the batches taken, the quantities and reasons), built from
    what dispensing read and wrote instead of reading it again."""
    return _dispense(session, actor, dispense_id, expected_version, changes, client_token)[1]


def _dispense(
    session: Session,
    actor: Actor,
    dispense_id: int,
    expected_version: int | None,
    changes: dict[str, Change] | None,
    client_token: str | None,
) -> tuple[Dispense, DispenseDetail]:
    _require_branch(actor, Action.DISPENSE_RECORD)
    head = _load_head(session, actor, dispense_id, lock=True)
    row = head.dispense
    versions.check(session, row, expected_version, entity=ENTITY, branch_id=actor.branch_id)
    if row.status != DispenseStatus.WAITING:
        raise ServiceError(f"Resep ini sudah berstatus {DispenseStatus(row.status).label}.")
    allergies, none_known = _allergies(session, head.patient_id)
    lines = _lines(session, row.visit_id, {a.item_id for a in allergies if a.item_id})
    chosen = _checked_changes([n for line in lines for n in line.needs], changes or {})
    today = utcnow().astimezone(head.zone).date()
    wanted = [(need, units) for need, units, _ in chosen if units > 0]
    pool = _batches(session, actor.branch_id, {n.item_id for n, _ in wanted}, today, lock=True)
    plan, short = _plan(wanted, pool)
    if short:
        raise Shortage(" ".join(short.values()))
    before = audit.snapshot(row)
    now = utcnow()
    row.status = DispenseStatus.DISPENSED
    row.dispensed_at = now
    row.dispensed_by_user_id = actor.user_id
    row.updated_at = now
    versions.save(session, row, entity=ENTITY, branch_id=actor.branch_id)
    batches = {b.id: b for bs in pool.values() for b in bs}
    # Every dispense line in one INSERT, then their stock changes in one UPDATE and one INSERT.
    taken: list[tuple[DispenseLine, Take]] = []
    written = []
    for need, units, reason in chosen:
        for take in plan.get(need.key, []):
            line = DispenseLine(
                dispense_id=row.id,
                prescription_id=need.prescription_id,
                item_id=need.item_id,
                batch_id=take.batch_id,
                quantity=take.quantity,
                change_reason=reason,
            )
            taken.append((line, take))
            written.append(
                {"item_id": need.item_id, "batch": take.batch_number, "quantity": take.quantity}
            )
        if units == 0:
            written.append({"item_id": need.item_id, "quantity": 0, "reason": reason})
    session.add_all([line for line, _ in taken])
    session.flush()
    move_many(
        session,
        [
            Move(
                batches[take.batch_id],
                -take.quantity,
                reason=line.change_reason,
                dispense_line_id=line.id,
            )
            for line, take in taken
        ],
        MovementKind.DISPENSE,
        user_id=actor.user_id,
    )
    changed = {n.key: {"quantity": u, "reason": r} for n, u, r in chosen if r}
    audit.record(
        session,
        actor,
        "dispense",
        ENTITY,
        row.id,
        before=before,
        after={**audit.snapshot(row), "taken": written, "changes": changed},
    )
    outbox.enqueue(session, JobKind.DISPENSE_SEND, row.branch_id, row.id, client_token=client_token)
    # As `detail` reads the lines just written: per need key, the batches and the units.
    batches_taken: dict[str, tuple[Take, ...]] = {}
    given: dict[str, tuple[int, str]] = {}
    for line, take in taken:
        key = f"{line.prescription_id}:{line.item_id}"
        batches_taken[key] = (*batches_taken.get(key, ()), take)
        units, reason = given.get(key, (0, ""))
        given[key] = (units + line.quantity, reason or line.change_reason)
    return row, _detail_of(head, allergies, none_known, lines, batches_taken, given, {})


def hand_over(
    session: Session,
    actor: Actor,
    dispense_id: int,
    *,
    expected_version: int | None,
    client_token: str | None = None,
) -> Dispense:
    """The dispensed medicines were given to the patient."""
    _require_branch(actor, Action.DISPENSE_RECORD)
    row = _load(session, actor, dispense_id, lock=True)
    versions.check(session, row, expected_version, entity=ENTITY, branch_id=actor.branch_id)
    if row.status != DispenseStatus.DISPENSED:
        raise ServiceError(
            "Hanya resep yang sudah disiapkan yang bisa diserahkan "
            f"(status sekarang: {DispenseStatus(row.status).label})."
        )
    before = audit.snapshot(row)
    now = utcnow()
    row.status = DispenseStatus.HANDED_OVER
    row.handed_over_at = now
    row.handed_over_by_user_id = actor.user_id
    row.updated_at = now
    versions.save(session, row, entity=ENTITY, branch_id=actor.branch_id)
    audit.record(
        session, actor, "hand_over", ENTITY, row.id, before=before, after=audit.snapshot(row)
    )
    # The MedicationDispense carries whenHandedOver: send it (again).
    outbox.enqueue(session, JobKind.DISPENSE_SEND, row.branch_id, row.id, client_token=client_token)
    return row


def cancel(
    session: Session,
    actor: Actor,
    dispense_id: int,
    *,
    expected_version: int | None,
    reason: object,
    client_token: str | None = None,
) -> Dispense:
    """Cancel a waiting or dispensed prescription (admin or apoteker), with a reason; the
    units of a dispensed one go back to their batches (RETURN movements)."""
    return _take_back(
        session,
        actor,
        dispense_id,
        expected_version=expected_version,
        reason=reason,
        client_token=client_token,
        handed_over=False,
    )


PAID_VISIT = "Nota kunjungan ini sudah lunas: minta admin membatalkan nota di Kasir dulu."


def return_handed_over(
    session: Session,
    actor: Actor,
    dispense_id: int,
    *,
    expected_version: int | None,
    reason: object,
    client_token: str | None = None,
) -> Dispense:
    """Record that the patient brought back the drugs of a handed-over prescription (retur
    obat; admin or apoteker), with a reason: every unit goes back to the batch it came from
    (RETURN movements) and the prescription is cancelled, so the visit's bill no longer
    holds it. Only while the visit has no paid bill (before payment, or after the admin
    voided the nota); refused otherwise."""
    return _take_back(
        session,
        actor,
        dispense_id,
        expected_version=expected_version,
        reason=reason,
        client_token=client_token,
        handed_over=True,
    )


def _take_back(
    session: Session,
    actor: Actor,
    dispense_id: int,
    *,
    expected_version: int | None,
    reason: object,
    client_token: str | None,
    handed_over: bool,
) -> Dispense:
    """Cancel a prescription with a reason, its units back to their batches: a waiting or
    dispensed one (`handed_over` False: "cancel"), or a handed-over one whose visit has no
    paid bill (True: "dispense_return"). SATUSEHAT is sent its MedicationDispenses again,
    as cancelled, when it holds them."""
    _require_branch(actor, Action.DISPENSE_CANCEL)
    label = "Alasan retur" if handed_over else "Alasan pembatalan"
    errors: dict[str, str] = {}
    why = take_text(errors, "reason", reason, label=label, max_length=REASON_MAX, required=True)
    if errors:
        raise ValidationFailed(errors)
    row = _load(session, actor, dispense_id, lock=True)
    versions.check(session, row, expected_version, entity=ENTITY, branch_id=actor.branch_id)
    allowed = (
        (DispenseStatus.HANDED_OVER,)
        if handed_over
        else (DispenseStatus.WAITING, DispenseStatus.DISPENSED)
    )
    if row.status not in allowed:
        status = DispenseStatus(row.status).label
        raise ServiceError(
            f"Hanya obat yang sudah diserahkan yang bisa diretur (status sekarang: {status})."
            if handed_over
            else f"Resep berstatus {status} tidak bisa dibatalkan."
        )
    if handed_over:
        # The bill's row lock: a payment of the visit waits for the return, or the return
        # sees the payment.
        bills = session.execute(
            select(Bill.status)
            .where(Bill.visit_id == row.visit_id, Bill.status != BillStatus.VOID)
            .with_for_update()
        ).all()
        if any(status == BillStatus.PAID for (status,) in bills):
            raise ServiceError(PAID_VISIT)
    before = audit.snapshot(row)
    took_stock = row.status != DispenseStatus.WAITING
    row.status = DispenseStatus.CANCELLED
    row.note = f"Retur: {why}"[:REASON_MAX] if handed_over else why
    row.updated_at = utcnow()
    versions.save(session, row, entity=ENTITY, branch_id=actor.branch_id)
    returned = []
    if took_stock:
        taken = session.execute(
            select(DispenseLine, StockBatch)
            .join(StockBatch, StockBatch.id == DispenseLine.batch_id)
            .where(DispenseLine.dispense_id == row.id)
            .order_by(StockBatch.item_id, StockBatch.id)
            .with_for_update()
        ).all()
        for line, batch in taken:
            if line.quantity > 0:
                move(
                    session,
                    batch,
                    line.quantity,
                    MovementKind.RETURN,
                    user_id=actor.user_id,
                    reason=f"Retur obat: {why}"[:REASON_MAX] if handed_over else why,
                    dispense_line_id=line.id,
                )
                returned.append({"batch": batch.batch_number, "quantity": line.quantity})
    audit.record(
        session,
        actor,
        "dispense_return" if handed_over else "cancel",
        ENTITY,
        row.id,
        before=before,
        after={**audit.snapshot(row), "returned": returned, "reason": why},
    )
    sent = session.scalar(
        select(func.count(Prescription.id)).where(
            Prescription.visit_id == row.visit_id, Prescription.medication_dispense_id.is_not(None)
        )
    )
    if sent:  # SATUSEHAT holds its MedicationDispenses: they are sent again as cancelled
        outbox.enqueue(
            session, JobKind.DISPENSE_SEND, row.branch_id, row.id, client_token=client_token
        )
    return row


# ----- labels (etiket) -----------------------------------------------------------------
@dataclass(frozen=True)
class Label:
    patient_name: str
    mrn: str
    date: str  # dd/mm/yyyy, branch time
    item: str
    instructions: str
    quantity: str
    branch_name: str


def labels(session: Session, actor: Actor, dispense_id: int) -> list[Label]:
    """One label per prescription line: patient, No. RM, date, item, how to take it, the
    quantity given (as prescribed before dispensing), the branch."""
    _viewer(actor)
    row = _load(session, actor, dispense_id)
    if row.status == DispenseStatus.CANCELLED:
        raise ServiceError("Resep ini dibatalkan; etiket tidak dicetak.")
    branch = session.get(Branch, row.branch_id)
    visit = session.get(Visit, row.visit_id)
    patient = session.get(Patient, visit.patient_id)
    zone = zone_named(branch.timezone if branch else None)
    when: datetime = row.dispensed_at or utcnow()
    day = zone_time_text(when, zone, "%d/%m/%Y")
    lines = _lines(session, row.visit_id, set())
    given: dict[int, int] = defaultdict(int)
    if row.status != DispenseStatus.WAITING:
        for prescription_id, units in session.execute(
            select(DispenseLine.prescription_id, func.sum(DispenseLine.quantity))
            .where(DispenseLine.dispense_id == row.id)
            .group_by(DispenseLine.prescription_id)
        ):
            given[prescription_id] = int(units or 0)
    out = []
    for line in lines:
        quantity = line.quantity
        if not line.is_compound and line.needs and line.prescription_id in given:
            quantity = f"{given[line.prescription_id]} {line.needs[0].unit}"
        out.append(
            Label(
                patient_name=patient.name,
                mrn=patient.mrn,
                date=day,
                item=line.name,
                instructions=line.signa,
                quantity=quantity,
                branch_name=branch.name if branch else "",
            )
        )
    return out
