"""The demo branches' price list (Kasir -> Tarif): registration, consultation per unit, a few
procedures by ICD-9-CM code, and one insurer, valid from the first of this year."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from klinikita.models import ServiceUnit
from klinikita.models.billing import Insurer, Tariff, TariffKind

# Consultation per unit name, in rupiah.
CONSULTATION = {"Poli Umum": 50000, "Poli Gigi": 75000, "Praktik Umum": 60000}
# (ICD-9-CM, name on the nota, rupiah)
PROCEDURES = (
    ("93.94", "Nebulizer", 35000),
    ("86.59", "Jahit luka (hecting)", 75000),
    ("96.59", "Rawat luka", 40000),
    ("23.09", "Cabut gigi", 150000),
)


def seed_demo_tariffs(session: Session, branch_ids: list[int]) -> None:
    """Add the demo prices and insurer to each branch (caller commits)."""
    start = date(date.today().year, 1, 1)
    for branch_id in branch_ids:
        session.add(Insurer(branch_id=branch_id, name="Asuransi Demo Sehat", coverage_percent=80))
        rows = [
            Tariff(
                branch_id=branch_id,
                kind=TariffKind.REGISTRATION,
                name="Biaya pendaftaran",
                amount=10000,
                valid_from=start,
            )
        ]
        units = session.exec(select(ServiceUnit).where(ServiceUnit.branch_id == branch_id)).all()
        rows += [
            Tariff(
                branch_id=branch_id,
                kind=TariffKind.CONSULTATION,
                name=f"Jasa konsultasi {unit.name}",
                unit_id=unit.id,
                amount=CONSULTATION.get(unit.name, 50000),
                valid_from=start,
            )
            for unit in units
        ]
        rows += [
            Tariff(
                branch_id=branch_id,
                kind=TariffKind.PROCEDURE,
                name=name,
                code=code,
                amount=amount,
                valid_from=start,
            )
            for code, name, amount in PROCEDURES
        ]
        session.add_all(rows)
    session.flush()
