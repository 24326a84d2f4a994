"""Who is behind a browser token, remembered for a moment.

Every event of every tab re-reads its login session (`auth.resolve`), and a busy desk sends
several events a second. The resolved actor is kept in memory for `ACTOR_TTL` seconds.
Any change to logins, users, duties or branch grants flushed by this process forgets every
remembered actor at once (an ORM flush hook), so logout, "ganti tugas", deactivation and
password resets take effect on the next event; a change made by another process (the CLI)
takes effect within `ACTOR_TTL`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from klinikita.models import LoginSession, User, UserBranch, UserDuty
from klinikita.services.audit import Actor

ACTOR_TTL = 2.0
_WATCHED = (LoginSession, User, UserDuty, UserBranch)
_ACTORS: dict[str, tuple[float, Actor]] = {}
_LOCK = threading.Lock()


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cached_actor(token: str | None, resolve: Callable[[], Actor | None]) -> Actor | None:
    """The remembered actor of `token`, or `resolve()`'s answer (remembered when found)."""
    if not token:
        return None
    key = _key(token)
    now = time.monotonic()
    hit = _ACTORS.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    actor = resolve()
    with _LOCK:
        if actor is None:
            _ACTORS.pop(key, None)
        else:
            _ACTORS[key] = (now + ACTOR_TTL, actor)
    return actor


def forget_actors() -> None:
    with _LOCK:
        _ACTORS.clear()


@event.listens_for(Session, "after_flush")
def _forget_on_account_change(session: Session, _flush_context) -> None:  # noqa: ANN001
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            forget_actors()
            return
