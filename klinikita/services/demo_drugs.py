"""The demo branches' drug master: common primary-care items, the medicines mapped to KFA
products of klinikita/terminology/kfa_products.csv (real codes), plus BHP and a few
medicines left unmapped (no verified KFA code was found for them), as a clinic's list is
before mapping. Stock is another seed's (demo stock)."""

from __future__ import annotations

from sqlmodel import Session

from klinikita.models.pharmacy import DrugItem, ItemCategory
from klinikita.terminology.pharmacy_codes import kfa_product, medication_forms

# (name, form code, strength, unit, price in rupiah, minimum stock, KFA code or "")
DEMO_DRUGS: tuple[tuple[str, str, str, str, int, int, str], ...] = (
    ("Paracetamol 500 mg tablet", "BS066", "500 mg", "tablet", 500, 200, "93011120"),
    ("Panadol 500 mg tablet", "BS066", "500 mg", "tablet", 1500, 50, "93002785"),
    ("Ibuprofen sirup 100 mg/5 mL", "BS060", "100 mg/5 mL", "botol", 15000, 10, "93002679"),
    ("Diclofenac sodium 25 mg tablet", "BS076", "25 mg", "tablet", 1200, 50, "93001812"),
    ("Diclofenac potassium 50 mg tablet", "BS075", "50 mg", "tablet", 1500, 50, "93001844"),
    ("Voltaren emulgel 5 g", "BS013", "11,6 mg", "tube", 12000, 5, "93012160"),
    ("Amoxicillin sirup kering 125 mg/5 mL", "BS056", "125 mg/5 mL", "botol", 9000, 10, "93006387"),
    ("Cefadroxil sirup kering 125 mg/5 mL", "BS056", "125 mg/5 mL", "botol", 15000, 5, "93006692"),
    (
        "Clarithromycin sirup kering 125 mg/5 mL",
        "BS056",
        "125 mg/5 mL",
        "botol",
        45000,
        3,
        "93019199",
    ),
    ("Cohistan ekspektoran sirup 60 mL", "BS055", "50 mg/5 mL", "botol", 25000, 5, "93019537"),
    ("Siladex mukolitik sirup 60 mL", "BS055", "50 mg/5 mL", "botol", 20000, 5, "93010079"),
    ("Amlodipine 5 mg tablet", "BS066", "5 mg", "tablet", 400, 200, "93001357"),
    ("Amlodipine 10 mg kaplet", "BS022", "10 mg", "kaplet", 700, 100, "93000483"),
    ("Captopril 12,5 mg tablet", "BS066", "12,5 mg", "tablet", 200, 100, "93001350"),
    ("Captopril 25 mg tablet", "BS066", "25 mg", "tablet", 250, 100, "93001349"),
    ("Bisoprolol 5 mg tablet", "BS066", "5 mg", "tablet", 1500, 60, "93000751"),
    ("Hydrochlorothiazide 25 mg tablet", "BS066", "25 mg", "tablet", 300, 60, "93001356"),
    ("Candesartan 8 mg tablet", "BS066", "8 mg", "tablet", 2500, 30, "93001420"),
    ("Candesartan 16 mg tablet", "BS066", "16 mg", "tablet", 3500, 30, "93001418"),
    ("Valsartan 160 mg tablet salut selaput", "BS077", "160 mg", "tablet", 4000, 30, "93000614"),
    ("Telmisartan 40 mg tablet", "BS066", "40 mg", "tablet", 3000, 30, "93001107"),
    ("Irbesartan 150 mg tablet", "BS066", "150 mg", "tablet", 3000, 30, "93000271"),
    ("Ramipril 5 mg tablet", "BS066", "5 mg", "tablet", 2000, 30, "93001421"),
    ("Propranolol 10 mg tablet", "BS066", "10 mg", "tablet", 300, 30, "93000780"),
    ("Methyldopa 250 mg tablet", "BS077", "250 mg", "tablet", 1200, 30, "93001401"),
    ("Nifedipine 30 mg tablet lepas lambat", "BS071", "30 mg", "tablet", 9000, 20, "93000329"),
    (
        "Tablet tambah darah (Fe + asam folat)",
        "BS075",
        "60 mg/0,4 mg",
        "tablet",
        300,
        100,
        "93000937",
    ),
    ("Salbutamol inhaler 100 mcg", "", "100 mcg", "pcs", 45000, 3, "93000453"),
    ("OAT KDT 4FDC kaplet", "BS023", "150/75/400/275 mg", "kaplet", 0, 100, "93001019"),
    ("Isoniazid 100 mg tablet", "BS066", "100 mg", "tablet", 200, 50, "93021793"),
    ("Glimepiride 1 mg tablet", "BS066", "1 mg", "tablet", 600, 60, "93021440"),
    ("Antasida DOEN tablet kunyah", "BS069", "", "tablet", 200, 100, "93019359"),
    ("Antasida suspensi 60 mL", "BS060", "200 mg/200 mg/5 mL", "botol", 8000, 10, "93008438"),
    ("Cetirizine 10 mg tablet", "BS077", "10 mg", "tablet", 500, 50, "93021401"),
    ("CTM 4 mg tablet", "BS066", "4 mg", "tablet", 100, 100, "93020501"),
    ("Vitamin C 50 mg tablet", "BS066", "50 mg", "tablet", 150, 100, "93020873"),
    ("Vitamin B6 10 mg tablet", "BS066", "10 mg", "tablet", 150, 100, "93020893"),
    ("Zinc sirup 20 mg/5 mL", "BS055", "20 mg/5 mL", "botol", 18000, 5, "93021256"),
    ("Amoxicillin 500 mg tablet", "BS066", "500 mg", "tablet", 600, 100, "93019869"),
    ("Asam mefenamat 500 mg tablet", "BS066", "500 mg", "tablet", 400, 100, "93019870"),
    ("Dexamethasone 0,5 mg tablet", "BS066", "0,5 mg", "tablet", 150, 100, "93005969"),
    ("Ambroxol 30 mg tablet", "BS066", "30 mg", "tablet", 300, 100, "93003280"),
    ("Domperidone 10 mg tablet", "BS066", "10 mg", "tablet", 500, 50, "93021309"),
    # No verified KFA code found for these (see klinikita/terminology/README.md): shown as
    # "belum dipetakan ke KFA" until staff map them.
    ("Metformin 500 mg tablet", "BS066", "500 mg", "tablet", 300, 200, ""),
    ("Oralit sachet", "BS047", "", "sachet", 1000, 50, ""),
    ("Vitamin B kompleks tablet", "BS066", "", "tablet", 100, 100, ""),
)
# (name, unit, price): consumables, no KFA code needed.
DEMO_BHP: tuple[tuple[str, str, int], ...] = (
    ("Spuit 3 mL", "pcs", 2500),
    ("Kasa steril 16 x 16 cm", "lembar", 1500),
    ("Sarung tangan periksa", "pasang", 2000),
    ("Kapas alkohol", "pcs", 500),
)


def seed_demo_drugs(session: Session, branch_ids: list[int]) -> None:
    """The demo items in each of `branch_ids` (a new demo database only)."""
    forms = medication_forms()
    for branch_id in branch_ids:
        for name, form, strength, unit, price, minimum, code in DEMO_DRUGS:
            product = kfa_product(code) if code else None
            session.add(
                DrugItem(
                    branch_id=branch_id,
                    name=name,
                    category=ItemCategory.OBAT,
                    form_code=form,
                    form_name=forms.get(form, ""),
                    strength=strength,
                    unit=unit,
                    kfa_code=product.kfa_code if product else None,
                    kfa_display=product.name if product else "",
                    price=price,
                    min_stock=minimum,
                )
            )
        for name, unit, price in DEMO_BHP:
            session.add(
                DrugItem(
                    branch_id=branch_id,
                    name=name,
                    category=ItemCategory.BHP,
                    unit=unit,
                    price=price,
                    min_stock=20,
                )
            )
    session.flush()
