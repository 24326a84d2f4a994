"""Small builders for test data, written through the real services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from klinikita.models import Branch
from klinikita.models.enums import Duty, FacilityType
from klinikita.services.accounts import UserInput, create_user

# Strong enough for the policy (zxcvbn score 3 or more) with any test user's names.
GOOD_PASSWORD = "Kopi-Tubruk#47"


def make_branch(
    session: Session, name: str = "Klinik Uji", kind: str = FacilityType.KLINIK
) -> Branch:
    branch = Branch(name=name, facility_type=kind)
    session.add(branch)
    session.commit()
    return branch


def make_user(
    session: Session,
    username: str,
    *,
    branches: list[Branch],
    main_duty: str = Duty.PERAWAT,
    extra_duties: tuple[str, ...] = (),
    email: str = "",
    password: str = GOOD_PASSWORD,
    employee_id: int | None = None,
):
    user = create_user(
        session,
        UserInput(
            username=username,
            full_name=username.title(),
            password=password,
            main_duty=main_duty,
            extra_duties=list(extra_duties),
            branch_ids=[b.id for b in branches],
            email=email,
            employee_id=employee_id,
        ),
        actor=None,
    )
    session.commit()
    return user


def make_clinic(
    session: Session,
    *,
    org_id: str = "10000004",
    client_id: str = "demo-klinik",
    secret: str = "demo-klinik-secret",
    name: str = "Klinik Simulator",
):
    """A branch set to the simulator with a unit, a room, a doctor and a patient whose NIKs
    are in SATUSEHAT's published sandbox tables (the simulator knows them)."""
    from klinikita.models import Employee, Patient, Room, ServiceUnit
    from klinikita.models.enums import SatusehatEnvironment, Sex
    from klinikita.services.secrets_store import encrypt_secret

    branch = Branch(
        name=name,
        facility_type=FacilityType.KLINIK,
        ss_environment=SatusehatEnvironment.SIMULATOR,
        ss_organization_id=org_id,
        ss_client_id=client_id,
        ss_secret_encrypted=encrypt_secret(secret),
        latitude=-6.2311,
        longitude=106.8324,
    )
    session.add(branch)
    session.flush()
    unit = ServiceUnit(branch_id=branch.id, name="Poli Umum")
    session.add(unit)
    session.flush()
    room = Room(branch_id=branch.id, unit_id=unit.id, name="Ruang Periksa 1")
    doctor = Employee(
        branch_id=branch.id,
        name="dr. Alexander",
        nik="7209061211900001",
        main_duty=Duty.DOKTER_UMUM,
    )
    patient = Patient(
        branch_id=branch.id,
        mrn="000001",
        nik="9271060312000001",
        name="Ardianto Putra",
        sex=Sex.MALE,
        birth_date=date(1992, 1, 9),
    )
    session.add_all([room, doctor, patient])
    session.commit()
    return branch, unit, room, doctor, patient


NURSE_NIK = "3313096403900009"  # in SATUSEHAT's published sandbox table of practitioners


def make_nurse(session: Session, branch, *, username: str | None = None):
    """A nurse employee whose NIK the simulator knows; with `username`, also her login
    (linked to her), returned as (employee, user)."""
    from klinikita.models import Employee

    nurse = Employee(
        branch_id=branch.id, name="Sheila Annisa S.Kep", nik=NURSE_NIK, main_duty=Duty.PERAWAT
    )
    session.add(nurse)
    session.commit()
    if username is None:
        return nurse, None
    user = make_user(session, username, branches=[branch], employee_id=nurse.id)
    return nurse, user


def make_completed_visit(
    session: Session,
    branch,
    unit,
    room,
    doctor,
    patient,
    *,
    queue_number: int = 1,
    codes: tuple[str, ...] = ("J06.9",),
    minutes_ago: int = 5,
):
    """A complete visit with vitals and diagnoses, ready to send."""
    from klinikita.models import Diagnosis, Examination, Visit
    from klinikita.models.clinical import VisitStatus

    done = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    visit = Visit(
        branch_id=branch.id,
        patient_id=patient.id,
        unit_id=unit.id,
        room_id=room.id,
        doctor_id=doctor.id,
        visit_date=done.date(),
        queue_number=queue_number,
        status=VisitStatus.COMPLETE,
        arrived_at=done - timedelta(minutes=50),
        exam_started_at=done - timedelta(minutes=30),
        completed_at=done,
    )
    session.add(visit)
    session.flush()
    session.add(
        Examination(
            visit_id=visit.id,
            systolic=120,
            diastolic=80,
            pulse=80,
            respiratory_rate=18,
            temperature=36.8,
            weight=60.5,
            height=165,
            spo2=98,
            vitals_at=done - timedelta(minutes=25),
            subjective="Batuk pilek 3 hari",
            assessment="ISPA",
        )
    )
    for rank, code in enumerate(codes, start=1):
        session.add(Diagnosis(visit_id=visit.id, rank=rank, icd10_code=code))
    session.commit()
    return visit


