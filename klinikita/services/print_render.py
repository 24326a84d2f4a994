"""Printed documents as HTML and PDF: one template per document kind.

The same HTML fragment (a `<style>` with the paper size and an `<article>`) is shown by the
browser's print page and turned into the PDF by WeasyPrint, so paper and PDF never differ.
Paper sizes are exact (CSS `@page size`): letters (surat keterangan sakit, surat rujukan)
and the resep on A5 portrait, the resume on A4 portrait, the nota on 58 mm or 80 mm thermal
roll (fixed width, 297 mm long pages) or A5, the pharmacy's etiket on 60 x 40 mm labels or
an A4 sheet (docs/printing.md).

`DOCUMENT_KINDS` is the registry of every printable kind: its stored code, its number's
prefix, its title, template and paper. Every kind registers here and the print-layout test
renders it with its sample (tests/support/print_samples.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from klinikita.services.letterhead import Letterhead

TEMPLATES = Path(__file__).with_name("print_templates")
# Paper width and height in millimetres (portrait).
# Thermal rolls have a fixed width and no fixed length: their pages are 297 mm long (what
# the common 58/80 mm printer drivers offer as "roll" paper; the driver cuts after the last
# printed line), a long nota runs on to a second page.
PAPER_MM: dict[str, tuple[float, float]] = {
    "A4": (210, 297),
    "A5": (148, 210),
    "58": (58, 297),  # thermal roll 58 mm: a 48 mm print head
    "80": (80, 297),  # thermal roll 80 mm: a 72 mm print head
    "60x40": (60, 40),  # one label of a small label printer
}
# The page margins in millimetres (top, right, bottom, left).
MARGINS_MM: dict[str, tuple[float, float, float, float]] = {
    "A4": (15, 15, 18, 15),
    "A5": (10, 11, 13, 11),
    "58": (3, 5, 5, 5),
    "80": (3, 4, 5, 4),
    "60x40": (2, 2.5, 2, 2.5),
}
# The documents' base font size per paper (points).
FONT_PT: dict[str, float] = {"A4": 9.5, "A5": 9, "58": 7.5, "80": 8.5, "60x40": 7}
COPY_MARK = "SALINAN"


@dataclass(frozen=True)
class DocumentKind:
    code: str  # issued_document.kind
    prefix: str  # the number's first part: SKS/2026/12/0001
    title: str  # printed as the document's heading, and the PDF's title
    template: str  # in print_templates/
    paper: str  # a key of PAPER_MM
    # Whether the document names the doctor who signs it (name and SIP).
    signed_by_doctor: bool = True
    # Whether its number comes from the documents' counter (services/documents.py); the
    # nota has its own (services/payments.py), the etiket none.
    numbered: bool = True
    # Whether pages are numbered "Hal. n / m" (not on receipts and labels).
    page_numbers: bool = True

    @property
    def page_css(self) -> str:
        top, right, bottom, left = MARGINS_MM[self.paper]
        if self.paper in ("A4", "A5"):
            size = f"{self.paper} portrait"
        else:
            width, height = PAPER_MM[self.paper]
            size = f"{width}mm {height}mm"
        return f"size: {size}; margin: {top}mm {right}mm {bottom}mm {left}mm;"

    @property
    def font_pt(self) -> float:
        return FONT_PT[self.paper]

    @property
    def content_height_mm(self) -> float:
        top, _, bottom, _ = MARGINS_MM[self.paper]
        return PAPER_MM[self.paper][1] - top - bottom

    @property
    def content_width_mm(self) -> float:
        _, right, _, left = MARGINS_MM[self.paper]
        return PAPER_MM[self.paper][0] - right - left


DOCUMENT_KINDS: dict[str, DocumentKind] = {}


def register(kind: DocumentKind) -> DocumentKind:
    """Add a printable kind to the registry (its code, and the prefix of a numbered kind,
    are unique)."""
    if kind.code in DOCUMENT_KINDS or (
        kind.numbered
        and any(k.numbered and k.prefix == kind.prefix for k in DOCUMENT_KINDS.values())
    ):
        raise ValueError(f"document kind {kind.code}/{kind.prefix} registered twice")
    DOCUMENT_KINDS[kind.code] = kind
    return kind


SICK_LEAVE = register(DocumentKind("sks", "SKS", "Surat Keterangan Sakit", "sick_leave.html", "A5"))
REFERRAL = register(DocumentKind("rujukan", "SR", "Surat Rujukan", "referral.html", "A5"))
# The visit's prescription as the doctor signs it ("R/" lines), for the patient or the pharmacy.
PRESCRIPTION = register(DocumentKind("resep", "RSP", "Resep", "resep.html", "A5"))
RESUME = register(
    DocumentKind("resume", "RES", "Resume Medis", "resume.html", "A4", signed_by_doctor=False)
)


# The nota penjualan (its number is the bill's nota number): one kind per paper.
def _nota(paper: str, *, page_numbers: bool) -> DocumentKind:
    return register(
        DocumentKind(
            f"nota-{paper.lower()}",
            "NOTA",
            "Nota Penjualan",
            "nota.html",
            paper,
            signed_by_doctor=False,
            numbered=False,
            page_numbers=page_numbers,
        )
    )


NOTA_58 = _nota("58", page_numbers=False)
NOTA_80 = _nota("80", page_numbers=False)
NOTA_A5 = _nota("A5", page_numbers=True)
# The nota kind per paper as the cashier picks it (?kertas=58|80|a5).
NOTA_KINDS = {"58": NOTA_58, "80": NOTA_80, "a5": NOTA_A5}
# The pharmacy's etiket of one prescription: one label per page, or labels on an A4 sheet.
_ETIKET = {"numbered": False, "signed_by_doctor": False, "page_numbers": False}
ETIKET_SMALL = register(
    DocumentKind("etiket-kecil", "ETIKET", "Etiket Obat", "etiket.html", "60x40", **_ETIKET)
)
ETIKET_A4 = register(
    DocumentKind("etiket-a4", "ETIKET", "Etiket Obat", "etiket.html", "A4", **_ETIKET)
)
# The etiket kind per size as the pharmacist picks it (?ukuran=kecil|a4).
ETIKET_KINDS = {"kecil": ETIKET_SMALL, "a4": ETIKET_A4}

_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Rendered:
    """One document ready for paper: its HTML fragment and how to name its PDF."""

    kind: str
    number: str
    title: str
    html: str
    copy: bool
    paper: str
    # What the document printed (the service's content), for a page that also lists it.
    content: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def filename(self) -> str:
        stem = self.number.replace("/", "-") or self.kind
        return f"{stem}{'-SALINAN' if self.copy else ''}.pdf"


def render(
    kind_code: str,
    *,
    letterhead: Letterhead,
    content: dict[str, Any],
    number: str,
    printed_at: str,
    copy: bool = False,
) -> Rendered:
    """The document's HTML fragment: the letterhead, the number, `content` (what the service
    stored when it was issued), the print date and time, and "SALINAN" on a reprint."""
    kind = DOCUMENT_KINDS[kind_code]
    html = _ENV.get_template(kind.template).render(
        kind=kind,
        lh=letterhead,
        doc=content,
        number=number,
        printed_at=printed_at,
        copy=copy,
        copy_mark=COPY_MARK,
    )
    return Rendered(kind.code, number, kind.title, html, copy, kind.paper, content)


def letterhead_html(letterhead: Letterhead) -> str:
    """The letterhead alone (its styles and markup), the same as on every document, for a
    page that lays out a printout of its own (components/letterhead.py)."""
    env = _ENV
    css = env.get_template("_letterhead.css").render()
    body = env.get_template("_letterhead.html").render(lh=letterhead)
    return f'<style>{css}</style><div class="kk-doc">{body}</div>'


def standalone_html(rendered: Rendered) -> str:
    """The fragment as a whole HTML document (what WeasyPrint reads)."""
    return (
        '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">'
        f"<title>{_ENV.from_string('{{ t }}').render(t=rendered.title)}</title></head>"
        f'<body style="margin: 0">{rendered.html}</body></html>'
    )


def pdf_document(rendered: Rendered):  # noqa: ANN201 (weasyprint.Document, imported late)
    """WeasyPrint's laid-out document (pages and boxes), for the PDF and the layout test.
    WeasyPrint is imported here: it takes a while and only printing needs it."""
    import weasyprint

    return weasyprint.HTML(string=standalone_html(rendered)).render()


def pdf_bytes(rendered: Rendered) -> bytes:
    """The document as a PDF of the exact paper size."""
    return pdf_document(rendered).write_pdf()
