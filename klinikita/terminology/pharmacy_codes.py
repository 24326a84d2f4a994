"""The pharmacy's code tables (README.md beside this file): the ministry's medication-form
codes and the KFA subset the simulator serves and the demo seed maps to. Pure data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_HERE = Path(__file__).parent
FORM_SYSTEM = "http://terminology.kemkes.go.id/CodeSystem/medication-form"
KFA_SYSTEM = "http://sys-ids.kemkes.go.id/kfa"


@cache
def medication_forms() -> dict[str, str]:
    """Code -> display, in code order (BS001 Aerosol Foam ... BS097 Suspensi Inhalasi)."""
    with (_HERE / "medication_form.csv").open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["display"] for row in csv.DictReader(f)}


def form_code_for(text: str) -> str | None:
    """The code of a form given as its code (`BS066`) or its name (`tablet`), or None."""
    wanted = " ".join(text.split()).casefold()
    forms = medication_forms()
    if wanted.upper() in forms:
        return wanted.upper()
    return next((c for c, name in forms.items() if name.casefold() == wanted), None)


@dataclass(frozen=True)
class Ingredient:
    kfa_code: str  # 91xxxxxx, or "" when the source gave none
    name: str
    strength: str  # "500 mg", "125 mg/5 mL"


@dataclass(frozen=True)
class KfaProduct:
    kfa_code: str
    name: str
    product_type: str  # farmasi | alkes
    form_code: str
    form_name: str
    ingredients: tuple[Ingredient, ...]
    manufacturer: str
    brand: str
    template_code: str  # the 92xxxxxx virtual product of a 93xxxxxx one, or ""


def _ingredients(text: str) -> tuple[Ingredient, ...]:
    found = []
    for part in filter(None, text.split(";")):
        code, name, strength = part.split(":", 2)
        found.append(Ingredient(code, name, strength))
    return tuple(found)


@cache
def kfa_products() -> tuple[KfaProduct, ...]:
    with (_HERE / "kfa_products.csv").open(encoding="utf-8", newline="") as f:
        return tuple(
            KfaProduct(
                kfa_code=row["kfa_code"],
                name=row["name"],
                product_type=row["product_type"],
                form_code=row["form_code"],
                form_name=row["form_name"],
                ingredients=_ingredients(row["ingredients"]),
                manufacturer=row["manufacturer"],
                brand=row["brand"],
                template_code=row["template_code"],
            )
            for row in csv.DictReader(f)
        )


@cache
def kfa_product(code: str) -> KfaProduct | None:
    return next((p for p in kfa_products() if p.kfa_code == code), None)
