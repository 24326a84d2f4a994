"""Indonesian names and the words staff use for common diagnoses (ICD-10) and procedures
(ICD-9-CM), read from the data files beside this module (`data/`, sources in README.md).

Pure data, no database: the services search them and show the names.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Term:
    """One listed code: its Indonesian name and the other words staff type for it
    (abbreviations, lay words, synonyms)."""

    code: str
    name: str
    synonyms: tuple[str, ...]


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("data", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _synonyms(cell: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in (cell or "").split("|") if word.strip())


@cache
def diagnosis_terms() -> dict[str, Term]:
    """The listed ICD-10 codes (WHO 2010 with the dot, as SATUSEHAT codes them), in the
    file's order: the most common primary-care diagnoses first."""
    return {
        row["code"]: Term(row["code"], row["name_id"], _synonyms(row["synonyms"]))
        for row in _rows("diagnoses_id.csv")
    }


@cache
def procedure_terms() -> dict[str, Term]:
    """The listed ICD-9-CM procedure codes (`86.59`), in the file's order (their English
    titles: `icd9cm_codes`)."""
    return {
        row["code"]: Term(row["code"], row["name_id"], _synonyms(row["synonyms"]))
        for row in _rows("procedures_id.csv")
    }


def diagnosis_name(code: str) -> str | None:
    """The Indonesian name of a listed ICD-10 code (already normalised), or None."""
    term = diagnosis_terms().get(code)
    return term.name if term else None
