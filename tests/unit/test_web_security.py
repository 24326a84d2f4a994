"""The settings behind the backend's web defences: the one allowed origin, HSTS, the
simulator control switch, and the header set (the running server is tested in
tests/e2e/test_web_security.py)."""

from __future__ import annotations

import pytest

from klinikita.settings import get_settings
from klinikita.web_security import security_headers


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch):
    def read(**env: str):
        for name in ("KLINIKITA_PUBLIC_URL", "KLINIKITA_DEMO", "KLINIKITA_SIMULATOR_CONTROL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return get_settings()

    yield read
    get_settings.cache_clear()


def test_the_public_origin_is_scheme_host_and_port_of_the_public_url(settings_from):
    settings = settings_from(KLINIKITA_PUBLIC_URL="https://rme.klinik.id:8443/klinikita/")
    assert settings.public_origin == "https://rme.klinik.id:8443"
    assert settings.public_https
    default = settings_from()
    assert default.public_origin == "http://localhost:3000"
    assert not default.public_https


def test_simulator_control_follows_the_demo_unless_set(settings_from):
    assert not settings_from().simulator_control
    assert settings_from(KLINIKITA_DEMO="1").simulator_control
    assert not settings_from(KLINIKITA_DEMO="1", KLINIKITA_SIMULATOR_CONTROL="0").simulator_control
    assert settings_from(KLINIKITA_SIMULATOR_CONTROL="1").simulator_control


def test_hsts_only_over_https_and_the_backend_in_connect_src():
    plain = dict(security_headers(api_url="http://10.0.0.5:8000", https=False))
    assert "Strict-Transport-Security" not in plain
    assert (
        "connect-src 'self' http://10.0.0.5:8000 ws://10.0.0.5:8000;"
        in (plain["Content-Security-Policy"])
    )
    secure = dict(security_headers(api_url="https://rme.klinik.id", https=True))
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert "wss://rme.klinik.id" in secure["Content-Security-Policy"]
    assert secure["X-Frame-Options"] == "DENY"
