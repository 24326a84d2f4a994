"""One typed settings object, read from the environment once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Local data (SQLite files, the key file) lives in a hidden folder: `reflex run` reloads the
# backend when a top-level file changes, and a database file changes on every write.
DATA_DIR = PROJECT_ROOT / ".data"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def _optional_path(name: str, default: Path) -> Path | None:
    """A path from the environment; "none" turns it off (in-memory)."""
    raw = os.environ.get(name, "").strip()
    if raw.lower() == "none":
        return None
    return Path(raw) if raw else default


def default_db_url() -> str:
    return f"sqlite:///{DATA_DIR / 'klinikita.db'}"


@dataclass(frozen=True)
class Settings:
    db_url: str
    redis_url: str | None
    # Fernet key for secrets at rest: the env var wins, else a key file made on first start.
    secret_key: str | None
    secret_key_file: Path
    session_idle_hours: int
    login_max_failures: int
    login_lock_minutes: int
    seed_demo: bool
    # bcrypt cost; 12 in production, lowered in tests so they run fast.
    bcrypt_rounds: int
    run_worker: bool
    # SATUSEHAT simulator: mounted on the backend for the demo; its data survives restarts.
    mount_simulator: bool
    simulator_url: str | None  # overrides the mounted one (e.g. a standalone simulator)
    simulator_data_file: Path | None
    # Outgoing mail (password reset links). No host: nothing is sent, a warning is logged.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_sender: str = "Klinikita <no-reply@klinikita.local>"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # The address staff open Klinikita at; links in mail point here.
    public_url: str = "http://localhost:3000"
    password_reset_minutes: int = 30
    # A login ends this many days after it began, however active it is.
    session_max_days: int = 7
    # The simulator's control endpoints (faults, reset, clock) on the app's backend: only for
    # the demo and the tests, and even then only for an admin's session.
    simulator_control: bool = False
    # psycopg prepares a statement on a connection after this many runs of it; off (None)
    # for a pooler that does not keep prepared statements per client.
    pg_prepare_threshold: int | None = 5
    # SQLite's `synchronous` in WAL mode: FULL syncs every commit to disk, so a committed
    # visit survives a power cut; NORMAL may lose the last commits then (never corrupts).
    sqlite_synchronous: str = "FULL"
    # Backups kept after each `klinikita backup`: the newest of each of this many days,
    # ISO weeks and months that have backups (services/backups.py).
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 4
    backup_keep_monthly: int = 12
    # Health and monitoring (README "Health and monitoring").
    log_level: str = "INFO"
    metrics_token: str | None = None  # none: /metrics answers 404
    ready_heartbeat_seconds: int = 60
    ready_oldest_job_seconds: int = 900
    ready_require_satusehat: bool = False

    @property
    def public_origin(self) -> str:
        """scheme://host[:port] of `public_url`: the one origin whose pages may call the
        backend (CORS) and open its websocket."""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def public_https(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        db_url=normalize_db_url(os.environ.get("REFLEX_DB_URL") or default_db_url()),
        redis_url=os.environ.get("REFLEX_REDIS_URL") or None,
        secret_key=os.environ.get("KLINIKITA_SECRET_KEY") or None,
        secret_key_file=Path(
            os.environ.get("KLINIKITA_SECRET_KEY_FILE") or DATA_DIR / "secret.key"
        ),
        session_idle_hours=_env_int("KLINIKITA_SESSION_IDLE_HOURS", 12),
        login_max_failures=_env_int("KLINIKITA_LOGIN_MAX_FAILURES", 5),
        login_lock_minutes=_env_int("KLINIKITA_LOGIN_LOCK_MINUTES", 15),
        seed_demo=_env_bool("KLINIKITA_DEMO", False),
        bcrypt_rounds=_env_int("KLINIKITA_BCRYPT_ROUNDS", 12),
        run_worker=_env_bool("KLINIKITA_RUN_WORKER", True),
        mount_simulator=_env_bool("KLINIKITA_MOUNT_SIMULATOR", True),
        simulator_url=os.environ.get("KLINIKITA_SIMULATOR_URL") or None,
        simulator_data_file=_optional_path(
            "KLINIKITA_SIMULATOR_DATA", DATA_DIR / "satusehat-simulator.db"
        ),
        smtp_host=os.environ.get("KLINIKITA_SMTP_HOST") or None,
        smtp_port=_env_int("KLINIKITA_SMTP_PORT", 587),
        smtp_sender=os.environ.get("KLINIKITA_SMTP_SENDER")
        or "Klinikita <no-reply@klinikita.local>",
        smtp_user=os.environ.get("KLINIKITA_SMTP_USER") or None,
        smtp_password=os.environ.get("KLINIKITA_SMTP_PASSWORD") or None,
        smtp_starttls=_env_bool("KLINIKITA_SMTP_STARTTLS", False),
        public_url=(os.environ.get("KLINIKITA_PUBLIC_URL") or "http://localhost:3000").rstrip("/"),
        password_reset_minutes=_env_int("KLINIKITA_PASSWORD_RESET_MINUTES", 30),
        session_max_days=_env_int("KLINIKITA_SESSION_MAX_DAYS", 7),
        simulator_control=_env_bool(
            "KLINIKITA_SIMULATOR_CONTROL", _env_bool("KLINIKITA_DEMO", False)
        ),
        sqlite_synchronous=_sqlite_synchronous(),
        pg_prepare_threshold=(
            _env_int("KLINIKITA_PG_PREPARE_THRESHOLD", 5)
            if _env_bool("KLINIKITA_PG_PREPARED_STATEMENTS", True)
            else None
        ),
        backup_keep_daily=_env_int("KLINIKITA_BACKUP_KEEP_DAILY", 7),
        backup_keep_weekly=_env_int("KLINIKITA_BACKUP_KEEP_WEEKLY", 4),
        backup_keep_monthly=_env_int("KLINIKITA_BACKUP_KEEP_MONTHLY", 12),
        log_level=(os.environ.get("KLINIKITA_LOG_LEVEL") or "INFO").strip().upper(),
        metrics_token=os.environ.get("KLINIKITA_METRICS_TOKEN") or None,
        ready_heartbeat_seconds=_env_int("KLINIKITA_READY_HEARTBEAT_SECONDS", 60),
        ready_oldest_job_seconds=_env_int("KLINIKITA_READY_OLDEST_JOB_SECONDS", 900),
        ready_require_satusehat=_env_bool("KLINIKITA_READY_REQUIRE_SATUSEHAT", False),
    )


def _sqlite_synchronous() -> str:
    raw = (os.environ.get("KLINIKITA_SQLITE_SYNCHRONOUS") or "FULL").strip().upper()
    if raw not in {"FULL", "NORMAL"}:
        raise ValueError("KLINIKITA_SQLITE_SYNCHRONOUS must be FULL or NORMAL")
    return raw


def normalize_db_url(url: str) -> str:
    """Accept the usual `postgresql://` spelling and use the psycopg 3 driver for it."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
