"""End-to-end: the real app (AppHarness) in real headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from reflex.testing import AppHarness
from reflex_base.config import get_config
from sqlmodel import Session, SQLModel

from klinikita.db import get_engine
from klinikita.services import auth as auth_service
from klinikita.services import rate_limits
from klinikita.services.seed import seed_demo
from klinikita.settings import PROJECT_ROOT, get_settings
from klinikita.state import live

CHROMIUM = os.environ.get("KLINIKITA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESK = {"width": 1280, "height": 800}
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
TABLET_PORTRAIT = {"width": 768, "height": 1024}


def _use_project_js_tools() -> None:
    # Node 22 and bun come from the npm registry into .tools/ (see Makefile).
    tools_bin = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"
    if tools_bin.is_dir():
        os.environ["PATH"] = f"{tools_bin}{os.pathsep}{os.environ['PATH']}"
        os.environ.setdefault("REFLEX_USE_SYSTEM_BUN", "1")


def reset_demo_database() -> None:
    engine = get_engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        # Nothing queued: each test decides what is sent (and which send the simulator fails).
        seed_demo(session, queue_satusehat=False)
        session.commit()


@pytest.fixture(scope="session")
def app_harness() -> Iterator[AppHarness]:
    _use_project_js_tools()
    # The browser tests run the whole product: the SATUSEHAT worker inside the app, talking
    # to the simulator mounted on the app's backend (in memory).
    os.environ["KLINIKITA_RUN_WORKER"] = "1"
    # The tests inject the simulator's failures through its control endpoints (admin only).
    os.environ["KLINIKITA_SIMULATOR_CONTROL"] = "1"
    get_settings.cache_clear()
    reset_demo_database()
    with AppHarness.create(root=PROJECT_ROOT, app_name="klinikita") as harness:
        _allow_frontend_origin(harness)
        # The harness serves the backend on a random port: point the worker at the simulator
        # mounted there (settings are read again by the worker for every job).
        host, port = harness.backend.servers[0].sockets[0].getsockname()[:2]
        os.environ["KLINIKITA_SIMULATOR_URL"] = f"http://{host}:{port}/satusehat-sim"
        get_settings.cache_clear()
        yield harness


def _allow_frontend_origin(harness: AppHarness) -> None:
    """The dev frontend listens on a port it picks after the backend took its allowed
    origins (KLINIKITA_PUBLIC_URL): let that frontend's pages call the backend and open its
    websocket too, in the two lists the backend checks (CORS's, the websocket's)."""
    parts = urlsplit(harness.frontend_url or "")
    origin = f"{parts.scheme}://{parts.netloc}"
    get_config().cors_allowed_origins.append(origin)
    if harness.app_instance is not None and harness.app_instance.sio is not None:
        harness.app_instance.sio.eio.cors_allowed_origins.append(origin)


def admin_session_headers() -> dict[str, str]:
    """A fresh login of the demo admin, as the header the simulator's control endpoints on
    the app's backend ask for (the session token a logged-in tab keeps)."""
    with Session(get_engine()) as session:
        result = auth_service.login(session, "admin", "Admin#2026", user_agent="e2e")
        session.commit()
    return {"Authorization": f"Bearer {result.token}"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def app_url(app_harness: AppHarness) -> str:
    reset_demo_database()  # every test starts from the same demo data
    rate_limits.reset()  # and no login tries counted (the app runs in this process)
    live.forget_boards()  # and no tab of an earlier test is still watched
    return app_harness.frontend_url.rstrip("/")
