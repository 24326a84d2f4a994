"""Backups of the database while the app runs, their restore, and how many are kept.

A backup is two files in its folder, named by the moment it was taken (UTC):

- `klinikita-YYYYmmdd-HHMMSS.sqlite3.gz`: a copy of the SQLite database made with SQLite's
  backup API (one consistent snapshot, writers go on meanwhile), gzip-compressed; or
  `klinikita-YYYYmmdd-HHMMSS.pgdump`: `pg_dump --format=custom` (compressed by itself) of one
  snapshot of the PostgreSQL database.
- `klinikita-YYYYmmdd-HHMMSS.json`: its manifest: the app's version, the database's Alembic
  revision, the row count of every table and the SHA-256 of the backup file, all of the same
  snapshot.

Both are the owner's only (0600), in a folder made 0700. The encryption key of the SATUSEHAT
secrets is never part of a backup: it is kept apart (README, "Backups").
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import MetaData, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, Connection, make_url

from klinikita.db import make_engine, read_scope
from klinikita.migrations import alembic_config, current_revisions, upgrade_to_head
from klinikita.models import Branch, Region, drug_search
from klinikita.models.patient_search import FTS_TABLE
from klinikita.private_files import private_folder
from klinikita.services.errors import ServiceError
from klinikita.services.secrets_store import decrypt_secret
from klinikita.settings import DATA_DIR, get_settings

STAMP_FORMAT = "%Y%m%d-%H%M%S"
SQLITE_SUFFIX = "sqlite3.gz"
PG_SUFFIX = "pgdump"
BACKUP_NAME = re.compile(r"^klinikita-(\d{8}-\d{6})\.(sqlite3\.gz|pgdump)$")
MANIFEST_NAME = re.compile(r"^klinikita-(\d{8}-\d{6})\.json$")
ALEMBIC_TABLE = "alembic_version"
# Code tables the migrations fill themselves: a freshly migrated database has their rows and
# is still empty for a restore.
MIGRATION_FILLED = frozenset({Region.__tablename__})


class BackupRefused(ServiceError):
    """A backup or restore that was not done; `message` says why, for the operator."""


def default_folder() -> Path:
    """Where backups go without `--to`: `backups` in the data folder."""
    return DATA_DIR / "backups"


@dataclass(frozen=True)
class Manifest:
    file: str
    created_at: str
    database: str  # "sqlite" or "postgresql"
    app_version: str
    alembic_revision: str | None
    row_counts: dict[str, int]
    sha256: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
            return cls(
                file=str(data["file"]),
                created_at=str(data["created_at"]),
                database=str(data["database"]),
                app_version=str(data["app_version"]),
                alembic_revision=data["alembic_revision"],
                row_counts={str(k): int(v) for k, v in data["row_counts"].items()},
                sha256=str(data["sha256"]),
            )
        except FileNotFoundError as exc:
            raise BackupRefused(f"Manifest {path} tidak ditemukan.") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupRefused(f"Manifest {path} tidak dapat dibaca.") from exc


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest_path: Path
    manifest: Manifest
    pruned: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class TableCount:
    table: str
    in_backup: int
    restored: int | None  # None: the table is missing from the restored database

    @property
    def matches(self) -> bool:
        return self.in_backup == self.restored


@dataclass(frozen=True)
class RestoreResult:
    counts: list[TableCount]
    revision: str | None
    head: str
    # Branches whose stored SATUSEHAT secret this install's key cannot open.
    unreadable_secrets: list[str]

    @property
    def upgraded(self) -> bool:
        return self.revision != self.head

    @property
    def counts_match(self) -> bool:
        return all(c.matches for c in self.counts)


@dataclass(frozen=True)
class Retention:
    """The newest backup of each of the last `daily` days, `weekly` ISO weeks and `monthly`
    months that have backups is kept (a backup may count for several)."""

    daily: int
    weekly: int
    monthly: int

    @classmethod
    def from_settings(cls) -> Retention:
        s = get_settings()
        return cls(s.backup_keep_daily, s.backup_keep_weekly, s.backup_keep_monthly)


def app_version() -> str:
    try:
        return version("klinikita")
    except PackageNotFoundError:
        return "unknown"


# --- backup -------------------------------------------------------------------------------


def create_backup(
    db_url: str | None = None,
    folder: Path | None = None,
    *,
    now: datetime | None = None,
    retention: Retention | None = None,
) -> BackupResult:
    """Back up the database at `db_url` (default: the configured one) into `folder` (default:
    `default_folder()`), write its manifest, then prune the folder's older backups by
    `retention` (default: the settings). The app may keep writing meanwhile."""
    url = db_url or get_settings().db_url
    folder = folder or default_folder()
    private_folder(folder)
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    stamp = moment.strftime(STAMP_FORMAT)
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        path = folder / f"klinikita-{stamp}.{SQLITE_SUFFIX}"
        revision, counts = _backup_sqlite(url, path)
    elif dialect == "postgresql":
        path = folder / f"klinikita-{stamp}.{PG_SUFFIX}"
        revision, counts = _backup_postgresql(url, path)
    else:
        raise BackupRefused(f"Database {dialect} tidak didukung untuk pencadangan.")
    manifest = Manifest(
        file=path.name,
        created_at=moment.isoformat().replace("+00:00", "Z"),
        database=dialect,
        app_version=app_version(),
        alembic_revision=revision,
        row_counts=counts,
        sha256=file_sha256(path),
    )
    manifest_path = folder / f"klinikita-{stamp}.json"
    with os.fdopen(_new_private_file(manifest_path), "w") as f:
        f.write(manifest.to_json())
    pruned = prune(folder, retention or Retention.from_settings(), always_keep=moment)
    return BackupResult(path, manifest_path, manifest, pruned)


def _new_private_file(path: Path) -> int:
    """A file descriptor of the new file `path` (0600); an existing one is refused."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise BackupRefused(f"{path} sudah ada; coba lagi sebentar lagi.") from exc


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _counted(name: str) -> bool:
    """Tables whose rows a manifest counts: the app's own, not Alembic's bookkeeping nor the
    search indexes SQLite keeps beside `patient` and `drug_item`."""
    return (
        name != ALEMBIC_TABLE
        and name != FTS_TABLE
        and not name.startswith(f"{FTS_TABLE}_")
        and not drug_search.is_search_table(name)
    )


