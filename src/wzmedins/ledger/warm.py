"""What a batch reads and writes around the ledger's state store (``wz.Settler``), and when a
store kept warm between batches of one process may be used again (docs/ledger.md, *The daily
cycle*).

A batch reads its persons' stored state rows once: the store loads those it lacks, and the
same rows are what the batch replaces (kept in ``state_saved`` so it can be voided), and they
say which of the person-years it writes are new (appended) and which replace a stored row.

The warm store is valid while nothing else changed the ledger's state or accounts: every
writing operation adds one to the ledger's *generation* (a row of ``meta``), so checking it is
one read of a one-row key, whatever the size of the ledger.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contract import ACCOUNT_FIELDS, STATE_FIELDS
from . import schema as s
from .store import Tx

GENERATION = "state_generation"  # meta key: changes of state or accounts committed so far
STATE_COLS = ", ".join(f'"{c}"' for c in s.STATE)


def generation(tx: Tx) -> int:
    """The ledger's generation (0 for a ledger that never counted)."""
    rows = tx.query("SELECT value FROM meta WHERE key = $1", (GENERATION,))["value"].to_pylist()
    return int(rows[0]) if rows else 0


def bump(tx: Tx) -> int:
    """Count one change of state or accounts (in the writing transaction that makes it);
    returns the new generation. Every writer calls it, so another process's write makes a
    warm store stale."""
    rows = tx.query("SELECT value FROM meta WHERE key = $1", (GENERATION,))["value"].to_pylist()
    new = int(rows[0]) + 1 if rows else 1
    if rows:
        tx.execute("UPDATE meta SET value = $1 WHERE key = $2", (str(new), GENERATION))
    else:
        tx.append("meta", pa.table({"key": [GENERATION], "value": [str(new)]}))
    return new


def mark(tx: Tx, fingerprint: str) -> tuple:
    """What a warm store must have been committed under to be used again: the policy, the
    generation and the last batch (a writer of an earlier wzmedins counts batches only)."""
    last = tx.query("SELECT COALESCE(MAX(seqno), 0) AS n FROM batches")["n"][0].as_py()
    return fingerprint, generation(tx), last


def stored_state(tx: Tx, persons: pa.Table) -> pa.Table:
    """The stored state rows of ``persons`` (a one-column text table ``id``, already made a
    temporary relation ``_wz_persons``), every column, ids as text."""
    rows = tx.query(f"SELECT {STATE_COLS} FROM state WHERE person_id IN (SELECT id FROM _wz_persons)")
    return s.conform(rows, "state")


def of_persons(rows: pa.Table, persons: pa.Array) -> pa.Table:
    """The rows of ``rows`` whose (text) person_id is in ``persons``."""
    if rows.num_rows == 0:
        return rows
    return rows.filter(pc.is_in(rows["person_id"], value_set=persons))


def for_store(rows: pa.Table, fields: tuple[str, ...], person_type: pa.DataType | None) -> pa.Table | None:
    """Stored rows as the state store loads them (ids in the ledger's type); None when empty."""
    if rows.num_rows == 0:
        return None
    rows = rows.select(["person_id", "year", *fields])
    return rows.set_column(0, "person_id", rows["person_id"].cast(person_type or pa.string()))


def state_for_store(rows: pa.Table, person_type: pa.DataType | None) -> pa.Table | None:
    return for_store(rows, STATE_FIELDS, person_type)


def accounts_for_store(tx: Tx, relation: str, person_type: pa.DataType | None) -> pa.Table | None:
    """The opening accounts rows of the persons in ``relation`` (a temporary ``id`` table)."""
    cols = ", ".join(f'a."{c}"' for c in ("person_id", "year", *ACCOUNT_FIELDS))
    rows = tx.query(f"SELECT {cols} FROM accounts a WHERE a.person_id IN (SELECT id FROM {relation})")
    return for_store(rows, ACCOUNT_FIELDS, person_type)


def stored_mask(new: pa.Table, before: pa.Table) -> np.ndarray:
    """For each row of ``new`` (``person_id`` text, ``year``): does the ledger hold its
    person-year already (is it among the ``before`` rows)?

    Examples
    --------
    >>> new = pa.table({"person_id": ["a", "b", "a"], "year": pa.array([2022, 2022, 2023], pa.int32())})
    >>> before = pa.table({"person_id": ["a", "c"], "year": pa.array([2023, 2022], pa.int32())})
    >>> stored_mask(new, before).tolist()
    [False, False, True]
    """
    mask = np.zeros(new.num_rows, dtype=bool)
    if new.num_rows == 0 or before.num_rows == 0:
        return mask
    keys = pa.table({"person_id": new["person_id"], "year": new["year"].cast(pa.int32()),
                     "_row": pa.array(np.arange(new.num_rows))})  # fmt: skip
    have = before.select(["person_id", "year"]).cast(pa.schema([("person_id", pa.string()), ("year", pa.int32())]))
    hit = keys.join(have, keys=["person_id", "year"], join_type="left semi")
    mask[hit["_row"].to_numpy()] = True
    return mask
