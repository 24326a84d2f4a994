"""Who is behind a browser token, remembered for a while.

Every event of every tab needs its actor (`auth.resolve`), and a busy desk sends several
events a second; a click that writes comes seconds after the one before. The resolved actor
is kept in memory for `ACTOR_TTL` seconds. A change to logins, users, duties, branch grants
or branches made by this process forgets every remembered actor at once (at the ORM flush,
and again after the commit, when the change is what others read), so logout, "ganti tugas",
deactivation and password resets take effect on the next event. Other processes are told
through `when_accounts_change` (the app's Redis relay, with several backend processes); a
process that is not told (the CLI without Redis) is obeyed within `ACTOR_TTL`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from klinikita.models import Branch, LoginSession, User, UserBranch, UserDuty
from klinikita.services.audit import Actor

ACTOR_TTL = 30.0
_WATCHED = (LoginSession, User, UserDuty, UserBranch, Branch)
_ACTORS: dict[str, tuple[float, Actor]] = {}
_LOCK = threading.Lock()
_generation = 0  # bumped by every forget: an answer read before it is not kept
_CHANGED = "klinikita_accounts_changed"  # Session.info flag between flush and commit
_LISTENERS: list[Callable[[], None]] = []


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _keep_for(actor: Actor) -> float:
    """ACTOR_TTL seconds, but never past the moment the actor's login ends."""
    if actor.session_ends_by is None:
        return ACTOR_TTL
    left = (actor.session_ends_by - datetime.now(UTC)).total_seconds()
    return min(ACTOR_TTL, left)


def cached_actor(token: str | None, resolve: Callable[[], Actor | None]) -> Actor | None:
    """The remembered actor of `token`, or `resolve()`'s answer (remembered when found, for
    ACTOR_TTL seconds at most and never past the end of its login)."""
    if not token:
        return None
    key = _key(token)
    now = time.monotonic()
    hit = _ACTORS.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    generation = _generation
    actor = resolve()
    with _LOCK:
        if actor is None:
            _ACTORS.pop(key, None)
        elif generation == _generation:  # no change was committed while it was read
            keep_for = _keep_for(actor)
            if keep_for > 0:
                _ACTORS[key] = (now + keep_for, actor)
    return actor


def forget_actors() -> None:
    global _generation
    with _LOCK:
        _generation += 1
        _ACTORS.clear()


def when_accounts_change(callback: Callable[[], None]) -> None:
    """Call `callback` after each commit of this process that changed accounts (to tell the
    other processes)."""
    if callback not in _LISTENERS:
        _LISTENERS.append(callback)


@event.listens_for(Session, "after_flush")
def _forget_on_account_change(session: Session, _flush_context) -> None:  # noqa: ANN001
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            session.info[_CHANGED] = True
            forget_actors()
            return


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    # An event between the flush and the commit read (and kept) the rows as they were.
    if session.info.pop(_CHANGED, False):
        forget_actors()
        for callback in list(_LISTENERS):
            callback()


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    session.info.pop(_CHANGED, None)
