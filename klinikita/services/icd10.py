"""ICD-10 (WHO) lookups for diagnoses: searching codes, and the code table's normalising,
checking and describing (`klinikita.terminology.icd10_codes`, re-exported here)."""

from __future__ import annotations

import bisect
import heapq
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from klinikita.terminology.icd10_codes import (
    ICD10_2010_ONLY,
    describe,
    is_valid,
    normalize,
    subcodes,
)
from klinikita.terminology.icd10_codes import diagnosis_codes as _diagnosis_codes

__all__ = ["ICD10_2010_ONLY", "describe", "is_valid", "normalize", "search", "subcodes", "warm_up"]

_WORD = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    """Lower case without accents, so `meniere` finds `Ménière disease`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


@dataclass(frozen=True)
class _SearchIndex:
    codes: list[str]  # sorted; position = rank in results
    descriptions: list[str]
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
    postings: dict[str, set[int]] = {}
    for position, description in enumerate(descriptions):
        for word in _words(description):
            postings.setdefault(word, set()).add(position)
    return _SearchIndex(
        codes=codes,
        descriptions=descriptions,
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


def search(query: str, limit: int = 20) -> list[tuple[str, str]]:
    """Diagnosis codes matching `query`, as (code, description), best first.

    Every word of the query must match, case-insensitively, either the start of the code
    (`J06`, `e119`) or the start of a word of the description (`tuberc lung`). Codes found by
    their code come first, then in ICD-10 order.
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
    ranked = heapq.nsmallest(limit, matched, key=lambda p: (p not in code_hits, p))
    return [(index.codes[p], index.descriptions[p]) for p in ranked]


def warm_up() -> None:
    """Build the code table and the search index now, so the first doctor who searches
    does not wait, nor hold up the other tabs' events while it is built."""
    _diagnosis_codes()
    _index()
