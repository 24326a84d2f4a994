"""Apotek -> Obat & BHP: the branch's drug master.

An item is a medicine (obat) or a consumable (BHP / alat kesehatan) with its form (the
ministry's medication-form code), strength, dispensing unit, selling price (integer rupiah per
unit) and minimum stock. A medicine needs a KFA code (92xxxxxx or 93xxxxxx) before it can be
prescribed to SATUSEHAT: it may be saved without one, and is then shown as
"belum dipetakan ke KFA" until it is mapped.

Every change is audited in its transaction; edits carry the version the form loaded
(services/versions.py). `search_items` is the prescribing search (name, strength, KFA product
name or KFA code of the branch's active items); `import_csv` reads a clinic's existing list.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, literal, or_
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy import text as sql_text
from sqlmodel import Session, select

from klinikita.models.base import utcnow
from klinikita.models.drug_search import FTS_TABLE, MIN_TRIGRAM, SEARCHED
from klinikita.models.pharmacy import DrugItem, ItemCategory
from klinikita.services import audit, versions
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.paging import PAGE_SIZE, Page, paginate
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import normalize_text, take_text
from klinikita.terminology.pharmacy_codes import form_code_for, medication_forms

ENTITY = "drug_item"
UNMAPPED = "belum dipetakan ke KFA"
# KFA product codes a Medication may carry: 92xxxxxx virtual, 93xxxxxx actual product.
KFA_CODE = re.compile(r"^9[23]\d{6}$")
MAX_PRICE = 1_000_000_000  # Rp 1 miliar per unit: beyond it a typo, not a price
MAX_STOCK = 10_000_000
SEARCH_LIMIT_MAX = 100
# Units a clinic dispenses in, offered by the form (any other may be typed).
COMMON_UNITS = (
    "tablet",
    "kaplet",
    "kapsul",
    "botol",
    "tube",
    "sachet",
    "ampul",
    "vial",
    "pcs",
    "lembar",
    "pot",
    "strip",
)


@dataclass
class DrugInput:
    """What the form (or a CSV row) sends, as typed. `form` is a medication-form code
    (BS066) or its name (Tablet); `price` and `min_stock` are whole numbers as text."""

    name: str
    category: str = ItemCategory.OBAT.value
    form: str = ""
    strength: str = ""
    unit: str = ""
    kfa_code: str = ""
    kfa_display: str = ""
    price: str = "0"
    min_stock: str = "0"


@dataclass(frozen=True)
class _Clean:
    name: str
    category: str
    form_code: str
    form_name: str
    strength: str
    unit: str
    kfa_code: str | None
    kfa_display: str
    price: int
    min_stock: int


def needs_kfa(item: DrugItem) -> bool:
    """A medicine that cannot go to SATUSEHAT yet: no KFA code."""
    return item.category == ItemCategory.OBAT and not item.kfa_code


def _whole_number(
    errors: dict[str, str], field_name: str, text: str, *, label: str, maximum: int
) -> int:
    """A whole number >= 0 typed as digits, thousands may be grouped with dots or spaces
    (`12.500`, `Rp 12 500`); 0 when empty."""
    raw = normalize_text(text)
    cleaned = re.sub(r"^rp\.?\s*", "", raw, flags=re.IGNORECASE).replace(" ", "")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "")
    if not cleaned:
        return 0
    if not (cleaned.isascii() and cleaned.isdigit()):
        errors.setdefault(
            field_name, f"{label} harus bilangan bulat 0 atau lebih, tanpa koma (contoh: 12500)."
        )
        return 0
    value = int(cleaned)
    if value > maximum:
        errors.setdefault(field_name, f"{label} paling besar {maximum:,}.".replace(",", "."))
        return 0
    return value


def _clean(
    session: Session, branch_id: int, data: DrugInput, *, item_id: int | None
) -> tuple[dict[str, str], _Clean | None]:
    errors: dict[str, str] = {}
    name = take_text(
        errors,
        "name",
        data.name,
        label="Nama obat/BHP",
        max_length=200,
        required=True,
        collapse_spaces=True,
    )
    category = normalize_text(data.category).lower() or ItemCategory.OBAT.value
    if category not in {c.value for c in ItemCategory}:
        errors["category"] = "Pilih jenis: Obat atau BHP / alat kesehatan."
    form_text = take_text(errors, "form", data.form, label="Sediaan", max_length=80)
    form_code = ""
    if form_text:
        found = form_code_for(form_text)
        if found is None:
            errors.setdefault(
                "form",
                f"Sediaan “{form_text}” tidak ada di daftar bentuk sediaan Kemenkes "
                "(contoh: Tablet, Kapsul, Sirup, Salep).",
            )
        else:
            form_code = found
    elif category == ItemCategory.OBAT:
        errors.setdefault("form", "Sediaan wajib diisi untuk obat (contoh: Tablet, Sirup).")
    strength = take_text(
        errors, "strength", data.strength, label="Kekuatan", max_length=80, collapse_spaces=True
    )
    unit = take_text(
        errors,
        "unit",
        data.unit,
        label="Satuan",
        max_length=20,
        required=True,
        collapse_spaces=True,
    ).lower()
    kfa = normalize_text(data.kfa_code).replace(" ", "")
    if kfa and not KFA_CODE.match(kfa):
        errors["kfa_code"] = (
            "Kode KFA terdiri dari 8 angka dan diawali 92 (produk virtual) atau 93 "
            "(produk jadi), contoh 93001019."
        )
    kfa_display = take_text(
        errors, "kfa_code", data.kfa_display, label="Nama produk KFA", max_length=300
    )
    price = _whole_number(errors, "price", data.price, label="Harga jual", maximum=MAX_PRICE)
    min_stock = _whole_number(
        errors, "min_stock", data.min_stock, label="Stok minimum", maximum=MAX_STOCK
    )
    if "name" not in errors:
        clash = session.exec(
            select(DrugItem.id).where(DrugItem.branch_id == branch_id, DrugItem.name == name)
        ).first()
        if clash is not None and clash != item_id:
            errors["name"] = "Nama ini sudah dipakai obat/BHP lain di cabang ini."
    if errors:
        return errors, None
    return errors, _Clean(
        name=name,
        category=category,
        form_code=form_code,
        form_name=medication_forms()[form_code] if form_code else "",
        strength=strength,
        unit=unit,
        kfa_code=kfa or None,
        kfa_display=kfa_display if kfa else "",
        price=price,
        min_stock=min_stock,
    )


def validate(
    session: Session, branch_id: int, data: DrugInput, *, item_id: int | None = None
) -> dict[str, str]:
    """Field -> what is wrong (Indonesian); empty when `data` may be saved."""
    return _clean(session, branch_id, data, item_id=item_id)[0]


def _apply(item: DrugItem, clean: _Clean) -> None:
    item.name, item.category = clean.name, clean.category
    item.form_code, item.form_name = clean.form_code, clean.form_name
    item.strength, item.unit = clean.strength, clean.unit
    item.kfa_code, item.kfa_display = clean.kfa_code, clean.kfa_display
    item.price, item.min_stock = clean.price, clean.min_stock
    item.updated_at = utcnow()


def _checked(session: Session, actor: audit.Actor, data: DrugInput, item_id: int | None) -> _Clean:
    errors, clean = _clean(session, actor.branch_id, data, item_id=item_id)
    if clean is None:
        raise ValidationFailed(errors)
    return clean


def create_item(session: Session, actor: audit.Actor, data: DrugInput) -> DrugItem:
    """A new item of the actor's active branch."""
    require(actor.duty, Action.DRUG_MASTER_EDIT)
    clean = _checked(session, actor, data, None)
    item = DrugItem(branch_id=actor.branch_id, name=clean.name, unit=clean.unit)
    _apply(item, clean)
    session.add(item)
    session.flush()
    audit.record(session, actor, "create", ENTITY, item.id, after=audit.snapshot(item))
    return item


