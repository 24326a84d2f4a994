"""The live simulator object: state, registries, fault switches, counters and its Python API."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .clients import ClientRegistry, SimClient
from .clock import SimClock
from .config import SimulatorConfig
from .faults import FaultSwitchboard
from .seed import (
    ALL_SEED_PATIENTS,
    ALL_SEED_PRACTITIONERS,
    DEMO_CLIENTS,
    facility_organization,
    patient_resource,
    practitioner_resource,
)
from .stats import SimulatorStats
from .store import ResourceStore, StoredResource, stamp_meta
from .tokens import TokenService

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .app import ControlGuard

JsonDict = dict[str, Any]

# Seeded registry rows carry the sandbox's "last updated" of the Postman captures.
_SEED_STAMP = 1702641600853968000


class Simulator:
    """A SATUSEHAT stand-in.

    Typical use::

        sim = Simulator()                      # demo clients + seeded MPI / Nakes index
        app = sim.create_app()                 # Starlette app (mount it or run it with uvicorn)
        sim.faults.fail_next("http_503", 2, path="/fhir-r4/v1/Encounter*")
        sim.stats.token_requests               # counters
        sim.count_resources("Encounter", (ENCOUNTER_SYSTEM, "REG-1"))  # duplicates?
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        data_file: str | Path | None = None,
        clients: Iterable[SimClient] = DEMO_CLIENTS,
        seed_registries: bool = True,
    ) -> None:
        self._initial_config = (config or SimulatorConfig()).copy()
        self.config = self._initial_config.copy()
        self.clock = SimClock()
        self.store = ResourceStore(data_file)
        self.clients = ClientRegistry()
        self.tokens = TokenService(self.config, self.clients, self.clock)
        self.faults = FaultSwitchboard()
        self.stats = SimulatorStats()
        self._initial_clients = tuple(clients)
        self._seed_registries = seed_registries
        self._seed()
        for saved in self.store.load_clients():
            self._register(SimClient.from_dict(saved))
        self.store.load_persisted()

    # -- setup --------------------------------------------------------------------------
    def _seed(self) -> None:
        items: list[StoredResource] = []
        if self._seed_registries:
            for person in ALL_SEED_PATIENTS:
                items.append(self._seed_item("Patient", patient_resource(person)))
            for person in ALL_SEED_PRACTITIONERS:
                items.append(self._seed_item("Practitioner", practitioner_resource(person)))
        self.store.put_many(items)
        for client in self._initial_clients:
            self._register(client)

    @staticmethod
    def _seed_item(
        resource_type: str, resource: JsonDict, owner: str | None = None
    ) -> StoredResource:
        stamp_meta(resource, _SEED_STAMP)
        return StoredResource(
            resource_type, resource["id"], resource, owner, _SEED_STAMP, seeded=True
        )

    def _register(self, client: SimClient) -> SimClient:
        self.clients.add(client)
        if not self.store.exists("Organization", client.organization_id):
            org = facility_organization(client)
            self.store.put(self._seed_item("Organization", org, client.organization_id))
        return client

    def add_client(
        self,
        client_id: str | SimClient,
        client_secret: str | None = None,
        organization_id: str | None = None,
        name: str | None = None,
        *,
        fhir_access: bool = True,
    ) -> SimClient:
        """Register OAuth credentials bound to a facility organization (created if missing)."""
        if isinstance(client_id, SimClient):
            client = client_id
        else:
            if not (client_secret and organization_id):
                raise ValueError("client_secret and organization_id are required")
            client = SimClient(
                client_id,
                client_secret,
                str(organization_id),
                name or f"Fasyankes {organization_id}",
                fhir_access=fhir_access,
            )
        self._register(client)
        self.store.save_client(client.client_id, client.to_dict())
        return client

    # -- runtime controls ---------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial state: resources, clients, tokens, lockouts, faults, counters,
        clock offset and config."""
        self.store.clear(keep_seeded=False)
        self.store.delete_clients()
        self.clients.clear()
        self.config = self._initial_config.copy()
        self.tokens.bind_config(self.config)
        self.tokens.reset()
        self.faults.clear()
        self.stats.reset()
        self.clock.reset()
        self._seed()

    def expire_all_tokens(self) -> int:
        return self.tokens.expire_all()

    def issue_token(self, client_id: str = "demo-klinik") -> str:
        """A valid bearer token without going through HTTP (not counted as a token request)."""
        client = self.clients.get(client_id)
        if client is None:
            raise KeyError(client_id)
        token, _body = self.tokens.issue(client.client_id, client.client_secret)
        return token.access_token

    # -- inspection ---------------------------------------------------------------------
    # These count what clients stored; seeded registry rows and the implicit facility
    # organizations are left out unless `include_seeded=True`.
    def count_resources(
        self,
        resource_type: str,
        identifier: tuple[str, str] | None = None,
        *,
        include_seeded: bool = False,
    ) -> int:
        return self.store.count(resource_type, identifier, include_seeded=include_seeded)

    def list_resources(
        self,
        resource_type: str,
        identifier: tuple[str, str] | None = None,
        *,
        include_seeded: bool = False,
    ) -> list[JsonDict]:
        if identifier is None:
            items = self.store.all(resource_type)
        else:
            items = self.store.find_by_identifier(resource_type, *identifier)
        return [item.resource for item in items if include_seeded or not item.seeded]

    def get_resource(self, resource_type: str, resource_id: str) -> JsonDict | None:
        item = self.store.get(resource_type, resource_id)
        return item.resource if item else None

    # -- serving ------------------------------------------------------------------------
    def create_app(self, control: bool | ControlGuard = True) -> Starlette:
        """The simulator as a Starlette app; `control` as in `app.create_app`."""
        from .app import create_app

        return create_app(self, control)

    def close(self) -> None:
        self.store.close()
