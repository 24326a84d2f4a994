"""The database engine and sessions shared by the app, the worker and the CLI."""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from psycopg import pq
from sqlalchemy import Date, Float, Insert, Table, Update, bindparam, event, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.base import Executable
from sqlmodel import Session, SQLModel, create_engine

from klinikita import pg_exec
from klinikita.private_files import private_file, private_folder, restrict
from klinikita.settings import get_settings


def _ensure_sqlite_folder(url: str) -> None:
    """The database's folder (0700) and file (0600) exist, the owner's only: SQLite gives
    the -wal and -shm files it makes beside the database the database file's mode."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        private_folder(Path(path).parent)
        private_file(Path(path))
        for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            if leftover.exists():
                restrict(leftover)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        # isolation_level=None: the driver leaves transactions to us (see _begin_immediate).
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # WAL lets readers of other connections go on while one writes.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts the file; only a power cut can undo the last
            # commits, and an fsync per commit would make every click wait for the disk.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # noqa: ANN001
            # A deferred transaction that reads and then writes fails at once ("database is
            # locked") when another connection wrote in between; taking the write lock at
            # BEGIN makes it wait its turn instead (busy_timeout). A read-only scope
            # (`read_scope`) takes no lock: in WAL mode it reads the last commit at once,
            # even while another connection writes.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


READ_ONLY = "klinikita_read_only"


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    return make_engine(url or get_settings().db_url)


@lru_cache(maxsize=4)
def _read_engine(url: str | None = None) -> Engine:
    return get_engine(url).execution_options(**{READ_ONLY: True})


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A session for reading only: on SQLite it never waits for a writer (nor makes one
    wait). Whatever it reads is one consistent snapshot; it is rolled back at the end, so
    a write made through it by mistake is never kept."""
    with Session(_read_engine(url), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# ----- fast reads ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # parameter names in order (qmark), None: named
    defaults: dict[str, Any]  # values fixed in the statement (literals SQLAlchemy bound)
    binds: tuple[tuple[str, Callable], ...]  # (name, driver conversion) where one is needed
    results: tuple[tuple[int, Callable], ...]  # (column, database value -> Python) if needed
    stmt: Executable  # held, so its id is never reused while it is a key below


_COMPILED: dict[tuple[int, str], _Compiled] = {}


def _compile(stmt: Executable, dialect: Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        # Column defaults are computed by SQLAlchemy's execution, which this path skips.
        raise ValueError(f"give every column a value: {stmt}")
    binds = []
    for name, bind in compiled.binds.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            binds.append((name, convert))
    results = []
    for index, col in enumerate(stmt.exported_columns):
        if isinstance(col.type, Float) and not col.type.asdecimal:
            continue  # both drivers hand back floats (psycopg's processor wants the column oid)
        convert = col.type.dialect_impl(dialect).result_processor(dialect, None)
        if convert is not None and dialect.name == "sqlite" and type(col.type) is Date:
            convert = _sqlite_date  # same answer as SQLAlchemy's regex, several times faster
        if convert is not None:
            results.append((index, convert))
    positions = tuple(compiled.positiontup) if compiled.positional else None
    defaults = {n: b.value for n, b in compiled.binds.items() if not b.required}
    return _Compiled(compiled.string, positions, defaults, tuple(binds), tuple(results), stmt)


def _compiled(stmt: Executable, dialect: Dialect) -> _Compiled:
    """`stmt` compiled for `dialect`, once (see `Statements`)."""
    key = (id(stmt), dialect.name)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _compile(stmt, dialect)
    return found


def _returns_rows(cur: Any) -> bool:
    """The statement just run returned rows (a select, a write with RETURNING)."""
    result = getattr(cur, "pgresult", None)
    if result is not None:
        # psycopg builds an object per column for `description`: a record of forty columns
        # paid more for that than for its round trip.
        return result.status == pq.ExecStatus.TUPLES_OK
    return cur.description is not None


def _sqlite_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


class Statements:
    """Core statements run straight on a driver connection (`self._driver`).

    Each statement is compiled once per dialect (kept by identity: pass statements built
    once, as services/patients.py does), then only its parameters travel: no ORM session,
    no identity map, no per-call SQLAlchemy execution machinery. For exact lookups that
    machinery cost several times the query itself; for a click's write, most of its time."""

    dialect: Dialect
    _driver: Any

    def _prepared(self, stmt: Executable) -> _Compiled:
        return _compiled(stmt, self.dialect)

    def _args(self, c: _Compiled, params: dict[str, Any]) -> Any:
        values = {**c.defaults, **params} if c.defaults else params
        if c.binds:
            values = dict(values)
            for name, convert in c.binds:
                values[name] = convert(values[name])
        return values if c.positions is None else [values[n] for n in c.positions]

    def rows(self, stmt: Executable, params: dict[str, Any]) -> list[tuple]:
        """All rows of `stmt` (a select, or a write with RETURNING) as tuples in its column
        order, values converted as SQLAlchemy would (dates on SQLite, ...)."""
        c = self._prepared(stmt)
        return self._converted(c, self._run(c.sql, self._args(c, params)))

    def rows_each(self, reads: Sequence[tuple[Executable, dict[str, Any]]]) -> list[list[tuple]]:
        """`rows` of each of several reads whose parameters do not depend on one another's
        answers. On a kept PostgreSQL connection they go to the server together: one round
        trip instead of one each."""
        return [self.rows(stmt, params) for stmt, params in reads]

    @staticmethod
    def _converted(c: _Compiled, fetched: list) -> list[tuple]:
        if not c.results:
            return fetched
        out = []
        for row in fetched:
            row = list(row)
            for index, convert in c.results:
                row[index] = convert(row[index])
            out.append(tuple(row))
        return out

    def _run(self, sql: str, args: Any) -> list:
        return self._fetch(sql, args)

    def _fetch(self, sql: str, args: Any) -> list:
        cur = self._driver.cursor()
        try:
            cur.execute(sql, args)
            return cur.fetchall() if _returns_rows(cur) else []
        finally:
            cur.close()

    def _write(self, sql: str, args: Any, many: bool) -> int:
        cur = self._driver.cursor()
        try:
            if many:
                cur.executemany(sql, args)
            else:
                cur.execute(sql, args)
            return cur.rowcount
        finally:
            cur.close()

    def scalar(self, stmt: Executable, params: dict[str, Any]) -> Any:
        found = self.rows(stmt, params)
        return found[0][0] if found else None

    def later(self, stmt: Executable, params: dict[str, Any]) -> None:
        """An insert that nothing in this transaction reads back (an audit row). A write
        scope sends all of them at once, just before its commit; elsewhere it runs now."""
        self.execute(stmt, params)

    def send(self, stmt: Executable, params: dict[str, Any]) -> None:
        """A write whose outcome nothing reads, not even the number of rows it touched (an
        update by id of a row just read). A write scope on PostgreSQL sends it with its
        next statement, in order; elsewhere it runs now."""
        self.execute(stmt, params)

    def execute(self, stmt: Executable, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        """Run a write without RETURNING (a list of parameter sets: executemany); the
        number of rows it touched."""
        c = self._prepared(stmt)
        if isinstance(params, list):
            return self._write(c.sql, [self._args(c, p) for p in params], True)
        return self._write(c.sql, self._args(c, params), False)


class _KeptStatements(Statements):
    """Statements on one of this thread's kept connections (`_kept_connection`)."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self._engine = engine
        self._sqlite = self.dialect.name == "sqlite"
        # An in-memory SQLite database exists only in the pool's own connection, so that
        # one is used through the pool instead.
        memory = self._sqlite and engine.url.database in (None, "", ":memory:")
        self._kept = not memory
        self._driver: Any = None
        self._pooled: Any = None

    def _lost_connection(self) -> tuple[type[BaseException], ...]:
        dbapi = self.dialect.loaded_dbapi
        return (dbapi.OperationalError, dbapi.InterfaceError)

    def _libpq(self) -> pg_exec.LibpqStatements | None:
        """On a kept PostgreSQL connection, its statements through libpq (`pg_exec`)."""
        if self._sqlite or self._pooled is not None:
            return None
        return pg_exec.on(self._driver)

    def _around(self) -> tuple[list[pg_exec.Step], list[pg_exec.Step]]:
        """What goes to the server before and after the next statements through libpq, in
        the same round trip (a write scope's BEGIN and waiting writes; its COMMIT)."""
        return [], []

    def _sent_around(self) -> None:
        """`_around`'s steps reached the server and were carried out."""

    def _send(self, main: list[pg_exec.Step]) -> list[Any]:
        """`main` through libpq with what goes around it, in one round trip; the outcomes
        of `main`."""
        before, after = self._around()
        if not (before or main or after):
            return []
        outcomes = self._libpq().run([*before, *main, *after])
        self._sent_around()
        return outcomes[len(before) : len(before) + len(main)]

    def _fetch(self, sql: str, args: Any) -> list:
        if self._libpq() is None:
            return Statements._fetch(self, sql, args)
        return self._send([(sql, args, True)])[0]

    def rows_each(self, reads: Sequence[tuple[Executable, dict[str, Any]]]) -> list[list[tuple]]:
        if len(reads) < 2 or self._libpq() is None:
            return Statements.rows_each(self, reads)
        compiled = [(self._prepared(stmt), params) for stmt, params in reads]
        fetched = self._run_each([(c.sql, self._args(c, params)) for c, params in compiled])
        return [self._converted(c, rows) for (c, _), rows in zip(compiled, fetched, strict=True)]

    def _guarded(self, send: Callable[[], Any]) -> Any:
        """`send()`, started again on a fresh connection where the subclass finds that
        safe (the kept connection died while idle)."""
        return send()

    def _run(self, sql: str, args: Any) -> list:
        return self._guarded(lambda: self._fetch(sql, args))

    def _run_each(self, reads: list[tuple[str, Any]]) -> list[list]:
        return self._guarded(lambda: self._send([(sql, args, True) for sql, args in reads]))

    def _write(self, sql: str, args: Any, many: bool) -> int:
        return self._guarded(lambda: self._write_now(sql, args, many))

    def _write_now(self, sql: str, args: Any, many: bool) -> int:
        if self._libpq() is None:
            return Statements._write(self, sql, args, many)
        if many:  # psycopg's executemany sends all rows in one round trip
            self._send([])  # what must reach the server first
            return Statements._write(self, sql, args, many)
        return self._send([(sql, args, False)])[0]


class ReadConnection(_KeptStatements):
    """Core selects on this thread's read connection (see `read_connection`)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._started = False

    # A class, not a generator context manager: this runs for every search keystroke.
    def __enter__(self) -> ReadConnection:
        self._started = False
        if self._kept:
            self._driver = _kept_connection(self._engine, reader=True)
        else:
            self._pooled = self._engine.raw_connection()
            self._driver = self._pooled.driver_connection
        if self._sqlite:
            self._driver.execute("BEGIN")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._sqlite:
                self._driver.execute("ROLLBACK")
            elif self._pooled is None:
                try:
                    self._driver.rollback()
                except self._lost_connection():
                    pass  # nothing to undo on a dead connection; the next read replaces it
            if self._pooled is not None:
                try:
                    self._pooled.rollback()
                finally:
                    self._pooled.close()
        finally:
            self._driver = self._pooled = None

    def _guarded(self, read: Callable[[], Any]) -> Any:
        try:
            fetched = read()
        except self._lost_connection():
            if self._started or self._sqlite or not self._kept:
                raise
            # The kept PostgreSQL connection died while idle (server restart, timeout):
            # nothing was read in this `with` yet, so it reads again on a fresh one.
            self._driver = _kept_connection(self._engine, reader=True, fresh=True)
            fetched = read()
        self._started = True
        return fetched

    def execute(self, stmt: Executable, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        raise TypeError("nothing is written through a read connection")


class SessionStatements(Statements):
    """Core statements on the connection of an ORM session's transaction (begun here if it
    was not yet): the hot writes of a click run this way, and commit or roll back with
    the session. The two stay coherent: what the session holds unflushed is flushed first,
    and `update_row` expires what it changed in objects the session already holds."""

    def __init__(self, session: Session) -> None:
        if session.new or session.dirty or session.deleted:
            session.flush()
        connection = session.connection()
        self.session = session
        self.dialect = connection.dialect
        self._driver = connection.connection.driver_connection

    def changed(self, model: type[SQLModel], row_id: int, columns: list[str]) -> None:
        held = self.session.identity_map.get(identity_key(model, row_id))
        if held is not None:
            self.session.expire(held, columns)


def statements(db: Session | Statements) -> Statements:
    """Plain statements for a service given either an ORM session (tests, admin pages: the
    statements join its transaction) or a click's `write_scope()`."""
    if isinstance(db, Statements):
        return db
    return SessionStatements(db)


def as_model(model: type[SQLModel], values: Sequence[Any]) -> SQLModel:
    """An instance of `model` from a row of all its columns in table order (read with
    plain statements), outside any session."""
    # As the ORM builds a loaded row (new_instance, then the attribute values): the model's
    # __init__ runs defaults and attribute events per column, several times the cost. The
    # mappers must be set up first, which the ORM otherwise does on its first use (asked
    # of the mapper: `configure_mappers` itself takes a lock and a set of every registry,
    # 15 µs after a pause, seven times for Selesai's record).
    manager = model._sa_class_manager
    if not manager.mapper.configured:
        configure_mappers()
    obj = manager.new_instance()
    obj.__dict__.update(zip(_columns(model), values, strict=True))
    return obj


_COLUMNS: dict[type[SQLModel], tuple[str, ...]] = {}


def _columns(model: type[SQLModel]) -> tuple[str, ...]:
    """The names of `model`'s columns in table order (SQLAlchemy builds the list anew on
    every call)."""
    names = _COLUMNS.get(model)
    if names is None:
        names = _COLUMNS[model] = tuple(model.__table__.c.keys())
    return names


_FOR_IDS: dict[tuple[Callable, int], Executable] = {}


def for_ids(build: Callable[[list[Any]], Executable], count: int) -> Executable:
    """`build(params)` with `count` separate parameters `id0`, `id1`, ... (pass them with
    `ids_params`), built once per count: `in_` over an expanding list, which SQLAlchemy
    renders anew per call, has no place on the statements path."""
    key = (build, count)
    stmt = _FOR_IDS.get(key)
    if stmt is None:
        stmt = _FOR_IDS[key] = build([bindparam(f"id{i}") for i in range(count)])
    return stmt


def ids_params(ids: Sequence[int]) -> dict[str, int]:
    return {f"id{i}": value for i, value in enumerate(ids)}


_UPDATES: dict[tuple[str, tuple[str, ...]], Update] = {}


def update_statement(table: Table, columns: tuple[str, ...]) -> Update:
    """`UPDATE table SET col = :v_col, ... WHERE id = :row_id`, built once per column set."""
    key = (table.name, columns)
    stmt = _UPDATES.get(key)
    if stmt is None:
        stmt = _UPDATES[key] = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(f"v_{c}", type_=table.c[c].type) for c in columns})
        )
    return stmt


