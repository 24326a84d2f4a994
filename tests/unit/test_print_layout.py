"""Every printable document (services/print_render.DOCUMENT_KINDS) laid out by WeasyPrint:
the exact paper size on every page, and no text or box outside the page's content area,
with the longest content the forms take (tests/support/print_samples.py). A new kind (the
nota, the etiket) is checked as soon as it is registered and has a sample."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from klinikita.models.clinical import Prescription
from klinikita.models.enums import Duty
from klinikita.services import documents, print_render
from klinikita.services.audit import Actor
from klinikita.services.print_render import DOCUMENT_KINDS, PAPER_MM
from tests.factories import make_clinic, make_completed_visit, make_user
from tests.support.print_samples import LETTERHEAD, SAMPLES

pytest.importorskip("weasyprint")

PX_PER_MM = 96 / 25.4  # WeasyPrint lays out in CSS pixels
TOLERANCE = 0.5  # CSS px


def _render(kind: str, content: dict, *, copy: bool) -> print_render.Rendered:
    return print_render.render(
        kind,
        letterhead=LETTERHEAD,
        content=content,
        number=f"{DOCUMENT_KINDS[kind].prefix}/2026/12/0001",
        printed_at="8 Desember 2026 10:00 WIB",
        copy=copy,
    )


def _outside(document) -> list[str]:  # noqa: ANN001
    """Every box of the flow (the page-number margin boxes aside) that reaches outside its
    page's content area: text wider than the paper, a table pushed off the edge."""
    found = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        left, top = page_box.content_box_x(), page_box.content_box_y()
        right, bottom = left + page_box.width, top + page_box.height
        flow = (c for c in page_box.children if not type(c).__name__.endswith("MarginBox"))
        for root in flow:
            for box in root.descendants():
                if getattr(box, "width", None) is None:
                    continue
                x, y = box.border_box_x(), box.border_box_y()
                w, h = box.border_width(), box.border_height()
                if (
                    x < left - TOLERANCE
                    or x + w > right + TOLERANCE
                    or y < top - TOLERANCE
                    or y + h > bottom + TOLERANCE
                ):
                    text = getattr(box, "text", "") or getattr(box.element, "tag", "")
                    found.append(f"page {number}: {type(box).__name__} {text[:40]!r}")
    return found


def test_every_registered_kind_has_a_sample():
    assert set(SAMPLES) >= set(DOCUMENT_KINDS), "add a sample to tests/support/print_samples.py"


@pytest.mark.parametrize("copy", [False, True], ids=["asli", "salinan"])
@pytest.mark.parametrize("kind", sorted(DOCUMENT_KINDS))
def test_paper_size_and_nothing_overflows(kind, copy):
    rendered = _render(kind, SAMPLES[kind], copy=copy)
    document = print_render.pdf_document(rendered)
    width_mm, height_mm = PAPER_MM[DOCUMENT_KINDS[kind].paper]
    for page in document.pages:
        assert page.width == pytest.approx(width_mm * PX_PER_MM, abs=TOLERANCE)
        assert page.height == pytest.approx(height_mm * PX_PER_MM, abs=TOLERANCE)
    assert _outside(document) == []
    assert ("SALINAN" in rendered.html) is copy
    assert print_render.pdf_bytes(rendered).startswith(b"%PDF-")
    # The PDF's own page boxes, in points: what a printer or viewer takes as the paper.
    plain = document.write_pdf(uncompressed_pdf=True)
    boxes = {
        tuple(float(v) for v in m.split()) for m in re.findall(rb"/MediaBox \[([^\]]*)\]", plain)
    }
    assert boxes, "no page in the PDF"
    for box in boxes:
        assert box[2] == pytest.approx(width_mm * 72 / 25.4, abs=0.01)
        assert box[3] == pytest.approx(height_mm * 72 / 25.4, abs=0.01)


def test_the_overflow_check_sees_overflow():
    """A line that cannot wrap is found: the check above is not vacuous."""
    html = _render("sks", SAMPLES["sks"], copy=False).html.replace(
        "Yang bertanda tangan", '<span style="white-space: nowrap">' + "X" * 300 + "</span>", 1
    )
    broken = print_render.Rendered("sks", "1", "t", html, False, "A5")
    assert _outside(print_render.pdf_document(broken))


def test_everyday_letters_fit_one_sheet(db):
    """A letter or a resep as a doctor issues it fits one A5 sheet (the worst case may run
    on)."""
    branch, unit, room, doctor, patient = make_clinic(db)
    visit = make_completed_visit(db, branch, unit, room, doctor, patient, codes=("A01.0",))
    user = make_user(db, "dr-sari", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    day = visit.visit_date
    sick = documents.issue_sick_leave(
        db,
        actor,
        visit.id,
        documents.SickLeaveInput(
            day.strftime("%d/%m/%Y"), (day + timedelta(days=2)).strftime("%d/%m/%Y"), True
        ),
    )
    referral = documents.issue_referral(
        db,
        actor,
        visit.id,
        documents.ReferralInput("RSUD Tarakan", "Poli Penyakit Dalam", "Demam > 7 hari"),
    )
    for no in range(1, 5):  # four lines, as an everyday resep has
        db.add(
            Prescription(
                visit_id=visit.id, line_no=no, medicine=f"Obat {no} 500 mg tablet",
                form="tablet", quantity=15, frequency="3 x sehari", dose="1 tablet",
                instructions="sesudah makan",
            )
        )  # fmt: skip
    db.flush()
    resep = documents.issue_prescription(db, actor, visit.id)
    db.commit()
    for doc in (sick, referral, resep):
        rendered = documents.preview(db, actor, doc.id)
        document = print_render.pdf_document(rendered)
        assert len(document.pages) == 1, doc.kind
        assert _outside(document) == []
