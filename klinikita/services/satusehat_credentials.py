"""A branch's SATUSEHAT credentials, with its secret opened (only here, only in memory)."""

from __future__ import annotations

from klinikita.integrations.satusehat.config import (
    PLAIN_HTTP_REFUSED,
    Credentials,
    branch_destination,
    is_safe_server_url,
    resolve_urls,
)
from klinikita.models import Branch
from klinikita.models.enums import SatusehatEnvironment
from klinikita.services.secrets_store import decrypt_secret


def open_secret(branch: Branch) -> str:
    """The branch's plain secret, only for the destination it was saved with and never for
    custom URLs in plain http to another machine (ValueError in words for the admin
    otherwise, or when this server's key cannot open it)."""
    if branch.ss_environment == SatusehatEnvironment.CUSTOM and not (
        is_safe_server_url(branch.ss_auth_url) and is_safe_server_url(branch.ss_fhir_url)
    ):
        raise ValueError(PLAIN_HTTP_REFUSED)
    return decrypt_secret(branch.ss_secret_encrypted, bound_to=branch_destination(branch))


def credentials_for(branch: Branch, simulator_base: str) -> Credentials:
    """The branch's credentials, its secret opened (ValueError as `open_secret`)."""
    auth_url, fhir_url = resolve_urls(branch, simulator_base)
    return Credentials(
        branch_id=branch.id,
        organization_id=branch.ss_organization_id.strip(),
        client_id=branch.ss_client_id.strip(),
        secret=open_secret(branch),
        auth_url=auth_url,
        fhir_url=fhir_url,
    )
