import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import bcrypt
import pytest
from sqlmodel import select

from klinikita.models import AuditLog, LoginSession, UserDuty
from klinikita.models.enums import Duty
from klinikita.services import actor_cache, auth, rate_limits
from klinikita.services.errors import PermissionDenied
from klinikita.settings import get_settings
from tests.factories import GOOD_PASSWORD, committed_read, make_branch, make_user
from tests.pg import sqlite_and_postgresql


@pytest.fixture
def nurse(db):
    branch = make_branch(db)
    return make_user(db, "sari", branches=[branch])


def _login(db, username, password, **kw):
    try:
        return auth.login(db, username, password, **kw)
    finally:
        db.commit()


def test_login_opens_a_session_whose_token_is_stored_only_as_a_hash(db, nurse):
    result = _login(db, "Sari", GOOD_PASSWORD)
    assert result.actor.user_id == nurse.id and result.actor.duty == Duty.PERAWAT
    row = db.query(LoginSession).one()
    assert row.token_hash == auth.hash_token(result.token)
    assert result.token not in row.token_hash
    assert auth.resolve(db, result.token).user_id == nurse.id


def test_wrong_username_and_wrong_password_get_the_same_message(db, nurse):
    with pytest.raises(auth.LoginRefused) as unknown:
        _login(db, "tidakada", GOOD_PASSWORD)
    with pytest.raises(auth.LoginRefused) as wrong:
        _login(db, "sari", "Salah#2026")
    assert unknown.value.message == wrong.value.message == auth.WRONG_CREDENTIALS