def update_row(st: Statements, model: type[SQLModel], row_id: int, values: dict[str, Any]) -> None:
    """Set some columns of one row by id."""
    columns = tuple(values)
    params = {f"v_{c}": v for c, v in values.items()}
    params["row_id"] = row_id
    st.send(update_statement(model.__table__, columns), params)
    if isinstance(st, SessionStatements):
        st.changed(model, row_id, list(columns))


_INSERTS: dict[tuple[str, bool, bool], Insert] = {}


def column_binds(table: Table, suffix: str = "") -> dict[str, Any]:
    """Every column but the id, each bound to a parameter of its name (plus `suffix`)."""
    return {c.name: bindparam(c.name + suffix, type_=c.type) for c in table.c if c.name != "id"}


def insert_statement(table: Table, *, returning_id: bool = False, given_id: bool = False) -> Insert:
    """`INSERT INTO table (every column but id) VALUES (:column, ...)`, built once (with
    `RETURNING id` if asked; with the id too, as `:id`, if `given_id`): give every column
    a value."""
    key = (table.name, returning_id, given_id)
    stmt = _INSERTS.get(key)
    if stmt is None:
        binds = column_binds(table)
        if given_id:
            binds["id"] = bindparam("id", type_=table.c.id.type)
        stmt = insert(table).values(binds)
        if returning_id:
            stmt = stmt.returning(table.c.id)
        _INSERTS[key] = stmt
    return stmt


