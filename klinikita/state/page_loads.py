"""Each page's on_load handlers, so a handler can run its page's again: after "ganti tugas"
or "ganti cabang" the open page must show what the new duty may do and the new branch's
lists, not the old ones."""

from __future__ import annotations

from typing import Any

_LOADS: dict[str, list[Any]] = {}


def register(route: str, on_load: Any) -> None:  # noqa: ANN401 (an event handler or a list)
    _LOADS[_key(route)] = list(on_load) if isinstance(on_load, list | tuple) else [on_load]


def for_path(path: str) -> list[Any]:
    """The on_load handlers of the page at `path` (none for an unknown path)."""
    return list(_LOADS.get(_key(path), ()))


def _key(path: str) -> str:
    return path.rstrip("/") or "/"
