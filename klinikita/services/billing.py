"""Kasir: the bill (nota penjualan) of a visit, or of an over-the-counter sale.

A visit's bill is built from what happened, at the tariff of the visit's date and payer:
- registration: the branch's registration tariff;
- consultation: the unit's (or the doctor's own) consultation tariff;
- procedures: each Procedure by its ICD-9-CM code, else by its name; the line prints the
  tariff's name (the clinic's price list), never the clinical note;
- drugs and BHP: what the pharmacy dispensed (DispenseLine rows of a dispensed or handed-over
  Dispense), one line per item, at the drug master's selling price.
A service without a tariff gets no line but a note the cashier sees. While the bill is unpaid
it follows what happened (opening it again, or `follow_visit_bill` when the visit changed while
the cashier's screen shows it): what happened since is added (a later dispensing), quantities
the pharmacy changed are followed, lines of what no longer happened (drugs returned to the
pharmacy) are marked removed with the reason, and a line the cashier removed never comes back.
The cashier may add lines (a manual line, or an item of the drug master sold at the desk: it
leaves stock at payment, first expiry first) and remove any line with a reason; removed lines
stay on the bill, marked.

Shares: Umum pays everything. BPJS pays the covered services (tariffs marked covered, and
dispensed drugs) in full: the patient's share of them is zero. Asuransi pays its
`coverage_percent` of the covered services (rounded half up to whole rupiah), the patient the
rest. Lines the cashier adds are the patient's. A discount (percent or amount, with a reason)
comes off the patient's share; a percent discount is rounded half up to whole rupiah.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_
from sqlmodel import Session, select

from klinikita.models import (
    Branch,
    Employee,
    Patient,
    Procedure,
    ServiceUnit,
    Visit,
)
from klinikita.models.base import utcnow
from klinikita.models.billing import (
    Bill,
    BillLine,
    BillStatus,
    Insurer,
    LineSource,
    Payment,
    PaymentMethod,
    Tariff,
    TariffKind,
)
from klinikita.models.clinical import Payer, VisitStatus
from klinikita.models.pharmacy import (
    Dispense,
    DispenseLine,
    DispenseStatus,
    DrugItem,
    ItemCategory,
    StockBatch,
)
from klinikita.services import audit
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.money import percent_of, rupiah, take_rupiah
from klinikita.services.permissions import Action, require
from klinikita.services.tariffs import find_tariff
from klinikita.services.text_input import normalize_text, take_text
from klinikita.services.visit_queue import branch_zone, zone_time_text

ENTITY = "bill"
LINE_ENTITY = "bill_line"
MAX_QUANTITY = 100_000
MAX_LINE_PRICE = 1_000_000_000
PAYER_LABELS = {"umum": "Umum", "bpjs": "BPJS", "asuransi": "Asuransi"}
_BILLED_DISPENSES = (DispenseStatus.DISPENSED.value, DispenseStatus.HANDED_OVER.value)


class BillLocked(ServiceError):
    """The bill is paid or void: it no longer changes."""


# ----- reading ------------------------------------------------------------------------------
def _bill_in_branch(session: Session, actor: Actor, bill_id: int) -> Bill:
    bill = session.get(Bill, bill_id)
    if bill is None or bill.branch_id != actor.branch_id:
        raise NotFound("Tagihan tidak ditemukan.")
    return bill


def _must_be_open(bill: Bill) -> None:
    if bill.status == BillStatus.PAID:
        raise BillLocked(f"Nota {bill.nota_number} sudah lunas dan terkunci.")
    if bill.status == BillStatus.VOID:
        raise BillLocked("Tagihan ini sudah dibatalkan.")


def _lines(session: Session, bill_id: int) -> list[BillLine]:
    return list(
        session.exec(select(BillLine).where(BillLine.bill_id == bill_id).order_by(BillLine.id))
    )


def _coverable(session: Session, line: BillLine) -> bool:
    """Whether BPJS or the insurer pays this line for their patients."""
    if line.source == LineSource.MANUAL or line.takes_stock:
        return False
    if line.tariff_id is not None:
        tariff = session.get(Tariff, line.tariff_id)
        return bool(tariff and tariff.covered)
    return line.item_id is not None  # dispensed drugs and BHP


def _share(session: Session, bill: Bill, line: BillLine) -> int:
    """BPJS's or the insurer's share of a line."""
    if bill.payer == Payer.UMUM or not _coverable(session, line):
        return 0
    if bill.payer == Payer.BPJS:
        return line.amount
    insurer = session.get(Insurer, bill.insurer_id) if bill.insurer_id else None
    if insurer is None:
        return 0
    return percent_of(line.amount, insurer.coverage_percent)


def _recompute(session: Session, bill: Bill) -> None:
    """Every line's shares and the bill's totals, from its lines and discount."""
    subtotal = covered = patient = 0
    for line in _lines(session, bill.id):
        line.amount = line.quantity * line.unit_price
        line.covered_amount = _share(session, bill, line)
        line.patient_amount = line.amount - line.covered_amount
        session.add(line)
        if line.removed:
            continue
        subtotal += line.amount
        covered += line.covered_amount
        patient += line.patient_amount
    if bill.discount_kind == "percent":
        discount = percent_of(patient, bill.discount_value)
    elif bill.discount_kind == "amount":
        discount = bill.discount_value
    else:
        discount = 0
    bill.subtotal, bill.covered_total = subtotal, covered
    bill.discount_amount = min(discount, patient)
    bill.patient_total = patient - bill.discount_amount
    session.add(bill)


# ----- building a visit's bill --------------------------------------------------------------
@dataclass(frozen=True)
class _Wanted:
    key: str
    source: LineSource
    description: str
    quantity: int
    unit_price: int
    tariff_id: int | None = None
    item_id: int | None = None


def _tariff_line(key: str, source: LineSource, tariff: Tariff) -> _Wanted:
    return _Wanted(key, source, tariff.name, 1, tariff.amount, tariff_id=tariff.id)


def _what_happened(
    session: Session, visit: Visit, insurer_id: int | None
) -> tuple[list[_Wanted], list[str]]:
    """The lines a visit's services call for, and notes on what has no tariff or is still
    at the pharmacy."""
    wanted: list[_Wanted] = []
    notes: list[str] = []
    day, payer = visit.visit_date, visit.payer
    common = {"payer": payer, "insurer_id": insurer_id}
    reg = find_tariff(session, visit.branch_id, TariffKind.REGISTRATION, day, **common)
    if reg is not None:
        wanted.append(_tariff_line("registration", LineSource.REGISTRATION, reg))
    consult = find_tariff(
        session,
        visit.branch_id,
        TariffKind.CONSULTATION,
        day,
        unit_id=visit.unit_id,
        doctor_id=visit.doctor_id,
        **common,
    )
    if consult is not None:
        wanted.append(_tariff_line("consultation", LineSource.CONSULTATION, consult))
    else:
        notes.append("Tarif konsultasi unit ini belum diatur (Kasir → Tarif).")
    procedures = session.exec(
        select(Procedure).where(Procedure.visit_id == visit.id).order_by(Procedure.id)
    ).all()
    for proc in procedures:
        tariff = find_tariff(
            session,
            visit.branch_id,
            TariffKind.PROCEDURE,
            day,
            code=proc.code,
            name=proc.description,
            **common,
        )
        if tariff is None:
            code = f"kode {proc.code}" if proc.code else "tanpa kode"
            notes.append(f"Satu tindakan ({code}) belum ada tarifnya: tambahkan baris manual.")
            continue
        wanted.append(_tariff_line(f"procedure:{proc.id}", LineSource.PROCEDURE, tariff))
    dispense = session.exec(select(Dispense).where(Dispense.visit_id == visit.id)).first()
    if dispense is not None and dispense.status == DispenseStatus.WAITING:
        notes.append("Resep masih disiapkan di apotek: obat ditagihkan setelah diserahkan.")
    if dispense is not None and dispense.status in _BILLED_DISPENSES:
        given = session.exec(
            select(DrugItem, func.sum(DispenseLine.quantity))
            .join(DispenseLine, DispenseLine.item_id == DrugItem.id)
            .where(DispenseLine.dispense_id == dispense.id)
            .group_by(DrugItem.id)
            .order_by(DrugItem.name)
        ).all()
        for item, quantity in given:
            if not quantity:
                continue
            source = LineSource.BHP if item.category == ItemCategory.BHP else LineSource.DRUG
            wanted.append(
                _Wanted(
                    f"item:{item.id}",
                    source,
                    _item_text(item),
                    int(quantity),
                    item.price,
                    item_id=item.id,
                )
            )
    return wanted, notes


def _item_text(item: DrugItem) -> str:
    return f"{item.name} ({item.unit})"[:200]


def local_day(session: Session, branch_id: int) -> date:
    branch = session.get(Branch, branch_id)
    return utcnow().astimezone(branch_zone(branch)).date()


def open_visit_bill(session: Session, actor: Actor, visit_id: int) -> tuple[Bill, list[str]]:
    """The visit's bill, made or brought up to date with what happened (while unpaid), and
    the notes for the cashier. Refused for a cancelled visit or another branch's."""
    require(actor.duty, Action.PAYMENT_RECORD)
    visit = session.get(Visit, visit_id)
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan.")
    if visit.status == VisitStatus.CANCELLED:
        raise ServiceError("Kunjungan ini dibatalkan: tidak ada tagihan.")
    bill = session.exec(
        select(Bill).where(Bill.visit_id == visit.id, Bill.status != BillStatus.VOID)
    ).first()
    if bill is None:
        bill = Bill(
            branch_id=visit.branch_id,
            visit_id=visit.id,
            patient_id=visit.patient_id,
            bill_date=local_day(session, visit.branch_id),
            payer=visit.payer,
            bpjs_number=visit.bpjs_number,
        )
        session.add(bill)
        session.flush()
        audit.record(
            session,
            actor,
            "bill_create",
            ENTITY,
            bill.id,
            after={"visit_id": visit.id, "payer": visit.payer},
        )
    if bill.status != BillStatus.OPEN:
        return bill, []
    _changes, notes = _follow(session, bill, visit)
    if bill.subtotal == 0:
        _recompute(session, bill)
    return bill, notes


