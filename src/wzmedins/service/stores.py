"""The service's stores: a DuckDB ledger held open.

The service keeps its DuckDB ledger open: one database handle for the life of the process,
a cursor per transaction. Opening and closing the file for each operation (what the ledger
does so that several processes can take turns) costs a few hundred milliseconds a call; the
service is the ledger's one writer process, so it holds the file instead (docs/service.md).

A PostgreSQL ledger keeps one connection per ``Ledger`` (and its temporary tables with it:
``ledger/postgres_store.py``): the writer and the readers each get their own.
"""

from __future__ import annotations

from ..ledger import Ledger
from ..ledger.duckdb_store import HeldDuckDBStore


def open_ledger(location: str, *, policy, lock_timeout: float, shared: Ledger | None = None) -> Ledger:
    """A Ledger for the service: a DuckDB file is held open (``shared`` passes the handle of the
    writer's ledger to a reader); a PostgreSQL ledger gets its own connection, the writer's
    keeping its temporary tables for the life of the connection."""
    ledger = Ledger(location, policy=policy, lock_timeout=lock_timeout, hold=True)
    if shared is not None and isinstance(shared.store, HeldDuckDBStore):
        ledger.store = shared.store
    return ledger


__all__ = ["open_ledger"]
