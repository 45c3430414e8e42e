"""The server backend: PostgreSQL through ADBC (``adbc-driver-postgresql``), Arrow in and out,
bulk loads by COPY.

All tables live in one schema (default ``wzmedins``). A writing transaction first takes a
transaction-scoped advisory lock on the schema (one statement: the lock timeout set, the lock
taken, the timeout lifted), so writers queue one behind the other; a writer that waits longer
than ``lock_timeout`` is refused. A transaction that has not committed when its client dies is
rolled back by the server.

The temporary tables a transaction passes ids and rows through (``Tx.temp``) live as long as
the store's connection: the first use of a name (or of a new column set) creates the table,
later ones empty it and COPY the rows in, and ``drop_temp`` leaves it (its rows are private to
the connection). Creating and dropping them in every transaction was DDL writing the system
catalogs each time, about a quarter of a small commit. A transaction that rolls back takes the
tables it made with it, and a new connection has none: both start the record afresh.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from . import schema as s
from .store import LedgerBusyError, LedgerError, Store, Tx

TYPES = {s.TEXT: "TEXT", s.INT64: "BIGINT", s.INT32: "INTEGER", s.DATE: "DATE"}
SORTED = ("state", "state_saved", "accounts")  # appended in key order (settled keeps the batch's order)
JSON_ROWS = 2_000  # append_all: more rows than this go by COPY, table by table


def _json_value(value: Any) -> str:
    """Dates and timestamps as ISO text (what PostgreSQL reads back into DATE and TIMESTAMPTZ)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"append_all: a {type(value).__name__} has no JSON form")


class PostgresTx(Tx):
    def __init__(self, con, made: dict[str, pa.Schema] | None = None):
        self.con = con
        self.cur = con.cursor()
        self._made = {} if made is None else made  # temporary tables of the connection: name -> schema

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        self.cur.execute(sql, parameters=tuple(params) if params else None)
        return self.cur.fetch_arrow_table()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cur.execute(sql, parameters=tuple(params) if params else None)

    def temp(self, name: str, data: pa.Table) -> None:
        made = self._made.get(name)
        if made is not None and made.equals(data.schema, check_metadata=False):
            self.cur.execute(f"DELETE FROM pg_temp.{name}")
            if data.num_rows:
                self.cur.adbc_ingest(name, data, mode="append", temporary=True)
            return
        self._made.pop(name, None)
        self.cur.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        self.cur.adbc_ingest(name, data, mode="create", temporary=True)
        self._made[name] = data.schema

    def drop_temp(self, name: str) -> None:
        pass  # kept for the connection: emptied by the next temp() of the name

    def append(self, table: str, data: pa.Table) -> None:
        """COPY straight into the table (columns matched by name). Rows of a keyed table other
        than ``settled`` go in key order: the primary-key index is then filled leaf after leaf
        rather than at random (a third to a half less time for a day's state rows, measured)."""
        if data.num_rows:
            if table in SORTED and data.num_rows > 1:
                data = data.sort_by([(k, "ascending") for k in s.KEYS[table]])
            self.cur.adbc_ingest(table, data, mode="append")

    one_statement_writes = True

    def append_all(self, parts: Sequence[tuple[str, pa.Table]], *, replace: Sequence[str] = ()) -> None:
        """The rows of a few small tables in one statement: each table's rows as one JSON
        parameter, inserted by a data-modifying ``WITH`` part (``ON CONFLICT`` on the key for the
        tables in ``replace``). A COPY costs a round trip and ADBC's ingest machinery each:
        most of a small group commit's statements."""
        parts = [(table, data) for table, data in parts if data.num_rows]
        if len(parts) < 2 or sum(data.num_rows for _, data in parts) > JSON_ROWS:
            return super().append_all(parts, replace=replace)
        steps, params = [], []
        for i, (table, data) in enumerate(parts):
            if table in SORTED and data.num_rows > 1:
                data = data.sort_by([(k, "ascending") for k in s.KEYS[table]])
            cols = ", ".join(f'"{c}"' for c in data.column_names)
            rows = f"json_populate_recordset(NULL::{table}, ${i + 1}::json)"
            sql = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {rows}"
            if table in replace:
                keys = s.KEYS[table]
                sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in data.column_names if c not in keys)
                sql += " ON CONFLICT (" + ", ".join(f'"{k}"' for k in keys) + f") DO UPDATE SET {sets}"
            steps.append(f"w{i} AS ({sql})")
            params.append(json.dumps(data.to_pylist(), default=_json_value, ensure_ascii=False))
        self.cur.execute("WITH " + ", ".join(steps) + " SELECT 1", parameters=tuple(params))

    def upsert(self, table: str, data: pa.Table, keys: Sequence[str]) -> None:
        """As :meth:`Tx.upsert`, the rows in key order (see :meth:`append`)."""
        if data.num_rows > 1:
            data = data.sort_by([(k, "ascending") for k in keys])
        super().upsert(table, data, keys)


