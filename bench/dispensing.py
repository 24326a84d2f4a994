"""Pharmacists dispensing at the same time, over the app's own websocket.

    .venv/bin/python bench/dispensing.py [--db sqlite|postgresql] [--sessions 10]
        [--rounds 3] [--think-ms 500] [--server granian|uvicorn]

1. The app's backend runs as its own process (granian, as `reflex run`), on a fresh
   database, without the SATUSEHAT worker (the MedicationDispense jobs stay queued: what is
   measured is the pharmacy's own work).
2. Set-up (not measured): one branch, `--sessions` pharmacists (apoteker) logged in over the
   websocket, ten drug items with three batches each, and per pharmacist `--rounds`
   completed visits whose prescriptions wait at the pharmacy: two single items and a
   racikan of two ingredients, drawn from the same ten items, so the pharmacists take from
   the same batches (one backend process runs the handlers one at a time, so their row
   locks never wait here; with several processes this is the worst case for them).
3. The limit, in the same run: every session sends a bare event (a handler that sets one
   text var, no database) on the same page, with the same pauses.
4. The flow, every session at the same time: open Apotek (today's queue), open its next
   prescription (review: lines, allergies, the FEFO plan), type a changed quantity and its
   reason, Siapkan obat (FEFO with row locks, stock card, audit, outbox job, every other
   pharmacist's queue pushed live), Serahkan. Between two events a session pauses like a
   person (`--think-ms` on average).
It prints p50 and p95 of each step, and PASS/FAIL against the targets: event round trip p95
<= 5 x the bare event's p95 (as bench/clinic_flow_ws.py), and the dispense event's own p95
<= 5 x the bare p95. It also prints the backend's CPU time per flow event and per bare event,
and checks afterwards that the stock card adds up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="klinikita-bench-dispense-"))
os.environ.setdefault("REFLEX_DB_URL", f"sqlite:///{_TMP / 'bench.db'}")
os.environ.setdefault("KLINIKITA_SECRET_KEY_FILE", str(_TMP / "bench.key"))
os.environ.setdefault("KLINIKITA_BCRYPT_ROUNDS", "4")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

import psutil  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import klinikita.klinikita  # noqa: E402, F401  (registers every state)
from bench.processes import (  # noqa: E402
    SERVERS,
    add_db_option,
    percentile,
    rerun_if_postgresql,
    start_backend,
    verdict,
)
from bench.ws_client import WsSession, has, var  # noqa: E402
from klinikita.db import get_engine, read_scope, session_scope  # noqa: E402
from klinikita.migrations import upgrade_to_head  # noqa: E402
from klinikita.models import DispenseLine, StockBatch, StockMovement  # noqa: E402
from klinikita.models.enums import Duty  # noqa: E402
from klinikita.state.pharmacy import PharmacyState as S  # noqa: E402
from tests.factories import (  # noqa: E402
    GOOD_PASSWORD,
    make_clinic,
    make_completed_visit,
    make_user,
    sandbox_patient,
)
from tests.support import pharmacy_data as ph  # noqa: E402

ITEMS = 10
STOCK_PER_BATCH = 100_000
EVENT_RATIO_TARGET = 5.0


def seed(sessions: int, rounds: int) -> dict:
    with session_scope() as db:
        branch, unit, room, doctor, _ = make_clinic(db)
        items = [
            ph.item(db, branch, f"Obat {n:02d} 500 mg tablet", kfa=f"930000{n:02d}")
            for n in range(ITEMS)
        ]
        for item in items:
            for b in range(3):
                expiry = date.today() + timedelta(days=60 + 90 * b)
                ph.batch(db, item, f"B{item.id}-{b}", STOCK_PER_BATCH, expiry)
        db.commit()
        users = [
            make_user(db, f"apt{n}", branches=[branch], main_duty=Duty.APOTEKER).username
            for n in range(sessions)
        ]
        dispenses: list[list[int]] = [[] for _ in range(sessions)]
        number = 0
        for _ in range(rounds):
            for s in range(sessions):
                number += 1
                patient = sandbox_patient(branch, number % 5, mrn=f"D{number:05d}")
                db.add(patient)
                db.commit()
                visit = make_completed_visit(
                    db, branch, unit, room, doctor, patient, queue_number=number
                )
                pick = [items[(number + k) % ITEMS] for k in range(4)]
                rx = ph.prescription(
                    db,
                    visit,
                    [
                        (pick[0], 10, "3 x sehari", "1 tablet", "sesudah makan"),
                        (pick[1], 6, "2 x sehari", "1 tablet", ""),
                    ],
                    compounds=[("Puyer", 10, [(pick[2], 3, "100 mg"), (pick[3], 2, "50 mg")])],
                )
                dispenses[s].append(rx.dispense.id)
        return {"users": users, "dispenses": dispenses}


async def bare_phase(sessions: list[WsSession], count: int) -> list[float]:
    async def one(ws: WsSession) -> list[float]:
        ws.path = "/apotek"
        times = []
        for n in range(count):
            value = f"{ws.token[:4]}{n}"
            dt, _ = await ws.call(
                S,
                "set_cancel_reason",
                until=lambda d, v=value: var(d, S, "cancel_reason") == v,
                value=value,
            )
            times.append(dt * 1000)
        return times

    results = await asyncio.gather(*(one(ws) for ws in sessions))
    return [t for r in results for t in r]


async def dispense_one(ws: WsSession, dispense_id: int) -> list[tuple[str, float]]:
    timings: list[tuple[str, float]] = []

    async def event(handler: str, until, **payload):  # noqa: ANN001, ANN202
        seconds, delta = await ws.call(S, handler, until=until, **payload)
        timings.append((handler, seconds * 1000))
        return delta

    ws.path = "/apotek"
    await event("load", lambda d: has(d, S, "can_dispense"))
    delta = await event(
        "open_dispense",
        lambda d: var(d, S, "selected_id") == dispense_id,
        dispense_id=str(dispense_id),
    )
    need = next(r for r in var(delta, S, "rows") if r["kind"] == "need")
    key, changed = need["key"], str(int(need["prescribed"]) - 1)

    def row_has(field: str, value: str):  # noqa: ANN202
        return lambda d: any(
            r.get("key") == key and r.get(field) == value for r in var(d, S, "rows") or []
        )

    await event("set_quantity", row_has("qty", changed), key=key, value=changed)
    await event("set_reason", row_has("reason", "sisa di rumah"), key=key, value="sisa di rumah")
    await event("dispense", lambda d: (var(d, S, "head") or {}).get("status") == "dispensed")
    await event("hand_over", lambda d: (var(d, S, "head") or {}).get("status") == "handed_over")
    return timings


async def flow_phase(sessions: list[WsSession], ids: dict) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}

    async def one(index: int, ws: WsSession) -> None:
        for dispense_id in ids["dispenses"][index]:
            for name, ms in await dispense_one(ws, dispense_id):
                times.setdefault(name, []).append(ms)

    await asyncio.gather(*(one(i, ws) for i, ws in enumerate(sessions)))
    return times


def stock_adds_up() -> tuple[int, int, int]:
    """(units taken per the dispense lines, per the stock card, per the batches)."""
    with read_scope() as db:
        lines = db.execute(select(func.sum(DispenseLine.quantity))).scalar() or 0
        card = -(db.execute(select(func.sum(StockMovement.quantity))).scalar() or 0)
        held = db.execute(select(func.sum(StockBatch.quantity))).scalar() or 0
        return lines, card, ITEMS * 3 * STOCK_PER_BATCH - held


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the backend and its worker processes so far."""
    main = psutil.Process(pid)
    total = 0.0
    for proc in [main, *main.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


async def run(args: argparse.Namespace) -> bool:
    upgrade_to_head()
    ids = seed(args.sessions, args.rounds)
    backend, base = start_backend(
        server=args.server, KLINIKITA_RUN_WORKER="0", KLINIKITA_MOUNT_SIMULATOR="0"
    )
    sessions: list[WsSession] = []
    try:
        sessions = [WsSession(base, args.think_ms / 1000) for _ in range(args.sessions)]
        await asyncio.gather(*(ws.connect() for ws in sessions))
        await asyncio.gather(
            *(ws.login(u, GOOD_PASSWORD) for ws, u in zip(sessions, ids["users"], strict=True))
        )
        await bare_phase(sessions, 5)  # warm-up
        cpu_before = cpu_seconds(backend.pid)
        bare = await bare_phase(sessions, args.bare)
        bare_cpu = cpu_seconds(backend.pid) - cpu_before
        cpu_before = cpu_seconds(backend.pid)
        times = await flow_phase(sessions, ids)
        cpu = cpu_seconds(backend.pid) - cpu_before
    finally:
        for ws in sessions:
            try:
                await ws.close()
            except Exception:  # noqa: BLE001
                pass
        backend.terminate()
        backend.wait(15)

    bare_p50, bare_p95 = percentile(bare, 50), percentile(bare, 95)
    everything = [t for ts in times.values() for t in ts]
    ev_p50, ev_p95 = percentile(everything, 50), percentile(everything, 95)
    print(
        f"server: {args.server}; database: {get_engine().dialect.name}; pharmacists: "
        f"{args.sessions}; prescriptions each: {args.rounds}; think time: {args.think_ms} ms"
    )
    print(f"bare event (limit), {len(bare)} events: p50 {bare_p50:.1f} ms, p95 {bare_p95:.1f} ms")
    for name, ts in times.items():
        print(
            f"  {name:<14} {len(ts):>4} events: p50 {percentile(ts, 50):6.1f} ms, "
            f"p95 {percentile(ts, 95):6.1f} ms"
        )
    ratio = ev_p95 / bare_p95
    met = ratio <= EVENT_RATIO_TARGET
    print(
        f"flow events, {len(everything)} events: p50 {ev_p50:.1f} ms, p95 {ev_p95:.1f} ms; "
        f"ratio p95/bare p95 {ratio:.2f} (target <= {EVENT_RATIO_TARGET:g}) {verdict(met)}"
    )
    dispense_p95 = percentile(times["dispense"], 95)
    d_ratio = dispense_p95 / bare_p95
    d_met = d_ratio <= EVENT_RATIO_TARGET
    print(
        f"dispense event p95 {dispense_p95:.1f} ms; ratio to bare p95 {d_ratio:.2f} "
        f"(target <= {EVENT_RATIO_TARGET:g}) {verdict(d_met)}"
    )
    print(
        f"backend CPU per event (steadier than the ratio on a shared machine): flow "
        f"{cpu * 1000 / len(everything):.1f} ms, bare {bare_cpu * 1000 / len(bare):.1f} ms"
    )
    lines, card, taken = stock_adds_up()
    consistent = lines == card == taken
    print(
        f"stock: {lines} units on dispense lines, {card} on the stock card, {taken} gone "
        f"from the batches: {'consistent' if consistent else 'INCONSISTENT'}"
    )
    return met and d_met and consistent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_db_option(parser)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="prescriptions per pharmacist")
    parser.add_argument("--bare", type=int, default=20, help="bare events per session")
    parser.add_argument("--think-ms", type=int, default=500)
    parser.add_argument("--server", choices=SERVERS, default="granian")
    args = parser.parse_args()
    rerun_if_postgresql(args, __file__)
    raise SystemExit(0 if asyncio.run(run(args)) else 1)


if __name__ == "__main__":
    main()
