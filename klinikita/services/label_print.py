"""The pharmacy's etiket on paper: the labels of one prescription as the label printer and
the PDF show them (services/print_render.py kinds `etiket-kecil`, 60 x 40 mm one label per
page, and `etiket-a4`, labels on an A4 sheet), from templates/etiket.html.

Every print or PDF is audited on the dispensing (`etiket_print`, then `etiket_reprint`); the
labels of a prescription printed before carry "SALINAN".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from klinikita.models.audit import AuditLog
from klinikita.models.base import utcnow
from klinikita.services import audit, dispensing
from klinikita.services.audit import Actor
from klinikita.services.letterhead import letterhead_for
from klinikita.services.nota_print import printed_at_text
from klinikita.services.print_render import ETIKET_KINDS, Rendered, render


def size_of(value: object) -> str:
    """The label size the pharmacist asked for (?ukuran=kecil|a4); the small label when
    unknown."""
    size = str(value or "").strip().lower()
    return size if size in ETIKET_KINDS else "kecil"


def _printed_before(session: Session, dispense_id: int) -> bool:
    count = session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.entity == "dispense",
            AuditLog.entity_id == str(dispense_id),
            AuditLog.action.in_(("etiket_print", "etiket_reprint")),
        )
    )
    return bool(count)


def _render(
    session: Session, actor: Actor, dispense_id: int, size: str, *, copy: bool, now: datetime
) -> tuple[Rendered, int]:
    labels = dispensing.labels(session, actor, dispense_id)
    content = {
        "labels": [
            {
                "patient": label.patient_name,
                "mrn": label.mrn,
                "date": label.date,
                "item": label.item,
                "instructions": label.instructions,
                "quantity": label.quantity,
                "branch": label.branch_name,
            }
            for label in labels
        ]
    }
    rendered = render(
        ETIKET_KINDS[size_of(size)].code,
        letterhead=letterhead_for(session, actor.branch_id),
        content=content,
        number="",
        printed_at=printed_at_text(session, actor.branch_id, now),
        copy=copy,
    )
    return rendered, len(labels)


def preview(
    session: Session, actor: Actor, dispense_id: int, size: str, *, now: datetime | None = None
) -> Rendered:
    """The labels as their next print will look (SALINAN once printed); changes nothing.
    Refused for a prescription of another branch or a cancelled one."""
    copy = _printed_before(session, dispense_id)
    return _render(session, actor, dispense_id, size, copy=copy, now=now or utcnow())[0]


def print_labels(
    session: Session,
    actor: Actor,
    dispense_id: int,
    size: str,
    *,
    pdf: bool = False,
    now: datetime | None = None,
) -> Rendered:
    """Audit one print (or PDF download) of the labels, and the labels as printed."""
    copy = _printed_before(session, dispense_id)
    rendered, count = _render(session, actor, dispense_id, size, copy=copy, now=now or utcnow())
    audit.record(
        session,
        actor,
        "etiket_reprint" if copy else "etiket_print",
        "dispense",
        dispense_id,
        after={"size": size_of(size), "labels": count, "pdf": pdf},
    )
    return rendered