class PostgresStore(Store):
    """A ledger in schema ``schema`` of the PostgreSQL database at ``url``."""

    def __init__(self, url: str, *, schema: str = "wzmedins", lock_timeout: float = 30.0, create: bool = True):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", schema) or schema.lower().startswith("pg_"):
            raise LedgerError(
                f"schema name {schema!r}: letters, digits and _ only, at most 63, not starting with pg_ "
                "(PostgreSQL reserves those)"
            )
        self.create = create
        self._lock = threading.RLock()  # one connection per store: threads take turns on it
        self.url = url
        self.schema = schema
        self.lock_timeout = lock_timeout
        self._created = False
        self._con = None
        self._made: dict[str, pa.Schema] = {}  # the kept connection's temporary tables

    def _connect(self):
        import adbc_driver_postgresql.dbapi as pg

        try:
            return pg.connect(self.url)
        except Exception as e:  # the driver's errors carry the libpq message
            raise LedgerError(f"cannot connect to PostgreSQL ledger: {str(e).splitlines()[0]}") from None

    def drop(self) -> None:
        """Drop the ledger's schema and everything in it (for tests and rebuilds)."""
        self.close()
        self._created = False
        con = self._connect()
        try:
            with con.cursor() as cur:
                cur.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            con.commit()
        finally:
            con.close()

    def _create(self, con, tx: PostgresTx) -> None:
        """Create the schema and tables unless they all exist. The check reads the catalog
        only: CREATE INDEX IF NOT EXISTS would queue behind a writer's row locks."""
        present = tx.query("SELECT COUNT(*) AS n FROM pg_catalog.pg_tables WHERE schemaname = $1", (self.schema,))["n"][
            0
        ].as_py()
        if present == 0 and not self.create:
            con.rollback()
            raise LedgerError(f"no ledger in schema {self.schema} of {self.display} (this command does not create one)")
        if present < len(s.TABLES):
            tx.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout * 1000)}ms'")
            tx.execute("SELECT pg_advisory_xact_lock(hashtext('wzmedins.ddl'))")
            tx.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            tx.execute(f'SET LOCAL search_path TO "{self.schema}"')
            for stmt in s.ddl(TYPES):
                tx.execute(stmt)
        con.commit()
        self._created = True

    def close(self) -> None:
        """Close the kept connection (a new one is made when needed)."""
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None
                self._made = {}

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        # one connection is kept per store and reused (a SCRAM login costs ~0.1 s); threads
        # sharing a Ledger take turns on it
        with self._lock:
            with self._transaction(write=write) as tx:
                yield tx

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        if self._con is None:
            self._con = self._connect()
            self._made = {}
            tx = PostgresTx(self._con)
            try:
                if not self._created:
                    self._create(self._con, tx)
                tx.execute(f'SET search_path TO "{self.schema}"')
                self._con.commit()
            except BaseException:
                tx.cur.close()
                self.close()  # the next call starts from a fresh connection
                raise
            tx.cur.close()
        con = self._con
        tx = PostgresTx(con, self._made)
        try:
            if write:
                try:  # the select list is evaluated in order: timeout set, lock taken, timeout lifted
                    tx.execute(
                        "SELECT set_config('lock_timeout', $1, true), pg_advisory_xact_lock(hashtext($2)), "
                        "set_config('lock_timeout', '0', true)",
                        (f"{int(self.lock_timeout * 1000)}ms", f"wzmedins.ledger.{self.schema}"),
                    )
                except Exception as e:
                    if "lock timeout" in str(e):
                        raise LedgerBusyError(
                            f"ledger {self.schema} is in use by another writer (waited {self.lock_timeout:g} s)"
                        ) from None
                    raise
            yield tx
            if write:
                tx.pause_if_asked()
            con.commit()
        except BaseException:
            self._made = {}  # tables made in this transaction are gone with it
            try:
                con.rollback()
            except Exception:  # a broken connection: forget it, the next call reconnects
                self._con = None
            raise
        finally:
            tx.cur.close()
