"""Statements on PostgreSQL through libpq itself, for the connections a click uses.

psycopg's cursor wraps every statement in several layers of Python (the query's placeholders
converted on each call, a generator per round trip, its prepared-statement bookkeeping,
results selected through more Python): on this kind of machine, after the pause before a
click, that cost more than the round trip itself. Here the same libpq connection is driven
directly, with psycopg's own C parts doing the work: its `Transformer` dumps the parameters
and loads the rows, with the connection's adapters, so values come back exactly as from a
cursor. Each statement is prepared on the server once per connection (what psycopg does
after its fifth run) and then only executed. Measured in bench/README.md ("Session 13").

Only the kept connections of `klinikita.db` use this: their statements come compiled by
SQLAlchemy with `%(name)s` placeholders, converted once here to libpq's `$n`."""

from __future__ import annotations

import re
import weakref
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_CONVERTED: dict[str, tuple[bytes, tuple[str, ...]]] = {}
# Prepared statements one connection keeps: every statement of the app is built once, so
# this is never reached; it only bounds a mistake that builds statements per call.
MAX_PREPARED = 500


def libpq_sql(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """`sql` with `%(name)s` placeholders as libpq wants it (`$1`, `$2`, ... and `%%` as
    `%`), and the parameter names in `$n` order (a name used twice is one parameter)."""
    found = _CONVERTED.get(sql)
    if found is None:
        names: list[str] = []

        def number(match: re.Match) -> str:
            name = match.group(1)
            if name is None:
                return "%"
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        found = _CONVERTED[sql] = (_PLACEHOLDER.sub(number, sql).encode(), tuple(names))
    return found


class LibpqStatements:
    """Prepared statements run on one psycopg connection's libpq connection. Transactions
    are the caller's: `command(b"BEGIN")` and `command(b"COMMIT")` (the psycopg connection
    is in autocommit mode, so it never begins one of its own)."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self._pg = connection.pgconn
        self._tx = Transformer(connection)
        self._encoding = connection.info.encoding
        self._prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self._made = 0

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        """The rows of a select (or a write with RETURNING) as tuples; none for other
        statements."""
        result = self._execute(sql, params)
        if result.status != pq.ExecStatus.TUPLES_OK:
            return []
        self._tx.set_pgresult(result)
        return self._tx.load_rows(0, result.ntuples, tuple)

    def write(self, sql: str, params: dict[str, Any]) -> int:
        """Run a statement; the number of rows it touched."""
        return self._execute(sql, params).command_tuples or 0

    def command(self, sql: bytes) -> None:
        """A statement without parameters or rows (BEGIN, COMMIT, ROLLBACK)."""
        self._check(self._call(self._pg.exec_, sql))

    def _execute(self, sql: str, params: dict[str, Any]) -> pq.abc.PGresult:
        query, names = libpq_sql(sql)
        tx = self._tx
        if names:
            values = tuple(params[name] for name in names)
            dumped = tx.dump_sequence(values, (PyFormat.AUTO,) * len(values))
            types, formats = tuple(tx.types), tx.formats
        else:
            dumped, types, formats = (), (), None
        name = self._prepared.get((query, types))
        if name is None:
            name = self._prepare(query, types)
        result = self._call(self._pg.exec_prepared, name, dumped, formats)
        self._check(result)
        return result

    def _prepare(self, query: bytes, types: tuple[int, ...]) -> bytes:
        if len(self._prepared) >= MAX_PREPARED:
            oldest = next(iter(self._prepared))
            self.command(b"DEALLOCATE " + self._prepared.pop(oldest))
        self._made += 1
        name = b"klinikita_%d" % self._made
        self._check(self._call(self._pg.prepare, name, query, types))
        self._prepared[(query, types)] = name
        return name

    def _call(self, send: Any, *args: Any) -> pq.abc.PGresult:  # noqa: ANN401
        try:
            return send(*args)
        except psycopg.OperationalError:
            raise
        except Exception as failed:  # noqa: BLE001 (libpq could not even send it)
            raise psycopg.OperationalError(str(failed)) from failed

    def _check(self, result: pq.abc.PGresult) -> None:
        if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
            return
        if self._pg.status == pq.ConnStatus.BAD:
            # The server went away: psycopg's class for it, so callers can start again.
            message = self._pg.get_error_message(self._encoding)
            raise psycopg.OperationalError(message or "the connection to the server was lost")
        raise errors.error_from_result(result, encoding=self._encoding)


_ON: weakref.WeakKeyDictionary[psycopg.Connection, LibpqStatements] = weakref.WeakKeyDictionary()


def on(connection: psycopg.Connection) -> LibpqStatements:
    """The statements of `connection` (one object per connection: it holds the names of
    what is prepared on that server session)."""
    found = _ON.get(connection)
    if found is None:
        found = _ON[connection] = LibpqStatements(connection)
    return found
