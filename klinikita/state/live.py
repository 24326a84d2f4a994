"""Live updates: the worker's notices reach the tab that asked, without a reload.

Page states register which subjects they show (`register`); the app's notifier opens that
tab's state with `app.modify_state` and lets each registered state reload its rows from the
database. Pages also reload on load, so a missed push never leaves stale data for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from klinikita.services import actor_cache
from klinikita.services.job_notices import JobNotice

log = logging.getLogger("klinikita.live")

# subject_type -> state classes with an `_on_sync_notice(notice)` method
_LISTENERS: dict[str, list[type[rx.State]]] = defaultdict(list)


def register(subject_type: str, state_cls: type[rx.State]) -> None:
    if state_cls not in _LISTENERS[subject_type]:
        _LISTENERS[subject_type].append(state_cls)


def listeners(subject_type: str) -> list[type[rx.State]]:
    return list(_LISTENERS.get(subject_type, ()))


def make_notifier(app: rx.App, *, tell_other_processes: bool = True):  # noqa: ANN201
    """The worker's notifier. A worker inside this process tells the other backend processes'
    boards too; the relay of a worker running as its own process does not (every backend
    process relays every finished job itself), and with Redis only one of those processes
    tells the tab that asked (`_first_to_tell`)."""

    async def notify(notice: JobNotice) -> None:
        if notice.client_token and (tell_other_processes or await _first_to_tell(notice)):
            for state_cls in listeners(notice.subject_type):
                token = rx.BaseStateToken(ident=notice.client_token, cls=state_cls)
                async with app.modify_state(token) as root:
                    state = await root.get_state(state_cls)
                    state._on_sync_notice(notice)
        # Queue boards of the branch show the visit's sync state too.
        if notice.subject_type == "visit" and notice.branch_id:
            topic = branch_topic(notice.branch_id)
            _VERSIONS[topic] += 1
            # The tab that asked has just been told (above).
            _schedule(app, topic, notice.client_token or "", notice.subject_id)
            if tell_other_processes:
                _tell_other_processes(topic, notice.client_token or "", notice.subject_id)

    return notify


NOTICE_CLAIM_SECONDS = 600  # longer than any relay looks back for ended jobs


async def _first_to_tell(notice: JobNotice) -> bool:
    """Whether this process tells the asking tab of `notice`. With a worker in its own
    process, every backend process relays every ended job; the tab's state lives in Redis
    and any process can change it, so each would tell it once more (as many reloads of the
    visit, and as many updates sent, as there are processes). The first process to claim
    the ending in Redis tells it; without Redis (one process) or when Redis fails, this
    one does: a notice told twice is better than one lost."""
    bus = _BUS
    if bus is None or not notice.ended_at:
        return True
    key = f"{bus.channel}:told:{notice.job_id}:{notice.status}:{notice.ended_at}"
    try:
        return bool(await bus.client.set(key, _INSTANCE, nx=True, ex=NOTICE_CLAIM_SECONDS))
    except Exception:  # noqa: BLE001
        log.warning("Could not claim a job notice in Redis; telling the tab anyway", exc_info=True)
        return True


# ----- boards: every open tab watching a topic is told when it changes ---------------------
# A topic is a string such as "branch:3" (anything about the visits of branch 3). A tab
# watches one topic with the state of the page it shows (`watch` in the page's load; every
# page load first drops the tab's watch in `AuthState.check_login`). A handler that changed
# something calls `publish(topic, visit_id=...)`, and every other watching tab reloads
# through `_on_board_change(topic, changed)`, where `changed` holds the visit ids concerned
# (empty: anything may have changed).
# Many tabs reload the same rows after one change: `shared()` lets the first one read them
# and the others reuse that read until the next change of the topic.
# The registry lives in this process: the app runs one backend process (see docs).
_APP: rx.App | None = None
_WATCHERS: dict[str, dict[str, type[rx.State]]] = defaultdict(dict)  # topic -> token -> state
_VERSIONS: dict[str, int] = defaultdict(int)  # topic -> changes published so far
# A tab that shows one visit (Pemeriksaan with a visit open) hears only of that visit:
# told of other visits it would do nothing, and on a busy board those empty updates were
# most of the loop's work.
_FOCUS: dict[str, int] = {}  # client token -> visit id
_SHARED: dict[tuple[str, Hashable], tuple[int, float, Any]] = {}
SHARED_MAX_AGE = 2.0  # seconds; changes made by other processes show up after this at most

Changed = frozenset[int]


def bind_app(app: rx.App) -> None:
    global _APP
    _APP = app


def branch_topic(branch_id: int) -> str:
    return f"branch:{branch_id}"


def watch(topic: str, client_token: str, state_cls: type[rx.State]) -> None:
    """Let this tab hear about `topic` through `state_cls`, instead of what it watched."""
    if not client_token:
        return
    unwatch_tab(client_token)
    _WATCHERS[topic][client_token] = state_cls


def unwatch_tab(client_token: str) -> None:
    for watchers in _WATCHERS.values():
        watchers.pop(client_token, None)
    _FOCUS.pop(client_token, None)


def focus(client_token: str, visit_id: int) -> None:
    """The watching tab now shows only `visit_id` (0: it shows the whole board again)."""
    if not client_token:
        return
    if visit_id:
        _FOCUS[client_token] = visit_id
    else:
        _FOCUS.pop(client_token, None)


# Who changed what: visit id (None: any visit) -> the tabs that changed it ("": no tab, such
# as the worker or another backend process's tab that is not known here).
Changes = dict[int | None, frozenset[str]]


def _told(client_token: str, changes: Changes) -> Changed | None:
    """What `client_token` hears of `changes`: the visits another tab changed (empty:
    anything may have changed), or None when there is nothing to tell it: it made every
    change itself (it reloaded then), or it shows one visit that did not change."""
    others = {v for v, actors in changes.items() if actors - {client_token}}
    if not others:
        return None
    changed = frozenset() if None in others else frozenset(others)
    shown = _FOCUS.get(client_token)
    if shown and changed and shown not in changed:
        return None
    return changed


def watchers(topic: str) -> dict[str, type[rx.State]]:
    return dict(_WATCHERS.get(topic, {}))


def shared(topic: str, key: Hashable, load: Callable[[], Any]) -> Any:
    """`load()`'s result, read once per change of `topic` for every tab that asks (and at
    least every SHARED_MAX_AGE seconds). Only for immutable results."""
    now = time.monotonic()
    hit = _SHARED.get((topic, key))
    if hit is not None and hit[0] == _VERSIONS[topic] and now - hit[1] < SHARED_MAX_AGE:
        return hit[2]
    value = load()
    _SHARED[(topic, key)] = (_VERSIONS[topic], now, value)
    return value


def forget_boards() -> None:
    """No tab watches anything any more, and no read is shared (tests: each starts clean)."""
    _WATCHERS.clear()
    _FOCUS.clear()
    _SHARED.clear()
    _SCHEDULED.clear()


async def publish_now(
    app: rx.App, topic: str, *, exclude: str = "", changed: Changed = frozenset()
) -> None:
    """Tell the tabs watching `topic` now that `changed` (empty: anything) changed, made by
    the tab `exclude`, which is not told."""
    actors = frozenset({exclude})
    await deliver(app, topic, {v: actors for v in changed} if changed else {None: actors})


async def deliver(app: rx.App, topic: str, changes: Changes) -> None:
    for client_token, state_cls in watchers(topic).items():
        changed = _told(client_token, changes)
        if changed is None:
            continue
        # Let waiting events run between two tabs: one change reaches every open tab, and
        # a person's click must not wait behind all of those updates.
        await asyncio.sleep(0)
        try:
            token = rx.BaseStateToken(ident=client_token, cls=state_cls)
            async with app.modify_state(token) as root:
                state = await root.get_state(state_cls)
                state._on_board_change(topic, changed)
        except Exception:  # a closed or broken tab must not stop the others
            log.warning("Live update to a tab failed; it is no longer watched", exc_info=True)
            _WATCHERS[topic].pop(client_token, None)


def publish(topic: str, *, exclude: str = "", visit_id: int | None = None) -> None:
    """Tell the other tabs watching `topic` (not `exclude`, the tab that acted: it reloads
    itself) that `visit_id` (or, with None, anything) changed. Called from event handlers
    after their change is committed; runs in the background so the handler does not wait.
    With Redis, the app's other backend processes are told too (`relay_boards`)."""
    _VERSIONS[topic] += 1
    if _APP is not None:
        _schedule(_APP, topic, exclude, visit_id)
    _tell_other_processes(topic, exclude, visit_id)