# Why a line of what happened leaves the bill (marked removed): drugs the pharmacy took back
# (a return, a cancelled prescription), or a service no longer recorded on the visit.
_GONE_REASON = {
    True: "Obat dikembalikan ke apotek (retur atau resep dibatalkan).",
    False: "Tidak lagi tercatat pada kunjungan.",
}


def _follow(session: Session, bill: Bill, visit: Visit) -> tuple[list[str], list[str]]:
    """Bring an open visit bill to what happened: add the lines of what is not billed yet,
    follow the quantities the pharmacy changed, and mark removed (with the reason) the lines
    of what no longer happened (drugs returned to the pharmacy); a line the cashier removed
    stays as it is and never comes back. Returns what changed, in the cashier's words (empty:
    nothing), and the notes for the cashier."""
    wanted, notes = _what_happened(session, visit, bill.insurer_id)
    lines = _lines(session, bill.id)
    have = {line.source_key: line for line in lines if line.source_key}
    changes: list[str] = []
    drugs_added: list[str] = []
    for want in wanted:
        line = have.get(want.key)
        if line is None:
            session.add(
                BillLine(
                    bill_id=bill.id,
                    source=want.source,
                    source_key=want.key,
                    description=want.description,
                    quantity=want.quantity,
                    unit_price=want.unit_price,
                    tariff_id=want.tariff_id,
                    item_id=want.item_id,
                )
            )
            if want.item_id is not None:
                drugs_added.append(want.description)
            else:
                changes.append(f"{want.description} ditambahkan.")
        elif not line.removed and line.item_id is not None and line.quantity != want.quantity:
            changes.append(f"Jumlah {line.description} diubah {line.quantity} → {want.quantity}.")
            line.quantity = want.quantity  # the pharmacy changed what it gave
            session.add(line)
    if drugs_added:
        changes.insert(
            0,
            f"{len(drugs_added)} baris obat dari apotek ditambahkan: {', '.join(drugs_added)}.",
        )
    keys = {want.key for want in wanted}
    for line in lines:
        if line.source_key and line.source_key not in keys and not line.removed:
            line.removed = True
            line.removed_reason = _GONE_REASON[line.item_id is not None]
            session.add(line)
            changes.append(f"{line.description} dihapus dari tagihan: {line.removed_reason}")
    if changes:
        session.flush()
        _recompute(session, bill)
    if bill.payer == Payer.ASURANSI and bill.insurer_id is None:
        notes.insert(0, "Pilih perusahaan asuransi pasien agar tanggungannya dihitung.")
    return changes, notes


