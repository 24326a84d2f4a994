"""Petakan ke KFA: search the KFA API (API.md 11.4) with the branch's SATUSEHAT settings and
read a product's detail before it is chosen. Plain async functions; the page awaits them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from klinikita.db import read_scope
from klinikita.integrations.satusehat.client import new_http_client
from klinikita.integrations.satusehat.config import Credentials, missing_settings
from klinikita.integrations.satusehat.kfa import KfaClient, KfaItem, KfaPage
from klinikita.integrations.satusehat.tokens import TokenCache, shared_token_cache
from klinikita.models import Branch
from klinikita.services import satusehat_errors
from klinikita.services.audit import Actor
from klinikita.services.errors import ServiceError
from klinikita.services.permissions import Action, require
from klinikita.services.satusehat_credentials import credentials_for
from klinikita.services.text_input import normalize_text

PAGE_SIZE = 10


@dataclass(frozen=True)
class KfaResults:
    items: tuple[KfaItem, ...]
    total: int


def _credentials(branch_id: int, simulator_base: str) -> Credentials:
    with read_scope() as session:
        branch = session.get(Branch, branch_id)
        if branch is None:
            raise ServiceError("Cabang tidak ditemukan.")
        missing = missing_settings(branch)
        if missing:
            raise ServiceError(
                f"Pengaturan SATUSEHAT cabang belum lengkap ({', '.join(missing)}): KFA dicari "
                "dengan token SATUSEHAT cabang."
            )
        try:
            return credentials_for(branch, simulator_base)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None


def _refusal(outcome: object, branch_id: int) -> ServiceError:
    message = getattr(outcome, "message", "") or "tidak ada jawaban"
    said = satusehat_errors.explain(message, satusehat_errors.Subject(branch_id=branch_id))
    return ServiceError(f"KFA tidak dapat dibuka: {said.message}")


async def search_kfa(
    actor: Actor,
    keyword: str,
    simulator_base: str,
    *,
    page: int = 1,
    tokens: TokenCache | None = None,
) -> KfaResults:
    """Products of the KFA whose name matches `keyword` (medicines, `farmasi`)."""
    require(actor.duty, Action.DRUG_MASTER_EDIT)
    term = " ".join(normalize_text(keyword).split())
    if len(term) < 3:
        raise ServiceError("Ketik sekurangnya 3 huruf nama obat untuk mencari di KFA.")
    creds = await asyncio.to_thread(_credentials, actor.branch_id, simulator_base)
    async with new_http_client(connections=2) as http:
        client = KfaClient(creds, http, tokens or shared_token_cache())
        got = await client.search(term, page=page, size=PAGE_SIZE)
    if not isinstance(got, KfaPage):
        raise _refusal(got, actor.branch_id)
    return KfaResults(got.items, got.total)


async def kfa_detail(
    actor: Actor, code: str, simulator_base: str, *, tokens: TokenCache | None = None
) -> KfaItem:
    """One product's detail (name, code, form, ingredients, manufacturer) from the KFA."""
    require(actor.duty, Action.DRUG_MASTER_EDIT)
    wanted = normalize_text(code)
    if not (wanted.isascii() and wanted.isdigit() and len(wanted) == 8):
        raise ServiceError("Kode KFA tidak valid.")
    creds = await asyncio.to_thread(_credentials, actor.branch_id, simulator_base)
    async with new_http_client(connections=2) as http:
        got = await KfaClient(creds, http, tokens or shared_token_cache()).product(wanted)
    if got is None:
        raise ServiceError(f"Kode KFA {wanted} tidak ditemukan di KFA.")
    if not isinstance(got, KfaItem):
        raise _refusal(got, actor.branch_id)
    return got
