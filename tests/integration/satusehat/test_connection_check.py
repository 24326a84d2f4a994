"""Tes koneksi as a service: a fresh token each time, SATUSEHAT's refusal block respected."""

from __future__ import annotations

from sqlmodel import select

from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.models import SyncLog
from klinikita.services.satusehat_connection import check_branch_connection
from klinikita.services.secrets_store import encrypt_secret
from tests.factories import make_clinic


async def test_each_test_asks_for_a_fresh_token_and_logs_it(db, sim):
    branch, *_ = make_clinic(db)
    tokens = TokenCache()
    first = await check_branch_connection(branch.id, sim.base_url, tokens=tokens)
    second = await check_branch_connection(branch.id, sim.base_url, tokens=tokens)
    assert first.ok and second.ok and "Simulator" in first.message
    assert sim.simulator.stats.token_requests == 2
    rows = db.exec(select(SyncLog).where(SyncLog.branch_id == branch.id)).all()
    assert [r.status_code for r in rows] == [200, 200]
    assert all("demo-klinik-secret" not in r.request_body for r in rows)


async def test_a_refused_secret_is_not_retried_within_satusehats_minute(db, sim):
    branch, *_ = make_clinic(db, secret="salah")
    tokens = TokenCache()
    first = await check_branch_connection(branch.id, sim.base_url, tokens=tokens)
    second = await check_branch_connection(branch.id, sim.base_url, tokens=tokens)
    assert not first.ok and first.message.startswith("Kunci SATUSEHAT ditolak")
    assert "unacceptable" in first.detail
    assert not second.ok and "ditahan" in second.message
    assert sim.simulator.stats.token_requests == 1


async def test_a_secret_this_server_cannot_open_says_to_enter_it_again(db, sim):
    branch, *_ = make_clinic(db)
    branch.ss_secret_encrypted = encrypt_secret("x")[:-4] + "AAAA"
    db.add(branch)
    db.commit()
    result = await check_branch_connection(branch.id, sim.base_url, tokens=TokenCache())
    assert not result.ok and "masukkan ulang" in result.message
    assert sim.simulator.stats.token_requests == 0
