"""Live boards: one watch per tab, shared reads per change, coalesced publishes."""

from __future__ import annotations

import asyncio
import contextlib
import json

from klinikita.services.job_notices import JobNotice
from klinikita.state import live
from klinikita.state.examination import ExaminationState
from klinikita.state.registration import RegistrationState


def test_a_tab_watches_one_board_with_the_page_it_shows():
    live.watch("branch:7", "tab-a", RegistrationState)
    live.watch("branch:7", "tab-a", ExaminationState)  # the tab moved to Pemeriksaan
    assert live.watchers("branch:7") == {"tab-a": ExaminationState}
    live.watch("branch:8", "tab-a", ExaminationState)  # and then to another branch
    assert "tab-a" not in live.watchers("branch:7")
    live.unwatch_tab("tab-a")
    assert live.watchers("branch:8") == {}


def test_shared_reads_once_per_change_of_the_topic():
    reads = []

    def load():
        reads.append(1)
        return (len(reads),)

    first = live.shared("branch:9", "queue", load)
    assert live.shared("branch:9", "queue", load) is first  # a second tab reuses it
    live.publish("branch:9", visit_id=1)  # a change (no app bound: nothing is pushed)
    assert live.shared("branch:9", "queue", load) == (2,)
    assert len(reads) == 2


def _capture_deliveries(monkeypatch) -> list[tuple[str, dict]]:
    delivered = []

    async def deliver(app, topic, changes):
        delivered.append((topic, changes))

    monkeypatch.setattr(live, "deliver", deliver)
    monkeypatch.setattr(live, "COALESCE_SECONDS", 0.01)
    return delivered


def test_publishes_close_together_are_delivered_once_with_every_visit(monkeypatch):
    delivered = _capture_deliveries(monkeypatch)

    async def run():
        live._schedule(object(), "branch:5", "tab-x", 3)
        live._schedule(object(), "branch:5", "tab-x", 4)
        await asyncio.sleep(0.05)
        live._schedule(object(), "branch:5", "tab-x", 5)
        live._schedule(object(), "branch:5", "tab-y", None)  # a change of unknown visits
        await asyncio.sleep(0.05)

    asyncio.run(run())
    assert delivered == [
        ("branch:5", {3: {"tab-x"}, 4: {"tab-x"}}),
        ("branch:5", {5: {"tab-x"}, None: {"tab-y"}}),  # who changed what travels along
    ]


def test_a_publish_whose_loop_ended_does_not_hold_back_later_ones(monkeypatch):
    delivered = _capture_deliveries(monkeypatch)

    async def publish_and_leave():
        live._schedule(object(), "branch:6", "", 1)  # the loop ends before it is delivered

    async def publish_and_wait():
        live._schedule(object(), "branch:6", "", 2)
        await asyncio.sleep(0.05)

    asyncio.run(publish_and_leave())
    asyncio.run(publish_and_wait())
    assert delivered == [("branch:6", {2: {""}})]


class _Tabs:
    """An app whose tabs record what they are told (`told`: (token, changed))."""

    def __init__(self) -> None:
        self.told: list[tuple[str, frozenset]] = []

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        told = self.told

        class Tab:
            def _on_board_change(self, topic, changed):
                told.append((token.ident, changed))

        class Root:
            async def get_state(self, cls):
                return Tab()

        yield Root()


def test_a_tab_is_not_told_of_its_own_changes_that_travel_with_others():
    """Two desks act within one delivery: each hears of the other's visit only. A doctor
    whose open visit only she changed does not reload it because a desk registered
    someone else."""
    for tab in ("desk-a", "desk-b", "doctor", "board"):
        live.watch("branch:4", tab, ExaminationState)
    live.focus("doctor", 7)
    app = _Tabs()
    changes = {3: frozenset({"desk-a"}), 4: frozenset({"desk-b"}), 7: frozenset({"doctor"})}
    asyncio.run(live.deliver(app, "branch:4", changes))
    assert sorted(app.told) == [
        ("board", frozenset({3, 4, 7})),
        ("desk-a", frozenset({4, 7})),
        ("desk-b", frozenset({3, 7})),
    ]
    app.told.clear()
    changes[7] = frozenset({"doctor", ""})  # and the worker sent that visit
    asyncio.run(live.deliver(app, "branch:4", changes))
    assert ("doctor", frozenset({3, 4, 7})) in app.told
    app.told.clear()
    asyncio.run(live.deliver(app, "branch:4", {None: frozenset({"desk-a"})}))
    assert sorted(t for t, _ in app.told) == ["board", "desk-b", "doctor"]
    assert ("desk-b", frozenset()) in app.told  # anything may have changed: the whole list