@dataclass(frozen=True)
class Followed:
    """What bringing an open visit bill up to date did: each change in the cashier's words
    (empty: the bill already held what happened), the notes, and the patient's total before
    and after."""

    changes: list[str]
    notes: list[str]
    total_before: int
    total_after: int


def follow_visit_bill(session: Session, actor: Actor, bill_id: int) -> Followed:
    """Bring the open bill of a visit up to date with what happened since it was built (the
    pharmacy handed drugs over, took them back, changed a quantity), under the bill's row
    lock; a change is audited. A paid or void bill, or an over-the-counter sale, is left as
    it is (no changes)."""
    require(actor.duty, Action.PAYMENT_RECORD)
    bill = session.get(Bill, bill_id, with_for_update=True, populate_existing=True)
    if bill is None or bill.branch_id != actor.branch_id:
        raise NotFound("Tagihan tidak ditemukan.")
    total = bill.patient_total
    visit = session.get(Visit, bill.visit_id) if bill.visit_id else None
    if bill.status != BillStatus.OPEN or visit is None:
        return Followed([], [], total, total)
    changes, notes = _follow(session, bill, visit)
    if changes:
        audit.record(
            session,
            actor,
            "bill_follow",
            ENTITY,
            bill.id,
            before={"patient_total": total},
            after={"patient_total": bill.patient_total, "changes": changes},
        )
    return Followed(changes, notes, total, bill.patient_total)


