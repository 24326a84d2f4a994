"""The remembered actor: read once per moment, forgotten at once when logins change."""

from __future__ import annotations

from klinikita.models.enums import Duty
from klinikita.services import auth
from klinikita.services.actor_cache import cached_actor, forget_actors
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
