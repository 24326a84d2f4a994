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
import select
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_CONVERTED: dict[str, tuple[bytes, tuple[str, ...]]] = {}
# Prepared statements one connection keeps: every statement of the app is built once, so
# this is never reached; it only bounds a mistake that builds statements per call.
MAX_PREPARED = 500
# A step of `LibpqStatements.run`: a command, or (sql, parameters, whether its rows are wanted).
Step = bytes | tuple[str, dict[str, Any], bool]


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
    are the caller's: `command(b"BEGIN")` and `command(b"COMMIT")`, or such commands among
    the steps of `run` (the psycopg connection is in autocommit mode, so it never begins one
    of its own)."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self._pg = connection.pgconn
        self._tx = Transformer(connection)
        self._encoding = connection.info.encoding
        self._prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self._made = 0

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        """The rows of a select (or a write with RETURNING) as tuples; none for other
        statements."""
        return self.run([(sql, params, True)])[0]

    def write(self, sql: str, params: dict[str, Any]) -> int:
        """Run a statement; the number of rows it touched."""
        return self.run([(sql, params, False)])[0]

    def command(self, sql: bytes) -> None:
        """A statement without parameters or rows (BEGIN, COMMIT, ROLLBACK)."""
        self._check(self._call(self._pg.exec_, sql))

    def run(self, steps: Sequence[Step]) -> list[Any]:
        """Each step's outcome, all the steps sent together and answered together: one
        round trip where there would be one per step (and one more per statement new on
        this connection, prepared in the same batch). A step is a command without
        parameters (bytes: BEGIN, COMMIT), which gives None, or `(sql, params, rows)`,
        which gives its rows as tuples if `rows` (none for a statement without any), else
        the number of rows it touched. After a failed step the server skips the rest of
        the batch; the first failure is raised."""
        dumped = [step if isinstance(step, bytes) else self._dump(*step) for step in steps]
        if len(dumped) == 1 and not isinstance(dumped[0], bytes):
            key, values, formats, want = dumped[0]
            name = self._prepared.get(key)
            if name is not None:  # the common case, without the pipeline's own costs
                result = self._call(self._pg.exec_prepared, name, values, formats)
                self._check(result)
                return [self._outcome(result, want)]
        pg = self._pg
        sends: list[tuple[Any, tuple]] = []
        made: dict[tuple[bytes, tuple[int, ...]], tuple[bytes, int]] = {}  # key: name, PREPARE
        answers: list[tuple[int, bool | None]] = []  # per step: its result's place, what it gives
        for step in dumped:
            if isinstance(step, bytes):
                answers.append((len(sends), None))
                sends.append((pg.send_query_params, (step, None)))
                continue
            key, values, formats, want = step
            name = self._prepared.get(key)
            if name is None:
                if key not in made:
                    made[key] = (self._name_for(key), len(sends))
                    sends.append((pg.send_prepare, (made[key][0], key[0], key[1])))
                name = made[key][0]
            answers.append((len(sends), want))
            sends.append((pg.send_query_prepared, (name, values, formats)))
        results = self._call(self._batch, sends)
        for key, (name, at) in made.items():
            if results[at].status == pq.ExecStatus.COMMAND_OK:
                self._prepared[key] = name  # prepared, even if what came after it failed
        for result in results:
            if result.status != pq.ExecStatus.PIPELINE_ABORTED:
                self._check(result)
        return [None if want is None else self._outcome(results[at], want) for at, want in answers]

    def _dump(self, sql: str, params: dict[str, Any], want: bool) -> tuple:
        """The statement's key (query and parameter types), its parameters as the server
        takes them, their formats, and `want`."""
        query, names = libpq_sql(sql)
        if not names:
            return (query, ()), (), None, want
        tx = self._tx
        values = tuple(params[name] for name in names)
        dumped = tx.dump_sequence(values, (PyFormat.AUTO,) * len(values))
        return (query, tuple(tx.types)), dumped, tx.formats, want

    def _outcome(self, result: pq.abc.PGresult, want: bool) -> list[tuple] | int:
        if not want:
            return result.command_tuples or 0
        if result.status != pq.ExecStatus.TUPLES_OK:
            return []
        self._tx.set_pgresult(result)
        return self._tx.load_rows(0, result.ntuples, tuple)

    def parse(self, sqls: Sequence[str]) -> None:
        """Have the server parse each statement once, as the unnamed statement, which the
        next replaces: nothing runs and nothing stays prepared, but this server process
        has read the catalog entries the statements need (tables, indexes, types), which
        it otherwise reads on their first real use. A statement it refuses is skipped: so
        only outside a transaction, which a refusal would end."""
        for sql in sqls:
            query, _ = libpq_sql(sql)
            self._call(self._pg.prepare, b"", query, None)

    def _name_for(self, key: tuple[bytes, tuple[int, ...]]) -> bytes:
        """A name for a statement about to be prepared (making room for it first)."""
        if len(self._prepared) >= MAX_PREPARED:
            oldest = next(iter(self._prepared))
            self.command(b"DEALLOCATE " + self._prepared.pop(oldest))
        self._made += 1
        return b"klinikita_%d" % self._made

    def _batch(self, sends: list[tuple[Any, tuple]]) -> list[pq.abc.PGresult]:
        """`sends` in libpq's pipeline mode, then their results in order."""
        pg = self._pg
        pg.enter_pipeline_mode()
        try:
            for send, args in sends:
                send(*args)
            pg.pipeline_sync()
            while pg.flush():  # what the socket did not take at once
                select.select([], [pg.socket], [])
            results = []
            for _ in sends:
                results.append(self._next_result())
                self._next_result()  # the None that ends each command's results
            self._next_result()  # the batch's end (PIPELINE_SYNC)
        except BaseException:
            # Left half sent or half read (the server went away): the connection is closed,
            # its transaction with it, and the caller's next scope opens a new one.
            pg.finish()
            raise
        pg.exit_pipeline_mode()
        return results

    def _next_result(self) -> pq.abc.PGresult | None:
        """libpq's next result, waiting for the server without holding the GIL (libpq's
        own wait in `get_result` would hold it)."""
        pg = self._pg
        while pg.is_busy():
            select.select([pg.socket], [], [])
            pg.consume_input()
        return pg.get_result()

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
