"""The SATUSEHAT keys of the demo: the simulator's demo clients and the demo branches that use
them. Plain constants, so the demo seed (services) and the simulator (integrations) share them
without importing each other."""

from __future__ import annotations

from typing import NamedTuple


class DemoKey(NamedTuple):
    client_id: str
    client_secret: str
    organization_id: str
    name: str  # the facility's name in the simulator


DEMO_KEYS: tuple[DemoKey, ...] = (
    DemoKey("demo-klinik", "demo-klinik-secret", "10000004", "Klinik Kita Demo"),
    DemoKey("demo-pmd", "demo-pmd-secret", "10000005", "Praktik dr. Demo"),
)