def _answers(db, username, password, tries, *, address="10.0.0.1", **kw):
    """The messages of `tries` logins in a row (None for a success)."""
    out = []
    for _ in range(tries):
        try:
            _login(db, username, password, client_address=address, **kw)
            out.append(None)
        except auth.LoginRefused as refused:
            out.append(refused.message)
    return out


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock (in-memory storage), moved by hand."""
    import limits.storage.memory as memory

    now = [time.time()]
    monkeypatch.setattr(memory, "time", SimpleNamespace(time=lambda: now[0]))
    return now


def test_five_tries_at_one_name_from_one_address_slow_that_name_down_there_only(db, nurse, clock):
    wrong = _answers(db, "sari", "Salah#2026", 5)
    assert wrong == [auth.WRONG_CREDENTIALS] * 5
    # The sixth try, even with the right password, is not even checked.
    assert _answers(db, "sari", GOOD_PASSWORD, 1) == [auth.throttled_message()]
    assert "15 menit" in auth.throttled_message()
    # From another address the right password works at once; the account is not locked.
    assert _answers(db, "sari", GOOD_PASSWORD, 1, address="10.0.0.2") == [None]
    db.refresh(nurse)
    assert nurse.locked_until is None
    # 15 minutes later the first address may try again.
    clock[0] += 15 * 60 + 1
    assert _answers(db, "sari", GOOD_PASSWORD, 1) == [None]


def test_an_unknown_name_gets_exactly_the_answers_a_real_one_gets(db, nurse):
    real = _answers(db, "sari", "Salah#2026", 7, address="10.0.0.1")
    unknown = _answers(db, "tidakada", "Salah#2026", 7, address="10.0.0.2")
    assert real == unknown == [auth.WRONG_CREDENTIALS] * 5 + [auth.throttled_message()] * 2


def test_a_success_clears_the_tries_of_that_name_from_that_address(db, nurse):
    assert _answers(db, "sari", "Salah#2026", 4) == [auth.WRONG_CREDENTIALS] * 4
    assert _answers(db, "sari", GOOD_PASSWORD, 1) == [None]
    assert _answers(db, "sari", "Salah#2026", 4) == [auth.WRONG_CREDENTIALS] * 4


def test_one_address_failing_at_many_names_is_slowed_down_for_every_name(db, nurse):
    limit = rate_limits.LOGIN_FAILURES_PER_ADDRESS
    for n in range(limit):
        assert _answers(db, f"tebak{n}", "Salah#2026", 1) == [auth.WRONG_CREDENTIALS]
    assert _answers(db, "sari", GOOD_PASSWORD, 1) == [auth.throttled_message()]
    assert _answers(db, "sari", GOOD_PASSWORD, 1, address="10.0.0.2") == [None]


def test_no_single_address_can_lock_an_account(db, nurse, clock):
    """Trying at the limit for hours from one address never locks the owner out."""
    for _ in range(16):  # four hours: 5 tries every 15 minutes
        _answers(db, "sari", "Salah#2026", 5)
        clock[0] += 15 * 60 + 1
    db.refresh(nurse)
    assert nurse.locked_until is None
    assert _answers(db, "sari", GOOD_PASSWORD, 1, address="10.0.0.2") == [None]


def test_failures_from_many_addresses_lock_the_account_like_a_wrong_password(db, nurse):
    settings = get_settings()
    limit = rate_limits.ACCOUNT_LOCK_FACTOR * settings.login_max_failures
    for n in range(limit):
        assert _answers(db, "sari", "Salah#2026", 1, address=f"10.1.{n // 5}.1") == [
            auth.WRONG_CREDENTIALS
        ]
    db.refresh(nurse)
    assert nurse.locked_until is not None
    assert db.exec(select(AuditLog).where(AuditLog.action == "lock")).one().entity_id == str(
        nurse.id
    )
    # Locked: the right password from a fresh address gets what an unknown name gets.
    now = datetime.now(UTC)
    assert _answers(db, "sari", GOOD_PASSWORD, 1, address="10.2.0.1") == [auth.WRONG_CREDENTIALS]
    assert _answers(db, "tidakada", GOOD_PASSWORD, 1, address="10.2.0.2") == [
        auth.WRONG_CREDENTIALS
    ]
    # The lock ends after KLINIKITA_LOGIN_LOCK_MINUTES.
    later = now + timedelta(minutes=settings.login_lock_minutes, seconds=1)
    assert _answers(db, "sari", GOOD_PASSWORD, 1, address="10.2.0.3", now=later) == [None]


def test_a_wrong_password_writes_no_more_than_an_unknown_name(db, nurse):
    for username in ("sari", "tidakada"):
        with pytest.raises(auth.LoginRefused):
            auth.login(db, username, "Salah#2026", client_address="10.0.0.1")
        assert not db.new and not db.dirty  # nothing to write for either
        db.rollback()


def test_every_answer_before_a_right_password_costs_one_bcrypt_check(db, nurse, monkeypatch):
    """Unknown, wrong, locked and slowed-down answers all take one bcrypt check, so their
    timing tells nothing apart."""
    checks = []
    real_check = bcrypt.checkpw
    monkeypatch.setattr(
        bcrypt, "checkpw", lambda pw, hashed: checks.append(1) or real_check(pw, hashed)
    )

    def cost(username, password, address):
        checks.clear()
        _answers(db, username, password, 1, address=address)
        return len(checks)

    assert cost("tidakada", GOOD_PASSWORD, "10.0.0.1") == 1
    assert cost("sari", "Salah#2026", "10.0.0.1") == 1
    nurse.locked_until = datetime.now(UTC) + timedelta(minutes=5)
    db.add(nurse)
    db.commit()
    assert cost("sari", GOOD_PASSWORD, "10.0.0.2") == 1
    _answers(db, "rina", "Salah#2026", 5, address="10.0.0.3")
    assert cost("rina", GOOD_PASSWORD, "10.0.0.3") == 1  # slowed down, not looked at
    assert cost("sari", "A" * 80, "10.0.0.4") == 1  # too long for bcrypt


def test_inactive_user_cannot_log_in(db, nurse):
    nurse.is_active = False
    db.add(nurse)
    db.commit()
    with pytest.raises(auth.LoginRefused) as err:
        _login(db, "sari", GOOD_PASSWORD)
    assert "dinonaktifkan" in err.value.message


def test_session_expires_after_the_idle_limit_and_is_ended(db, nurse):
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    token = _login(db, "sari", GOOD_PASSWORD, now=start).token
    assert auth.resolve(db, token, now=start + timedelta(hours=11, minutes=59)) is not None
    db.commit()
    # Activity moved last_seen forward; 12 h of silence after that ends the session.
    last = start + timedelta(hours=11, minutes=59)
    assert auth.resolve(db, token, now=last + timedelta(hours=12, seconds=1)) is None
    db.commit()
    assert db.query(LoginSession).one().ended_at is not None
    assert auth.resolve(db, token, now=last) is None


def test_a_session_ends_after_its_maximum_lifetime_however_active(db, nurse):
    start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    token = _login(db, "sari", GOOD_PASSWORD, now=start).token
    days = get_settings().session_max_days
    # Used every few hours, it never idles out...
    moment = start
    while moment + timedelta(hours=6) < start + timedelta(days=days):
        moment += timedelta(hours=6)
        assert auth.resolve(db, token, now=moment) is not None
        db.commit()
    # ...but it ends KLINIKITA_SESSION_MAX_DAYS after the login, on every path.
    end = start + timedelta(days=days, seconds=1)
    engine = db.get_bind()
    assert _read_only(db, token, now=end) is auth.WRITE_NEEDED
    db.rollback()  # SQLite: the test's session holds no write lock
    actor_cache.forget_actors()
    assert auth.actor_for(token, now=end, engine=engine) is None
    assert db.exec(select(LoginSession)).one().ended_at is not None
    assert auth.resolve(db, token, now=start + timedelta(days=1)) is None


def test_a_remembered_actor_is_not_kept_past_the_end_of_its_session(db, nurse, monkeypatch):
    """The actor cache holds an actor ACTOR_TTL seconds at most, and never longer than its
    login lives."""
    days = get_settings().session_max_days
    almost = timedelta(days=days, seconds=-10)
    start = datetime.now(UTC) - almost
    token = _login(db, "sari", GOOD_PASSWORD, now=start).token
    row = db.exec(select(LoginSession)).one()
    row.last_seen_at = datetime.now(UTC)  # in use all along
    db.add(row)
    db.commit()
    actor_cache.forget_actors()
    actor = auth.resolve(db, token)
    db.commit()
    assert actor is not None
    assert actor.session_ends_by == start + timedelta(days=days)
    clock = [1000.0]
    monkeypatch.setattr(actor_cache.time, "monotonic", lambda: clock[0])
    reads = []

    def resolve():
        reads.append(1)
        return actor

    actor_cache.cached_actor(token, resolve)
    clock[0] += 5
    actor_cache.cached_actor(token, resolve)
    assert len(reads) == 1  # kept for a few seconds...
    clock[0] += 10
    actor_cache.cached_actor(token, resolve)
    assert len(reads) == 2  # ...but read again once the login's end has passed


def test_logout_ends_the_session_on_the_server(db, nurse):
    token = _login(db, "sari", GOOD_PASSWORD).token
    auth.logout(db, token)
    db.commit()
    assert auth.resolve(db, token) is None
    assert auth.resolve(db, "not-a-token") is None
    assert auth.resolve(db, None) is None


def test_switch_duty_only_among_the_users_own_duties(db):
    branch = make_branch(db)
    make_user(db, "budi", branches=[branch], main_duty=Duty.ADMIN, extra_duties=(Duty.DOKTER_UMUM,))
    token = _login(db, "budi", GOOD_PASSWORD).token
    actor = auth.switch_duty(db, token, Duty.DOKTER_UMUM)
    db.commit()
    assert actor.duty == Duty.DOKTER_UMUM
    assert auth.resolve(db, token).duty == Duty.DOKTER_UMUM
    with pytest.raises(PermissionDenied):
        auth.switch_duty(db, token, Duty.APOTEKER)
    with pytest.raises(PermissionDenied):
        auth.switch_duty(db, token, "superuser")
    db.rollback()
    assert auth.resolve(db, token).duty == Duty.DOKTER_UMUM


def test_switch_branch_only_among_the_users_branches(db):
    a, b, c = make_branch(db, "A"), make_branch(db, "B"), make_branch(db, "C")
    make_user(db, "budi", branches=[a, b])
    token = _login(db, "budi", GOOD_PASSWORD).token
    assert auth.resolve(db, token).branch_id == a.id
    assert auth.switch_branch(db, token, b.id).branch_id == b.id
    db.commit()
    with pytest.raises(PermissionDenied):
        auth.switch_branch(db, token, c.id)
    db.rollback()
    assert auth.resolve(db, token).branch_id == b.id


def test_a_duty_taken_away_by_the_admin_falls_back_to_the_main_duty(db):
    branch = make_branch(db)
    user = make_user(
        db, "budi", branches=[branch], main_duty=Duty.PERAWAT, extra_duties=(Duty.ADMIN,)
    )
    token = _login(db, "budi", GOOD_PASSWORD).token
    auth.switch_duty(db, token, Duty.ADMIN)
    db.commit()
    db.query(UserDuty).filter(UserDuty.user_id == user.id).delete()
    db.commit()
    assert auth.resolve(db, token).duty == Duty.PERAWAT


def _read_only(db, token, **kw):
    return committed_read(db, auth.resolve_read_only, token, **kw)


# Raw driver SQL with EXISTS columns: each database is checked.
any_db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def test_the_read_only_answer_matches_resolve_or_asks_for_the_write(any_db):
    db = any_db
    a, b = make_branch(db, "A"), make_branch(db, "B")
    user = make_user(
        db, "budi", branches=[a, b], main_duty=Duty.PERAWAT, extra_duties=(Duty.ADMIN,)
    )
    token = _login(db, "budi", GOOD_PASSWORD).token
    auth.switch_duty(db, token, Duty.ADMIN)
    auth.switch_branch(db, token, b.id)
    db.commit()
    assert _read_only(db, token) == auth.resolve(db, token)
    assert _read_only(db, token).duty == Duty.ADMIN
    assert _read_only(db, "not-a-token") is None and _read_only(db, None) is None
    # last_seen_at is due for its touch: the actor, and the touch to make (`actor_for`)
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert _read_only(db, token, now=later) == auth.TouchDue(auth.resolve(db, token))
    db.rollback()
    # the extra duty taken away: `resolve` falls back to the main duty (a write)
    db.query(UserDuty).filter(UserDuty.user_id == user.id).delete()
    db.commit()
    assert _read_only(db, token) is auth.WRITE_NEEDED
    assert auth.resolve(db, token).duty == Duty.PERAWAT
    db.commit()
    assert _read_only(db, token).duty == Duty.PERAWAT
    # a branch closed: back to one still granted, again through `resolve`
    b.is_active = False
    db.add(b)
    db.commit()
    assert _read_only(db, token) is auth.WRITE_NEEDED
    assert auth.resolve(db, token).branch_id == a.id
    db.commit()
    # no branch left at all, or a deactivated user: nobody (until it is undone)
    for row in (a, user):
        row.is_active = False
        db.add(row)
        db.commit()
        assert _read_only(db, token) is None
        row.is_active = True
        db.add(row)
        db.commit()
    # an ended session is nobody
    auth.logout(db, token)
    db.commit()
    assert _read_only(db, token) is None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def test_a_due_touch_is_one_plain_update_and_keeps_every_remembered_actor(any_db):
    """Once a minute per user last_seen_at is written: without the ORM, so the actors
    remembered for other tabs stay remembered (an ORM flush of a login session forgets
    them all, as a logout must)."""
    db = any_db
    branch = make_branch(db, "A")
    for name in ("budi", "sari"):
        make_user(db, name, branches=[branch], main_duty=Duty.PERAWAT)
    budi = _login(db, "budi", GOOD_PASSWORD)
    sari = _login(db, "sari", GOOD_PASSWORD)
    db.commit()
    engine = db.get_bind()
    actor_cache.forget_actors()
    assert actor_cache.cached_actor(sari.token, lambda: sari.actor) == sari.actor
    later = datetime.now(UTC) + timedelta(minutes=2)
    db.rollback()  # SQLite: the test's session holds no write lock
    assert auth.actor_for(budi.token, now=later, engine=engine) == budi.actor
    row = db.exec(select(LoginSession).where(LoginSession.id == budi.actor.session_id)).one()
    assert _aware(row.last_seen_at) == later
    db.rollback()

    def not_read_again() -> None:
        raise AssertionError("sari's actor was forgotten")

    assert actor_cache.cached_actor(sari.token, not_read_again) == sari.actor
    # Not due again a moment later: a plain read, nothing written.
    assert auth.actor_for(budi.token, now=later + timedelta(seconds=5), engine=engine) == budi.actor
    assert _aware(db.get(LoginSession, budi.actor.session_id).last_seen_at) == later
