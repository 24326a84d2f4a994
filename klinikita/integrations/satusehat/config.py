"""Where a branch sends its data: environment URLs, what its settings lack, and the
credentials a client is given (opening the stored secret is `services.satusehat_credentials`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from klinikita.models import Branch
from klinikita.models.enums import SatusehatEnvironment

# Official hosts (API.md section 1).
OFFICIAL_URLS: dict[str, tuple[str, str]] = {
    SatusehatEnvironment.SANDBOX: (
        "https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1",
        "https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1",
    ),
    SatusehatEnvironment.PRODUCTION: (
        "https://api-satusehat.kemkes.go.id/oauth2/v1",
        "https://api-satusehat.kemkes.go.id/fhir-r4/v1",
    ),
}

ENVIRONMENT_LABELS = {
    SatusehatEnvironment.SIMULATOR: "Simulator (latihan, tidak terkirim ke Kemenkes)",
    SatusehatEnvironment.SANDBOX: "Sandbox (uji coba Kemenkes)",
    SatusehatEnvironment.PRODUCTION: "Produksi",
    SatusehatEnvironment.CUSTOM: "URL khusus",
}


@dataclass(frozen=True)
class Credentials:
    """Everything a client needs for one branch. `secret` is plain text: keep it in memory."""

    branch_id: int
    organization_id: str
    client_id: str
    secret: str
    auth_url: str
    fhir_url: str

    def __repr__(self) -> str:  # never print the secret
        return (
            f"Credentials(branch_id={self.branch_id}, organization_id={self.organization_id!r}, "
            f"client_id={self.client_id!r}, fhir_url={self.fhir_url!r})"
        )


def simulator_urls(simulator_base: str) -> tuple[str, str]:
    base = simulator_base.rstrip("/")
    return f"{base}/oauth2/v1", f"{base}/fhir-r4/v1"


def resolve_urls(branch: Branch, simulator_base: str) -> tuple[str, str]:
    env = branch.ss_environment
    if env == SatusehatEnvironment.SIMULATOR:
        return simulator_urls(simulator_base)
    if env == SatusehatEnvironment.CUSTOM:
        return branch.ss_auth_url.rstrip("/"), branch.ss_fhir_url.rstrip("/")
    return OFFICIAL_URLS[env]


def destination_of(environment: str, auth_url: str, fhir_url: str) -> str:
    """Where a branch's secret goes, as stored: the environment and, for custom URLs, the
    two addresses (trimmed, without a trailing slash). The secret is sealed to this."""
    if environment != SatusehatEnvironment.CUSTOM:
        return environment
    return "\n".join((environment, auth_url.strip().rstrip("/"), fhir_url.strip().rstrip("/")))


def branch_destination(branch: Branch) -> str:
    return destination_of(branch.ss_environment, branch.ss_auth_url, branch.ss_fhir_url)


# Plain http only to this machine (the simulator, tests); anywhere else the secret needs TLS.
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PLAIN_HTTP_REFUSED = (
    "URL khusus harus memakai https:// (http:// hanya untuk 127.0.0.1 atau localhost); "
    "perbaiki di Pengaturan > Cabang."
)


def is_safe_server_url(value: str) -> bool:
    """https anywhere; plain http only to this machine (127.0.0.1, localhost)."""
    parsed = urlparse(value.strip())
    if parsed.scheme == "https":
        return True
    try:
        host = parsed.hostname
    except ValueError:
        return False
    return parsed.scheme == "http" and host in _LOCAL_HOSTS


def missing_settings(branch: Branch) -> list[str]:
    """What a branch lacks before anything can be sent, in words for the admin."""
    missing = []
    if not branch.ss_organization_id.strip():
        missing.append("Organization ID")
    if not branch.ss_client_id.strip():
        missing.append("Client ID")
    if not branch.ss_secret_encrypted:
        missing.append("Secret Key")
    if branch.ss_environment == SatusehatEnvironment.CUSTOM and not (
        branch.ss_auth_url.strip() and branch.ss_fhir_url.strip()
    ):
        missing.append("URL autentikasi dan URL FHIR")
    return missing
