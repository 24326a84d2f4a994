"""Facility coordinates (latitude/longitude in decimal degrees) as staff type them.

SATUSEHAT's Location needs `position.latitude` and `position.longitude` (API.md section 7).
A branch holds its facility's coordinates; a room may hold its own.

Indonesia's bounding box, from the outermost islands Badan Informasi Geospasial lists:
Pulau Rondo 6°04'30" N, Pulau Dana (Rote) 11°00'36" S, Pulau Benggala 94°58'21" E and
Merauke 141°01'10" E, each rounded outwards by about 0.1 degree.
"""

from __future__ import annotations

from dataclasses import dataclass

LATITUDE_MIN, LATITUDE_MAX = -11.1, 6.1
LONGITUDE_MIN, LONGITUDE_MAX = 94.7, 141.1

MAP_HINT = (
    "Buka Google Maps, klik kanan lokasi klinik, lalu salin angka pertama (lintang) dan "
    "kedua (bujur), misalnya -6.2311 dan 106.8324."
)


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class ParsedCoordinates:
    """Both None when both fields were left empty (no coordinates)."""

    latitude: float | None
    longitude: float | None
    errors: dict[str, str]


def split_pasted(latitude: str, longitude: str) -> tuple[str, str]:
    """`-6.2311, 106.8324` pasted whole into the latitude field (Google Maps copies both
    numbers at once) fills both fields."""
    lat, lon = (latitude or "").strip(), (longitude or "").strip()
    if not lon and lat.count(",") == 1 and ", " in lat:
        first, second = lat.split(",")
        return first.strip(), second.strip()
    return lat, lon


def _number(text: str) -> float | None:
    cleaned = text.strip().replace("\u2212", "-")  # the minus sign some maps copy
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # Indonesian decimal comma
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _axis(
    text: str, *, label: str, low: float, high: float, example: str
) -> tuple[float | None, str | None]:
    value = _number(text)
    if value is None:
        return None, f"{label} harus berupa angka desimal, misalnya {example}. {MAP_HINT}"
    if not low <= value <= high:
        return None, (
            f"{label} {text.strip()} di luar wilayah Indonesia (harus antara "
            f"{low:g} dan {high:g}). Periksa apakah lintang dan bujur tertukar. {MAP_HINT}"
        )
    return value, None


# field -> (label, low, high, example, the other field's label)
_AXES = {
    "latitude": ("Lintang", LATITUDE_MIN, LATITUDE_MAX, "-6.2311", "bujur"),
    "longitude": ("Bujur", LONGITUDE_MIN, LONGITUDE_MAX, "106.8324", "lintang"),
}


def parse_coordinates(latitude: str, longitude: str) -> ParsedCoordinates:
    """Both fields filled and inside Indonesia, or both empty; errors keyed by field."""
    texts = dict(zip(_AXES, split_pasted(latitude, longitude), strict=True))
    if not any(texts.values()):
        return ParsedCoordinates(None, None, {})
    errors: dict[str, str] = {}
    values: dict[str, float | None] = {}
    for field, (label, low, high, example, other) in _AXES.items():
        if not texts[field]:
            errors[field] = f"{label} wajib diisi bila {other} diisi. {MAP_HINT}"
            continue
        values[field], problem = _axis(
            texts[field], label=label, low=low, high=high, example=example
        )
        if problem:
            errors[field] = problem
    if errors:
        return ParsedCoordinates(None, None, errors)
    return ParsedCoordinates(values["latitude"], values["longitude"], {})


def as_text(value: float | None) -> str:
    """A stored coordinate as the form shows it (empty when unset)."""
    return "" if value is None else str(value)


def position_of(*holders: object) -> Position | None:
    """The first holder (a room, then its branch) with both coordinates set."""
    for holder in holders:
        lat = getattr(holder, "latitude", None) if holder is not None else None
        lon = getattr(holder, "longitude", None) if holder is not None else None
        if lat is not None and lon is not None:
            return Position(float(lat), float(lon))
    return None