_ROWS_INSERTS: dict[tuple[str, int], Insert] = {}


def _rows_insert(table: Table, count: int) -> Insert:
    """`insert_statement(table)` for `count` rows at once, the parameters of row i named
    `column_i`; built once per table and count."""
    key = (table.name, count)
    stmt = _ROWS_INSERTS.get(key)
    if stmt is None:
        rows = [column_binds(table, f"_{i}") for i in range(count)]
        stmt = _ROWS_INSERTS[key] = insert(table).values(rows)
    return stmt


def insert_unless_open(table: Table, columns: Sequence[str], where: str) -> dict[str, Insert]:
    """Per dialect, `insert_statement(table, returning_id=True)` that inserts nothing (and
    returns no id) where the partial unique index on `columns` with predicate `where`
    already holds a row: for `insert_new`'s `statement`, keyed by `st.dialect.name`."""
    return {
        dialect: (
            insert_for(table)
            .values(column_binds(table))
            .on_conflict_do_nothing(
                index_elements=[table.c[name] for name in columns], index_where=text(where)
            )
            .returning(table.c.id)
        )
        for dialect, insert_for in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
    }


@dataclass(frozen=True)
class _NewRow:
    """How a new row of one model gets its column values: per column but the id, whether it
    needs a value, else its default factory or its default value."""

    names: frozenset[str]
    fields: tuple[tuple[str, bool, Callable[[], Any] | None, Any], ...]