class BillChanged(ServiceError):
    """The bill changed after the cashier's view of it was built: nothing was taken."""


def bill_as_seen(session: Session, bill: Bill, expected_version: int | None) -> None:
    """Refuse (BillChanged) when a locked open bill is not the one the cashier's view showed:
    its version moved on since (`expected_version`, None: no view to compare), or what
    happened in the visit is not on it yet (the pharmacy just handed drugs over or took them
    back). The bill itself is brought up to date in the caller's transaction, which a
    refusal rolls back."""
    changes: list[str] = []
    if bill.visit_id is not None:
        visit = session.get(Visit, bill.visit_id)
        if visit is not None:
            changes, _notes = _follow(session, bill, visit)
    if changes or (expected_version is not None and bill.version != expected_version):
        raise BillChanged(
            "Tagihan ini berubah setelah ditampilkan"
            + (f" ({' '.join(changes)})" if changes else "")
            + ": periksa total yang baru, lalu tekan Lunas lagi."
        )


def new_counter_sale(session: Session, actor: Actor, customer_name: str) -> Bill:
    """An over-the-counter sale (penjualan bebas) without a visit: an empty bill to which the
    cashier adds items of the drug master."""
    require(actor.duty, Action.PAYMENT_RECORD)
    errors: dict[str, str] = {}
    name = take_text(
        errors,
        "customer_name",
        customer_name,
        label="Nama pembeli",
        max_length=150,
        collapse_spaces=True,
    )
    if errors:
        raise ValidationFailed(errors)
    bill = Bill(
        branch_id=actor.branch_id,
        customer_name=name or "Pembeli umum",
        bill_date=local_day(session, actor.branch_id),
        payer=Payer.UMUM,
    )
    session.add(bill)
    session.flush()
    audit.record(
        session, actor, "bill_create", ENTITY, bill.id, after={"customer_name": bill.customer_name}
    )
    return bill


# ----- changing an open bill ----------------------------------------------------------------
def locked_open_bill(session: Session, actor: Actor, bill_id: int) -> Bill:
    bill = session.exec(select(Bill).where(Bill.id == bill_id).with_for_update()).first()
    if bill is None or bill.branch_id != actor.branch_id:
        raise NotFound("Tagihan tidak ditemukan.")
    _must_be_open(bill)
    return bill


