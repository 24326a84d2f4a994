"""OAuth2 client-credentials tokens, cached per client and refreshed one at a time."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import lru_cache

import httpx

from klinikita.integrations.satusehat.config import Credentials
from klinikita.integrations.satusehat.exchange import Exchange, ExchangeSink, redact_body
from klinikita.integrations.satusehat.outcomes import (
    AuthFailed,
    Transient,
    classify,
    from_exception,
)
from klinikita.metrics import TOKEN_REFRESHES, record_satusehat_call

# Refresh this long before SATUSEHAT's own expiry, so no request carries a dying token.
EXPIRY_MARGIN_S = 60
# SATUSEHAT refuses token requests for a minute after a refused secret (API.md 2).
BLOCK_AFTER_REFUSAL_S = 60


class TokenUnavailable(Exception):
    def __init__(self, outcome: AuthFailed | Transient) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


@dataclass
class _Entry:
    secret: str
    token: str | None = None
    expires_at: float = 0.0
    blocked_until: float = 0.0
    block_reason: str = ""


class TokenCache:
    """One cache per process. Keyed by (auth URL, client id); a changed secret starts over."""

    def __init__(self, clock=time.monotonic) -> None:  # noqa: ANN001
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.requests_made = 0

    def _entry(self, creds: Credentials) -> _Entry:
        key = (creds.auth_url, creds.client_id)
        entry = self._entries.get(key)
        if entry is None or entry.secret != creds.secret:
            entry = _Entry(secret=creds.secret)
            self._entries[key] = entry
        return entry

    def forget(self, creds: Credentials) -> None:
        """Drop the cached token (not a refusal block), so the next `get` asks SATUSEHAT."""
        entry = self._entry(creds)
        entry.token, entry.expires_at = None, 0.0

    def invalidate(self, creds: Credentials, token: str) -> None:
        entry = self._entry(creds)
        if entry.token == token:
            entry.token, entry.expires_at = None, 0.0

    async def get(
        self, creds: Credentials, http: httpx.AsyncClient, sink: ExchangeSink | None
    ) -> str:
        entry = self._entry(creds)
        if entry.token and self._clock() < entry.expires_at:
            return entry.token
        lock = self._locks.setdefault((creds.auth_url, creds.client_id), asyncio.Lock())
        async with lock:
            entry = self._entry(creds)
            # Another caller may have refreshed while we waited for the lock.
            if entry.token and self._clock() < entry.expires_at:
                return entry.token
            if self._clock() < entry.blocked_until:
                wait = int(entry.blocked_until - self._clock()) + 1
                raise TokenUnavailable(
                    AuthFailed(
                        f"{entry.block_reason} Permintaan token ditahan {wait} detik lagi "
                        "(aturan SATUSEHAT: 1 menit setelah secret ditolak)."
                    )
                )
            return await self._fetch(creds, http, entry, sink)

    async def _fetch(
        self, creds: Credentials, http: httpx.AsyncClient, entry: _Entry, sink: ExchangeSink | None
    ) -> str:
        url = f"{creds.auth_url}/accesstoken"
        form = {"client_id": creds.client_id, "client_secret": creds.secret}
        self.requests_made += 1
        started = time.perf_counter()
        response = None
        try:
            response = await http.post(url, params={"grant_type": "client_credentials"}, data=form)
        except httpx.HTTPError as exc:
            outcome = from_exception(exc)
            await _log(sink, url, started, None, form, None, outcome.message)
            TOKEN_REFRESHES.labels("unavailable").inc()
            raise TokenUnavailable(outcome) from exc
        outcome = classify(response)
        await _log(sink, url, started, response.status_code, form, response.text, "")
        body = outcome.body if hasattr(outcome, "body") else None
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            entry.token = str(body["access_token"])
            lifetime = _lifetime(body.get("expires_in"))
            margin = min(EXPIRY_MARGIN_S, lifetime // 10)
            entry.expires_at = self._clock() + max(0, lifetime - margin)
            TOKEN_REFRESHES.labels("ok").inc()
            return entry.token
        if isinstance(outcome, Transient):
            TOKEN_REFRESHES.labels("unavailable").inc()
            raise TokenUnavailable(outcome)
        TOKEN_REFRESHES.labels("refused").inc()
        message = getattr(outcome, "message", f"HTTP {response.status_code}")
        entry.blocked_until = self._clock() + BLOCK_AFTER_REFUSAL_S
        entry.block_reason = f"Client ID atau Secret Key ditolak SATUSEHAT: {message}."
        raise TokenUnavailable(AuthFailed(entry.block_reason, response.status_code))


@lru_cache(maxsize=1)
def shared_token_cache() -> TokenCache:
    """The one cache of this process: the app's worker and its connection tests share it, so a
    refused secret blocks both for SATUSEHAT's minute and a fresh token serves both."""
    return TokenCache()


def _lifetime(raw: object) -> int:
    # `expires_in` is a string of seconds ("3599", "14399"); read it, never assume.
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return 0


async def _log(sink, url, started, status, form, response_text, error) -> None:  # noqa: ANN001
    record_satusehat_call("token", status, time.perf_counter() - started)
    if sink is None:
        return
    await sink(
        Exchange(
            method="POST",
            url=f"{url}?grant_type=client_credentials",
            status_code=status,
            duration_ms=int((time.perf_counter() - started) * 1000),
            request_body=redact_body({"client_id": form["client_id"], "client_secret": "***"}),
            response_body=redact_body(response_text),
            error=error,
            resource_type="token",
        )
    )
