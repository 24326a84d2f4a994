"""What text typed into a form may hold, and how it is stored.

Every service that stores text from a form passes it through here:
- `take_text`: NFKC-normalised (unicodedata), stripped, refused when it holds a control
  character (NUL, escape codes; a multi-line field keeps line breaks and tabs), an invisible
  format character (zero-width space or joiner, right-to-left override, BOM, ...), a
  private-use, unassigned or surrogate code point, or is longer than its column.
- `take_digits`: numbers such as NIK or phone, checked as typed: ASCII 0-9 only, so
  full-width or Arabic-Indic digits are refused rather than quietly converted.
- `payload_text` / `payload_id`: what a handler receives from the browser (any JSON value)
  as the str or int it expects, or a ServiceError with a message for staff.
"""

from __future__ import annotations

import unicodedata

from klinikita.services.errors import NotFound, ServiceError

# Unicode categories never stored: control, format (invisible), surrogate, private use,
# unassigned; line and paragraph separators (Zl, Zp) are line breaks in disguise.
_REFUSED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MULTILINE_KEPT = frozenset("\n\t")
# The longest text a handler takes from the browser at all; each field has its own
# (shorter) limit in the service that stores it.
PAYLOAD_MAX = 20_000
# An id is a database integer: more digits than this is no id at all.
_ID_DIGITS = 18


class InputRefused(ServiceError):
    """The browser sent something no form of this page can send."""


def invisible_problem(text: str, label: str, *, multiline: bool = False) -> str | None:
    """Why `text` (already normalised) may not be stored, or None."""
    for char in text:
        if multiline and char in _MULTILINE_KEPT:
            continue
        if unicodedata.category(char) in _REFUSED:
            return (
                f"{label} berisi karakter kendali atau karakter tak terlihat "
                "(mis. spasi lebar-nol, penanda arah teks). Hapus lalu ketik ulang."
            )
    return None


def normalize_text(value: object, *, multiline: bool = False) -> str:
    """`value` as it would be stored: NFKC, line breaks as \\n, outer whitespace removed.
    Anything but a str is no text ("")."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def take_text(
    errors: dict[str, str],
    field: str,
    value: object,
    *,
    label: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
    collapse_spaces: bool = False,
) -> str:
    """The text to store for `field`, or "" with `errors[field]` set to what is wrong.

    A text that is only whitespace counts as empty; `collapse_spaces` also joins inner runs
    of whitespace into one space (names)."""
    text = normalize_text(value, multiline=multiline)
    problem = invisible_problem(text, label, multiline=multiline)
    if problem is None and collapse_spaces:
        text = " ".join(text.split())
    if problem is None and required and not text:
        problem = f"{label} wajib diisi."
    if problem is None and len(text) > max_length:
        problem = f"{label} paling banyak {max_length} karakter (terisi {len(text)})."
    if problem is not None:
        errors.setdefault(field, problem)
        return ""
    return text


def ascii_digits(text: str) -> bool:
    """Only the digits 0-9 (str.isdigit also takes full-width, Arabic-Indic, superscripts)."""
    return text.isascii() and text.isdigit()


def take_digits(
    errors: dict[str, str],
    field: str,
    value: object,
    *,
    label: str,
    allowed: str = "",
) -> str:
    """A number typed as digits (NIK, No. KK): plain spaces removed, ASCII 0-9 and the
    `allowed` punctuation only, checked before any normalisation; "" with `errors[field]`
    set otherwise. Lengths are the caller's rule."""
    text = value.replace(" ", "") if isinstance(value, str) else ""
    if text and not all(c in allowed or ascii_digits(c) for c in text):
        extra = f", {' '.join(allowed)}" if allowed else ""
        errors.setdefault(field, f"{label} hanya boleh berisi angka 0-9{extra}.")
        return ""
    return text


def payload_text(value: object, *, max_length: int = PAYLOAD_MAX) -> str:
    """A handler argument the page sends as text: a str as it is, a JSON number as its
    digits, null as "". An object, a list or an overlong text is refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise InputRefused("Isian tidak valid.")
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise InputRefused("Isian tidak valid.")
    if len(value) > max_length:
        raise InputRefused(f"Isian terlalu panjang (paling banyak {max_length} karakter).")
    return value


def payload_search(value: object, *, max_length: int = 200) -> str:
    """A search term or a filter's value: `payload_text`, refused when it holds control or
    invisible characters (they match nothing, and PostgreSQL refuses a NUL outright)."""
    text = payload_text(value, max_length=max_length)
    problem = invisible_problem(text, "Kata pencarian")
    if problem:
        raise InputRefused(problem)
    return text


def payload_form(form_data: object, key: str, *, max_length: int = PAYLOAD_MAX) -> str:
    """Field `key` of a submitted form (`on_submit`'s dict) as text (see `payload_text`)."""
    if not isinstance(form_data, dict):
        raise InputRefused("Isian formulir tidak valid.")
    return payload_text(form_data.get(key), max_length=max_length)


def parse_id(value: object) -> int | None:
    """A row id the page sends (as text or number): a positive integer, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if ascii_digits(text) and len(text) <= _ID_DIGITS and int(text) > 0:
        return int(text)
    return None


def payload_id(value: object, what: str) -> int:
    """`parse_id`, or NotFound "`what` tidak ditemukan." (the caller still checks that the
    row is in the active branch)."""
    found = parse_id(value)
    if found is None:
        raise NotFound(f"{what} tidak ditemukan.")
    return found