def get_item(session: Session, actor: audit.Actor, item_id: int) -> DrugItem:
    """An item of the actor's active branch (NotFound for any other)."""
    item = session.get(DrugItem, item_id)
    if item is None or item.branch_id != actor.branch_id:
        raise NotFound("Obat/BHP tidak ditemukan.")
    return item


def update_item(
    session: Session,
    actor: audit.Actor,
    item_id: int,
    data: DrugInput,
    *,
    expected_version: int | None = None,
) -> DrugItem:
    """Save the form over the item; refused (StaleEdit) when it changed since the form
    loaded `expected_version`."""
    require(actor.duty, Action.DRUG_MASTER_EDIT)
    item = get_item(session, actor, item_id)
    versions.check(session, item, expected_version, entity=ENTITY, branch_id=actor.branch_id)
    clean = _checked(session, actor, data, item.id)
    before = audit.snapshot(item)
    _apply(item, clean)
    versions.save(session, item, entity=ENTITY, branch_id=actor.branch_id)
    audit.record(
        session, actor, "update", ENTITY, item.id, before=before, after=audit.snapshot(item)
    )
    return item


def map_kfa(
    session: Session,
    actor: audit.Actor,
    item_id: int,
    kfa_code: str,
    kfa_display: str,
    *,
    expected_version: int | None = None,
) -> DrugItem:
    """Petakan ke KFA: store the chosen product's code and name on the item."""
    require(actor.duty, Action.DRUG_MASTER_EDIT)
    item = get_item(session, actor, item_id)
    versions.check(session, item, expected_version, entity=ENTITY, branch_id=actor.branch_id)
    errors: dict[str, str] = {}
    code = normalize_text(kfa_code).replace(" ", "")
    if not KFA_CODE.match(code):
        errors["kfa_code"] = "Pilih produk KFA dengan kode 92xxxxxx atau 93xxxxxx."
    display = take_text(
        errors, "kfa_code", kfa_display, label="Nama produk KFA", max_length=300, required=True
    )
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(item)
    item.kfa_code, item.kfa_display = code, display
    item.updated_at = utcnow()
    versions.save(session, item, entity=ENTITY, branch_id=actor.branch_id)
    audit.record(
        session, actor, "map_kfa", ENTITY, item.id, before=before, after=audit.snapshot(item)
    )
    return item


