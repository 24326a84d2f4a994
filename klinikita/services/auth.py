"""Logging in and out, lockout, login sessions, and switching duty (tugas) and branch."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, exists, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from klinikita.db import READ_ONLY, read_scope, session_scope
from klinikita.models import Branch, LoginSession, User, UserBranch, UserDuty
from klinikita.models.enums import Duty
from klinikita.services import audit, rate_limits
from klinikita.services.accounts import normalize_username, user_branches, user_duties
from klinikita.services.errors import PermissionDenied, ServiceError
from klinikita.services.passwords import verify_password
from klinikita.settings import get_settings

WRONG_CREDENTIALS = "Nama pengguna atau kata sandi salah."
_log = logging.getLogger(__name__)
# Writing last_seen_at on every event would make every click a database write.
_TOUCH_EVERY = timedelta(minutes=1)


class LoginRefused(ServiceError):
    pass


@dataclass(frozen=True)
class LoginResult:
    token: str  # the raw token, handed to the browser once; only its hash is stored
    actor: audit.Actor


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives back what was stored; make sure comparisons are between aware datetimes.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def throttled_message() -> str:
    return (
        "Terlalu banyak percobaan masuk yang gagal. Tunggu "
        f"{get_settings().login_lock_minutes} menit, lalu coba lagi. Bila lupa kata sandi, "
        "pakai tautan Lupa kata sandi."
    )


def _refuse(password: str, message: str) -> LoginRefused:
    """A refusal that took as long as checking a real password (one bcrypt check)."""
    verify_password(password, None)
    return LoginRefused(message)


def login(
    session: Session,
    username: str,
    password: str,
    *,
    client_address: str | None = None,
    user_agent: str = "",
    now: datetime | None = None,
) -> LoginResult:
    """Check the credentials and open a session, or raise LoginRefused with the reason.

    Every answer before a right password costs one bcrypt check and depends only on what
    was typed and where from, never on whether the account exists: an unknown username,
    a wrong password and a locked account all get WRONG_CREDENTIALS; too many tries of one
    name from one address, or too many failures from one address (`rate_limits`), get
    `throttled_message()` whatever the name. Failures at one account from every address
    together lock it for KLINIKITA_LOGIN_LOCK_MINUTES (an admin may unlock it). The caller
    commits, also on refusal, so that the lock is kept.
    """
    settings = get_settings()
    now = now or datetime.now(UTC)
    if rate_limits.login_blocked(username, client_address):
        _log.warning("Login refused unchecked: too many tries (address %s)", client_address)
        raise _refuse(password, throttled_message())
    user = session.exec(select(User).where(User.username == normalize_username(username))).first()
    if user is None or (user.locked_until and _aware(user.locked_until) > now):
        rate_limits.login_failed(username, client_address)
        raise _refuse(password, WRONG_CREDENTIALS)
    if not verify_password(password, user.password_hash):
        # Counted by `rate_limits` only: a wrong password writes nothing to the database
        # (no more work, and no more time, than an unknown username) until it locks.
        if rate_limits.login_failed(username, client_address):
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
            session.add(user)
            audit.record(session, None, "lock", "user", user.id, after={"username": user.username})
            _log.warning("Account %s locked after too many failed logins", user.id)
        raise LoginRefused(WRONG_CREDENTIALS)
    rate_limits.login_succeeded(username, client_address)
    if not user.is_active:
        raise LoginRefused("Akun Anda dinonaktifkan. Hubungi admin.")
    branches = user_branches(session, user)
    if not branches:
        raise LoginRefused("Akun Anda belum diberi akses ke cabang mana pun. Hubungi admin.")
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        user_id=user.id,
        token_hash=hash_token(token),
        active_duty=user.main_duty,
        active_branch_id=branches[0].id,
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent[:300],
    )
    session.add(row)
    session.flush()
    actor = _actor(user, row)
    audit.record(session, actor, "login", "login_session", row.id)
    return LoginResult(token=token, actor=actor)


def session_ends_by(created_at: datetime, last_seen_at: datetime) -> datetime:
    """When a login ends: after KLINIKITA_SESSION_IDLE_HOURS without activity, and at the
    latest KLINIKITA_SESSION_MAX_DAYS after it began, however active it is."""
    settings = get_settings()
    return min(
        _aware(created_at) + timedelta(days=settings.session_max_days),
        _aware(last_seen_at) + timedelta(hours=settings.session_idle_hours),
    )


def _actor(user: User, row: LoginSession) -> audit.Actor:
    return audit.Actor(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        duty=row.active_duty,
        branch_id=row.active_branch_id,
        session_id=row.id,
        session_ends_by=session_ends_by(row.created_at, row.last_seen_at),
    )


def _live_session(
    session: Session, token: str | None, now: datetime
) -> tuple[LoginSession, User] | None:
    if not token:
        return None
    row = session.exec(
        select(LoginSession).where(LoginSession.token_hash == hash_token(token))
    ).first()
    if row is None or row.ended_at is not None:
        return None
    if now > session_ends_by(row.created_at, row.last_seen_at):
        row.ended_at = now
        session.add(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row, user


def resolve(
    session: Session, token: str | None, *, now: datetime | None = None
) -> audit.Actor | None:
    """The actor behind a browser's token, or None when it is unknown, ended, idle too long
    or older than its maximum lifetime (an expired session is ended).

    Also re-checks that the session's duty and branch are still granted (an admin may have
    taken them away since the login)."""
    now = now or datetime.now(UTC)
    found = _live_session(session, token, now)
    if found is None:
        return None
    row, user = found
    duties = user_duties(session, user)
    branches = [b.id for b in user_branches(session, user)]
    if not branches:
        return None
    if row.active_duty not in duties:
        row.active_duty = duties[0]
    if row.active_branch_id not in branches:
        row.active_branch_id = branches[0]
    if now - _aware(row.last_seen_at) > _TOUCH_EVERY:
        row.last_seen_at = now
    session.add(row)
    return _actor(user, row)


# ----- the same answer without a write, for every event ------------------------------------
# Each event of each tab asks who is behind its token. Nearly always nothing needs writing
# (the session is live, its duty and branch still granted, last_seen_at fresh), so the
# answer comes from one read (the grants as EXISTS columns); when something must be
# written, `resolve` above does it.
_ACTIVE_GRANT = (
    select(UserBranch.branch_id)
    .join(Branch, Branch.id == UserBranch.branch_id)
    .where(UserBranch.user_id == User.id, Branch.is_active == True)  # noqa: E712
)
_SESSION_USER = (
    select(
        LoginSession.id,
        LoginSession.ended_at,
        LoginSession.created_at,
        LoginSession.last_seen_at,
        LoginSession.active_duty,
        LoginSession.active_branch_id,
        User.id,
        User.username,
        User.full_name,
        User.is_active,
        or_(
            LoginSession.active_duty == User.main_duty,
            exists().where(UserDuty.user_id == User.id, UserDuty.duty == LoginSession.active_duty),
        ),
        _ACTIVE_GRANT.exists(),
        _ACTIVE_GRANT.where(UserBranch.branch_id == LoginSession.active_branch_id).exists(),
    )
    .join(User, User.id == LoginSession.user_id)
    .where(LoginSession.token_hash == bindparam("token_hash"))
)
WRITE_NEEDED = object()  # `resolve_read_only` could not answer without writing


@dataclass(frozen=True)
class TouchDue:
    """`resolve_read_only`'s answer when only last_seen_at is due: the actor, and `touch`."""

    actor: audit.Actor


