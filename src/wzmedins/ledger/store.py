"""The backend interface: a store hands out transactions; a transaction runs SQL and moves
Arrow tables in and out. The ledger's logic (``core``) is written once against it.

SQL is the common subset of DuckDB and PostgreSQL, with ``$1``-style parameters.
"""

from __future__ import annotations

import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import WzmedinsError

# Test hook: when set to a path, a writing transaction creates that file after all its writes
# and sleeps (PAUSE_SECONDS_ENV, default 600) before committing, so a test can kill the
# process in the middle of a commit, or make a second writer meet a held lock.
PAUSE_ENV = "WZMEDINS_LEDGER_PAUSE_IN_COMMIT"
PAUSE_SECONDS_ENV = "WZMEDINS_LEDGER_PAUSE_SECONDS"


class LedgerError(WzmedinsError):
    """A ledger operation that cannot be done (the message says why)."""


class BatchConflictError(LedgerError):
    """A batch id that was already settled, now with different content or policy."""


class LedgerBusyError(LedgerError):
    """Another writer holds the ledger and did not let go within the lock timeout."""


class Tx(ABC):
    """One database transaction."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run a query and return its result as Arrow."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement."""

    @abstractmethod
    def temp(self, name: str, data: pa.Table) -> None:
        """Make ``data`` queryable as ``name`` until the transaction ends."""

    def append(self, table: str, data: pa.Table) -> None:
        """Insert the rows of ``data`` (columns named as in ``table``)."""
        if data.num_rows == 0:
            return
        self.temp("_wz_append", data)
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        self.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _wz_append")
        self.drop_temp("_wz_append")

    #: whether :meth:`append_all` writes everything in one statement (then its ``replace`` is cheap)
    one_statement_writes = False

    def append_all(self, parts: Sequence[tuple[str, pa.Table]], *, replace: Sequence[str] = ()) -> None:
        """:meth:`append` each ``(table, data)`` in turn, or :meth:`upsert` it (by the table's
        key) when the table is named in ``replace``; a backend may do it all in one statement."""
        from .schema import KEYS

        for table, data in parts:
            if table in replace:
                self.upsert(table, data, KEYS[table])
            else:
                self.append(table, data)

    def upsert(self, table: str, data: pa.Table, keys: Sequence[str]) -> None:
        """Insert the rows of ``data``, replacing rows with the same ``keys``."""
        if data.num_rows == 0:
            return
        self.temp("_wz_upsert", data)
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in data.column_names if c not in keys)
        key = ", ".join(f'"{k}"' for k in keys)
        self.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _wz_upsert ON CONFLICT ({key}) DO UPDATE SET {sets}"
        )
        self.drop_temp("_wz_upsert")

    def replace(self, table: str, data: pa.Table, keys: Sequence[str], stored) -> None:
        """Insert the rows of ``data``; those flagged in ``stored`` (a boolean array: the
        caller read that their keys are in ``table``) replace the stored rows, the others are
        new and are appended without looking for a conflict."""
        if data.num_rows == 0:
            return
        stored = pa.array(stored, pa.bool_())
        self.append(table, data.filter(pc.invert(stored)))
        self.upsert(table, data.filter(stored), keys)

    @abstractmethod
    def drop_temp(self, name: str) -> None:
        """Forget a relation made by :meth:`temp`."""

    def pause_if_asked(self) -> None:
        """The crash-test hook (see ``PAUSE_ENV``)."""
        path = os.environ.get(PAUSE_ENV)
        if path:
            with open(path, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "600")))


class Store(ABC):
    """A place the ledger lives: a DuckDB file or a PostgreSQL schema."""

    url: str
    lock_timeout: float

    @property
    def display(self) -> str:
        """Where the ledger is, without a password."""
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", self.url)

    def close(self) -> None:  # noqa: B027 (most stores keep nothing open)
        """Let go of any connection the store keeps."""

    @abstractmethod
    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        """A transaction; with ``write`` it holds the ledger's writer lock (waiting up to
        ``lock_timeout`` seconds, then :class:`LedgerBusyError`). Commits when the block ends
        normally, rolls back on an exception."""


def open_store(
    location: str | os.PathLike,
    *,
    schema: str | None = None,
    lock_timeout: float = 30.0,
    create: bool = True,
    hold: bool = False,
) -> Store:
    """The store for a DuckDB path or a ``postgresql://`` URL (an optional ``#schema`` suffix
    names the PostgreSQL schema, default ``wzmedins``). With ``create`` False the ledger must
    exist already (read-only commands: a mistyped path is an error, not an empty ledger).
    With ``hold`` a DuckDB file stays open until the store is closed (a PostgreSQL store
    always keeps its connection)."""
    if not isinstance(location, (str, os.PathLike)):
        raise LedgerError(f"a ledger location is a path or a postgresql:// URL, not {type(location).__name__}")
    text = os.fspath(location)
    if text.startswith(("postgresql://", "postgres://")):
        from .postgres_store import PostgresStore

        url, _, fragment = text.partition("#")
        return PostgresStore(url, schema=schema or fragment or "wzmedins", lock_timeout=lock_timeout, create=create)
    if "://" in text:
        raise LedgerError(f"unsupported ledger location {text!r}: give a DuckDB file path or a postgresql:// URL")
    from .duckdb_store import DuckDBStore, HeldDuckDBStore

    return (HeldDuckDBStore if hold else DuckDBStore)(text, lock_timeout=lock_timeout, create=create)
