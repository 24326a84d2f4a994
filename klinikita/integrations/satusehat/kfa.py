"""The KFA v2 API (API.md section 11.4): search the Kamus Farmasi dan Alat Kesehatan and read
one product, with the branch's SATUSEHAT token on the same host as the FHIR API."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from klinikita.integrations.satusehat.config import Credentials
from klinikita.integrations.satusehat.outcomes import (
    AuthFailed,
    Ok,
    Outcome,
    Rejected,
    classify,
    from_exception,
)
from klinikita.integrations.satusehat.tokens import TokenCache, TokenUnavailable
from klinikita.metrics import record_satusehat_call

FHIR_SUFFIX = "/fhir-r4/v1"


@dataclass(frozen=True)
class KfaIngredient:
    kfa_code: str
    name: str
    strength: str


@dataclass(frozen=True)
class KfaItem:
    """One KFA product as the page shows it before it is chosen."""

    kfa_code: str
    name: str
    form_code: str
    form_name: str
    manufacturer: str
    brand: str
    ingredients: tuple[KfaIngredient, ...]
    active: bool


@dataclass(frozen=True)
class KfaPage:
    items: tuple[KfaItem, ...]
    total: int
    page: int
    size: int


def kfa_base(fhir_url: str) -> str:
    """The host's root (where `/kfa-v2` lives) from the FHIR base URL."""
    base = fhir_url.rstrip("/")
    return base[: -len(FHIR_SUFFIX)] if base.endswith(FHIR_SUFFIX) else base


def parse_item(body: dict[str, Any]) -> KfaItem:
    form = body.get("dosage_form") or {}
    return KfaItem(
        kfa_code=str(body.get("kfa_code") or ""),
        name=str(body.get("name") or ""),
        form_code=str(form.get("code") or ""),
        form_name=str(form.get("name") or ""),
        manufacturer=str(body.get("manufacturer") or ""),
        brand=str(body.get("nama_dagang") or ""),
        ingredients=tuple(
            KfaIngredient(
                str(i.get("kfa_code") or ""),
                str(i.get("zat_aktif") or ""),
                str(i.get("kekuatan_zat_aktif") or ""),
            )
            for i in body.get("active_ingredients") or []
            if isinstance(i, dict)
        ),
        active=bool(body.get("active", True)),
    )


class KfaClient:
    def __init__(self, creds: Credentials, http: httpx.AsyncClient, tokens: TokenCache) -> None:
        self.creds = creds
        self._http = http
        self._tokens = tokens

    async def _get(self, path: str, params: dict[str, str]) -> Outcome:
        """One GET; a 401 refreshes the token once and retries once."""
        url = kfa_base(self.creds.fhir_url) + path
        outcome: Outcome | None = None
        for attempt in (1, 2):
            try:
                token = await self._tokens.get(self.creds, self._http, None)
            except TokenUnavailable as unavailable:
                return unavailable.outcome
            started = time.perf_counter()
            try:
                response = await self._http.get(
                    url, params=params, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                record_satusehat_call("kfa", None, time.perf_counter() - started)
                return from_exception(exc)
            record_satusehat_call("kfa", response.status_code, time.perf_counter() - started)
            outcome = classify(response)
            if not isinstance(outcome, AuthFailed) or attempt == 2:
                return outcome
            self._tokens.invalidate(self.creds, token)
        return outcome  # pragma: no cover

    async def search(
        self, keyword: str, *, page: int = 1, size: int = 10, product_type: str = "farmasi"
    ) -> KfaPage | Outcome:
        """`GET /kfa-v2/products/all`: a page of products matching `keyword`, or the failed
        outcome."""
        params = {
            "page": str(page),
            "size": str(size),
            "product_type": product_type,
            "keyword": keyword,
        }
        outcome = await self._get("/kfa-v2/products/all", params)
        if not isinstance(outcome, Ok):
            return outcome
        body = outcome.body if isinstance(outcome.body, dict) else {}
        data = (body.get("items") or {}).get("data") or []
        return KfaPage(
            items=tuple(parse_item(d) for d in data if isinstance(d, dict)),
            total=int(body.get("total") or 0),
            page=int(body.get("page") or page),
            size=int(body.get("size") or size),
        )

    async def product(self, code: str) -> KfaItem | None | Outcome:
        """`GET /kfa-v2/products?identifier=kfa&code=`: the product, None when KFA does not
        know the code, or the failed outcome."""
        outcome = await self._get("/kfa-v2/products", {"identifier": "kfa", "code": code})
        if isinstance(outcome, Rejected) and outcome.status == 404:
            return None
        if not isinstance(outcome, Ok):
            return outcome
        result = outcome.body.get("result") if isinstance(outcome.body, dict) else None
        return parse_item(result) if isinstance(result, dict) and result else None
