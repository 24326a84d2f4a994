"""Readiness of this deployment (the backend's /ready): the database answers, its schema is
at the newest migration, an outbox worker is alive, the outbox is not stuck, and each
configured branch can get a SATUSEHAT token. Nothing here reveals a secret: checks report
ok or not and a short reason, branches by id."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from klinikita.db import read_scope
from klinikita.integrations.satusehat.client import new_http_client
from klinikita.integrations.satusehat.config import missing_settings
from klinikita.integrations.satusehat.outcomes import AuthFailed
from klinikita.integrations.satusehat.tokens import TokenCache, TokenUnavailable
from klinikita.migrations import current_revisions, head_revisions
from klinikita.models import Branch, SyncJob
from klinikita.models.satusehat import JobStatus
from klinikita.services import worker_heartbeat
from klinikita.services.satusehat_credentials import credentials_for

_JOB = SyncJob.__table__
WAITING = (JobStatus.PENDING.value, JobStatus.IN_PROGRESS.value)
# A token check per branch is remembered this long, so probes do not hammer SATUSEHAT.
SATUSEHAT_CHECK_SECONDS = 60.0
TOKEN_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    reason: str
    # False: reported, but does not make the deployment unready.
    required: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    heartbeat_seconds: float  # a worker's last beat older than this: not ready
    oldest_job_seconds: float  # a job waiting longer than this: not ready


def is_ready(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.required)


def as_json(checks: list[Check]) -> dict[str, Any]:
    """The /ready body: overall status and every check."""
    return {
        "status": "ok" if is_ready(checks) else "unavailable",
        "checks": {c.name: {k: v for k, v in asdict(c).items() if k != "name"} for c in checks},
    }


def database_checks(db_url: str | None, thresholds: Thresholds, now: datetime) -> list[Check]:
    """Database, migrations, worker heartbeat and outbox backlog, each on its own."""
    try:
        with read_scope(db_url) as session:
            session.connection().execute(text("SELECT 1"))
    except Exception as exc:
        reason = f"database unreachable ({type(exc).__name__})"
        return [Check("database", False, reason)] + [
            Check(name, False, "database unreachable") for name in ("migrations", "worker")
        ]
    return [
        Check("database", True, "reachable"),
        _guarded("migrations", lambda: _migrations(db_url)),
        _guarded("worker", lambda: _worker(db_url, thresholds, now)),
        _guarded("outbox", lambda: _outbox(db_url, thresholds, now)),
    ]


def _guarded(name: str, run) -> Check:  # noqa: ANN001
    try:
        return run()
    except Exception as exc:  # a missing table (schema behind) is a failed check, not a 500
        return Check(name, False, f"check failed ({type(exc).__name__})")


def _migrations(db_url: str | None) -> Check:
    with read_scope(db_url) as session:
        current = current_revisions(session.connection())
    head = head_revisions()
    detail = {"current": list(current), "head": list(head)}
    if current == head:
        return Check("migrations", True, "at head", detail=detail)
    return Check("migrations", False, "schema is not at the newest migration", detail=detail)


def _age_seconds(moment: datetime | None, now: datetime) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - moment).total_seconds())


def _worker(db_url: str | None, thresholds: Thresholds, now: datetime) -> Check:
    with read_scope(db_url) as session:
        age = _age_seconds(worker_heartbeat.latest_beat(session), now)
    if age is None:
        return Check("worker", False, "no outbox worker has reported")
    detail = {"last_beat_seconds_ago": round(age, 1)}
    if age > thresholds.heartbeat_seconds:
        return Check("worker", False, "outbox worker heartbeat is stale", detail=detail)
    return Check("worker", True, "heartbeat fresh", detail=detail)


def _outbox(db_url: str | None, thresholds: Thresholds, now: datetime) -> Check:
    with read_scope(db_url) as session:
        waiting, oldest = (
            session.connection()
            .execute(
                select(func.count(), func.min(_JOB.c.created_at)).where(_JOB.c.status.in_(WAITING))
            )
            .one()
        )
    age = _age_seconds(oldest, now)
    oldest_seconds = None if age is None else round(age)
    detail = {"waiting": int(waiting), "oldest_waiting_seconds": oldest_seconds}
    if age is not None and age > thresholds.oldest_job_seconds:
        return Check("outbox", False, "the oldest waiting job is too old", detail=detail)
    return Check("outbox", True, "moving", detail=detail)


def jobs_by_status(db_url: str | None = None) -> dict[str, int]:
    """How many outbox jobs are in each state (every state listed, zero included)."""
    with read_scope(db_url) as session:
        rows = session.connection().execute(
            select(_JOB.c.status, func.count()).group_by(_JOB.c.status)
        )
        found = {status: int(n) for status, n in rows}
    return {s.value: found.get(s.value, 0) for s in JobStatus}


# ----- SATUSEHAT tokens, per configured branch ------------------------------------------
_remembered: dict[str, tuple[float, Check]] = {}


def forget_satusehat_check() -> None:
    """Drop the remembered SATUSEHAT check (tests; a changed setting shows within a minute)."""
    _remembered.clear()


def _branch_credentials(db_url: str | None, simulator_base: str) -> tuple[list, dict[int, str]]:
    creds, refused = [], {}
    with read_scope(db_url) as session:
        for branch in session.execute(select(Branch).where(Branch.is_active.is_(True))).scalars():
            if missing_settings(branch):
                continue
            try:
                creds.append(credentials_for(branch, simulator_base))
            except ValueError:
                refused[branch.id] = "secret cannot be opened with this server's key"
    return creds, refused


async def satusehat_check(
    db_url: str | None, simulator_base: str, tokens: TokenCache, *, required: bool
) -> Check:
    """Whether every configured branch gets a token (the cached one when still fresh),
    remembered for SATUSEHAT_CHECK_SECONDS."""
    key = f"{db_url}|{simulator_base}"
    hit = _remembered.get(key)
    if hit is not None and time.monotonic() - hit[0] < SATUSEHAT_CHECK_SECONDS:
        return hit[1]
    try:
        creds, branches = await asyncio.to_thread(_branch_credentials, db_url, simulator_base)
    except Exception as exc:  # e.g. a schema behind the code: reported, not a 500
        return Check("satusehat", False, f"check failed ({type(exc).__name__})", required=required)
    results = {bid: {"ok": False, "reason": why} for bid, why in branches.items()}
    if creds:
        async with new_http_client() as http:
            for c in creds:
                results[c.branch_id] = await _token_result(c, http, tokens)
    ok = all(r["ok"] for r in results.values())
    reason = (
        "no branch has SATUSEHAT settings"
        if not results
        else ("every configured branch gets a token" if ok else "a branch gets no token")
    )
    per_branch = {str(bid): r for bid, r in sorted(results.items())}
    check = Check("satusehat", ok, reason, required=required, detail={"branches": per_branch})
    _remembered[key] = (time.monotonic(), check)
    return check


async def _token_result(creds, http, tokens: TokenCache) -> dict[str, Any]:  # noqa: ANN001
    try:
        await asyncio.wait_for(tokens.get(creds, http, None), TOKEN_TIMEOUT_SECONDS)
    except TokenUnavailable as unavailable:
        refused = isinstance(unavailable.outcome, AuthFailed)
        return {"ok": False, "reason": "token refused" if refused else "SATUSEHAT unreachable"}
    except TimeoutError:
        return {"ok": False, "reason": "SATUSEHAT did not answer in time"}
    return {"ok": True, "reason": "token obtained"}