@dataclass
class LineInput:
    """A line the cashier adds, as typed: a drug master item (`item_id`) or a manual line
    (`description` and `unit_price`)."""

    quantity: str = "1"
    reason: str = ""
    item_id: int | None = None
    description: str = ""
    unit_price: str = ""


def available_stock(session: Session, item_id: int, day: date) -> int:
    """Units of an item in unexpired batches on `day`."""
    return int(
        session.exec(
            select(func.coalesce(func.sum(StockBatch.quantity), 0)).where(
                StockBatch.item_id == item_id, StockBatch.expiry_date >= day
            )
        ).one()
    )


def add_line(session: Session, actor: Actor, bill_id: int, data: LineInput) -> BillLine:
    """Add a line to an open bill (with a reason on a visit's bill); audited."""
    require(actor.duty, Action.PAYMENT_RECORD)
    bill = locked_open_bill(session, actor, bill_id)
    errors: dict[str, str] = {}
    quantity = take_rupiah(
        errors, "quantity", data.quantity, label="Jumlah", maximum=MAX_QUANTITY, required=True
    )
    if "quantity" not in errors and quantity < 1:
        errors["quantity"] = "Jumlah paling sedikit 1."
    reason = take_text(errors, "reason", data.reason, label="Alasan", max_length=300)
    if bill.visit_id is not None and not reason and "reason" not in errors:
        errors["reason"] = "Tulis alasan menambah baris pada tagihan kunjungan."
    item: DrugItem | None = None
    if data.item_id is not None:
        item = session.get(DrugItem, data.item_id)
        if item is None or item.branch_id != actor.branch_id or not item.active:
            errors["item_id"] = "Obat/BHP tidak ditemukan di cabang ini."
        elif "quantity" not in errors:
            have = available_stock(session, item.id, bill.bill_date)
            if have < quantity:
                errors["quantity"] = f"Stok {item.name} tinggal {have} {item.unit}."
        description, unit_price = (_item_text(item), item.price) if item and not errors else ("", 0)
    else:
        description = take_text(
            errors,
            "description",
            data.description,
            label="Uraian",
            max_length=200,
            required=True,
            collapse_spaces=True,
        )
        unit_price = take_rupiah(
            errors,
            "unit_price",
            data.unit_price,
            label="Harga",
            maximum=MAX_LINE_PRICE,
            required=True,
        )
    if errors:
        raise ValidationFailed(errors)
    if item is not None:
        source = LineSource.BHP if item.category == ItemCategory.BHP else LineSource.DRUG
    else:
        source = LineSource.MANUAL
    line = BillLine(
        bill_id=bill.id,
        source=source,
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        item_id=item.id if item else None,
        takes_stock=item is not None,
        added_reason=reason,
        created_by_user_id=actor.user_id,
    )
    session.add(line)
    session.flush()
    _recompute(session, bill)
    audit.record(
        session,
        actor,
        "bill_line_add",
        LINE_ENTITY,
        line.id,
        after={
            "bill_id": bill.id,
            "description": description,
            "quantity": quantity,
            "unit_price": unit_price,
            "reason": reason,
        },
    )
    return line


def remove_line(session: Session, actor: Actor, line_id: int, reason_text: str) -> None:
    """Take a line off an open bill, with a reason; the line stays, marked. Audited."""
    require(actor.duty, Action.PAYMENT_RECORD)
    line = session.get(BillLine, line_id)
    if line is None:
        raise NotFound("Baris tagihan tidak ditemukan.")
    bill = locked_open_bill(session, actor, line.bill_id)
    errors: dict[str, str] = {}
    reason = take_text(
        errors, "remove_reason", reason_text, label="Alasan", max_length=300, required=True
    )
    if errors:
        raise ValidationFailed(errors)
    if line.removed:
        return
    line.removed, line.removed_reason = True, reason
    session.add(line)
    session.flush()
    _recompute(session, bill)
    audit.record(
        session,
        actor,
        "bill_line_remove",
        LINE_ENTITY,
        line.id,
        before={"description": line.description, "amount": line.amount},
        after={"bill_id": bill.id, "reason": reason},
    )