def test_a_tab_showing_one_visit_hears_only_of_that_visit():
    app = _Tabs()
    told = app.told
    for tab in ("tab-a", "tab-b", "tab-list"):
        live.watch("branch:4", tab, ExaminationState)
    live.focus("tab-a", 3)
    live.focus("tab-b", 4)
    asyncio.run(live.publish_now(app, "branch:4", changed=frozenset({3})))
    assert sorted(t for t, _ in told) == ["tab-a", "tab-list"]
    told.clear()
    live.focus("tab-b", 0)  # tab-b closed its visit: it shows the list again
    asyncio.run(live.publish_now(app, "branch:4", changed=frozenset({3})))
    assert sorted(t for t, _ in told) == ["tab-a", "tab-b", "tab-list"]
    told.clear()
    live.focus("tab-b", 4)
    asyncio.run(live.publish_now(app, "branch:4"))  # anything may have changed
    assert sorted(t for t, _ in told) == ["tab-a", "tab-b", "tab-list"]
    live.unwatch_tab("tab-a")  # leaving the page forgets the focus too
    assert "tab-a" not in live._FOCUS


REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_or_skip() -> None:
    import os

    import pytest
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("KLINIKITA_REQUIRE_REDIS") == "1":  # CI: it must be there
            pytest.fail(f"Redis is required but not reachable at {REDIS_URL}")
        pytest.skip("Redis is not running")


@contextlib.asynccontextmanager
async def _relay_with_listener(app, db_url: str):  # noqa: ANN001
    """This process's Redis relay running, and a client listening on its channel (as the
    other processes do); yields (client, listener, channel) once both have subscribed."""
    import redis.asyncio as aioredis

    channel = live.board_channel(db_url)
    relay = asyncio.create_task(live.relay_boards(app, REDIS_URL, db_url))
    client = aioredis.from_url(REDIS_URL)
    listener = client.pubsub()
    await listener.subscribe(channel)
    try:
        for _ in range(100):  # the relay has subscribed
            if live._BUS is not None and (await client.pubsub_numsub(channel))[0][1] >= 2:
                break
            await asyncio.sleep(0.02)
        yield client, listener, channel
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        await listener.aclose()
        await client.aclose()


async def _next_from_here(listener) -> dict | None:  # noqa: ANN001
    """The next message this process sent on the channel (others' are skipped)."""
    for _ in range(50):
        message = await listener.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None and json.loads(message["data"])["from"] == live._INSTANCE:
            return json.loads(message["data"])
    return None


def test_with_redis_boards_reach_the_tabs_of_the_other_backend_processes(monkeypatch):
    """Production runs several backend workers; each knows only its own tabs. A publish
    goes out on Redis, and the other processes deliver it to theirs (not to the sender,
    which delivered it already), on a channel of their own database only."""
    _redis_or_skip()
    delivered = _capture_deliveries(monkeypatch)
    db_url = f"sqlite:///board-test-{id(delivered)}.db"
    channel = live.board_channel(db_url)
    assert channel != live.board_channel(db_url + "-other")

    async def run():
        app = object()
        live.bind_app(app)
        try:
            async with _relay_with_listener(app, db_url) as (client, listener, channel):
                # Another process registered a visit: this process's watchers reload.
                other = {"from": "another-process", "topic": "branch:4", "exclude": "tab-b",
                         "visit_id": 12}  # fmt: skip
                await client.publish(channel, json.dumps(other))
                await asyncio.sleep(0.2)
                assert delivered == [("branch:4", {12: {"tab-b"}})]
                # This process publishes: its own tabs are told here, the others over Redis.
                live.publish("branch:4", exclude="tab-a", visit_id=13)
                sent = await _next_from_here(listener)  # it heard the other's message first
                assert sent == {"from": live._INSTANCE, "topic": "branch:4", "exclude": "tab-a",
                                "visit_id": 13}  # fmt: skip
                await asyncio.sleep(0.2)  # the relay hears its own message too, and skips it
                assert delivered[1:] == [("branch:4", {13: {"tab-a"}})]
                # A finished job: the in-process worker's notifier tells the other processes;
                # the relay of an outside worker does not (every process relays it itself).
                notice = JobNotice(1, "visit_send", 4, "visit", 14, "done", "", None)

                async def heard_from_here() -> list[dict]:
                    await asyncio.sleep(0.2)
                    found = []
                    while (m := await listener.get_message(True, timeout=0.05)) is not None:
                        if json.loads(m["data"])["from"] == live._INSTANCE:
                            found.append(json.loads(m["data"]))
                    return found

                await live.make_notifier(app, tell_other_processes=False)(notice)
                assert await heard_from_here() == []
                await live.make_notifier(app)(notice)
                assert [(m["topic"], m["visit_id"]) for m in await heard_from_here()] == [
                    ("branch:4", 14)
                ]
        finally:
            live.bind_app(None)

    asyncio.run(run())
    assert live._BUS is None  # stopped with the app