# Changes that come close together reach each tab once: a publish waits this long and
# takes along every publish of the same topic made meanwhile.
COALESCE_SECONDS = 0.2


@dataclass
class _Pending:
    # Who changed what (see `Changes`): a tab is not told of its own changes even when
    # other tabs' changes travel in the same delivery (its visit's record is not reloaded
    # because another desk registered someone else).
    changes: dict[int | None, set[str]]
    task: asyncio.Task | None = None  # the delivery that takes this along


_SCHEDULED: dict[str, _Pending] = {}
_TASKS: set[asyncio.Task] = set()


def _schedule(app: rx.App, topic: str, exclude: str, visit_id: int | None) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    pending = _SCHEDULED.get(topic)
    if pending is not None and pending.task is not None and pending.task.done():
        pending = None  # its loop ended before delivering (a test's loop): start anew
    if pending is not None:
        pending.changes.setdefault(visit_id, set()).add(exclude)
        return
    pending = _SCHEDULED[topic] = _Pending({visit_id: {exclude}})

    async def later() -> None:
        await asyncio.sleep(COALESCE_SECONDS)
        if _SCHEDULED.get(topic) is pending:
            del _SCHEDULED[topic]
        changes = {v: frozenset(actors) for v, actors in pending.changes.items()}
        await deliver(app, topic, changes)

    task = pending.task = loop.create_task(later())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