def set_discount(
    session: Session, actor: Actor, bill_id: int, kind: str, value_text: str, reason_text: str
) -> Bill:
    """A discount on the patient's share: `kind` "percent" (0-100) or "amount" (rupiah, at
    most the share), with a reason; value 0 takes it away. Audited."""
    require(actor.duty, Action.BILL_DISCOUNT)
    bill = locked_open_bill(session, actor, bill_id)
    errors: dict[str, str] = {}
    kind = normalize_text(kind)
    if kind not in ("percent", "amount"):
        errors["discount_kind"] = "Pilih diskon persen atau rupiah."
    maximum = 100 if kind == "percent" else bill.patient_total + bill.discount_amount
    value = take_rupiah(
        errors, "discount_value", value_text, label="Diskon", maximum=maximum, required=True
    )
    reason = take_text(
        errors,
        "discount_reason",
        reason_text,
        label="Alasan diskon",
        max_length=300,
        required=value > 0,
    )
    if errors:
        raise ValidationFailed(errors)
    before = {
        "discount_kind": bill.discount_kind,
        "discount_value": bill.discount_value,
        "discount_amount": bill.discount_amount,
    }
    bill.discount_kind = kind if value else ""
    bill.discount_value, bill.discount_reason = value, reason if value else ""
    _recompute(session, bill)
    audit.record(
        session,
        actor,
        "bill_discount",
        ENTITY,
        bill.id,
        before=before,
        after={
            "discount_kind": bill.discount_kind,
            "discount_value": value,
            "discount_amount": bill.discount_amount,
            "reason": reason,
        },
    )
    return bill


def set_insurer(session: Session, actor: Actor, bill_id: int, insurer_id: int | None) -> Bill:
    """The insurance company of an Asuransi visit's bill: its shares are computed again."""
    require(actor.duty, Action.PAYMENT_RECORD)
    bill = locked_open_bill(session, actor, bill_id)
    if bill.payer != Payer.ASURANSI:
        raise ServiceError("Penjamin kunjungan ini bukan Asuransi.")
    if insurer_id is not None:
        insurer = session.get(Insurer, insurer_id)
        if insurer is None or insurer.branch_id != actor.branch_id:
            raise NotFound("Asuransi tidak ditemukan.")
    before = {"insurer_id": bill.insurer_id}
    bill.insurer_id = insurer_id
    _recompute(session, bill)
    audit.record(
        session,
        actor,
        "bill_insurer",
        ENTITY,
        bill.id,
        before=before,
        after={"insurer_id": insurer_id},
    )
    return bill


# ----- what the cashier's screen shows -------------------------------------------------------
@dataclass(frozen=True)
class LineView:
    id: int
    source: str
    description: str
    quantity: int
    unit_price: str
    amount: str
    covered: str
    patient: str
    removed: bool
    reason: str


@dataclass(frozen=True)
class PaymentView:
    method: str
    amount: str
    cash_received: str
    change: str
    reference: str