def sandbox_patient(branch, index: int, **fields):
    """SATUSEHAT's published sandbox patient `index` as a new patient of the branch (not
    added to any session); `fields` set more columns (mrn, ihs_number, ...)."""
    from klinikita.integrations.satusehat.simulator.seed import SANDBOX_PATIENTS
    from klinikita.models import Patient
    from klinikita.models.enums import Sex

    person = SANDBOX_PATIENTS[index]
    values = {
        "branch_id": branch.id,
        "mrn": f"{index + 1:06d}",
        "nik": person.nik,
        "name": person.name,
        "sex": Sex.MALE if person.gender == "male" else Sex.FEMALE,
        "birth_date": date.fromisoformat(person.birth_date),
    }
    return Patient(**{**values, **fields})


def make_patient(session: Session, branch, index: int = 1):
    """Another patient of the branch (the clinic's own patient is sandbox patient 0). A
    patient has one open visit per unit and day."""
    patient = sandbox_patient(branch, index)
    session.add(patient)
    session.commit()
    return patient


def make_visit(
    session: Session,
    branch,
    unit,
    room,
    doctor,
    patient,
    *,
    queue_number: int = 1,
    minutes_ago: int = 30,
):
    """A visit just registered today (status registered), as the registration desk leaves it."""
    from klinikita.models import Visit
    from klinikita.models.clinical import VisitStatus
    from klinikita.services.visit_queue import local_today

    visit = Visit(
        branch_id=branch.id,
        patient_id=patient.id,
        unit_id=unit.id,
        room_id=room.id,
        doctor_id=doctor.id,
        visit_date=local_today(branch),
        queue_number=queue_number,
        status=VisitStatus.REGISTERED,
        arrived_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )
    session.add(visit)
    session.commit()
    return visit


def committed_read(session: Session, read, *args, **kwargs):  # noqa: ANN001, ANN201
    """`read(reader, *args, **kwargs)` with `reader` a session for reading only, as
    `db.read_scope()` gives, once `session`'s work is committed: the read services see
    committed data only, as in the app."""
    from klinikita.db import READ_ONLY

    session.commit()
    bind = session.get_bind().execution_options(**{READ_ONLY: True})
    with Session(bind, expire_on_commit=False) as reader:
        try:
            return read(reader, *args, **kwargs)
        finally:
            reader.rollback()


def make_visit_on(
    session: Session,
    branch,
    unit,
    room,
    doctor,
    patient,
    day: date,
    *,
    status: str = "complete",
    payer: str = "umum",
    codes: tuple[str, ...] = (),
    hour: int = 9,
    queue_number: int | None = None,
):
    """A visit on the branch's local `day` (arrived at `hour` local time), in `status`, with
    its diagnoses `codes` (rank 1 first): the reports' test data."""
    from klinikita.models import Diagnosis, Visit
    from klinikita.models.clinical import VisitStatus
    from klinikita.services.visit_queue import branch_zone

    arrived = datetime(day.year, day.month, day.day, hour, tzinfo=branch_zone(branch))
    arrived = arrived.astimezone(UTC)
    if queue_number is None:
        from sqlmodel import func, select

        taken = select(func.count()).where(Visit.unit_id == unit.id, Visit.visit_date == day)
        queue_number = 1 + session.exec(taken).one()
    visit = Visit(
        branch_id=branch.id,
        patient_id=patient.id,
        unit_id=unit.id,
        room_id=room.id,
        doctor_id=doctor.id,
        visit_date=day,
        queue_number=queue_number,
        payer=payer,
        status=status,
        arrived_at=arrived,
        exam_started_at=arrived + timedelta(minutes=10) if status != "registered" else None,
        completed_at=arrived + timedelta(minutes=30) if status == VisitStatus.COMPLETE else None,
        cancelled_at=arrived + timedelta(minutes=5) if status == VisitStatus.CANCELLED else None,
    )
    session.add(visit)
    session.flush()
    for rank, code in enumerate(codes, start=1):
        session.add(Diagnosis(visit_id=visit.id, rank=rank, icd10_code=code))
    session.commit()
    return visit