# ----- several backend processes (Redis) ----------------------------------------------------
# Each process knows only the tabs connected to it. With Redis (production, several backend
# workers), a publish also goes out on a Redis channel, and every other process delivers it
# to its own watching tabs (Reflex routes each tab's update to the process holding its
# socket). Without Redis there is one backend process and nothing to tell. The same channel
# carries "accounts changed" (a logout, ganti tugas, a deactivated user): every other process
# then forgets the actors it remembers (services/actor_cache.py).
_INSTANCE = uuid.uuid4().hex  # this process, so it skips its own messages
_BUS: Any = None  # the Redis client while `relay_boards` runs
RELAY_RETRY_SECONDS = 2.0


def board_channel(db_url: str) -> str:
    """One channel per database: two deployments sharing a Redis never mix their boards."""
    return "klinikita:boards:" + hashlib.sha256(db_url.encode()).hexdigest()[:16]


def _tell_other_processes(topic: str, exclude: str, visit_id: int | None) -> None:
    _send_to_other_processes({"topic": topic, "exclude": exclude, "visit_id": visit_id})


def _tell_accounts_changed() -> None:
    """Logins, users, duties or branches changed here: the other processes forget the
    actors they remember (services/actor_cache.py)."""
    _send_to_other_processes({"kind": ACCOUNTS})


ACCOUNTS = "accounts"  # the kind of message that is not about a board
actor_cache.when_accounts_change(_tell_accounts_changed)


def _send_to_other_processes(told: dict[str, Any]) -> None:
    bus = _BUS
    if bus is None:
        return
    message = json.dumps({"from": _INSTANCE, **told})

    async def send() -> None:
        try:
            await bus.client.publish(bus.channel, message)
        except Exception:  # the board is a convenience: a page also reloads on load
            log.warning("Telling the other backend processes failed", exc_info=True)

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not bus.loop:
        # A commit in a thread (the login's, say): the relay's loop sends it.
        asyncio.run_coroutine_threadsafe(send(), bus.loop)
        return
    task = loop.create_task(send())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


@dataclass
class _Bus:
    client: Any
    channel: str
    loop: asyncio.AbstractEventLoop  # the relay's (the app's) loop


async def relay_boards(app: rx.App, redis_url: str, db_url: str) -> None:
    """Lifespan task with Redis: deliver the other processes' publishes to this process's
    watching tabs, and let this process's publishes reach them. Reconnects after a Redis
    failure."""
    import redis.asyncio as aioredis

    global _BUS
    channel = board_channel(db_url)
    while True:
        client = aioredis.from_url(redis_url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(channel)
            _BUS = _Bus(client, channel, asyncio.get_running_loop())
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    _deliver_from_elsewhere(app, message["data"])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("The Redis board channel failed; subscribing again", exc_info=True)
        finally:
            _BUS = None
            for closing in (pubsub, client):
                with contextlib.suppress(Exception):
                    await closing.aclose()
        await asyncio.sleep(RELAY_RETRY_SECONDS)


def _deliver_from_elsewhere(app: rx.App, data: bytes | str) -> None:
    try:
        told = json.loads(data)
        if told["from"] == _INSTANCE:
            return  # this process delivered it already
        if told.get("kind") == ACCOUNTS:
            actor_cache.forget_actors()
            return
        topic, exclude, visit_id = str(told["topic"]), str(told["exclude"] or ""), told["visit_id"]
    except (ValueError, KeyError, TypeError):
        log.warning("Ignored a malformed board message: %r", data)
        return
    _VERSIONS[topic] += 1  # reads shared by this process's tabs are stale now
    _schedule(app, topic, exclude, visit_id if isinstance(visit_id, int) else None)