@dataclass
class BillView:
    id: int
    visit_id: int  # 0: an over-the-counter sale
    version: int
    status: str
    status_label: str
    nota_number: str
    title: str  # the patient's name and No. RM, or the buyer
    visit_line: str  # unit, doctor, queue number
    payer: str
    payer_label: str
    insurer_id: int | None
    insurer: str
    bpjs_number: str
    branch_name: str
    branch_address: str
    branch_phone: str
    day: str
    paid_at: str
    subtotal: str
    covered_total: str
    covered_label: str
    discount: str
    discount_reason: str
    patient_total: int
    patient_total_text: str
    print_count: int
    void_reason: str
    lines: list[LineView] = field(default_factory=list)
    payments: list[PaymentView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def bill_view(
    session: Session, actor: Actor, bill_id: int, notes: list[str] | None = None
) -> BillView:
    """What the cashier and the nota show of a bill of the active branch."""
    require(actor.duty, Action.VIEW_KASIR)
    bill = _bill_in_branch(session, actor, bill_id)
    branch = session.get(Branch, bill.branch_id)
    zone = branch_zone(branch)
    title, visit_line = bill.customer_name or "Pembeli umum", "Penjualan bebas"
    if bill.visit_id is not None:
        row = session.exec(
            select(Visit, Patient, ServiceUnit.name, Employee.name)
            .join(Patient, Patient.id == Visit.patient_id)
            .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
            .join(Employee, Employee.id == Visit.doctor_id)
            .where(Visit.id == bill.visit_id)
        ).one()
        visit, patient, unit, doctor = row
        title = f"{patient.name} · No. RM {patient.mrn}"
        visit_line = f"{unit} · {doctor} · antrean {visit.queue_number}"
    insurer = session.get(Insurer, bill.insurer_id) if bill.insurer_id else None
    lines = [
        LineView(
            id=line.id,
            source=LineSource(line.source).label,
            description=line.description,
            quantity=line.quantity,
            unit_price=rupiah(line.unit_price),
            amount=rupiah(line.amount),
            covered=rupiah(line.covered_amount),
            patient=rupiah(line.patient_amount),
            removed=line.removed,
            reason=line.removed_reason or line.added_reason,
        )
        for line in _lines(session, bill.id)
    ]
    payments = [
        PaymentView(
            method=PaymentMethod(p.method).label,
            amount=rupiah(p.amount),
            cash_received=rupiah(p.cash_received) if p.method == PaymentMethod.TUNAI else "",
            change=rupiah(p.change_given) if p.method == PaymentMethod.TUNAI else "",
            reference=p.reference,
        )
        for p in session.exec(
            select(Payment).where(Payment.bill_id == bill.id).order_by(Payment.id)
        )
    ]
    if bill.discount_kind == "percent":
        discount = f"{bill.discount_value}% ({rupiah(bill.discount_amount)})"
    else:
        discount = rupiah(bill.discount_amount)
    return BillView(
        id=bill.id,
        visit_id=bill.visit_id or 0,
        version=bill.version,
        status=bill.status,
        status_label=BillStatus(bill.status).label,
        nota_number=bill.nota_number or "",
        title=title,
        visit_line=visit_line,
        payer=bill.payer,
        payer_label=PAYER_LABELS.get(bill.payer, bill.payer),
        insurer_id=bill.insurer_id,
        insurer=insurer.name if insurer else "",
        bpjs_number=bill.bpjs_number or "",
        branch_name=branch.name if branch else "",
        branch_address=branch.address if branch else "",
        branch_phone=branch.phone if branch else "",
        day=bill.bill_date.strftime("%d/%m/%Y"),
        paid_at=zone_time_text(bill.paid_at, zone, "%d/%m/%Y %H:%M") if bill.paid_at else "",
        subtotal=rupiah(bill.subtotal),
        covered_total=rupiah(bill.covered_total),
        covered_label="Ditanggung BPJS"
        if bill.payer == Payer.BPJS
        else (f"Ditanggung {insurer.name}" if insurer else "Ditanggung penjamin"),
        discount=discount,
        discount_reason=bill.discount_reason,
        patient_total=bill.patient_total,
        patient_total_text=rupiah(bill.patient_total),
        print_count=bill.print_count,
        void_reason=bill.void_reason,
        lines=lines,
        payments=payments,
        notes=list(notes or []),
    )


@dataclass(frozen=True)
class WaitingRow:
    visit_id: int
    bill_id: int
    queue_number: int
    name: str
    mrn: str
    unit: str
    doctor: str
    payer: str
    pharmacy: str
    completed: str
    total: str


def waiting_list(
    session: Session, actor: Actor, search: str = "", *, limit: int = 100
) -> list[WaitingRow]:
    """Today's completed visits of the active branch without a paid bill, and today's open
    over-the-counter sales, oldest first; `search` matches a name, a No. RM or a queue
    number."""
    require(actor.duty, Action.VIEW_KASIR)
    branch = session.get(Branch, actor.branch_id)
    zone = branch_zone(branch)
    today = utcnow().astimezone(zone).date()
    query = (
        select(
            Visit.id,
            Bill.id,
            Visit.queue_number,
            Patient.name,
            Patient.mrn,
            ServiceUnit.name,
            Employee.name,
            Visit.payer,
            Dispense.status,
            Visit.completed_at,
            Bill.patient_total,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
        .join(Employee, Employee.id == Visit.doctor_id)
        .join(
            Bill,
            (Bill.visit_id == Visit.id) & (Bill.status != BillStatus.VOID),
            isouter=True,
        )
        .join(Dispense, Dispense.visit_id == Visit.id, isouter=True)
        .where(
            Visit.branch_id == actor.branch_id,
            Visit.visit_date == today,
            Visit.status == VisitStatus.COMPLETE,
            or_(Bill.id.is_(None), Bill.status == BillStatus.OPEN),
        )
        .order_by(Visit.completed_at, Visit.id)
        .limit(limit)
    )
    term = " ".join(search.split()).casefold()
    if term:
        conditions = [Patient.name_norm.contains(term, autoescape=True), Patient.mrn == term]
        if term.isascii() and term.isdigit() and len(term) <= 6:
            conditions.append(Visit.queue_number == int(term))
        query = query.where(or_(*conditions))
    rows = [
        WaitingRow(
            visit_id=v_id,
            bill_id=b_id or 0,
            queue_number=queue,
            name=name,
            mrn=mrn,
            unit=unit,
            doctor=doctor,
            payer=PAYER_LABELS.get(payer, payer),
            pharmacy=DispenseStatus(d_status).label if d_status else "-",
            completed=zone_time_text(done, zone),
            total=rupiah(total) if b_id else "",
        )
        for v_id, b_id, queue, name, mrn, unit, doctor, payer, d_status, done, total in (
            session.exec(query).all()
        )
    ]
    if not term:
        sales = session.exec(
            select(Bill)
            .where(
                Bill.branch_id == actor.branch_id,
                Bill.visit_id.is_(None),
                Bill.status == BillStatus.OPEN,
                Bill.bill_date == today,
            )
            .order_by(Bill.id)
        ).all()
        rows += [
            WaitingRow(
                visit_id=0,
                bill_id=b.id,
                queue_number=0,
                name=b.customer_name,
                mrn="",
                unit="Penjualan bebas",
                doctor="",
                payer="Umum",
                pharmacy="-",
                completed=zone_time_text(b.created_at, zone),
                total=rupiah(b.patient_total),
            )
            for b in sales
        ]
    return rows


def paid_today(session: Session, actor: Actor, *, limit: int = 50) -> list[dict[str, str]]:
    """Today's paid and voided notas of the active branch, newest first (for reprints)."""
    require(actor.duty, Action.VIEW_KASIR)
    branch = session.get(Branch, actor.branch_id)
    zone = branch_zone(branch)
    today = utcnow().astimezone(zone).date()
    rows = session.exec(
        select(Bill, Patient.name)
        .join(Patient, Patient.id == Bill.patient_id, isouter=True)
        .where(
            Bill.branch_id == actor.branch_id,
            Bill.status != BillStatus.OPEN,
            Bill.bill_date == today,
        )
        .order_by(Bill.paid_at.desc(), Bill.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": str(b.id),
            "nota": b.nota_number or "-",
            "name": name or b.customer_name,
            "total": rupiah(b.patient_total),
            "status": BillStatus(b.status).label,
            "time": zone_time_text(b.paid_at, zone) if b.paid_at else "",
        }
        for b, name in rows
    ]


def bill_lines_by_source(session: Session, bill_id: int) -> dict[str, int]:
    """Rupiah per line source of a bill's kept lines (for tests and reports)."""
    out: dict[str, int] = defaultdict(int)
    for line in _lines(session, bill_id):
        if not line.removed:
            out[line.source] += line.amount
    return dict(out)


def sellable_items(session: Session, actor: Actor, text: str) -> list[dict[str, str]]:
    """Items of the active branch's drug master the cashier may sell, with their price and
    the unexpired stock of today."""
    require(actor.duty, Action.PAYMENT_RECORD)
    from klinikita.services.drug_master import search_items

    today = local_day(session, actor.branch_id)
    return [
        {
            "id": str(item.id),
            "name": item.name,
            "unit": item.unit,
            "price": rupiah(item.price),
            "stock": str(available_stock(session, item.id, today)),
        }
        for item in search_items(session, actor.branch_id, text, limit=10)
    ]
