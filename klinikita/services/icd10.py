"""ICD-10 (WHO) lookups for diagnoses: searching codes by code, English or the Indonesian
words staff use (`klinikita.terminology.indonesian`), the branch's most used first; and the
code table's normalising, checking and describing (`klinikita.terminology.icd10_codes`,
re-exported here)."""

from __future__ import annotations

import bisect
import heapq
import re
import threading
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from sqlalchemy import func
from sqlmodel import Session, select

from klinikita.models import Diagnosis, Visit
from klinikita.terminology.icd10_codes import (
    ICD10_2010_ONLY,
    describe,
    is_valid,
    normalize,
    subcodes,
)
from klinikita.terminology.icd10_codes import diagnosis_codes as _diagnosis_codes
from klinikita.terminology.indonesian import diagnosis_terms

__all__ = [
    "ICD10_2010_ONLY",
    "DiagnosisTerm",
    "branch_usage",
    "describe",
    "find",
    "indonesian_name",
    "is_valid",
    "normalize",
    "search",
    "search_for_branch",
    "shown_names",
    "subcodes",
    "warm_up",
]

_WORD = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    """Lower case without accents, so `meniere` finds `Ménière disease`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


@dataclass(frozen=True)
class DiagnosisTerm:
    """A search result: `name` is what staff read (the Indonesian name when the code is
    listed, else the English description); `english` the English description."""

    code: str
    name: str
    english: str

    @property
    def indonesian(self) -> bool:
        return self.name != self.english


def indonesian_name(code: str) -> str | None:
    """The Indonesian name of a diagnosis code in any spelling (`j069`), or None when the
    code is not in the Indonesian list."""
    term = diagnosis_terms().get(normalize(code))
    return term.name if term else None


def shown_names(code: str, english: str) -> tuple[str, str]:
    """What staff read for a stored diagnosis: (main line, second line). The Indonesian
    name with the English description under it, or the English alone (second line "")."""
    name = indonesian_name(code)
    return (name, english) if name and name != english else (english, "")


@dataclass(frozen=True)
class _SearchIndex:
    codes: list[str]  # sorted; position = rank in results
    descriptions: list[str]
    listed: dict[int, int]  # position -> rank in the Indonesian list (the common ones)
    # position -> the Indonesian name and synonyms, folded ("demam tifoid", "tipes")
    phrases: dict[int, tuple[str, ...]]
    words: list[str]  # every distinct description word, sorted, for prefix look-ups
    postings: dict[str, frozenset[int]]  # word -> positions of the codes using it
    short_prefixes: dict[str, frozenset[int]] = field(default_factory=dict)  # filled on use

    def by_code_prefix(self, prefix: str) -> set[int]:
        if not prefix:
            return set()
        start = bisect.bisect_left(self.codes, prefix)
        end = bisect.bisect_left(self.codes, prefix + "\uffff")
        return set(range(start, end))

    def by_word_prefix(self, prefix: str) -> frozenset[int]:
        # Short prefixes ("a", "di") union thousands of postings: remember them.
        if len(prefix) > 2:
            return self._union_for_prefix(prefix)
        found = self.short_prefixes.get(prefix)
        if found is None:
            found = self.short_prefixes[prefix] = self._union_for_prefix(prefix)
        return found

    def _union_for_prefix(self, prefix: str) -> frozenset[int]:
        start = bisect.bisect_left(self.words, prefix)
        end = bisect.bisect_left(self.words, prefix + "\uffff")
        found: set[int] = set()
        for word in self.words[start:end]:
            found |= self.postings[word]
        return frozenset(found)


_index_lock = threading.Lock()


@cache
def _search_index() -> _SearchIndex:
    codes = list(_diagnosis_codes())
    descriptions = list(_diagnosis_codes().values())
    position_of = {code: position for position, code in enumerate(codes)}
    listed: dict[int, int] = {}
    phrases: dict[int, tuple[str, ...]] = {}
    postings: dict[str, set[int]] = {}
    for position, description in enumerate(descriptions):
        for word in _words(description):
            postings.setdefault(word, set()).add(position)
    for rank, term in enumerate(diagnosis_terms().values()):
        position = position_of[term.code]  # every listed code is valid (tested)
        listed[position] = rank
        texts = (term.name, *term.synonyms)
        phrases[position] = tuple(" ".join(_words(text)) for text in texts)
        for text in texts:
            for word in _words(text):
                postings.setdefault(word, set()).add(position)
    return _SearchIndex(
        codes=codes,
        descriptions=descriptions,
        listed=listed,
        phrases=phrases,
        words=sorted(postings),
        postings={word: frozenset(found) for word, found in postings.items()},
    )


def _index() -> _SearchIndex:
    # The lock only keeps two first searches from building the index twice.
    with _index_lock:
        return _search_index()


def _narrow(matched: set[int] | None, found: set[int]) -> set[int]:
    return found if matched is None else matched & found


def _by_words(index: _SearchIndex, token: str) -> set[int]:
    """Codes whose description has a word starting with each part of `token` (`non-insulin`)."""
    found: set[int] | None = None
    for part in _words(token):
        found = _narrow(found, index.by_word_prefix(part))
    return found or set()


def _fit(index: _SearchIndex, position: int, folded_query: str) -> int:
    """How well a listed code's Indonesian words fit the whole query: 0 a name or synonym
    is the query itself ("demam", "dm"), 1 one starts with it, 2 otherwise, 3 not listed."""
    phrases = index.phrases.get(position)
    if phrases is None:
        return 3
    if folded_query in phrases:
        return 0
    return 1 if any(p.startswith(folded_query) for p in phrases) else 2


def find(
    query: str, limit: int = 20, usage: Mapping[str, int] | None = None
) -> list[DiagnosisTerm]:
    """Diagnosis codes matching `query`, best first.

    Every word of the query must match, case-insensitively and without accents, either the
    start of the code (`J06`, `e119`) or the start of a word of the English description
    (`tuberc lung`) or of the code's Indonesian name, abbreviations and synonyms (`ispa`,
    `demam tifoid`, `dm`, `maag`). Codes found by their code come first, in ICD-10 order;
    then the codes the branch used most (`usage`: code -> count), then the listed common
    diagnoses (a name or synonym equal to the query first, then one starting with it, then
    the list's order), then the rest in ICD-10 order.
    """
    # Lone punctuation ("E11 - diabetes", pasted from a list) says nothing: drop it.
    tokens = [token for token in (query or "").split() if any(ch.isalnum() for ch in token)]
    if not tokens or limit <= 0:
        return []
    index = _index()
    matched: set[int] | None = None
    code_hits: set[int] = set()
    for token in tokens:
        by_code = index.by_code_prefix(normalize(token))
        code_hits |= by_code
        matched = _narrow(matched, by_code | _by_words(index, token))
        if not matched:
            return []
    assert matched is not None
    usage = usage or {}
    folded = " ".join(_words(" ".join(tokens)))

    def rank(p: int) -> tuple:
        if p in code_hits:
            return (0, p)
        return (1, -usage.get(index.codes[p], 0), _fit(index, p, folded), index.listed.get(p, 0), p)

    found = []
    for p in heapq.nsmallest(limit, matched, key=rank):
        code, english = index.codes[p], index.descriptions[p]
        term = diagnosis_terms().get(code)
        found.append(DiagnosisTerm(code, term.name if term else english, english))
    return found


def search(query: str, limit: int = 20) -> list[tuple[str, str]]:
    """`find` without a branch's usage, as (code, English description)."""
    return [(term.code, term.english) for term in find(query, limit)]


# ----- the branch's own most used diagnoses ----------------------------------------------------
USAGE_DAYS = 365  # the diagnoses of the last year count
USAGE_CODES = 300  # the branch's most used codes remembered
USAGE_TTL = 600.0  # seconds a branch's counts are reused before they are read again
_usage_lock = threading.Lock()
_usage: dict[int, tuple[float, dict[str, int]]] = {}


def branch_usage(session: Session, branch_id: int, *, today: date | None = None) -> dict[str, int]:
    """How often the branch recorded each diagnosis code over the last USAGE_DAYS (its
    USAGE_CODES most used), read at most once per USAGE_TTL per process."""
    now = time.monotonic()
    with _usage_lock:
        cached = _usage.get(branch_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    since = (today or date.today()) - timedelta(days=USAGE_DAYS)
    count = func.count(Diagnosis.id)
    rows = session.exec(
        select(Diagnosis.icd10_code, count)
        .join(Visit, Visit.id == Diagnosis.visit_id)
        .where(Visit.branch_id == branch_id, Visit.visit_date >= since)
        .group_by(Diagnosis.icd10_code)
        .order_by(count.desc())
        .limit(USAGE_CODES)
    ).all()
    counts = {code: n for code, n in rows}
    with _usage_lock:
        _usage[branch_id] = (now + USAGE_TTL, counts)
    return counts


def forget_usage() -> None:
    """Read every branch's counts again on the next search (tests, after a bulk import)."""
    with _usage_lock:
        _usage.clear()


def search_for_branch(
    session: Session, branch_id: int, query: str, limit: int = 20
) -> list[DiagnosisTerm]:
    """`find` with the branch's own most used diagnoses first (`branch_usage`)."""
    if not (query or "").strip() or limit <= 0:
        return []
    return find(query, limit, branch_usage(session, branch_id))


def warm_up() -> None:
    """Build the code table and the search index now, so the first doctor who searches
    does not wait, nor hold up the other tabs' events while it is built."""
    _diagnosis_codes()
    _index()
