"""Local SATUSEHAT simulator (FHIR R4 + OAuth2 gateway) for the demo, the tests and training.

No Reflex here: it is a plain Starlette app that runs standalone (`server.serve`) or mounted
inside another Starlette app under a prefix.
"""

from .app import create_app
from .clients import SimClient
from .config import SimulatorConfig
from .errors import FhirError
from .faults import FAULT_KINDS, FaultRule, FaultSwitchboard
from .paths import AUTH_PREFIX, CONSENT_PREFIX, CONTROL_PREFIX, FHIR_PREFIX
from .seed import (
    DEMO_CLIENTS,
    DEMO_NEWBORNS,
    DEMO_PATIENTS,
    DEMO_PRACTITIONERS,
    LEGACY_PATIENTS,
    LEGACY_PRACTITIONERS,
    SANDBOX_PATIENTS,
    SANDBOX_PRACTITIONERS,
    SeedPerson,
)
from .simulator import Simulator
from .stats import SimulatorStats

__all__ = [
    "AUTH_PREFIX",
    "CONSENT_PREFIX",
    "CONTROL_PREFIX",
    "DEMO_CLIENTS",
    "DEMO_NEWBORNS",
    "DEMO_PATIENTS",
    "DEMO_PRACTITIONERS",
    "FAULT_KINDS",
    "FHIR_PREFIX",
    "LEGACY_PATIENTS",
    "LEGACY_PRACTITIONERS",
    "SANDBOX_PATIENTS",
    "SANDBOX_PRACTITIONERS",
    "FaultRule",
    "FaultSwitchboard",
    "FhirError",
    "SeedPerson",
    "SimClient",
    "Simulator",
    "SimulatorConfig",
    "SimulatorStats",
    "create_app",
]