_DEFAULTS: dict[type[SQLModel], _NewRow] = {}


def _new_row(model: type[SQLModel]) -> _NewRow:
    columns = set(model.__table__.c.keys()) - {"id"}
    fields = []
    for name, info in model.model_fields.items():
        if name not in columns:
            continue
        if info.default_factory is not None and info.default_factory_takes_validated_data:
            raise TypeError(f"{model.__name__}.{name}: a default from other fields")
        fields.append((name, info.is_required(), info.default_factory, info.default))
    return _NewRow(frozenset(name for name, *_ in fields), tuple(fields))


def new_values(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new `model` row but the id: `values`, and the model's defaults for
    the rest (default factories called), as the model's __init__ would give them. A table
    model's __init__ costs about 0.5 ms after a pause; this, a few microseconds (pydantic's
    own `get_default` inspected each factory's signature on every call)."""
    new = _DEFAULTS.get(model)
    if new is None:
        new = _DEFAULTS[model] = _new_row(model)
    if not new.names.issuperset(values):
        unknown = sorted(set(values) - new.names)
        raise TypeError(f"{model.__name__} has no columns {unknown}")
    row = {}
    for name, required, factory, default in new.fields:
        if name in values:
            row[name] = values[name]
        elif required:
            raise TypeError(f"{model.__name__}.{name} needs a value")
        elif factory is not None:
            row[name] = factory()
        else:
            # A mutable default is copied, as pydantic does, so rows never share it.
            row[name] = (
                copy.deepcopy(default) if isinstance(default, dict | list | set) else default
            )
    return row


def insert_new(
    st: Statements, model: type[SQLModel], values: dict[str, Any], statement: Insert | None = None
) -> SQLModel | None:
    """Insert a new `model` row (`new_values(model, values)`) and return it as an instance
    outside any session, its id set, as if loaded and its session closed. `statement`
    replaces the plain insert: one returning the id that may insert nothing (ON CONFLICT
    DO NOTHING), which gives None."""
    row = new_values(model, values)
    table = model.__table__
    stmt = statement if statement is not None else insert_statement(table, returning_id=True)
    new_id = st.scalar(stmt, row)
    if new_id is None:
        return None
    row["id"] = new_id
    return as_loaded(model, row)


def as_loaded(model: type[SQLModel], row: dict[str, Any]) -> SQLModel:
    """A row just written (every column, by name) as an instance outside any session, as
    if loaded and its session closed: `session.add` of it later updates the row."""
    made = as_model(model, [row[name] for name in _columns(model)])
    make_transient_to_detached(made)
    return made


_kept = threading.local()


def _kept_connection(engine: Engine, *, reader: bool, fresh: bool = False) -> Any:
    """This thread's read (or write) connection to the engine's database, kept open: the
    pool's checkout (with its pre-ping, a round trip on PostgreSQL) and reset cost as much
    as an indexed lookup. Made by the engine (same pragmas and setup), then detached from
    its pool; `fresh` replaces one that died."""
    held = getattr(_kept, "held", None)
    if held is None:
        held = _kept.held = weakref.WeakKeyDictionary()
    pair = held.get(engine)
    if pair is None:
        pair = held[engine] = {}
    driver = None if fresh else pair.get(reader)
    if driver is None or getattr(driver, "closed", False):
        old = pair.pop(reader, None)
        if old is not None:
            try:
                old.close()
            except Exception:  # noqa: BLE001 (it is gone anyway)
                pass
        pooled = engine.raw_connection()
        driver = pair[reader] = pooled.driver_connection
        pooled.detach()
        if engine.dialect.name == "postgresql":
            # Reads: each statement is its own snapshot under READ COMMITTED anyway; in
            # autocommit the BEGIN and ROLLBACK round trips around every read are gone (a
            # third of the round trips of a page's reload). Writes: `WriteConnection` sends
            # its own BEGIN and COMMIT (`pg_exec`), so psycopg must not begin one itself.
            driver.autocommit = True
    return driver


def _module_statements(dialect: str) -> list[Executable]:
    """The statements the app's modules build once, at import: their module-level names,
    and one level into a dict or tuple there (a dict keyed by dialect name: this
    dialect's entry only)."""
    import sys

    from sqlalchemy.sql.dml import UpdateBase
    from sqlalchemy.sql.selectable import Select

    dialects = {"postgresql", "sqlite"}
    found: list[Executable] = []

    def collect(value: Any, depth: int) -> None:
        if isinstance(value, Select | UpdateBase):
            found.append(value)
        elif depth and isinstance(value, dict):
            for key, item in value.items():
                if key not in dialects or key == dialect:
                    collect(item, depth - 1)
        elif depth and isinstance(value, tuple | list):
            for item in value:
                collect(item, depth - 1)

    for name, module in list(sys.modules.items()):
        if module is not None and (name == "klinikita" or name.startswith("klinikita.")):
            for value in list(vars(module).values()):
                collect(value, 2)
    return found


def warm_up(engine: Engine | None = None) -> int:
    """Before the first click, on the thread that serves them: every statement the app's
    modules hold is compiled, this thread's kept read and write connections are opened,
    and on PostgreSQL their server processes parse each statement once (see
    `pg_exec.LibpqStatements.parse`). Otherwise the first click of each kind after a start
    paid all of it, 10-15 ms more than the next. The number of statements."""
    engine = engine or get_engine()
    sqls = []
    for stmt in _module_statements(engine.dialect.name):
        try:
            sqls.append(_compiled(stmt, engine.dialect).sql)
        except Exception:  # noqa: BLE001, S112 (its first use will report it)
            continue
    if engine.url.database in (None, "", ":memory:"):
        return len(sqls)
    for reader in (True, False):
        driver = _kept_connection(engine, reader=reader)
        if engine.dialect.name == "postgresql":
            pg_exec.on(driver).parse(sqls)
    return len(sqls)


def read_connection(engine: Engine | None = None) -> ReadConnection:
    """A connection for reads that need no ORM (searches, lists): `with read_connection()
    as conn:`.

    This thread's read connection, kept open. On SQLite it begins deferred, not IMMEDIATE:
    a snapshot of committed data that never takes or waits for the write lock (WAL lets
    readers run beside the writer), consistent across the statements of one `with`. On
    PostgreSQL it reads in autocommit: each statement sees what was committed when it ran
    (as READ COMMITTED does inside a transaction too), and a dead kept connection is
    replaced before the first read. Nothing is written through it."""
    return ReadConnection(engine or get_engine())


# ----- a click's write --------------------------------------------------------------------
class WriteConnection(_KeptStatements):
    """One transaction of plain statements on this thread's kept write connection (see
    `write_scope`).

    On a kept PostgreSQL connection its round trips are as few as the click's logic allows:
    the BEGIN goes with the first statement, writes given to `send` wait for the next
    statement, the rows given to `later` (audit rows) go with the COMMIT, and after
    `commit_with_next_read` the next read carries the COMMIT too."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._sent = False
        self._begun = False  # BEGIN sent on a kept PostgreSQL connection
        self._waiting: list[pg_exec.Step] = []  # writes given to `send`, in order
        self._closing = False  # the next statement carries the COMMIT
        self._committed = False
        self._later: dict[int, tuple[Executable, list[dict[str, Any]]]] = {}

    def later(self, stmt: Executable, params: dict[str, Any]) -> None:
        self._not_committed()
        self._later.setdefault(id(stmt), (stmt, []))[1].append(params)

    def send(self, stmt: Executable, params: dict[str, Any]) -> None:
        if self._libpq() is None:
            self.execute(stmt, params)
            return
        self._not_committed()
        c = self._prepared(stmt)
        self._waiting.append((c.sql, self._args(c, params), False))

    def execute(self, stmt: Executable, params: dict[str, Any] | list[dict[str, Any]]) -> int:
        self._not_committed()
        return super().execute(stmt, params)

    def commit_with_next_read(self) -> None:
        """What this scope writes is all written: the next read (a `rows` or a `rows_each`,
        reading back what the page shows) goes to the server in one round trip with the
        waiting writes, the `later` rows and the COMMIT, and answers after the commit.
        Nothing may be written after it; later reads see what is committed. That is on a
        kept PostgreSQL connection; elsewhere the commit stays at the scope's end, and a
        write after this is refused all the same."""
        if not self._committed:
            self._closing = True

    def _not_committed(self) -> None:
        if self._committed or self._closing:
            raise RuntimeError("nothing is written after a write scope's closing read")

    def begin(self) -> None:
        if self._kept and not getattr(_kept, "writing", False):
            self._driver = _kept_connection(self._engine, reader=False)
            _kept.writing = True  # a scope nested in this one takes a pooled connection
        else:
            self._pooled = self._engine.raw_connection()
            self._driver = self._pooled.driver_connection
        try:
            if self._sqlite:
                # The write lock at BEGIN, as every write transaction takes it (make_engine).
                self._driver.execute("BEGIN IMMEDIATE")
            # On PostgreSQL the BEGIN goes with the first statement (`_around`; psycopg
            # sends its own on a pooled connection).
        except BaseException:
            self._release()
            raise

    def _around(self) -> tuple[list[pg_exec.Step], list[pg_exec.Step]]:
        if self._committed:
            return [], []  # reads after the closing one: each its own snapshot
        before: list[pg_exec.Step] = [] if self._begun else [b"BEGIN"]
        before.extend(self._waiting)
        self._begun = True  # sent with the statement; a lost connection resets it
        after: list[pg_exec.Step] = [*self._later_inserts(), b"COMMIT"] if self._closing else []
        return before, after

    def _sent_around(self) -> None:
        self._waiting = []
        if self._closing:
            self._later, self._closing, self._committed, self._begun = {}, False, True, False

    def _later_inserts(self) -> list[pg_exec.Step]:
        """The rows kept by `later`, one statement per table: several rows in one multi-row
        VALUES (an executemany cost psycopg a pipeline of its own, about twice a single
        insert on PostgreSQL)."""
        steps: list[pg_exec.Step] = []
        for stmt, rows in self._later.values():
            params = rows[0]
            if len(rows) > 1:
                params = {f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()}
                stmt = _rows_insert(stmt.table, len(rows))
            c = self._prepared(stmt)
            steps.append((c.sql, self._args(c, params), False))
        return steps

    def _send_later_and_commit(self) -> None:
        """The waiting writes, the rows kept by `later`, then the commit: on a kept
        PostgreSQL connection all in one round trip (with the BEGIN too when the scope
        wrote nothing else), and nothing at all for a scope that ran nothing."""
        if self._committed:
            return
        if self._libpq() is not None:
            if self._begun or self._waiting or self._later:
                self._closing = True
                self._guarded(lambda: self._send([]))
            return
        for sql, args, _ in self._later_inserts():
            self._write(sql, args, False)
        self._later = {}
        self._finish("COMMIT")

    def end(self, commit: bool) -> None:
        try:
            if commit:
                try:
                    self._send_later_and_commit()
                except BaseException:
                    self._finish("ROLLBACK")  # a refused commit must not keep the lock
                    raise
            else:
                self._finish("ROLLBACK")
        finally:
            self._later, self._waiting = {}, []
            self._release()

    def _finish(self, command: str) -> None:
        direct = self._libpq()
        if self._sqlite:
            if command == "COMMIT" or self._driver.in_transaction:
                self._driver.execute(command)
        elif direct is not None:
            # Only a ROLLBACK comes here: the COMMIT went with the last statements.
            self._begun = False
            if self._driver.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                try:
                    direct.command(b"ROLLBACK")
                except self._lost_connection():
                    pass  # nothing to undo on a dead connection; the next scope replaces it
        elif command == "COMMIT":
            self._driver.commit()
        else:
            try:
                self._driver.rollback()
            except self._lost_connection():
                pass  # nothing to undo on a dead connection; the next scope replaces it

    def _release(self) -> None:
        if self._pooled is not None:
            self._pooled.close()
        else:
            _kept.writing = False
        self._driver = self._pooled = None

    def _guarded(self, send: Callable[[], Any]) -> Any:
        try:
            result = send()
        except self._lost_connection():
            if self._sent or self._sqlite or self._pooled is not None:
                raise
            # The kept PostgreSQL connection died while idle (server restart, timeout):
            # nothing of this transaction reached the server, so it starts on a fresh one.
            self._driver = _kept_connection(self._engine, reader=False, fresh=True)
            self._begun = False
            result = send()
        self._sent = True
        return result


@contextmanager
def write_scope(engine: Engine | None = None) -> Iterator[WriteConnection]:
    """A click's write as plain statements in one transaction: committed at the end, rolled
    back on any error. It runs on this thread's kept write connection, without an ORM
    session or the pool's checkout; services take it where they take a session
    (`statements()`), and a page reads back what it shows on it before the commit.
    Inside it, write through it only: on SQLite another connection of this thread (an ORM
    session, say) would wait for the write lock this scope holds."""
    st = WriteConnection(engine or get_engine())
    st.begin()
    try:
        yield st
    except BaseException:
        st.end(commit=False)
        raise
    st.end(commit=True)
