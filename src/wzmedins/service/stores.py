"""The service's stores: a DuckDB ledger held open, a PostgreSQL ledger whose scratch tables
live as long as the connection.

The service keeps its DuckDB ledger open: one database handle for the life of the process,
a cursor per transaction. Opening and closing the file for each operation (what the ledger
does so that several processes can take turns) costs a few hundred milliseconds a call; the
service is the ledger's one writer process, so it holds the file instead (docs/service.md).

On PostgreSQL a ledger batch passes its persons, claim ids and new state rows through
temporary tables (``Tx.temp``): made, filled and dropped in every commit, four times — DDL
that writes the system catalogs each time, about a quarter of a one-claim commit. The
service's writer commits a group every few milliseconds on one connection, so it keeps those
tables for the life of the connection and empties them instead (``KeptTempPostgresStore``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pyarrow as pa

from ..ledger import Ledger
from ..ledger import schema as s
from ..ledger.duckdb_store import TYPES, DuckDBStore, DuckDBTx, _file_lock
from ..ledger.postgres_store import PostgresStore
from ..ledger.store import LedgerBusyError, Tx


class KeptDuckDBStore(DuckDBStore):
    """A DuckDB ledger file held open by this process. Writers take turns on the file's lock;
    readers run beside them on their own cursors (DuckDB's snapshots keep them consistent)."""

    def __init__(self, path: str, *, lock_timeout: float = 30.0):
        super().__init__(path, lock_timeout=lock_timeout)
        self._db = None
        self._open_lock = threading.Lock()

    def _database(self):
        with self._open_lock:
            if self._db is None:
                db = self._connect()
                for stmt in s.ddl(TYPES, indexes=False):
                    db.execute(stmt)
                self._db, self._created = db, True
            return self._db

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        lock = _file_lock(self.path) if write else contextlib.nullcontext()
        if write and not lock.acquire(timeout=self.lock_timeout):
            raise LedgerBusyError(f"ledger {self.path} is in use by another writer in this process")
        try:
            con = self._database().cursor()
            try:
                con.execute("BEGIN TRANSACTION")
                tx = DuckDBTx(con)
                try:
                    yield tx
                    if write:
                        tx.pause_if_asked()
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            finally:
                con.close()
        finally:
            if write:
                lock.release()

    def close(self) -> None:
        with self._open_lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class KeptTempTx(Tx):
    """A PostgreSQL transaction whose temporary tables outlive it: the first ``temp`` of a name
    (or of a new column set) creates the table, later ones empty it and COPY the rows in;
    ``drop_temp`` keeps it (its rows are private to the connection and replaced on next use)."""

    def __init__(self, tx, made: dict[str, pa.Schema]):
        self._tx, self.cur, self._made = tx, tx.cur, made

    def query(self, sql: str, params=()) -> pa.Table:
        return self._tx.query(sql, params)

    def execute(self, sql: str, params=()) -> None:
        self._tx.execute(sql, params)

    def append(self, table: str, data: pa.Table) -> None:
        self._tx.append(table, data)

    def temp(self, name: str, data: pa.Table) -> None:
        made = self._made.get(name)
        if made is not None and made.equals(data.schema, check_metadata=False):
            self.cur.execute(f"DELETE FROM pg_temp.{name}")
            if data.num_rows:
                self.cur.adbc_ingest(name, data, mode="append", temporary=True)
            return
        self._made.pop(name, None)
        self._tx.temp(name, data)  # drops any older table of that name, creates this one
        self._made[name] = data.schema

    def drop_temp(self, name: str) -> None:
        pass  # emptied by the next temp() of the name


class KeptTempPostgresStore(PostgresStore):
    """A PostgreSQL ledger whose writing transactions keep their temporary tables (see
    :class:`KeptTempTx`). A transaction that rolls back takes the tables it made with it, and a
    new connection has none: both make the next transaction create them again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._made: dict[str, pa.Schema] = {}
        self._made_on = None

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        try:
            with super().transaction(write=write) as tx:
                if tx.con is not self._made_on:
                    self._made, self._made_on = {}, tx.con
                yield KeptTempTx(tx, self._made)
        except BaseException:
            self._made = {}
            raise


def open_ledger(location: str, *, policy, lock_timeout: float, shared: Ledger | None = None) -> Ledger:
    """A Ledger for the service: a DuckDB file is held open (``shared`` passes the handle of the
    writer's ledger to a reader); a PostgreSQL ledger gets its own connection, the writer's
    keeping its temporary tables."""
    ledger = Ledger(location, policy=policy, lock_timeout=lock_timeout)
    if isinstance(ledger.store, DuckDBStore):
        ledger.store = shared.store if shared is not None else KeptDuckDBStore(ledger.store.path,
                                                                               lock_timeout=lock_timeout)  # fmt: skip
    elif isinstance(ledger.store, PostgresStore) and shared is None:
        old = ledger.store
        ledger.store = KeptTempPostgresStore(old.url, schema=old.schema, lock_timeout=lock_timeout)
    return ledger


__all__ = ["KeptDuckDBStore", "KeptTempPostgresStore", "open_ledger"]
