"""Simulator clock, FHIR version ids and dateTime helpers."""

from __future__ import annotations

import base64
import re
import threading
import time
from datetime import UTC, datetime, timedelta

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# FHIR R4 dateTime: YYYY, YYYY-MM, YYYY-MM-DD or a full instant with seconds and an offset.
_FHIR_DATETIME = re.compile(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])"
    r"(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$"
)


class SimClock:
    """Wall clock that tests can move forward (token expiry, lockouts) without sleeping.

    Also hands out strictly increasing version stamps (epoch ns at microsecond precision).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset_ns = 0
        self._last_stamp = 0

    def now(self) -> float:
        return self.now_ns() / 1e9

    def now_ns(self) -> int:
        return time.time_ns() + self._offset_ns

    def now_datetime(self) -> datetime:
        return datetime_from_ns(self.now_ns())

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset_ns += int(seconds * 1e9)

    def reset(self) -> None:
        with self._lock:
            self._offset_ns = 0

    @property
    def offset_seconds(self) -> float:
        return self._offset_ns / 1e9

    def next_version_stamp(self) -> int:
        with self._lock:
            stamp = self.now_ns() // 1000 * 1000
            if stamp <= self._last_stamp:
                stamp = self._last_stamp + 1000
            self._last_stamp = stamp
            return stamp


def version_id(stamp_ns: int) -> str:
    """SATUSEHAT versionId: unpadded base64 of the epoch-nanosecond stamp in decimal."""
    return base64.b64encode(str(stamp_ns).encode("ascii")).decode("ascii").rstrip("=")


def datetime_from_ns(stamp_ns: int) -> datetime:
    seconds, rest = divmod(stamp_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)


def last_updated(stamp_ns: int) -> str:
    return datetime_from_ns(stamp_ns).isoformat(timespec="microseconds")


def http_date(stamp_ns: int) -> str:
    """`Last-Modified` as the server writes it, e.g. `Wed, 17 Apr 2024 07:55:28 UTC`."""
    moment = datetime_from_ns(stamp_ns)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year} {moment:%H:%M:%S} UTC"
    )


def is_fhir_datetime(value: object) -> bool:
    return isinstance(value, str) and bool(_FHIR_DATETIME.match(value))


def has_utc_offset(value: str) -> bool:
    return "T" not in value or value.endswith(("Z", "+00:00", "-00:00"))


def parse_fhir_datetime(value: str) -> datetime | None:
    """Parse a FHIR dateTime; partial dates become the start of the period, in UTC."""
    if not is_fhir_datetime(value):
        return None
    if len(value) == 4:
        return datetime(int(value), 1, 1, tzinfo=UTC)
    if len(value) == 7:
        return datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def seconds_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier) / timedelta(seconds=1)