def set_item_active(session: Session, actor: audit.Actor, item_id: int, active: bool) -> DrugItem:
    """Nonaktifkan (no longer prescribed or received; its history stays) or aktifkan kembali."""
    require(actor.duty, Action.DRUG_MASTER_EDIT)
    item = get_item(session, actor, item_id)
    if item.active == active:
        return item
    before = audit.snapshot(item)
    item.active = active
    item.updated_at = utcnow()
    versions.save(session, item, entity=ENTITY, branch_id=actor.branch_id)
    audit.record(
        session,
        actor,
        "reactivate" if active else "deactivate",
        ENTITY,
        item.id,
        before=before,
        after=audit.snapshot(item),
    )
    return item


# ----- reading ---------------------------------------------------------------------------------
def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _pattern(value: str, inline: bool):  # noqa: ANN202 (an SQL value)
    """A LIKE pattern; `inline`: written into the SQL at execution (SQLAlchemy's
    literal_execute), so PostgreSQL plans each search for its own pattern. As a bound
    parameter, psycopg prepares the statement after a few runs and PostgreSQL may then
    settle on a generic plan that reads every item (the pattern unknown), 5-10 times slower
    for a term such as "amox 5"."""
    return literal(value, literal_execute=True) if inline else value


def _matches(term: str, inline: bool = False):  # noqa: ANN202 (an SQL condition)
    """Every word of `term` in the name, the strength or the KFA product's name (it holds the
    generic name: "amoxicillin" finds an item named by its brand once it is mapped to KFA), or
    the term as a KFA code prefix (codes are digits, so the prefix is also a range on
    kfa_code's index: ':' follows '9')."""
    columns = [getattr(DrugItem, c) for c in SEARCHED]
    every_word = and_(
        *[
            or_(
                *[
                    func.lower(column).like(_pattern(_like(w), inline), escape="\\")
                    for column in columns
                ]
            )
            for w in term.lower().split()
        ]
    )
    compact = term.replace(" ", "")
    if compact.isascii() and compact.isdigit():
        by_code = and_(
            DrugItem.kfa_code >= compact,
            DrugItem.kfa_code < compact + ":",
            DrugItem.kfa_code.like(f"{compact}%"),
        )
        return or_(by_code, every_word)
    return every_word