def resolve_read_only(
    session: Session, token: str | None, *, now: datetime | None = None
) -> audit.Actor | None | TouchDue | object:
    """`resolve`'s answer when it needs no write; TouchDue when only last_seen_at is due
    (then `touch`); else WRITE_NEEDED (then call `resolve`). Writes nothing: `session`
    may be a `db.read_scope()`."""
    if not token:
        return None
    found = session.execute(_SESSION_USER, {"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    (
        session_id, ended_at, created_at, last_seen_at, duty, branch_id,
        user_id, username, full_name, user_active,
        duty_granted, any_branch, branch_granted,
    ) = found  # fmt: skip
    if ended_at is not None or not user_active:
        return None
    now = now or datetime.now(UTC)
    ends_by = session_ends_by(created_at, last_seen_at)
    if now > ends_by:
        return WRITE_NEEDED  # the session ends (idle too long, or too old)
    if not duty_granted:
        return WRITE_NEEDED  # the duty was taken away: `resolve` falls back to the main one
    if not any_branch:
        return None
    if not branch_granted:
        return WRITE_NEEDED
    actor = audit.Actor(
        user_id=user_id,
        username=username,
        full_name=full_name,
        duty=duty,
        branch_id=branch_id,
        session_id=session_id,
        session_ends_by=ends_by,
    )
    return TouchDue(actor) if now - _aware(last_seen_at) > _TOUCH_EVERY else actor


_LOGIN_SESSION = LoginSession.__table__
# A Core update of the table: no login session object is loaded or flushed, so the actors
# remembered by `actor_cache` (forgotten at every flush of a login session) stay remembered.
_TOUCH = (
    update(_LOGIN_SESSION)
    .where(_LOGIN_SESSION.c.id == bindparam("session_id"), _LOGIN_SESSION.c.ended_at.is_(None))
    .values(last_seen_at=bindparam("now"))
)


def touch(session: Session, session_id: int, now: datetime) -> None:
    """Set last_seen_at of a live login session (in the caller's transaction), leaving
    every remembered actor remembered."""
    session.execute(_TOUCH, {"session_id": session_id, "now": now})


@contextmanager
def _reading(engine: Engine | None) -> Iterator[Session]:
    """`db.read_scope()`, on `engine` when given."""
    if engine is None:
        with read_scope() as session:
            yield session
        return
    with Session(engine.execution_options(**{READ_ONLY: True})) as session:
        try:
            yield session
        finally:
            session.rollback()


@contextmanager
def _writing(engine: Engine | None) -> Iterator[Session]:
    """`db.session_scope()`, on `engine` when given."""
    if engine is None:
        with session_scope() as session:
            yield session
        return
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()


def actor_for(
    token: str | None, *, now: datetime | None = None, engine: Engine | None = None
) -> audit.Actor | None:
    """The actor behind a tab's token, for an event (None when nobody). A read only, unless
    something must be written: last_seen_at once a minute (`touch`), or `resolve`'s changes
    when the session ends or a duty or branch was taken away."""
    with _reading(engine) as session:
        found = resolve_read_only(session, token, now=now)
    if isinstance(found, TouchDue):
        with _writing(engine) as session:
            touch(session, found.actor.session_id, now or datetime.now(UTC))
        return found.actor
    if found is not WRITE_NEEDED:
        return found
    with _writing(engine) as session:
        return resolve(session, token, now=now)


def logout(session: Session, token: str | None, *, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    found = _live_session(session, token, now)
    if found is None:
        return
    row, user = found
    row.ended_at = now
    session.add(row)
    audit.record(session, _actor(user, row), "logout", "login_session", row.id)


def switch_duty(session: Session, token: str | None, duty: str) -> audit.Actor:
    """Ganti tugas: only to the user's own main or extra duties."""
    now = datetime.now(UTC)
    found = _live_session(session, token, now)
    if found is None:
        raise PermissionDenied("Sesi Anda telah berakhir. Silakan masuk kembali.")
    row, user = found
    allowed = user_duties(session, user)
    if duty not in allowed:
        raise PermissionDenied("Tugas itu tidak diberikan kepada akun Anda.")
    before = {"duty": row.active_duty}
    row.active_duty = Duty(duty)
    row.last_seen_at = now
    session.add(row)
    actor = _actor(user, row)
    audit.record(
        session,
        actor,
        "switch_duty",
        "login_session",
        row.id,
        before=before,
        after={"duty": row.active_duty},
    )
    return actor


def switch_branch(session: Session, token: str | None, branch_id: int) -> audit.Actor:
    """Ganti cabang: only to branches the user may access."""
    now = datetime.now(UTC)
    found = _live_session(session, token, now)
    if found is None:
        raise PermissionDenied("Sesi Anda telah berakhir. Silakan masuk kembali.")
    row, user = found
    allowed = [b.id for b in user_branches(session, user)]
    if branch_id not in allowed:
        raise PermissionDenied("Anda tidak memiliki akses ke cabang itu.")
    before = {"branch_id": row.active_branch_id}
    row.active_branch_id = branch_id
    row.last_seen_at = now
    session.add(row)
    actor = _actor(user, row)
    audit.record(
        session,
        actor,
        "switch_branch",
        "login_session",
        row.id,
        before=before,
        after={"branch_id": branch_id},
        branch_id=branch_id,
    )
    return actor


def branch_name(session: Session, branch_id: int) -> str:
    branch = session.get(Branch, branch_id)
    return branch.name if branch else ""


@dataclass(frozen=True)
class ShellChoices:
    """What the page shell offers a user to switch to: their duties (main first) and the
    active branches granted to them, as (id, name)."""

    duties: list[Duty]
    branches: list[tuple[int, str]]


def shell_choices(session: Session, user_id: int) -> ShellChoices:
    """The duties and branches `user_id` may switch to (none for an unknown user)."""
    user = session.get(User, user_id)
    if user is None:
        return ShellChoices([], [])
    branches = [(b.id, b.name) for b in user_branches(session, user)]
    return ShellChoices(user_duties(session, user), branches)
