"""Tes koneksi: ask SATUSEHAT for a token with a branch's saved settings.

A plain async function, so the page's background handler stays thin and this is tested
directly against the simulator. The exchange is written to the SyncLog like every other.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from sqlalchemy import update

from klinikita.db import session_scope
from klinikita.integrations.satusehat.client import SatusehatClient, new_http_client
from klinikita.integrations.satusehat.config import (
    ENVIRONMENT_LABELS,
    Credentials,
    missing_settings,
)
from klinikita.integrations.satusehat.outcomes import AuthFailed, Ok
from klinikita.integrations.satusehat.tokens import TokenCache, shared_token_cache
from klinikita.models import Branch
from klinikita.models.base import utcnow
from klinikita.services import branches, satusehat_errors
from klinikita.services.audit import Actor
from klinikita.services.errors import ValidationFailed
from klinikita.services.permissions import Action, require
from klinikita.services.satusehat_credentials import credentials_for
from klinikita.services.sync_log import sync_log_sink

# The token cache's own note after a refusal: it holds token requests back for a minute.
_HELD = re.compile(r"Permintaan token ditahan .*$")


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str  # Indonesian
    detail: str = ""  # SATUSEHAT's own text, when it answered with a refusal


def _saved_credentials(branch_id: int, simulator_base: str) -> tuple[Credentials | None, str]:
    """The branch's credentials as saved, or why there are none (in words)."""
    with session_scope() as session:
        branch = session.get(Branch, branch_id)
        if branch is None:
            return None, "Cabang tidak ditemukan."
        missing = missing_settings(branch)
        if missing:
            return None, f"Pengaturan SATUSEHAT belum lengkap: {', '.join(missing)}."
        label = ENVIRONMENT_LABELS.get(branch.ss_environment, branch.ss_environment)
        try:
            return credentials_for(branch, simulator_base), label
        except ValueError as exc:  # secret encrypted with another server key
            return None, str(exc)


def _admin_may_test(actor: Actor, branch_id: int, shown: branches.SatusehatInput | None) -> None:
    with session_scope() as session:
        require(actor.duty, Action.BRANCH_SETTINGS)
        branch = branches.managed_branch(session, actor, branch_id)
        if shown is not None and branches.destination_changed(branch, shown):
            raise ValidationFailed({"ss_secret": branches.DESTINATION_NOT_SAVED})


async def check_connection_for_admin(
    actor: Actor,
    branch_id: int,
    simulator_base: str,
    *,
    shown: branches.SatusehatInput | None = None,
    tokens: TokenCache | None = None,
) -> ConnectionResult:
    """Tes koneksi from Pengaturan: only for a branch granted to `actor`, and only with the
    settings as saved. `shown` is what the open form shows for that branch: when its server
    addresses differ from the saved ones, nothing is sent (ValidationFailed at the secret)."""
    await asyncio.to_thread(_admin_may_test, actor, branch_id, shown)
    return await check_branch_connection(branch_id, simulator_base, tokens=tokens)


async def check_branch_connection(
    branch_id: int, simulator_base: str, *, tokens: TokenCache | None = None
) -> ConnectionResult:
    """Fetch a fresh token for the branch as saved; SATUSEHAT's own text on failure."""
    creds, note = await asyncio.to_thread(_saved_credentials, branch_id, simulator_base)
    if creds is None:
        return ConnectionResult(False, note)
    cache = tokens if tokens is not None else shared_token_cache()
    # A test must really reach SATUSEHAT: drop a cached token (a refusal block stays).
    cache.forget(creds)
    async with new_http_client() as http:
        client = SatusehatClient(creds, http, cache, sync_log_sink(branch_id))
        outcome = await client.check_connection()
    if isinstance(outcome, Ok):
        await asyncio.to_thread(_record_key_answer, branch_id, None)
        return ConnectionResult(True, f"Koneksi berhasil: token diterima dari {note}.")
    if isinstance(outcome, AuthFailed):
        await asyncio.to_thread(_record_key_answer, branch_id, outcome.message)
    said = satusehat_errors.explain(outcome.message, satusehat_errors.Subject(branch_id=branch_id))
    held = _HELD.search(outcome.message)
    message = f"{said.message} {held.group(0)}" if held else said.message
    return ConnectionResult(False, message, said.detail)


def _record_key_answer(branch_id: int, refusal: str | None) -> None:
    """What the test learnt of the keys, kept on the branch like the worker keeps it
    (a plain UPDATE: the branch's version stays)."""
    values = {"ss_key_refused_at": utcnow() if refusal else None, "ss_key_refusal": refusal}
    with session_scope() as session:
        session.connection().execute(update(Branch).where(Branch.id == branch_id).values(values))
