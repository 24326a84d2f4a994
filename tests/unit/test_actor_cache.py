"""The remembered actor: read once in a while, forgotten at once when accounts change."""

from __future__ import annotations

from klinikita.db import read_scope
from klinikita.models import Branch
from klinikita.models.enums import Duty
from klinikita.services import actor_cache, auth
from klinikita.services.actor_cache import cached_actor, forget_actors
from klinikita.services.audit import Actor
from tests.factories import GOOD_PASSWORD, make_branch, make_user


def test_an_actor_is_read_once_then_forgotten_when_the_session_ends(db):
    forget_actors()
    branch = make_branch(db)
    make_user(db, "sari", branches=[branch], extra_duties=(Duty.BIDAN,))
    token = auth.login(db, "sari", GOOD_PASSWORD).token
    db.commit()
    reads = []

    def resolve():
        reads.append(1)
        return auth.resolve(db, token)

    first = cached_actor(token, resolve)
    assert cached_actor(token, resolve) == first and len(reads) == 1
    # Ganti tugas writes the login session: the next event reads the new duty.
    auth.switch_duty(db, token, Duty.BIDAN)
    db.commit()
    assert cached_actor(token, resolve).duty == Duty.BIDAN and len(reads) == 2
    auth.logout(db, token)
    db.commit()
    assert cached_actor(token, resolve) is None
    assert cached_actor("", resolve) is None and len(reads) == 3


def _login(db, username="sari"):  # noqa: ANN001, ANN202
    branch = make_branch(db)
    make_user(db, username, branches=[branch], extra_duties=(Duty.BIDAN,))
    token = auth.login(db, username, GOOD_PASSWORD).token
    db.commit()
    return branch, token


def test_an_actor_is_kept_between_clicks_seconds_apart(db, monkeypatch):
    """A write click comes seconds after the last one: it must not read the login again."""
    forget_actors()
    _, token = _login(db)
    clock = [1000.0]
    monkeypatch.setattr(actor_cache.time, "monotonic", lambda: clock[0])
    reads = []

    def resolve():
        reads.append(1)
        return auth.resolve(db, token)

    cached_actor(token, resolve)
    clock[0] += 10
    cached_actor(token, resolve)
    assert len(reads) == 1
    clock[0] += actor_cache.ACTOR_TTL
    cached_actor(token, resolve)
    assert len(reads) == 2  # read again at least every ACTOR_TTL


def test_an_actor_read_between_the_flush_and_the_commit_is_not_kept(db):
    """A change is forgotten at its flush, but until its commit other connections still read
    the old rows: what they read then is dropped again at the commit."""
    forget_actors()
    branch, token = _login(db)
    reads = []

    def resolve_elsewhere():  # another event, on its own connection: sees committed rows
        reads.append(1)
        with read_scope() as other:
            return auth.resolve(other, token)

    branch.is_active = False  # an admin closes the branch
    db.add(branch)
    db.flush()
    assert cached_actor(token, resolve_elsewhere) is not None  # not committed yet
    db.commit()
    assert cached_actor(token, resolve_elsewhere) is None  # read again: no active branch
    assert len(reads) == 2


def test_an_answer_read_while_accounts_changed_is_not_kept():
    forget_actors()
    actor = Actor(1, "sari", "Sari", Duty.BIDAN, 1)

    def resolve_during_a_change():
        forget_actors()  # a commit elsewhere in this process, while this read ran
        return actor

    assert cached_actor("token", resolve_during_a_change) == actor
    assert cached_actor("token", lambda: None) is None  # nothing was kept


def test_other_processes_are_told_after_a_commit_that_changed_accounts(db, monkeypatch):
    forget_actors()
    told = []
    monkeypatch.setattr(actor_cache, "_LISTENERS", [lambda: told.append(1)])
    branch, token = _login(db)  # the branch, the user and the login: three commits
    assert told == [1, 1, 1]
    db.add(Branch(name="Cabang Dua", facility_type=branch.facility_type))
    db.flush()
    db.rollback()  # nothing committed: nobody is told
    auth.switch_duty(db, token, Duty.BIDAN)
    db.commit()
    assert told == [1, 1, 1, 1]