def _searched(stmt, term: str, dialect: str):  # noqa: ANN001, ANN202 (a select of DrugItem)
    """`stmt` narrowed to the items `_matches(term)`, read through an index
    (models/drug_search.py). PostgreSQL: the trigram indexes on lower() of every searched
    column serve the LIKE conditions as written. SQLite: the search starts from the
    FTS5 trigram table, the items holding every word of 3 or more characters (and those whose
    KFA code starts with a digits-only term), and `_matches` then decides exactly as before.
    A term with no word that long is matched by reading the branch's items."""
    words = [w for w in term.lower().split() if len(w) >= MIN_TRIGRAM]
    if dialect == "sqlite" and words:
        fts = sql_table(FTS_TABLE, sql_column("rowid"))
        phrases = " AND ".join(_fts_phrase(w) for w in words)
        found = select(fts.c.rowid.label("id")).where(
            sql_text(f"{FTS_TABLE} MATCH :drug_fts").bindparams(drug_fts=phrases)
        )
        compact = term.replace(" ", "")
        if compact.isascii() and compact.isdigit():
            found = found.union(
                select(DrugItem.id).where(
                    DrugItem.kfa_code >= compact, DrugItem.kfa_code < compact + ":"
                )
            )
        candidates = found.subquery("candidates")
        stmt = stmt.join(candidates, candidates.c.id == DrugItem.id)
    return stmt.where(_matches(term, inline=dialect == "postgresql"))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def search_statement(branch_id: int, term: str, dialect: str, limit: int = 20):  # noqa: ANN201
    """The select `search_items` runs for a cleaned, non-empty `term` (tests explain it)."""
    prefix = _pattern(_like(term.lower())[1:], dialect == "postgresql")
    starts = case((func.lower(DrugItem.name).like(prefix, escape="\\"), 0), else_=1)
    stmt = select(DrugItem).where(DrugItem.branch_id == branch_id, DrugItem.active.is_(True))
    stmt = _searched(stmt, term, dialect)
    return stmt.order_by(starts, DrugItem.name, DrugItem.id).limit(limit)


def search_items(session: Session, branch_id: int, text: str, limit: int = 20) -> list[DrugItem]:
    """The branch's active items whose name, strength or KFA product name hold every word of
    `text`, or whose KFA code starts with it: names that start with it first, then by name.
    Empty text: none."""
    term = " ".join(normalize_text(text).split())
    if not term:
        return []
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    stmt = search_statement(branch_id, term, _dialect(session), limit)
    return list(session.exec(stmt).all())


def list_items(
    session: Session,
    branch_id: int,
    *,
    search: str = "",
    unmapped_only: bool = False,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page[DrugItem]:
    """One page of the branch's items, active first, then by name."""
    stmt = select(DrugItem).where(DrugItem.branch_id == branch_id)
    term = " ".join(normalize_text(search).split())
    if term:
        stmt = _searched(stmt, term, _dialect(session))
    if unmapped_only:
        stmt = stmt.where(DrugItem.category == ItemCategory.OBAT, DrugItem.kfa_code.is_(None))
    stmt = stmt.order_by(DrugItem.active.desc(), DrugItem.name, DrugItem.id)
    return paginate(session, stmt, page, page_size)


# ----- CSV import ------------------------------------------------------------------------------
# Column -> the headers it is recognised by (lower case, spaces and dashes as underscores).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("nama", "nama_obat", "nama_barang", "name"),
    "category": ("jenis", "kategori", "category"),
    "form": ("sediaan", "bentuk", "bentuk_sediaan", "form"),
    "strength": ("kekuatan", "dosis", "strength"),
    "unit": ("satuan", "unit"),
    "price": ("harga", "harga_jual", "price"),
    "kfa_code": ("kode_kfa", "kfa", "kfa_code"),
    "min_stock": ("stok_minimum", "stok_min", "min_stok", "min_stock"),
}
_CATEGORY_WORDS = {
    "obat": ItemCategory.OBAT.value,
    "bhp": ItemCategory.BHP.value,
    "alkes": ItemCategory.BHP.value,
    "alat kesehatan": ItemCategory.BHP.value,
}
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 5_000


