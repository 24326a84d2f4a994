"""State tests: handlers called directly, as the browser would call them, no Node."""

from __future__ import annotations

import pytest
import reflex as rx

import klinikita.klinikita  # noqa: F401  (builds the app and registers every state)
from klinikita.services import auth
from tests.factories import GOOD_PASSWORD


def substate(root: rx.State, cls: type[rx.State]) -> rx.State:
    return root.get_substate(cls.get_full_name().split(".")[1:])


@pytest.fixture
def root() -> rx.State:
    return rx.State()


def logged_in(db, root: rx.State, cls: type[rx.State], username: str) -> rx.State:
    """The state `cls` of a fresh tab whose browser holds `username`'s session token."""
    token = auth.login(db, username, GOOD_PASSWORD).token
    db.commit()
    state = substate(root, cls)
    state.auth_token = token
    return state


@pytest.fixture(autouse=True)
def _fresh_live_boards():
    """Shared board reads are keyed by branch id, which every test database reuses."""
    from klinikita.state import live

    live.forget_boards()
    yield
    live.forget_boards()  # made-up tabs must not stay watched for later tests


def tab_at(root: rx.State, token: str, path: str) -> None:
    """The browser tab `token` showing the page at `path`, as Reflex fills its router."""
    from reflex import constants
    from reflex.istate.data import RouterData

    root.router = RouterData.from_router_data(
        {
            constants.RouteVar.CLIENT_TOKEN: token,
            constants.RouteVar.PATH: path,
            constants.RouteVar.ORIGIN: path,
        }
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001, ARG001
    """The size of the permission matrix, when it ran (tests/state/test_permission_matrix.py)."""
    import sys

    matrix = sys.modules.get("tests.state.test_permission_matrix")
    if matrix is None or not matrix.RESULTS:
        return
    handlers = set(matrix.RESULTS)
    setvars = {h for h in handlers if h.endswith(".setvar")}
    terminalreporter.write_line(
        f"Permission matrix: {len(handlers)} handlers ({len(handlers) - len(setvars)} of the "
        f"app, {len(setvars)} Reflex setvar) x {len(matrix.SUBJECTS)} subjects "
        f"({len(matrix.SUBJECTS) - 2} duties, a logged-out tab, an admin of another branch) "
        f"= {len(matrix.RESULTS)} cases run"
    )