def table_counts(conn: Connection) -> dict[str, int]:
    """The row count of every counted table the connection's database has."""
    names = sorted(n for n in inspect(conn).get_table_names() if _counted(n))
    return {n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names}


def _revision(conn: Connection) -> str | None:
    heads = current_revisions(conn)
    return heads[0] if heads else None


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupRefused("Database SQLite di memori tidak dapat dicadangkan.")
    return Path(database)


def _backup_sqlite(url: str, path: Path) -> tuple[str | None, dict[str, int]]:
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupRefused(f"Database {source} tidak ditemukan.")
    fd = _new_private_file(path)
    copy = path.with_name(f".{path.name}.partial")
    copy.unlink(missing_ok=True)
    os.close(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src:
            with closing(sqlite3.connect(copy)) as dst:
                # All pages in one step: one read transaction, so one consistent snapshot.
                src.backup(dst, pages=-1)
        engine = create_engine(f"sqlite:///{copy}")
        with engine.connect() as conn:
            revision, counts = _revision(conn), table_counts(conn)
        engine.dispose()
        with open(copy, "rb") as f_in, os.fdopen(fd, "wb") as raw:
            fd = None
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw) as gz:
                shutil.copyfileobj(f_in, gz, 1 << 20)
    except BaseException:
        if fd is not None:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise
    finally:
        copy.unlink(missing_ok=True)
    return revision, counts


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """`url` as pg_dump and pg_restore take it (no driver, no password) and the environment
    that carries the password, if any, to them."""
    parsed = make_url(url)
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    """The PostgreSQL client program `name` on PATH."""
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(f"{name} tidak ditemukan; pasang klien PostgreSQL (postgresql-client).")
    return found


