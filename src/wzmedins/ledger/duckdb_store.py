"""The embedded backend: one DuckDB database file, no server.

DuckDB lets one process at a time open a file for writing (an OS file lock): a second
process waits here, retrying, until ``lock_timeout`` and is then refused. Inside one process,
connections to the same file share one database, so writers take a per-file thread lock.
A transaction that has not committed leaves nothing behind if the process dies.

``DuckDBStore`` opens the file for each operation, so several processes can take turns, and
DuckDB writes a checkpoint each time the file is closed. ``HeldDuckDBStore``
(``wz.Ledger(path, hold=True)``, and the service) opens it once for the life of the process.
A committed transaction is in DuckDB's write-ahead log (or already in the file) when COMMIT
returns, so a process killed after a commit loses nothing: the next open replays the log.

Checkpoints skip DuckDB's *vacuum* — rewriting row groups to merge the partly filled ones and
to drop deleted rows — which cost about as much as writing the batch's rows again (measured:
docs/performance.md, "The ledger's daily batch"), except at every ``VACUUM_EVERY``-th change of
the ledger (its generation, ``ledger/warm.py``), held file or not: the state rows that
batches replace are reclaimed in bulk.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from . import schema as s
from .store import LedgerBusyError, LedgerError, Store, Tx
from .warm import GENERATION

TYPES = {s.TEXT: "VARCHAR", s.INT64: "BIGINT", s.INT32: "INTEGER", s.DATE: "DATE"}
_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: str) -> threading.Lock:
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(path, threading.Lock())


VACUUM_EVERY = 32  # changes of the ledger (its generation) between checkpoints that vacuum


def vacuum_turn(con) -> bool:
    """Should the next checkpoint vacuum? At every ``VACUUM_EVERY``-th generation of the ledger,
    whichever process wrote it (and on a file without one)."""
    import duckdb

    try:
        row = con.execute("SELECT value FROM meta WHERE key = ?", [GENERATION]).fetchone()
    except duckdb.Error:
        return True
    return row is None or int(row[0]) % VACUUM_EVERY == 0


# a DuckDB database file has this at byte 8 (its storage header)
MAGIC = b"DUCK"


def check_path(path: str, *, create: bool) -> None:
    """A ledger path is a DuckDB file, or (with ``create``) a new file in an existing folder.
    DuckDB would open a Parquet or CSV file as an empty database, and store nothing."""
    if os.path.isdir(path):
        raise LedgerError(f"ledger {path} is a directory: give a file path, e.g. {os.path.join(path, 'ledger.duckdb')}")
    if not os.path.exists(path):
        if not create:
            raise LedgerError(f"no ledger at {path} (check the path; this command does not create one)")
        if not os.path.isdir(os.path.dirname(path)):
            raise LedgerError(f"ledger {path}: no folder {os.path.dirname(path)}")
        return
    if not os.path.isfile(path):
        raise LedgerError(f"ledger {path} is not a regular file")
    with open(path, "rb") as f:
        head = f.read(12)
    if head[8:12] != MAGIC and os.path.getsize(path) > 0:
        raise LedgerError(f"{path} is not a wzmedins ledger (not a DuckDB database file)")


class DuckDBTx(Tx):
    def __init__(self, con):
        self.con = con

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Arrow output on a DB-API result makes an extra copy"
            return self.con.execute(sql, list(params)).to_arrow_table()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, list(params))

    def temp(self, name: str, data: pa.Table) -> None:
        self.con.register(name, data)

    def drop_temp(self, name: str) -> None:
        self.con.unregister(name)

    def upsert(self, table: str, data: pa.Table, keys: Sequence[str]) -> None:
        """Delete the rows with the same keys, then insert: DuckDB's ON CONFLICT DO UPDATE
        costs time in proportion to the table, this in proportion to the batch."""
        if data.num_rows == 0:
            return
        self.temp("_wz_upsert", data)
        match = " AND ".join(f'{table}."{k}" = u."{k}"' for k in keys)
        self.execute(f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM _wz_upsert u WHERE {match})")
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        self.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _wz_upsert")
        self.drop_temp("_wz_upsert")

    def replace(self, table: str, data: pa.Table, keys: Sequence[str], stored) -> None:
        """Delete the stored rows of the flagged keys only, then insert every row at once."""
        if data.num_rows == 0:
            return
        stored = pa.array(stored, pa.bool_())
        if stored.true_count:
            self.temp("_wz_replace", data.filter(stored).select(list(keys)))
            match = " AND ".join(f'{table}."{k}" = r."{k}"' for k in keys)
            self.execute(f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM _wz_replace r WHERE {match})")
            self.drop_temp("_wz_replace")
        self.append(table, data)


@contextmanager
def transaction_on(con, *, write: bool) -> Iterator[DuckDBTx]:
    """One transaction on an open DuckDB connection or cursor: committed when the block ends,
    rolled back when it raises (a writer may be paused before the commit, for the crash tests)."""
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


class DuckDBStore(Store):
    """A ledger in a DuckDB file at ``path`` (created on first use)."""

    def __init__(self, path: str, *, lock_timeout: float = 30.0, create: bool = True):
        self.path = os.path.abspath(path)
        self.url = self.path
        self.lock_timeout = lock_timeout
        self.create = create
        self._created = False
        check_path(self.path, create=create)

    def _connect(self):
        import duckdb

        deadline = time.monotonic() + self.lock_timeout
        delay = 0.01
        while True:
            try:
                return duckdb.connect(self.path)
            except duckdb.IOException as e:
                if "lock" not in str(e).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise LedgerBusyError(
                        f"ledger {self.path} is in use by another process (waited {self.lock_timeout:g} s)"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _check_tables(self, con) -> None:
        """A DuckDB file that holds other tables but no ledger is not ours to write into."""
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if names and "meta" not in names:
            raise LedgerError(
                f"{self.path} is a DuckDB database but not a wzmedins ledger (tables {sorted(names)[:5]})"
            )
        if not names and not self.create:
            raise LedgerError(f"no ledger at {self.path} (an empty database; this command does not create one)")

    def _prepare(self, con) -> None:
        """Check the file is a ledger (or may become one) and create its tables, once."""
        if not self._created:
            self._check_tables(con)
            for stmt in s.ddl(TYPES, indexes=False):
                con.execute(stmt)
            self._created = True

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        check_path(self.path, create=self.create)
        lock = _file_lock(self.path)
        if not lock.acquire(timeout=self.lock_timeout):
            raise LedgerBusyError(f"ledger {self.path} is in use by another writer in this process")
        try:
            con = self._connect()
            try:
                self._prepare(con)
                with transaction_on(con, write=write) as tx:
                    yield tx
                if write and not vacuum_turn(con):
                    con.execute("SET max_vacuum_tasks = 0")  # the checkpoint on closing skips it
            finally:
                con.close()
        finally:
            lock.release()


class HeldDuckDBStore(DuckDBStore):
    """A DuckDB ledger file held open by this process until :meth:`close` (another process
    waits for it meanwhile). Writers take turns on the file's lock; readers run beside them on
    their own cursors (DuckDB's snapshots keep them consistent). Checkpoints vacuum at every
    :data:`VACUUM_EVERY`-th generation (see the module's docstring)."""

    def __init__(self, path: str, *, lock_timeout: float = 30.0, create: bool = True):
        super().__init__(path, lock_timeout=lock_timeout, create=create)
        self._db = None
        self._open_lock = threading.Lock()
        self._vacuum_tasks = "100"  # DuckDB's max_vacuum_tasks when the file was opened

    def _database(self):
        with self._open_lock:
            if self._db is None:
                check_path(self.path, create=self.create)
                db = self._connect()
                try:
                    self._prepare(db)
                    self._vacuum_tasks = str(db.execute("SELECT current_setting('max_vacuum_tasks')").fetchone()[0])
                    db.execute("SET max_vacuum_tasks = 0")
                except BaseException:
                    db.close()
                    raise
                self._db = db
            return self._db

    def vacuum(self) -> None:
        """A checkpoint with DuckDB's vacuum: row groups merged, deleted rows dropped. Skipped
        (the next one does it) when another transaction keeps DuckDB from checkpointing."""
        import duckdb

        with self._open_lock:
            if self._db is None:
                return
            self._db.execute(f"SET max_vacuum_tasks = {int(self._vacuum_tasks)}")
            try:
                self._db.execute("CHECKPOINT")
            except duckdb.Error:
                pass
            finally:
                self._db.execute("SET max_vacuum_tasks = 0")

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        lock = _file_lock(self.path) if write else None
        if lock is not None and not lock.acquire(timeout=self.lock_timeout):
            raise LedgerBusyError(f"ledger {self.path} is in use by another writer in this process")
        try:
            con = self._database().cursor()
            try:
                with transaction_on(con, write=write) as tx:
                    yield tx
            finally:
                con.close()
            if write and vacuum_turn(self._database()):
                self.vacuum()
        finally:
            if lock is not None:
                lock.release()

    def close(self) -> None:
        """Close the file (DuckDB checkpoints it, without the vacuum unless it is the turn); the
        next transaction opens it again."""
        with self._open_lock:
            if self._db is not None:
                self._db.close()
                self._db = None
