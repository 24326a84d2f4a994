"""The login state every page state inherits: who is logged in, as what, where.

The browser holds only its own random session token (localStorage). The server keeps
its hash with the active duty and branch; every handler re-reads them through
`_authorize`, the one shared guard, so nothing the browser sends can widen its rights.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope, session_scope
from klinikita.models.enums import Duty
from klinikita.navigation import item_for_route, menu_for
from klinikita.services import auth as auth_service
from klinikita.services.actor_cache import cached_actor
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied
from klinikita.services.passwords import PASSWORD_FIELD_MAX, USERNAME_FIELD_MAX
from klinikita.services.permissions import Action, allows, require
from klinikita.services.text_input import InputRefused, payload_form, payload_text
from klinikita.state import live, page_loads


class SessionExpired(PermissionDenied):
    """No valid login behind this tab: the exception handler sends it to the login page."""

    def __init__(self) -> None:
        super().__init__("Sesi Anda telah berakhir. Silakan masuk kembali.")


def _safe_next(path: str) -> str:
    # Only same-site relative paths, never "//host" or a scheme.
    if path.startswith("/") and not path.startswith("//") and "://" not in path:
        return path
    return routes.BERANDA


class AuthState(rx.State):
    auth_token: str = rx.LocalStorage(name="klinikita_session", sync=True)

    is_authenticated: bool = False
    full_name: str = ""
    username: str = ""
    duty: str = ""
    duty_label: str = ""
    branch_id: int = 0
    branch_name: str = ""
    duty_options: list[dict[str, str]] = []
    branch_options: list[dict[str, str]] = []
    menu: list[dict[str, str]] = []
    page_allowed: bool = True
    active_menu: str = ""

    # ----- the shared guard -------------------------------------------------------
    def _client_token(self) -> str:
        """This tab's token, from the session var itself: `self.router` composes a
        RouterData of the session, headers, page and URL on every access (a heavy click
        asked two or three times)."""
        return self.rx_router_session.client_token or ""

    def _current_actor(self) -> Actor | None:
        token = self.auth_token
        return cached_actor(token, lambda: auth_service.actor_for(token))

    def _authorize(self, action: Action) -> Actor:
        """The actor behind this tab if its active duty may `action`; raises otherwise.

        Raises SessionExpired or PermissionDenied; the app's exception handler turns them
        into a message (and a redirect to the login page for an ended session)."""
        actor = self._current_actor()
        if actor is None:
            raise SessionExpired()
        require(actor.duty, action)
        return actor

    # ----- what the shell shows ---------------------------------------------------
    def _show(self, actor: Actor) -> None:
        with read_scope() as session:
            choices = auth_service.shell_choices(session, actor.user_id)
        self.is_authenticated = True
        self.full_name = actor.full_name
        self.username = actor.username
        self.duty = actor.duty
        self.duty_label = Duty(actor.duty).label
        self.branch_id = actor.branch_id
        branches = choices.branches
        self.branch_name = next((name for bid, name in branches if bid == actor.branch_id), "")
        self.duty_options = [{"value": d.value, "label": d.label} for d in choices.duties]
        self.branch_options = [{"value": str(bid), "label": name} for bid, name in branches]
        self.menu = [
            {"key": m.key, "label": m.label, "route": m.route, "icon": m.icon}
            for m in menu_for(actor.duty)
        ]

    def _clear(self) -> None:
        self.is_authenticated = False
        self.full_name = self.username = self.duty = self.duty_label = self.branch_name = ""
        self.branch_id = 0
        self.duty_options, self.branch_options, self.menu = [], [], []

    @rx.event
    def check_login(self):
        """on_load of every protected page: reload who this is from the database."""
        # A tab watches the live board of the page it shows; that page's load watches again.
        live.unwatch_tab(self._client_token())
        actor = self._current_actor()
        path = self.router.url.path or routes.BERANDA
        if actor is None:
            self._clear()
            return rx.redirect(f"{routes.LOGIN}?next={quote(_safe_next(path))}")
        self._show(actor)
        item = item_for_route(path)
        self.active_menu = item.key if item else ""
        self.page_allowed = item is None or allows(actor.duty, item.action)

    @rx.event
    def switch_duty(self, duty: str):
        """Ganti tugas, only among the user's own duties (checked on the server)."""
        with session_scope() as session:
            actor = auth_service.switch_duty(session, self.auth_token, payload_text(duty))
        self._show(actor)
        item = item_for_route(self.router.url.path or routes.BERANDA)
        self.page_allowed = item is None or allows(actor.duty, item.action)
        # The open page loads again: what it lets this tab do follows the new duty.
        return [
            rx.toast.success(f"Tugas aktif: {Duty(actor.duty).label}"),
            *page_loads.for_path(self.router.url.path or routes.BERANDA),
        ]

    @rx.event
    def switch_branch(self, branch_id: str):
        """Ganti cabang, only among the branches the user may access."""
        try:
            wanted = int(branch_id)
        except (TypeError, ValueError):
            raise PermissionDenied("Cabang tidak dikenal.") from None
        with session_scope() as session:
            actor = auth_service.switch_branch(session, self.auth_token, wanted)
        self._show(actor)
        # The open page loads again, with the new branch's lists.
        return [
            rx.toast.success(f"Cabang aktif: {self.branch_name}"),
            *page_loads.for_path(self.router.url.path or routes.BERANDA),
        ]

    @rx.event
    def logout(self):
        with session_scope() as session:
            auth_service.logout(session, self.auth_token)
        self._clear()
        self.auth_token = ""
        return rx.redirect(routes.LOGIN)


class LoginState(AuthState):
    login_error: str = ""
    submitting: bool = False

    @rx.event
    def check_already_logged_in(self):
        self.login_error = ""
        if self._current_actor() is not None:
            return rx.redirect(routes.BERANDA)

    @rx.event(background=True)
    async def submit(self, form_data: dict):
        """A background event: checking the password (bcrypt) takes a quarter second, which
        must not hold up the other tabs' events on the same server."""
        try:
            username = payload_form(form_data, "username", max_length=USERNAME_FIELD_MAX)
            password = payload_form(form_data, "password", max_length=PASSWORD_FIELD_MAX)
        except InputRefused:
            username = password = ""
        async with self:
            if not username.strip() or not password:
                self.login_error = "Isi nama pengguna dan kata sandi."
                return
            self.submitting = True
            user_agent = self.router.headers.user_agent if self.router.headers else ""
            address = client_address(self)
            next_path = self.router.url.query_parameters.get("next", routes.BERANDA)
        result, message = await asyncio.to_thread(
            check_credentials, username, password, user_agent, address
        )
        async with self:
            self.submitting = False
            if result is None:
                self.login_error = message
                return
            self.login_error = ""
            self.auth_token = result.token
            self._show(result.actor)
        return rx.redirect(_safe_next(str(next_path)))


def client_address(state: rx.State) -> str:
    """The address the tab's connection comes from. Reflex takes it from the socket, or
    from X-Forwarded-For only through REFLEX_TRUSTED_PROXY_HOPS trusted proxies (a header
    the client writes itself is never believed otherwise)."""
    return state.router.session.client_ip or ""


def check_credentials(  # noqa: ANN201
    username: str, password: str, user_agent: str, address: str = ""
):
    """(LoginResult, "") or (None, the refusal). The session commits even on refusal, so
    a lock is kept."""
    with session_scope() as session:
        try:
            result = auth_service.login(
                session, username, password, user_agent=user_agent, client_address=address
            )
            return result, ""
        except auth_service.LoginRefused as refused:
            return None, refused.message
