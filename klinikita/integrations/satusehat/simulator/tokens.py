"""OAuth2 client-credentials tokens: issue, validate, expire, lock out after a bad secret."""

from __future__ import annotations

import math
import secrets
import string
import threading
from dataclasses import dataclass
from typing import Any

from . import errors
from .clients import ClientRegistry, SimClient
from .clock import SimClock
from .config import SimulatorConfig

_TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 28


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    client_id: str
    organization_id: str
    issued_at: float
    expires_at: float


class TokenService:
    def __init__(self, config: SimulatorConfig, clients: ClientRegistry, clock: SimClock):
        self._config = config
        self._clients = clients
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, IssuedToken] = {}
        self._locked_until: dict[str, float] = {}

    def bind_config(self, config: SimulatorConfig) -> None:
        self._config = config

    def issue(
        self, client_id: str | None, client_secret: str | None
    ) -> tuple[IssuedToken, dict[str, Any]]:
        """Answer a token request; raises `FhirError` with the gateway's exact error bodies."""
        client = self._clients.get(client_id or "")
        if client is None:
            raise errors.invalid_client()
        now = self._clock.now()
        with self._lock:
            locked_until = self._locked_until.get(client.client_id, 0.0)
            if now < locked_until:
                raise errors.token_rate_limited(
                    self._config.lockout_status, math.ceil(locked_until - now)
                )
            if not secrets.compare_digest(client.client_secret, client_secret or ""):
                self._locked_until[client.client_id] = now + self._config.lockout_seconds
                raise errors.token_auth_failed()
            token = IssuedToken(
                access_token="".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH)),
                client_id=client.client_id,
                organization_id=client.organization_id,
                issued_at=now,
                expires_at=now + self._config.token_lifetime_seconds,
            )
            self._tokens[token.access_token] = token
        return token, self._token_body(client, token)

    def _token_body(self, client: SimClient, token: IssuedToken) -> dict[str, Any]:
        products = list(self._config.api_product_list)
        return {
            "refresh_token_expires_in": "0",
            "api_product_list": "[" + ", ".join(products) + "]",
            "api_product_list_json": products,
            "organization_name": self._config.organization_name,
            "developer.email": client.developer_email,
            "token_type": "BearerToken",
            "issued_at": str(int(token.issued_at * 1000)),
            "client_id": client.client_id,
            "access_token": token.access_token,
            "application_name": client.application_name,
            "scope": "",
            "expires_in": str(self._config.token_lifetime_seconds),
            "refresh_count": "0",
            "status": "approved",
        }

    def validate(self, access_token: str | None) -> IssuedToken | None:
        if not access_token:
            return None
        with self._lock:
            token = self._tokens.get(access_token)
            if token is None:
                return None
            if self._clock.now() >= token.expires_at:
                del self._tokens[access_token]
                return None
            return token

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def active_count(self) -> int:
        now = self._clock.now()
        with self._lock:
            return sum(1 for t in self._tokens.values() if t.expires_at > now)

    def clear_lockouts(self) -> None:
        with self._lock:
            self._locked_until.clear()

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._locked_until.clear()
