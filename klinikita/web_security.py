"""Security headers on every HTTP response of the backend (in production that includes the
pages: `reflex run --env prod` serves them from the backend's port).

Which origins may call the backend is Reflex's own `cors_allowed_origins` (rxconfig.py): it
feeds both the CORS middleware and the websocket's Origin check.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from reflex_base.config import get_config
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from klinikita.settings import get_settings

HSTS_MAX_AGE = 365 * 24 * 3600


def _socket_origins(api_url: str) -> list[str]:
    """The backend's origin, over HTTP and over the websocket."""
    parts = urlsplit(api_url)
    if not parts.netloc:
        return []
    ws = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"]


def content_security_policy(api_url: str) -> str:
    """What a Klinikita page may load: its own scripts and styles (React Router's inline boot
    script and Radix's inline styles included), images and fonts of its own or inlined, and
    connections to its own origin and the backend; nothing may frame it."""
    connect = " ".join(["'self'", *_socket_origins(api_url)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(*, api_url: str, https: bool) -> list[tuple[str, str]]:
    """The headers every response carries; HSTS only when staff reach the app over https."""
    headers = [
        ("Content-Security-Policy", content_security_policy(api_url)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        # Password reset links carry their token in the URL: never pass it on.
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}"))
    return headers


class SecurityHeaders:
    """ASGI middleware: adds `headers` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: Iterable[tuple[str, str]]) -> None:
        self.app = app
        self.headers = list(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(raw=list(message.get("headers", [])))
                for name, value in self.headers:
                    response_headers.setdefault(name, value)
                message["headers"] = response_headers.raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """The backend's ASGI app wrapped in SecurityHeaders (an `api_transformer` of rx.App)."""
    headers = security_headers(api_url=get_config().api_url, https=get_settings().public_https)
    return SecurityHeaders(app, headers)