@dataclass(frozen=True)
class RowNote:
    line: int  # the row's line in the file (the header is line 1)
    name: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    failed: list[RowNote] = field(default_factory=list)  # not imported, with why
    unmapped: list[RowNote] = field(default_factory=list)  # imported, still without KFA

    @property
    def summary(self) -> str:
        parts = [f"{self.created} ditambahkan", f"{self.updated} diperbarui"]
        if self.failed:
            parts.append(f"{len(self.failed)} gagal")
        if self.unmapped:
            parts.append(f"{len(self.unmapped)} belum dipetakan ke KFA")
        return "Impor selesai: " + ", ".join(parts) + "."


def _header_key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", normalize_text(header).lower().lstrip("\ufeff"))


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed({"file": "Berkas tidak bisa dibaca sebagai teks CSV."})


def _columns(header: list[str]) -> dict[str, int]:
    keys = [_header_key(h) for h in header]
    found: dict[str, int] = {}
    for column, aliases in CSV_COLUMNS.items():
        for alias in aliases:
            if alias in keys:
                found[column] = keys.index(alias)
                break
    missing = [c for c in ("name", "unit") if c not in found]
    if missing:
        raise ValidationFailed(
            {
                "file": "Baris pertama harus berisi judul kolom, sekurangnya nama dan satuan "
                "(mis. nama;sediaan;kekuatan;satuan;harga;kode_kfa)."
            }
        )
    return found


def _reason(errors: dict[str, str]) -> str:
    return " ".join(dict.fromkeys(errors.values()))


def import_csv(session: Session, actor: audit.Actor, content: bytes) -> ImportReport:
    """Create (or update, matched by name) the items of a CSV with a header row; `;` or `,`
    separated, UTF-8 or Windows-1252. A row that cannot be saved is left out and reported with
    its reason; a medicine saved without a KFA code is reported as not mapped."""
    require(actor.duty, Action.DRUG_MASTER_EDIT)
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": "Berkas terlalu besar (paling besar 2 MB)."})
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise ValidationFailed({"file": "Berkas kosong."})
    if len(rows) > MAX_IMPORT_ROWS + 1:
        raise ValidationFailed({"file": f"Paling banyak {MAX_IMPORT_ROWS} baris sekali impor."})
    columns = _columns(rows[0])
    report = ImportReport()
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {c: (row[i] if i < len(row) else "") for c, i in columns.items()}
        name = " ".join(normalize_text(values.get("name", "")).split())
        category = _CATEGORY_WORDS.get(
            normalize_text(values.get("category", "")).lower(), values.get("category", "")
        )
        data = DrugInput(
            name=values.get("name", ""),
            category=category or ItemCategory.OBAT.value,
            form=values.get("form", ""),
            strength=values.get("strength", ""),
            unit=values.get("unit", ""),
            kfa_code=values.get("kfa_code", ""),
            price=values.get("price", "") or "0",
            min_stock=values.get("min_stock", "") or "0",
        )
        existing = session.exec(
            select(DrugItem).where(DrugItem.branch_id == actor.branch_id, DrugItem.name == name)
        ).first()
        if existing is not None and not data.kfa_code and existing.kfa_code:
            # A list without KFA codes does not undo a mapping made here.
            data.kfa_code, data.kfa_display = existing.kfa_code, existing.kfa_display
        errors, _ = _clean(
            session, actor.branch_id, data, item_id=existing.id if existing else None
        )
        if errors:
            report.failed.append(RowNote(line, name, _reason(errors)))
            continue
        if existing is None:
            item = create_item(session, actor, data)
            report.created += 1
        else:
            item = update_item(session, actor, existing.id, data)
            report.updated += 1
        if needs_kfa(item):
            report.unmapped.append(RowNote(line, item.name, UNMAPPED))
    return report
