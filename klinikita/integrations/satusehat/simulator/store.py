"""Thread-safe resource store: in memory, optionally mirrored to a SQLite file."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clock import http_date, last_updated, version_id

JsonDict = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    owner_org TEXT,
    version_ns INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (resource_type, id)
);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
"""


@dataclass
class StoredResource:
    resource_type: str
    id: str
    resource: JsonDict
    owner_org: str | None
    version_ns: int
    seeded: bool = False
    # Insertion order, so listings are stable (newest last).
    sequence: int = field(default=0, compare=False)

    @property
    def version_id(self) -> str:
        return version_id(self.version_ns)

    @property
    def last_updated(self) -> str:
        return last_updated(self.version_ns)

    @property
    def last_modified_header(self) -> str:
        return http_date(self.version_ns)


def stamp_meta(resource: JsonDict, stamp_ns: int) -> None:
    """Set `meta.versionId` / `meta.lastUpdated`, keeping other meta (e.g. `profile`)."""
    meta = dict(resource.get("meta") or {})
    meta["versionId"] = version_id(stamp_ns)
    meta["lastUpdated"] = last_updated(stamp_ns)
    resource["meta"] = meta


def identifiers_of(resource: JsonDict) -> list[tuple[str, str]]:
    """(system, value) pairs; `identifier` is a list, or one object (Composition)."""
    raw = resource.get("identifier")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    pairs = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            pairs.append((str(item.get("system", "")), item["value"]))
    return pairs


class ResourceStore:
    """All reads hand out deep copies, so callers can never mutate stored state."""

    def __init__(self, data_file: str | Path | None = None) -> None:
        # Re-entrant: validation + commit of one request run under a single hold of it.
        self.lock = threading.RLock()
        self._items: dict[str, dict[str, StoredResource]] = {}
        self._by_identifier: dict[tuple[str, str, str], set[str]] = {}
        self._sequence = 0
        self.data_file = Path(data_file) if data_file else None
        self._db: sqlite3.Connection | None = None
        if self.data_file:
            # The owner's only, like the app's own database (folder 0700, file 0600).
            self.data_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.data_file.exists():
                os.close(os.open(self.data_file, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(str(self.data_file), check_same_thread=False)
            self._db.executescript(_SCHEMA)
            self._db.commit()

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[ResourceStore]:
        with self.lock:
            yield self

    # -- reads --------------------------------------------------------------------------
    def get(self, resource_type: str, resource_id: str) -> StoredResource | None:
        with self.lock:
            item = self._items.get(resource_type, {}).get(resource_id)
            return copy.deepcopy(item) if item else None

    def exists(self, resource_type: str, resource_id: str) -> bool:
        with self.lock:
            return resource_id in self._items.get(resource_type, {})

    def owner_of(self, resource_type: str, resource_id: str) -> str | None:
        with self.lock:
            item = self._items.get(resource_type, {}).get(resource_id)
            return item.owner_org if item else None

    def all(self, resource_type: str) -> list[StoredResource]:
        with self.lock:
            items = sorted(self._items.get(resource_type, {}).values(), key=lambda i: i.sequence)
            return copy.deepcopy(items)

    def find_by_identifier(
        self, resource_type: str, system: str | None, value: str
    ) -> list[StoredResource]:
        with self.lock:
            if system is not None:
                ids = self._by_identifier.get((resource_type, system, value), set())
            else:
                ids = {
                    rid
                    for (rtype, _system, ivalue), rids in self._by_identifier.items()
                    if rtype == resource_type and ivalue == value
                    for rid in rids
                }
            found = [self._items[resource_type][rid] for rid in ids]
            return copy.deepcopy(sorted(found, key=lambda i: i.sequence))

    def count(
        self,
        resource_type: str,
        identifier: tuple[str, str] | None = None,
        *,
        include_seeded: bool = True,
    ) -> int:
        with self.lock:
            items = self._items.get(resource_type, {})
            if identifier is None:
                ids: Iterable[str] = items
            else:
                ids = self._by_identifier.get((resource_type, *identifier), set())
            return sum(1 for rid in ids if include_seeded or not items[rid].seeded)

    def counts(self, *, include_seeded: bool = True) -> dict[str, int]:
        with self.lock:
            result = {
                rtype: sum(1 for i in items.values() if include_seeded or not i.seeded)
                for rtype, items in sorted(self._items.items())
            }
            return {rtype: n for rtype, n in result.items() if n}

    # -- writes -------------------------------------------------------------------------
    def put(self, item: StoredResource) -> None:
        self.put_many([item])

    def put_many(self, items: Iterable[StoredResource]) -> None:
        """Store several resources at once: all of them become visible together."""
        items = [copy.deepcopy(i) for i in items]
        with self.lock:
            for item in items:
                self._index_remove(item.resource_type, item.id)
                previous = self._items.get(item.resource_type, {}).get(item.id)
                if previous is not None:
                    item.sequence = previous.sequence
                else:
                    self._sequence += 1
                    item.sequence = self._sequence
                self._items.setdefault(item.resource_type, {})[item.id] = item
                for system, value in identifiers_of(item.resource):
                    key = (item.resource_type, system, value)
                    self._by_identifier.setdefault(key, set()).add(item.id)
            self._persist(i for i in items if not i.seeded)

    def clear(self, *, keep_seeded: bool = True) -> None:
        with self.lock:
            for rtype in list(self._items):
                for rid, item in list(self._items[rtype].items()):
                    if not (keep_seeded and item.seeded):
                        self._index_remove(rtype, rid)
                        del self._items[rtype][rid]
            if self._db is not None:
                self._db.execute("DELETE FROM resources")
                self._db.commit()

    def _index_remove(self, resource_type: str, resource_id: str) -> None:
        previous = self._items.get(resource_type, {}).get(resource_id)
        if previous is None:
            return
        for system, value in identifiers_of(previous.resource):
            ids = self._by_identifier.get((resource_type, system, value))
            if ids:
                ids.discard(resource_id)
                if not ids:
                    del self._by_identifier[(resource_type, system, value)]

    # -- persistence --------------------------------------------------------------------
    def _persist(self, items: Iterable[StoredResource]) -> None:
        if self._db is None:
            return
        rows = [
            (i.resource_type, i.id, i.owner_org, i.version_ns, json.dumps(i.resource))
            for i in items
        ]
        if rows:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO resources VALUES (?, ?, ?, ?, ?)", rows
                )

    def load_persisted(self) -> int:
        """Load resources saved by an earlier run; they override seeds with the same id."""
        if self._db is None:
            return 0
        rows = self._db.execute(
            "SELECT resource_type, id, owner_org, version_ns, body FROM resources ORDER BY rowid"
        ).fetchall()
        items = [
            StoredResource(rtype, rid, json.loads(body), owner, version_ns)
            for rtype, rid, owner, version_ns, body in rows
        ]
        with self.lock:
            db, self._db = self._db, None  # do not write back what we just read
            try:
                self.put_many(items)
            finally:
                self._db = db
        return len(items)

    def save_client(self, client_id: str, body: JsonDict) -> None:
        if self._db is not None:
            with self.lock, self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO clients VALUES (?, ?)", (client_id, json.dumps(body))
                )

    def load_clients(self) -> list[JsonDict]:
        if self._db is None:
            return []
        with self.lock:
            rows = self._db.execute("SELECT body FROM clients ORDER BY rowid").fetchall()
        return [json.loads(body) for (body,) in rows]

    def delete_clients(self) -> None:
        if self._db is not None:
            with self.lock, self._db:
                self._db.execute("DELETE FROM clients")

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None
