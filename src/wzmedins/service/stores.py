"""The service's stores: a DuckDB ledger held open.

The service keeps its DuckDB ledger open: one database handle for the life of the process,
a cursor per transaction. Opening and closing the file for each operation (what the ledger
does so that several processes can take turns) costs a few hundred milliseconds a call; the
service is the ledger's one writer process, so it holds the file instead (docs/service.md).

A PostgreSQL ledger keeps one connection per ``Ledger`` (and its temporary tables with it:
``ledger/postgres_store.py``): the writer and the readers each get their own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ..ledger import Ledger
from ..ledger import schema as s
from ..ledger.duckdb_store import TYPES, DuckDBStore, _file_lock, transaction_on
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
                with transaction_on(con, write=write) as tx:
                    yield tx
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


def open_ledger(location: str, *, policy, lock_timeout: float, shared: Ledger | None = None) -> Ledger:
    """A Ledger for the service: a DuckDB file is held open (``shared`` passes the handle of the
    writer's ledger to a reader); a PostgreSQL ledger gets its own connection, the writer's
    keeping its temporary tables for the life of the connection."""
    ledger = Ledger(location, policy=policy, lock_timeout=lock_timeout)
    if isinstance(ledger.store, DuckDBStore):
        ledger.store = shared.store if shared is not None else KeptDuckDBStore(ledger.store.path,
                                                                               lock_timeout=lock_timeout)  # fmt: skip
    return ledger


__all__ = ["KeptDuckDBStore", "open_ledger"]