def _backup_postgresql(url: str, path: Path) -> tuple[str | None, dict[str, int]]:
    libpq_url, env = libpq_connection(url)
    os.close(_new_private_file(path))
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            # pg_dump reads the snapshot this transaction exported, so the counts and the
            # revision below describe exactly what the dump holds.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            revision, counts = _revision(conn), table_counts(conn)
            done = subprocess.run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={path}",
                    f"--dbname={libpq_url}",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            conn.rollback()
        if done.returncode != 0:
            raise BackupRefused(f"pg_dump gagal: {done.stderr.strip()}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()
    return revision, counts


# --- retention ----------------------------------------------------------------------------


def backups_to_keep(stamps: Iterable[datetime], retention: Retention) -> set[datetime]:
    """Of the backups taken at `stamps`, those `retention` keeps; the newest always."""
    ordered = sorted(set(stamps), reverse=True)
    keep: set[datetime] = set(ordered[:1])
    rules = (
        (retention.daily, lambda t: t.date()),
        (retention.weekly, lambda t: tuple(t.isocalendar())[:2]),
        (retention.monthly, lambda t: (t.year, t.month)),
    )
    for count, period_of in rules:
        periods: set[object] = set()
        for stamp in ordered:
            period = period_of(stamp)
            if period in periods:
                continue
            if len(periods) >= count:
                break
            periods.add(period)
            keep.add(stamp)  # the newest of its period
    return keep


def prune(folder: Path, retention: Retention, *, always_keep: datetime | None = None) -> list[Path]:
    """Delete the backups (and their manifests) in `folder` that `retention` does not keep
    (nor the one taken at `always_keep`); the deleted files. Files not named as backups are
    never touched."""
    by_stamp: dict[datetime, list[Path]] = {}
    for entry in folder.iterdir():
        match = BACKUP_NAME.match(entry.name) or MANIFEST_NAME.match(entry.name)
        if match and entry.is_file():
            stamp = datetime.strptime(match.group(1), STAMP_FORMAT).replace(tzinfo=UTC)
            by_stamp.setdefault(stamp, []).append(entry)
    backed_up = [
        stamp for stamp, files in by_stamp.items() if any(BACKUP_NAME.match(f.name) for f in files)
    ]
    keep = backups_to_keep(backed_up, retention)
    pruned: list[Path] = []
    for stamp in sorted(by_stamp):
        if stamp in keep or stamp == always_keep or stamp not in backed_up:
            continue
        for path in sorted(by_stamp[stamp]):
            path.unlink(missing_ok=True)
            pruned.append(path)
    return pruned


# --- restore ------------------------------------------------------------------------------


def backup_files(file: Path) -> tuple[Path, Manifest]:
    """The backup file and its manifest, given either of the two."""
    match = BACKUP_NAME.match(file.name)
    if MANIFEST_NAME.match(file.name):
        manifest = Manifest.read(file)
        return file.with_name(manifest.file), manifest
    if not match:
        raise BackupRefused(
            f"{file.name} bukan nama berkas cadangan Klinikita (klinikita-YYYYmmdd-HHMMSS.*)."
        )
    return file, Manifest.read(file.with_name(f"klinikita-{match.group(1)}.json"))


def restore_backup(file: Path, db_url: str | None = None) -> RestoreResult:
    """Restore the backup `file` (or its manifest) into the empty database at `db_url`
    (default: the configured one), then upgrade it to this code's newest migration.

    Refused, with nothing written, when the file does not match its manifest's checksum,
    when its revision is newer than this code knows, when it is of another kind of database,
    or when the target has rows in any table."""
    url = db_url or get_settings().db_url
    path, manifest = backup_files(file)
    if not path.exists():
        raise BackupRefused(f"Berkas cadangan {path} tidak ditemukan.")
    if file_sha256(path) != manifest.sha256:
        raise BackupRefused(
            f"Checksum {path.name} tidak cocok dengan manifest-nya: berkas rusak atau diubah. "
            "Pemulihan dibatalkan."
        )
    head = _check_revision(url, manifest.alembic_revision)
    dialect = make_url(url).get_backend_name()
    if dialect != manifest.database:
        raise BackupRefused(
            f"Cadangan ini dari database {manifest.database}; database tujuan {dialect}."
        )
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            filled = {
                name: n
                for name, n in table_counts(conn).items()
                if n and name not in MIGRATION_FILLED
            }
        if filled:
            listed = ", ".join(f"{name} ({n})" for name, n in sorted(filled.items()))
            raise BackupRefused(
                "Database tujuan tidak kosong; pemulihan hanya ke database kosong. "
                f"Tabel berisi: {listed}."
            )
        if dialect == "sqlite":
            engine.dispose()
            _restore_sqlite(path, _sqlite_path(url))
        else:
            _drop_empty_tables(engine)
            _restore_postgresql(path, url)
        with engine.connect() as conn:
            restored = table_counts(conn)
        counts = [
            TableCount(name, n, restored.get(name))
            for name, n in sorted(manifest.row_counts.items())
        ]
        if manifest.alembic_revision != head:
            engine.dispose()
            upgrade_to_head(url)
        unreadable = _unreadable_secrets(engine)
    finally:
        engine.dispose()
    return RestoreResult(counts, manifest.alembic_revision, head, unreadable)


def _check_revision(url: str, revision: str | None) -> str:
    """This code's head revision; a backup this code cannot upgrade is refused."""
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head() or ""
    if revision is None:
        raise BackupRefused("Manifest cadangan tidak mencatat revisi database (Alembic).")
    try:
        known = script.get_revision(revision) is not None
    except (ResolutionError, CommandError):
        known = False
    if not known:
        raise BackupRefused(
            f"Cadangan ini dari revisi database {revision}, lebih baru dari yang dikenal "
            f"Klinikita versi ini (revisi terbaru: {head}). Perbarui Klinikita dulu, lalu "
            "pulihkan lagi."
        )
    return head


def _restore_sqlite(path: Path, target: Path) -> None:
    private_folder(target.parent)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".restore-", delete=False) as tmp:
        copy = Path(tmp.name)  # made 0600 by tempfile
        with gzip.open(path, "rb") as gz:
            shutil.copyfileobj(gz, tmp, 1 << 20)
    try:
        with closing(sqlite3.connect(copy)) as src:
            with closing(sqlite3.connect(target, timeout=30)) as dst:
                src.backup(dst, pages=-1)
    finally:
        copy.unlink(missing_ok=True)


