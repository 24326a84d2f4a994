"""The nota penjualan on paper: the bill as the cashier's printer and the PDF show it.

The nota is a kind of services/print_render.py (`nota-58`, `nota-80`, `nota-a5`), rendered
from templates/nota.html with the branch's letterhead: the nota number, the lines, the
insurer's or BPJS's share, the discount, the payments with the cash received and the change,
the total in rupiah (babel) and in words (num2words), and "SALINAN" on every print after the
first (counted and audited by `payments.record_print`).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from klinikita.models import Branch
from klinikita.models.accounts import User
from klinikita.models.base import utcnow
from klinikita.models.billing import Bill, BillStatus
from klinikita.models.clinical import Payer
from klinikita.services import payments
from klinikita.services.audit import Actor
from klinikita.services.billing import bill_view
from klinikita.services.documents import long_date
from klinikita.services.errors import ServiceError
from klinikita.services.letterhead import letterhead_for
from klinikita.services.money import in_words
from klinikita.services.print_render import NOTA_KINDS, Rendered, render
from klinikita.services.visit_queue import branch_zone

PAPERS = tuple(NOTA_KINDS)  # "58", "80", "a5"
NOT_PAID = "Nota dicetak setelah tagihan dibayar."


def paper_of(value: object) -> str:
    """The paper the cashier asked for (?kertas=58|80|a5); 58 mm when unknown."""
    paper = str(value or "").strip().lower()
    return paper if paper in NOTA_KINDS else "58"


def printed_at_text(session: Session, branch_id: int, now: datetime) -> str:
    """ "8 Desember 2026 10:00 WIB": the print time in the branch's own zone."""
    local = now.astimezone(branch_zone(session.get(Branch, branch_id)))
    return f"{long_date(local.date())} {local:%H:%M} {local.tzname() or ''}".strip()


def nota_content(session: Session, actor: Actor, bill_id: int) -> dict:
    """What the nota prints of a paid or voided bill of the active branch (letterhead aside)."""
    view = bill_view(session, actor, bill_id)
    if view.status == BillStatus.OPEN:
        raise ServiceError(NOT_PAID)
    bill = session.get(Bill, bill_id)
    cashier = session.get(User, bill.paid_by_user_id) if bill.paid_by_user_id else None
    covered = view.payer != Payer.UMUM or view.covered_total != "Rp 0"
    return {
        "nota_number": view.nota_number,
        "paid_at": view.paid_at,
        "cashier": cashier.full_name if cashier else "",
        "customer": view.title,
        "visit_line": "" if view.visit_id == 0 else view.visit_line,
        "payer": view.payer_label,
        "insurer": view.insurer,
        "bpjs_number": view.bpjs_number,
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for line in view.lines
            if not line.removed
        ],
        "subtotal": view.subtotal,
        "covered_label": view.covered_label,
        "covered_total": view.covered_total if covered else "",
        "discount": "" if view.discount in ("Rp 0", "0% (Rp 0)") else view.discount,
        "total": view.patient_total_text,
        "words": in_words(view.patient_total),
        "payments": [
            {
                "method": p.method,
                "amount": p.amount,
                "reference": p.reference,
                "cash_received": p.cash_received if p.change else "",
                "change": p.change,
            }
            for p in view.payments
        ],
        "void_reason": view.void_reason if view.status == BillStatus.VOID else "",
        "print_count": view.print_count,
    }


def _render(
    session: Session, actor: Actor, bill_id: int, paper: str, *, copy: bool, now: datetime
) -> Rendered:
    content = nota_content(session, actor, bill_id)
    return render(
        NOTA_KINDS[paper_of(paper)].code,
        letterhead=letterhead_for(session, actor.branch_id),
        content=content,
        number=content["nota_number"],
        printed_at=printed_at_text(session, actor.branch_id, now),
        copy=copy,
    )


def preview(
    session: Session, actor: Actor, bill_id: int, paper: str, *, now: datetime | None = None
) -> Rendered:
    """The nota as its next print will look (SALINAN once printed); changes nothing."""
    bill = bill_view(session, actor, bill_id)
    return _render(session, actor, bill_id, paper, copy=bill.print_count > 0, now=now or utcnow())


def print_nota(
    session: Session,
    actor: Actor,
    bill_id: int,
    paper: str,
    *,
    pdf: bool = False,
    now: datetime | None = None,
) -> Rendered:
    """Count and audit one print (or PDF download) of the nota, and the nota as printed: the
    original the first time, a SALINAN after."""
    copy = payments.record_print(session, actor, bill_id, paper_of(paper), pdf=pdf)
    return _render(session, actor, bill_id, paper, copy=copy, now=now or utcnow())
