"""Demo data for a first start, and the first admin of an empty production database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, func, select

from klinikita.demo_keys import DEMO_KEYS
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, User
from klinikita.models.enums import Duty, FacilityType, SatusehatEnvironment, Sex
from klinikita.services import audit
from klinikita.services.accounts import UserInput, create_user
from klinikita.services.demo_drugs import seed_demo_drugs
from klinikita.services.demo_tariffs import seed_demo_tariffs
from klinikita.services.errors import ServiceError
from klinikita.services.mrn import allocate_mrn
from klinikita.services.secrets_store import encrypt_secret

DEMO_CLINIC = "Klinik Kita Sehat"
DEMO_PRACTICE = "Praktik Dokter Mandiri dr. Sari"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    full_name: str
    main_duty: Duty
    extra_duties: tuple[Duty, ...]
    branches: tuple[str, ...]  # branch names
    # Practitioner NIK from SATUSEHAT's published sandbox table, for staff who need one.
    nik: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "admin",
        "Admin#2026",
        "Admin Klinik",
        Duty.ADMIN,
        (Duty.DOKTER_UMUM,),
        (DEMO_CLINIC, DEMO_PRACTICE),
    ),
    DemoUser(
        "dokter",
        "Dokter#2026",
        "dr. Alexander",
        Duty.DOKTER_UMUM,
        (),
        (DEMO_CLINIC, DEMO_PRACTICE),
        "7209061211900001",
    ),
    DemoUser(
        "perawat",
        "Perawat#2026",
        "Sheila Annisa S.Kep",
        Duty.PERAWAT,
        (),
        (DEMO_CLINIC,),
        "3313096403900009",
    ),
    DemoUser(
        "pendaftaran", "Daftar#2026", "Rina Pendaftaran", Duty.PENDAFTARAN_KASIR, (), (DEMO_CLINIC,)
    ),
    DemoUser(
        "apoteker",
        "Apoteker#2026",
        "apt. Aditya Pradhana, S.Farm.",
        Duty.APOTEKER,
        (),
        (DEMO_CLINIC,),
        "3578083008700010",
    ),
)

# Simulator credentials of the two demo branches: the simulator's own demo clients.
_DEMO_SATUSEHAT = dict(zip((DEMO_CLINIC, DEMO_PRACTICE), DEMO_KEYS, strict=True))

# Patients from SATUSEHAT's published sandbox table (NIK, name, sex, birth date).
_DEMO_PATIENTS = (
    ("9271060312000001", "Ardianto Putra", Sex.MALE, date(1992, 1, 9)),
    ("9204014804000002", "Claudia Sintia", Sex.FEMALE, date(1989, 11, 3)),
    ("9104224509000003", "Elizabeth Dior", Sex.FEMALE, date(1976, 7, 7)),
)


def database_is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def seed_demo(session: Session, *, queue_satusehat: bool = True) -> list[DemoUser]:
    """Create the demo branches, units, rooms, staff, users and patients (caller commits)."""
    branches: dict[str, Branch] = {}
    for name, kind, address, (latitude, longitude) in (
        (DEMO_CLINIC, FacilityType.KLINIK, "Jl. Sehat No. 1, Jakarta Selatan", (-6.2615, 106.8106)),
        (DEMO_PRACTICE, FacilityType.PMD, "Jl. Melati No. 7, Bandung", (-6.9147, 107.6098)),
    ):
        client = _DEMO_SATUSEHAT[name]
        branch = Branch(
            name=name,
            facility_type=kind,
            address=address,
            phone="021-5550100",
            ss_environment=SatusehatEnvironment.SIMULATOR,
            ss_organization_id=client.organization_id,
            ss_client_id=client.client_id,
            ss_secret_encrypted=encrypt_secret(client.client_secret),
            latitude=latitude,
            longitude=longitude,
        )
        session.add(branch)
        session.flush()
        audit.record(
            session,
            None,
            "create",
            "branch",
            branch.id,
            after=audit.snapshot(branch),
            branch_id=branch.id,
        )
        branches[name] = branch
    for branch, unit_name, room_name in (
        (branches[DEMO_CLINIC], "Poli Umum", "Ruang Periksa 1"),
        (branches[DEMO_CLINIC], "Poli Gigi", "Ruang Gigi"),
        (branches[DEMO_PRACTICE], "Praktik Umum", "Ruang Praktik"),
    ):
        unit = ServiceUnit(branch_id=branch.id, name=unit_name)
        session.add(unit)
        session.flush()
        session.add(Room(branch_id=branch.id, unit_id=unit.id, name=room_name))
    for demo in DEMO_USERS:
        employee_id = None
        if demo.main_duty != Duty.ADMIN:
            employee = Employee(
                branch_id=branches[demo.branches[0]].id,
                name=demo.full_name,
                nik=demo.nik,
                main_duty=demo.main_duty,
            )
            session.add(employee)
            session.flush()
            employee_id = employee.id
        create_user(
            session,
            UserInput(
                username=demo.username,
                full_name=demo.full_name,
                password=demo.password,
                main_duty=demo.main_duty,
                extra_duties=list(demo.extra_duties),
                branch_ids=[branches[b].id for b in demo.branches],
                email=f"{demo.username}@demo.klinikita.id",
                employee_id=employee_id,
            ),
            actor=None,
            # Public by design (README): the strength check would refuse them, and nobody
            # may set them through the app (`passwords.strength_problem`).
            check_strength=False,
        )
    # The practice's own doctor: the "dokter" login works at both branches, and the practice
    # needs a doctor of its own on its desk's Dokter list from the first minute.
    dokter = next(d for d in DEMO_USERS if d.username == "dokter")
    session.add(
        Employee(
            branch_id=branches[DEMO_PRACTICE].id,
            name=dokter.full_name,
            nik=dokter.nik,
            main_duty=dokter.main_duty,
        )
    )
    for nik, name, sex, born in _DEMO_PATIENTS:
        session.add(
            Patient(
                branch_id=branches[DEMO_CLINIC].id,
                mrn=allocate_mrn(session, branches[DEMO_CLINIC]),
                nik=nik,
                name=name,
                sex=sex,
                birth_date=born,
            )
        )
    session.flush()
    seed_demo_drugs(session, [b.id for b in branches.values()])
    seed_demo_stock(session)
    seed_demo_tariffs(session, [b.id for b in branches.values()])
    if queue_satusehat:
        _send_demo_master_data(session)
    return list(DEMO_USERS)


def seed_demo_stock(session: Session) -> int:
    """An opening goods receipt per branch for every active drug item that has no batch
    yet (the demo's drug master is seeded before this); a few items are left low or near
    expiry so the Stok lists show something. Returns how many batches it filled."""
    from datetime import timedelta

    from klinikita.models.pharmacy import DrugItem, GoodsReceipt, MovementKind, StockBatch
    from klinikita.services.stock_ledger import move
    from klinikita.services.visit_queue import local_today

    stocked = select(StockBatch.item_id).distinct()
    items = session.exec(
        select(DrugItem)
        .where(DrugItem.active, DrugItem.id.not_in(stocked))
        .order_by(DrugItem.branch_id, DrugItem.name, DrugItem.id)
    ).all()
    filled = 0
    receipts: dict[int, GoodsReceipt] = {}
    for n, item in enumerate(items):
        receipt = receipts.get(item.branch_id)
        if receipt is None:
            today = local_today(session.get(Branch, item.branch_id))
            receipt = GoodsReceipt(
                branch_id=item.branch_id,
                supplier="PBF Demo Farma",
                invoice_number="DEMO-0001",
                received_on=today,
                note="Stok awal demo",
            )
            session.add(receipt)
            session.flush()
            receipts[item.branch_id] = receipt
            audit.record(
                session,
                None,
                "create",
                "goods_receipt",
                receipt.id,
                after=audit.snapshot(receipt),
                branch_id=item.branch_id,
            )
        today = receipt.received_on
        # Every seventh item is below its minimum, every fifth expires within 90 days.
        quantity = max(1, item.min_stock // 2) if n % 7 == 3 and item.min_stock else 100
        expiry = today + timedelta(days=45 if n % 5 == 2 else 540 + 30 * (n % 6))
        batch = StockBatch(
            branch_id=item.branch_id,
            item_id=item.id,
            batch_number=f"DEMO{item.id:04d}",
            expiry_date=expiry,
            quantity=0,
        )
        session.add(batch)
        session.flush()
        move(
            session,
            batch,
            quantity,
            MovementKind.RECEIPT,
            user_id=None,
            reason="Stok awal demo",
            receipt_id=receipt.id,
        )
        filled += 1
    return filled


def _send_demo_master_data(session: Session) -> None:
    """Queue what the demo's SATUSEHAT setup needs (units, rooms, practitioners with a NIK,
    patients): the app's worker sends it on its first start, as a clinic's admin would."""
    from klinikita.models.satusehat import JobKind
    from klinikita.services import outbox
    from klinikita.services.employees import PRACTITIONER_DUTIES

    for kind, model in (
        (JobKind.ORGANIZATION_CREATE, ServiceUnit),
        (JobKind.LOCATION_CREATE, Room),
        (JobKind.PRACTITIONER_LOOKUP, Employee),
        (JobKind.PATIENT_LOOKUP, Patient),
    ):
        for row in session.exec(select(model)).all():
            needs_nik = model in (Employee, Patient)
            if needs_nik and not row.nik:
                continue
            if model is Employee and row.main_duty not in PRACTITIONER_DUTIES:
                continue
            outbox.enqueue(session, kind, row.branch_id, row.id)


def create_first_admin(
    session: Session,
    *,
    username: str,
    password: str,
    full_name: str,
    email: str,
    branch_name: str,
    facility_type: str,
) -> User:
    """The first admin and its branch on an empty database (no demo data)."""
    if not database_is_empty(session):
        raise ServiceError(
            "Database sudah berisi pengguna; admin pertama hanya untuk database kosong."
        )
    branch = session.exec(select(Branch).where(Branch.name == branch_name.strip())).first()
    if branch is None:
        if facility_type not in {f.value for f in FacilityType}:
            raise ServiceError(f"Jenis fasilitas tidak dikenal: {facility_type}")
        branch = Branch(name=branch_name.strip(), facility_type=facility_type)
        session.add(branch)
        session.flush()
        audit.record(
            session,
            None,
            "create",
            "branch",
            branch.id,
            after=audit.snapshot(branch),
            branch_id=branch.id,
        )
    return create_user(
        session,
        UserInput(
            username=username,
            full_name=full_name,
            password=password,
            main_duty=Duty.ADMIN,
            branch_ids=[branch.id],
            email=email,
        ),
        actor=None,
    )