def test_with_redis_one_backend_process_tells_the_asking_tab_of_an_ended_job():
    """With the worker in its own process every backend process relays every ended job.
    Through Redis any of them can change the asking tab's state, so only the first to claim
    the ending tells it (before, the tab reloaded its visit once per process). A later
    ending of the same job (failed again after Kirim ulang) is told again, and the worker
    inside a process always tells."""
    from dataclasses import replace

    _redis_or_skip()
    told: list[tuple[int, str]] = []

    class Tab:
        def _on_sync_notice(self, notice):
            told.append((notice.job_id, notice.ended_at))

    class Root:
        async def get_state(self, cls):
            return Tab()

    class App:
        @contextlib.asynccontextmanager
        async def modify_state(self, token):
            yield Root()

    live.register("claim-test", RegistrationState)
    db_url = f"sqlite:///claims-test-{id(told)}.db"
    first = JobNotice(
        5, "x", 4, "claim-test", 9, "failed", "", "tab-a", "2026-11-26T10:00:00+00:00"
    )
    again = replace(first, ended_at="2026-11-26T10:05:00+00:00")

    async def run():
        app = App()
        async with _relay_with_listener(app, db_url) as (client, _listener, channel):
            try:
                relay_here = live.make_notifier(app, tell_other_processes=False)
                relay_elsewhere = live.make_notifier(app, tell_other_processes=False)
                await relay_here(first)
                await relay_elsewhere(first)  # another process relays the same ending
                assert told == [(5, first.ended_at)]
                await relay_elsewhere(again)
                await relay_here(again)
                assert told == [(5, first.ended_at), (5, again.ended_at)]
                await live.make_notifier(app)(first)  # the worker in this process
                assert len(told) == 3
            finally:
                await client.delete(*[k async for k in client.scan_iter(f"{channel}:told:*")])

    try:
        asyncio.run(run())
        # Without Redis (one backend process) the relay tells every ending.
        told.clear()
        asyncio.run(live.make_notifier(App(), tell_other_processes=False)(first))
        asyncio.run(live.make_notifier(App(), tell_other_processes=False)(first))
        assert len(told) == 2
    finally:
        live._LISTENERS["claim-test"].clear()


def test_a_malformed_board_message_from_redis_is_ignored(monkeypatch):
    delivered = []
    monkeypatch.setattr(live, "_schedule", lambda *args: delivered.append(args))
    for data in ("not json", "[]", '{"from": "x"}', b'{"topic": "branch:1"}'):
        live._deliver_from_elsewhere(object(), data)
    assert delivered == []
    live._deliver_from_elsewhere(
        object(), '{"from": "x", "topic": "branch:1", "exclude": null, "visit_id": "7"}'
    )
    assert [args[1:] for args in delivered] == [("branch:1", "", None)]  # a bad id: any visit


def test_with_redis_an_account_change_reaches_the_actor_caches_of_the_other_processes(db):
    """A logout or ganti tugas committed by one backend process: every other process forgets
    the actors it remembers, so the change holds there on the next event too."""
    from klinikita.models.enums import Duty
    from klinikita.services import actor_cache, auth
    from tests.factories import GOOD_PASSWORD, make_branch, make_user

    _redis_or_skip()
    branch = make_branch(db)
    make_user(db, "sari", branches=[branch], extra_duties=(Duty.BIDAN,))
    token = auth.login(db, "sari", GOOD_PASSWORD).token
    db.commit()
    db_url = f"sqlite:///actors-test-{id(db)}.db"

    async def run():
        async with _relay_with_listener(object(), db_url) as (client, listener, channel):
            # This process commits ganti tugas: the others are told.
            auth.switch_duty(db, token, Duty.BIDAN)
            db.commit()
            assert await _next_from_here(listener) == {"from": live._INSTANCE, "kind": "accounts"}
            # A commit made in a thread (the login check runs in one) is told as well.
            await asyncio.to_thread(auth.login, db, "sari", GOOD_PASSWORD)
            await asyncio.to_thread(db.commit)
            assert await _next_from_here(listener) == {"from": live._INSTANCE, "kind": "accounts"}
            # Another process committed one: this process forgets what it remembers.
            kept = actor_cache.cached_actor("a-token", lambda: auth.resolve(db, token))
            assert kept is not None and actor_cache._ACTORS
            await client.publish(channel, json.dumps({"from": "elsewhere", "kind": "accounts"}))
            for _ in range(50):
                if not actor_cache._ACTORS:
                    break
                await asyncio.sleep(0.02)
            assert not actor_cache._ACTORS

    asyncio.run(run())
