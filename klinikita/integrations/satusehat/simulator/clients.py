"""Registry of OAuth clients: client_id -> (secret, facility organization id, name)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

_APP_NAMESPACE = uuid.UUID("8a7c2f9e-3b1d-4c6a-9f0e-5d4b3a291c7e")


@dataclass(frozen=True)
class SimClient:
    client_id: str
    client_secret: str
    organization_id: str
    name: str
    # False: the credentials work on the token endpoint but every FHIR call answers
    # "Invalid API call as no apiproduct match found" (a key for another environment/product).
    fhir_access: bool = True
    developer_email: str = "developer@klinikita.local"
    application_name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.application_name:
            stable = str(uuid.uuid5(_APP_NAMESPACE, self.client_id))
            object.__setattr__(self, "application_name", stable)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimClient:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class ClientRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, SimClient] = {}

    def add(self, client: SimClient) -> SimClient:
        with self._lock:
            self._clients[client.client_id] = client
        return client

    def get(self, client_id: str) -> SimClient | None:
        with self._lock:
            return self._clients.get(client_id)

    def all(self) -> list[SimClient]:
        with self._lock:
            return list(self._clients.values())

    def organization_ids(self) -> set[str]:
        with self._lock:
            return {c.organization_id for c in self._clients.values()}

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()
