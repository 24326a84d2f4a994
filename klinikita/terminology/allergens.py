"""Common allergens (alergen umum) staff pick from, coded in SNOMED CT (substance concepts).

Pure data: read once from `allergens.csv` beside this module (sources in README.md). The
"no known allergy" code is not an allergen: see `klinikita.models.allergies`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SNOMED_SYSTEM = "http://snomed.info/sct"
_DATA = Path(__file__).with_name("allergens.csv")


@dataclass(frozen=True)
class Allergen:
    key: str  # stable key the forms send
    snomed: str  # SNOMED CT substance concept id
    category: str  # AllergyIntolerance.category: food, medication, environment
    name_id: str  # Bahasa Indonesia, shown to staff
    name_en: str  # the SNOMED preferred term, sent as the coding's display


@cache
def allergens() -> tuple[Allergen, ...]:
    """Every allergen of the list, in the file's order (medication, food, environment)."""
    with _DATA.open(encoding="utf-8", newline="") as handle:
        return tuple(Allergen(**row) for row in csv.DictReader(handle))


def by_key(key: str) -> Allergen | None:
    return next((a for a in allergens() if a.key == key), None)


def by_snomed(code: str) -> Allergen | None:
    return next((a for a in allergens() if a.snomed == code), None)
