"""Small builders for test data, written through the real services."""

from __future__ import annotations

from sqlmodel import Session

from klinikita.models import Branch
from klinikita.models.enums import Duty, FacilityType
from klinikita.services.accounts import UserInput, create_user

GOOD_PASSWORD = "Rahasia#2026"


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
        ),
        actor=None,
    )
    session.commit()
    return user
