"""ICD-9-CM procedures (tindakan): searching by Indonesian words, code or English, and
checking a code.

The codes are those of the project's list of common primary-care procedures
(`klinikita/terminology/data/procedures_id.csv`, sources in the README beside it): no
package on PyPI ships the ICD-9-CM procedure list usable here (`gnuhealth-icd9procs` is a
GNU Health/Tryton module under the GPL that needs the Tryton server), so a code outside the
list is not accepted; staff then record the procedure by its name without a code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from klinikita.terminology.indonesian import procedure_terms

__all__ = ["ProcedureTerm", "describe", "indonesian_name", "is_valid", "normalize", "search"]

_WORD = re.compile(r"[a-z0-9]+")
# Two digits, then a dot and one or two digits (`86.59`, `64.0`), or a two-digit category.
_CODE = re.compile(r"\d{2}(\.\d{1,2})?", re.ASCII)


@dataclass(frozen=True)
class ProcedureTerm:
    """A listed procedure: its code, the Indonesian name staff read and the ICD-9-CM title."""

    code: str
    name: str
    english: str


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _WORD.findall(folded)


def normalize(code: str) -> str:
    """No spaces, the dot after the second digit (`8659` -> `86.59`, ` 64.0 ` -> `64.0`)."""
    text = (code or "").strip().replace(" ", "").replace(",", ".")
    bare = text.replace(".", "")
    if bare.isascii() and bare.isdigit() and len(bare) > 2:
        return f"{bare[:2]}.{bare[2:]}"
    return text


def is_well_formed(code: str) -> bool:
    """Written as an ICD-9-CM procedure code is (`96.59`), listed or not."""
    return bool(_CODE.fullmatch(normalize(code)))


def is_valid(code: str) -> bool:
    """True for a listed ICD-9-CM procedure code in any spelling (`8659`, `86.59`)."""
    return normalize(code) in procedure_terms()


def describe(code: str) -> str | None:
    """The ICD-9-CM (English) title of a listed code, or None."""
    term = procedure_terms().get(normalize(code))
    return term.english if term else None


def indonesian_name(code: str) -> str | None:
    """The Indonesian name of a listed code, or None."""
    term = procedure_terms().get(normalize(code))
    return term.name if term else None


@cache
def _index() -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(code, every word of its names and title, its Indonesian name and synonyms folded)."""
    rows = []
    for term in procedure_terms().values():
        phrases = tuple(" ".join(_words(t)) for t in (term.name, *term.synonyms))
        words = tuple(sorted({w for t in (term.english, *phrases) for w in _words(t)}))
        rows.append((term.code, words, phrases))
    return tuple(rows)


def search(query: str, limit: int = 15) -> list[ProcedureTerm]:
    """Listed procedures matching `query`, best first.

    Every word of the query must match the start of the code (`86`, `8659`) or the start of
    a word of the Indonesian name, synonyms (`hecting`, `nebu`, `sunat`) or English title
    (`suture`). Code matches come first in code order; then a name or synonym equal to the
    query, then one starting with it, then the list's order."""
    tokens = [t for t in (query or "").split() if any(ch.isalnum() for ch in t)]
    if not tokens or limit <= 0:
        return []
    folded = " ".join(_words(" ".join(tokens)))
    found: list[tuple[tuple, str]] = []
    for order, (code, words, phrases) in enumerate(_index()):
        by_code = True
        for token in tokens:
            code_hit = code.startswith(normalize(token)) or code.replace(".", "").startswith(
                token.replace(".", "")
            )
            parts = _words(token)
            word_hit = bool(parts) and all(any(w.startswith(p) for w in words) for p in parts)
            if not (code_hit or word_hit):
                break
            by_code = by_code and code_hit
        else:
            if by_code:
                key: tuple = (0, code)
            elif folded in phrases:
                key = (1, order)
            elif any(p.startswith(folded) for p in phrases):
                key = (2, order)
            else:
                key = (3, order)
            found.append((key, code))
    found.sort()
    terms = procedure_terms()
    return [ProcedureTerm(code, terms[code].name, terms[code].english) for _, code in found[:limit]]
