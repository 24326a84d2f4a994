"""Live updates: the worker's notices reach the tab that asked, without a reload.

Page states register which subjects they show (`register`); the app's notifier opens that
tab's state with `app.modify_state` and lets each registered state reload its rows from the
database. Pages also reload on load, so a missed push never leaves stale data for long.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import reflex as rx

from klinikita.integrations.satusehat.worker import JobNotice

log = logging.getLogger("klinikita.live")

# subject_type -> state classes with an `_on_sync_notice(notice)` method
_LISTENERS: dict[str, list[type[rx.State]]] = defaultdict(list)


def register(subject_type: str, state_cls: type[rx.State]) -> None:
    if state_cls not in _LISTENERS[subject_type]:
        _LISTENERS[subject_type].append(state_cls)


def listeners(subject_type: str) -> list[type[rx.State]]:
    return list(_LISTENERS.get(subject_type, ()))


def make_notifier(app: rx.App):  # noqa: ANN201
    async def notify(notice: JobNotice) -> None:
        if not notice.client_token:
            return
        for state_cls in listeners(notice.subject_type):
            token = rx.BaseStateToken(ident=notice.client_token, cls=state_cls)
            async with app.modify_state(token) as root:
                state = await root.get_state(state_cls)
                state._on_sync_notice(notice)

    return notify