def _drop_empty_tables(engine) -> None:  # noqa: ANN001
    """Drop the (empty, checked by the caller) tables and functions of the PostgreSQL target,
    e.g. those a `migrate` made, so the dump's own schema can be restored."""
    metadata = MetaData()
    with engine.begin() as conn:
        metadata.reflect(conn)
        metadata.drop_all(conn)
        # The migrations' trigger functions (those of extensions stay).
        functions = conn.execute(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema() AND NOT EXISTS ("
                "SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
            )
        ).scalars()
        for signature in list(functions):
            conn.execute(text(f"DROP FUNCTION {signature}"))


def _restore_postgresql(path: Path, url: str) -> None:
    libpq_url, env = libpq_connection(url)
    tool = _pg_tool("pg_restore")
    listing = subprocess.run([tool, "--list", str(path)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupRefused(f"pg_restore gagal membaca cadangan: {listing.stderr.strip()}")
    # An extension's comment belongs to its owner (a superuser); the app's user cannot set it.
    entries = [line for line in listing.stdout.splitlines() if "COMMENT - EXTENSION" not in line]
    with tempfile.NamedTemporaryFile("w", suffix=".list") as use_list:
        use_list.write("\n".join(entries) + "\n")
        use_list.flush()
        done = subprocess.run(
            [
                tool,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={use_list.name}",
                f"--dbname={libpq_url}",
                str(path),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise BackupRefused(f"pg_restore gagal: {done.stderr.strip()}")


def _unreadable_secrets(engine) -> list[str]:  # noqa: ANN001
    """Names of the branches whose SATUSEHAT secret this install's key cannot open."""
    with read_scope(engine) as session:
        rows = session.execute(
            select(Branch.name, Branch.ss_secret_encrypted).where(Branch.ss_secret_encrypted != "")
        ).all()
    unreadable = []
    for name, token in rows:
        try:
            decrypt_secret(token)
        except ValueError:
            unreadable.append(name)
    return sorted(unreadable)
