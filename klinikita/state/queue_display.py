"""The waiting-room display: "Panggil" on Pemeriksaan, the TV page and its display tokens.

- `QueueCallMixin` gives Pemeriksaan "Panggil" (a chosen visit) and "Panggil berikutnya";
  each call is published on the branch board, which the TVs watch.
- `QueueDisplayState` is the TV (/antrean/tampil?token=...), a public page: the token is
  read from the page's address and checked on the server on every load and every live
  update; it is never copied into a state var. Numbers, units and rooms only, no names.
- `DisplayTokenState` is Pengaturan -> Layar antrean: an admin creates and revokes tokens.
  A new token reaches the browser once, written into the URL field by a script, not kept in
  any state var.
"""

from __future__ import annotations

import json

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope, session_scope
from klinikita.services import display_tokens, queue_calls
from klinikita.services.display_tokens import DisplayScope
from klinikita.services.errors import ValidationFailed
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import payload_form, payload_id
from klinikita.state import live
from klinikita.state.auth import AuthState


class QueueCallMixin(rx.State, mixin=True):
    """ "Panggil" for a page state that has `_branch_id` (Pemeriksaan)."""

    # Today's visits already called once (their button reads "Panggil ulang").
    called_ids: list[str] = []
    # Unit name -> its queue letter (services/queue_calls.py): the button says "Panggil A 12".
    queue_letters: dict[str, str] = {}

    @rx.var
    def can_call(self) -> bool:
        """The active duty may call numbers (the handlers check again on the server)."""
        return allows(self.duty, Action.QUEUE_CALL)  # type: ignore[attr-defined]

    def _load_called(self, *, shared: bool = False) -> None:
        branch_id = self._branch_id  # type: ignore[attr-defined]
        if not branch_id:
            self.called_ids = []
            return

        def read() -> tuple[frozenset[int], tuple[tuple[str, str], ...]]:
            with read_scope() as session:
                ids = queue_calls.called_visit_ids(session, branch_id)
                letters = queue_calls.letters_by_unit_name(session, branch_id)
            return ids, tuple(letters.items())

        topic = live.branch_topic(branch_id)
        ids, letters = live.shared(topic, ("called",), read) if shared else read()
        shown = sorted(str(i) for i in ids)
        if shown != self.called_ids:
            self.called_ids = shown
        if dict(letters) != self.queue_letters:
            self.queue_letters = dict(letters)

    def _after_call(self, branch_id: int, called: queue_calls.Called):  # noqa: ANN202
        self._branch_id = branch_id  # type: ignore[attr-defined]
        live.publish(
            live.branch_topic(branch_id),
            exclude=self._client_token(),  # type: ignore[attr-defined]
            visit_id=called.visit_id,
        )
        self._load_called()
        again = "Memanggil ulang" if called.again else "Memanggil"
        return rx.toast.success(f"{again} {called.label} ke {called.room_name}.")

    @rx.event
    def call_visit(self, visit_id: str):
        """Panggil / Panggil ulang: call this visit's number to its room."""
        wanted = payload_id(visit_id, "Kunjungan")
        actor = self._authorize(Action.QUEUE_CALL)  # type: ignore[attr-defined]
        with session_scope() as session:
            called = queue_calls.call_visit(session, actor, wanted)
        return self._after_call(actor.branch_id, called)

    @rx.event
    def call_next(self):
        """Panggil berikutnya: the waiting visit that arrived first and was not called."""
        actor = self._authorize(Action.QUEUE_CALL)  # type: ignore[attr-defined]
        with session_scope() as session:
            called = queue_calls.call_next(session, actor)
        return self._after_call(actor.branch_id, called)


INVALID_TOKEN = (
    "Tautan layar antrean ini tidak berlaku (salah ketik atau sudah dicabut). "
    "Minta tautan baru kepada admin klinik (Pengaturan > Layar antrean)."
)


def _call_view(call: queue_calls.ShownCall) -> dict[str, str]:
    return {
        "id": str(call.call_id),
        "label": call.label,
        "unit_name": call.unit_name,
        "room_name": call.room_name,
        "time": call.time,
        "speech": call.speech,
    }


