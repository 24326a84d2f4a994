"""Live updates: the worker's notices reach the tab that asked, without a reload.

Page states register which subjects they show (`register`); the app's notifier opens that
tab's state with `app.modify_state` and lets each registered state reload its rows from the
database. Pages also reload on load, so a missed push never leaves stale data for long.
"""

from __future__ import annotations

import asyncio
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
        if notice.client_token:
            for state_cls in listeners(notice.subject_type):
                token = rx.BaseStateToken(ident=notice.client_token, cls=state_cls)
                async with app.modify_state(token) as root:
                    state = await root.get_state(state_cls)
                    state._on_sync_notice(notice)
        # Queue boards of the branch show the visit's sync state too.
        if notice.subject_type == "visit" and notice.branch_id:
            _schedule(app, branch_topic(notice.branch_id), "")

    return notify


# ----- boards: every open tab watching a topic is told when it changes ---------------------
# A topic is a string such as "branch:3" (anything about the visits of branch 3). Tabs watch
# a topic while their page is open; a handler that changes something calls `publish(topic)`
# and every other watching tab reloads its rows through `_on_board_change(topic)`.
# The registry lives in this process: the app runs one backend process (see docs).
_APP: rx.App | None = None
_WATCHERS: dict[str, dict[str, type[rx.State]]] = defaultdict(dict)  # topic -> token -> state


def bind_app(app: rx.App) -> None:
    global _APP
    _APP = app


def branch_topic(branch_id: int) -> str:
    return f"branch:{branch_id}"


def watch(topic: str, client_token: str, state_cls: type[rx.State]) -> None:
    """Let this tab's `state_cls` hear about `topic`; a tab watches one topic per state."""
    if not client_token:
        return
    for watchers in _WATCHERS.values():
        if watchers.get(client_token) is state_cls:
            watchers.pop(client_token)
    _WATCHERS[topic][client_token] = state_cls


def unwatch(client_token: str, state_cls: type[rx.State]) -> None:
    for watchers in _WATCHERS.values():
        if watchers.get(client_token) is state_cls:
            watchers.pop(client_token)


def watchers(topic: str) -> dict[str, type[rx.State]]:
    return dict(_WATCHERS.get(topic, {}))


async def publish_now(app: rx.App, topic: str, *, exclude: str = "") -> None:
    for client_token, state_cls in watchers(topic).items():
        if client_token == exclude:
            continue
        try:
            token = rx.BaseStateToken(ident=client_token, cls=state_cls)
            async with app.modify_state(token) as root:
                state = await root.get_state(state_cls)
                state._on_board_change(topic)
        except Exception:  # a closed or broken tab must not stop the others
            log.warning("Live update to a tab failed; it is no longer watched", exc_info=True)
            _WATCHERS[topic].pop(client_token, None)


def publish(topic: str, *, exclude: str = "") -> None:
    """Tell the other tabs watching `topic` (not `exclude`, the tab that acted: it reloads
    itself). Called from event handlers after their change is committed; runs in the
    background so the handler does not wait."""
    if _APP is not None:
        _schedule(_APP, topic, exclude)


# Changes that come close together reach each tab once: a publish waits this long and
# takes along every publish of the same topic made meanwhile.
COALESCE_SECONDS = 0.05
_SCHEDULED: dict[str, str] = {}  # topic -> the tab to leave out ("" once two tabs acted)
_PENDING: set[asyncio.Task] = set()


def _schedule(app: rx.App, topic: str, exclude: str) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if topic in _SCHEDULED:
        if _SCHEDULED[topic] != exclude:
            _SCHEDULED[topic] = ""
        return
    _SCHEDULED[topic] = exclude

    async def later() -> None:
        await asyncio.sleep(COALESCE_SECONDS)
        left_out = _SCHEDULED.pop(topic, "")
        await publish_now(app, topic, exclude=left_out)

    task = loop.create_task(later())
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)