class QueueDisplayState(rx.State):
    """The TV. Public: the display token in the address is its only credential."""

    checked: bool = False  # the token was checked once (before: a spinner)
    valid: bool = False
    message: str = ""
    clinic_name: str = ""
    timezone: str = ""  # the branch's zone: the TV's clock shows the clinic's time
    current: dict[str, str] = {}
    recent: list[dict[str, str]] = []
    units: list[dict[str, str]] = []

    def _token(self) -> str:
        return str(self.router.url.query_parameters.get("token", ""))

    def _client(self) -> str:
        return self.router.session.client_token or ""

    def _refresh(self, *, shared: bool) -> DisplayScope | None:
        """Check the token and show the board (or nothing but the message)."""
        with read_scope() as session:
            scope = display_tokens.scope_for_token(session, self._token())
            if scope is not None and not shared:
                board = queue_calls.display_board(session, scope)
        if scope is None:
            live.unwatch_tab(self._client())
            self.checked, self.valid, self.message = True, False, INVALID_TOKEN
            self.clinic_name, self.current, self.recent, self.units = "", {}, [], []
            self.timezone = ""
            return None
        if shared:

            def read() -> queue_calls.Board:
                with read_scope() as session:
                    return queue_calls.display_board(session, scope)

            topic = live.branch_topic(scope.branch_id)
            board = live.shared(topic, ("display", scope.unit_id), read)
        shown = {
            "checked": True,
            "valid": True,
            "message": "",
            "clinic_name": board.clinic_name,
            "timezone": board.timezone,
            "current": _call_view(board.current) if board.current else {},
            "recent": [_call_view(c) for c in board.recent],
            "units": [
                {
                    "letter": u.letter,
                    "unit_name": u.unit_name,
                    "waiting": " · ".join(u.waiting) if u.waiting else "-",
                    "more": f"+{u.waiting_count - len(u.waiting)} lagi"
                    if u.waiting_count > len(u.waiting)
                    else "",
                }
                for u in board.units
            ],
        }
        for name, value in shown.items():
            if getattr(self, name) != value:
                setattr(self, name, value)
        return scope

    @rx.event
    def load(self):
        """on_load: check the token; a valid one shows its board and follows it live."""
        scope = self._refresh(shared=False)
        if scope is not None:
            live.watch(live.branch_topic(scope.branch_id), self._client(), type(self))

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:
        """A call, a registration or a cancellation in the branch: check the token again
        and show the board as it is now."""
        del topic, changed
        self._refresh(shared=True)


class DisplayTokenState(AuthState):
    """Pengaturan -> Layar antrean: the branch's display tokens."""

    can_manage: bool = False
    tokens: list[dict[str, str]] = []
    unit_options: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    url_shown: bool = False  # a new token's URL is in the field (put there by a script)

    def _load_tokens(self, branch_id: int) -> None:
        with read_scope() as session:
            rows = display_tokens.list_tokens(session, branch_id)
            units = queue_calls.active_units(session, branch_id)
        self.tokens = [
            {
                "id": str(r.token_id),
                "name": r.name,
                "unit_name": r.unit_name,
                "created": r.created,
                "revoked": r.revoked,
            }
            for r in rows
        ]
        self.unit_options = [
            {"value": str(unit_id), "label": f"{letter} - {name}"}
            for unit_id, letter, name in units
        ]

    @rx.event
    def load(self):
        actor = self._current_actor()
        self.url_shown, self.errors = False, {}
        if actor is None or not allows(actor.duty, Action.QUEUE_DISPLAY_MANAGE):
            self.can_manage, self.tokens, self.unit_options = False, [], []
            return
        self.can_manage = True
        self._load_tokens(actor.branch_id)

    @rx.event
    def create(self, form_data: dict):
        """Buat tautan: a new token; its URL is shown once."""
        actor = self._authorize(Action.QUEUE_DISPLAY_MANAGE)
        name = payload_form(form_data, "name", max_length=400)
        unit = payload_form(form_data, "unit_id", max_length=20)
        try:
            with session_scope() as session:
                created = display_tokens.create_token(session, actor, name, unit)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return
        self.errors, self.url_shown = {}, True
        self._load_tokens(actor.branch_id)
        path = json.dumps(f"{routes.ANTREAN_TAMPIL}?token={created.token}")
        return [
            rx.call_script(
                "(() => { const f = document.getElementById('display-token-url');"
                f" if (f) {{ f.value = window.location.origin + {path}; f.select(); }} }})()"
            ),
            rx.toast.success("Tautan layar dibuat. Buka tautan ini di TV ruang tunggu."),
        ]

    @rx.event
    def revoke(self, token_id: str):
        """Cabut: the TV shows nothing of the branch from its next update on."""
        wanted = payload_id(token_id, "Layar antrean")
        actor = self._authorize(Action.QUEUE_DISPLAY_MANAGE)
        with session_scope() as session:
            name = display_tokens.revoke_token(session, actor, wanted)
        self._load_tokens(actor.branch_id)
        # The TVs watching the branch check their token again now.
        live.publish(live.branch_topic(actor.branch_id), exclude=self._client_token())
        return rx.toast.success(f"Akses layar {name} dicabut.")

    @rx.event
    def hide_url(self):
        self.url_shown = False
