"""Voiding a committed batch (作废) and restoring it: recorded, reversible, exact.

Each batch keeps the state rows it replaced (``state_saved``, kind ``before``). Voiding moves
its settled and rejected rows to ``voided_settled`` / ``voided_rejected``, keeps the state
rows it wrote (kind ``voided``) and puts the rows it replaced back, so the ledger is as if the
batch had never come — its claim ids are free again. Restoring does the opposite. Both are
refused when a later operation built on the batch: a later batch of one of its persons, a
closed year it touched, or (restoring) a claim id settled again meanwhile.
"""

from __future__ import annotations

import pyarrow as pa

from . import schema as s
from .store import LedgerError, Tx
from .yearend import closed_years, now

STATE_COLS = ", ".join(f'"{c}"' for c in s.STATE)


def save_state_before(tx: Tx, batch_id: str, rows: pa.Table) -> None:
    """Keep the stored state rows ``rows`` (read by the batch, every column of ``state``) that
    ``batch_id`` replaces."""
    if rows.num_rows:
        tx.append("state_saved", state_saved_rows(batch_id, rows))


def state_saved_rows(batch_id: str, rows: pa.Table) -> pa.Table:
    """The ``state_saved`` rows that keep ``rows`` (stored state rows) for ``batch_id``."""
    saved = rows.append_column("saved_by", pa.array([batch_id] * rows.num_rows, pa.string()))
    saved = saved.append_column("kind", pa.array(["before"] * rows.num_rows, pa.string()))
    return s.conform(saved, "state_saved")


def voided(tx: Tx, batch_id: str) -> dict | None:
    rows = tx.query("SELECT * FROM voids WHERE batch_id = $1 AND restored_at IS NULL", (batch_id,)).to_pylist()
    return rows[0] if rows else None


def refuse_if_voided(tx: Tx, batch_id: str) -> None:
    record = voided(tx, batch_id)
    if record:
        raise LedgerError(
            f"batch {batch_id!r} was voided on {record['voided_at']}: restore it (Ledger.restore) "
            "or send the corrected batch under a new id"
        )


def _batch(tx: Tx, batch_id: str) -> dict:
    rows = tx.query("SELECT * FROM batches WHERE batch_id = $1", (batch_id,)).to_pylist()
    if not rows:
        raise LedgerError(f"no batch {batch_id!r} in the ledger")
    if rows[0]["policy"] == "adjustment":
        raise LedgerError(f"batch {batch_id!r} is an accounts adjustment: adjust again with the opposite amounts")
    return rows[0]


PERSONS = (
    "SELECT person_id FROM state_saved WHERE saved_by = $1 UNION SELECT person_id FROM {settled} WHERE batch_id = $1 "
    "UNION SELECT person_id FROM state WHERE batch_id = $1"
)


def _rows_of_persons(tx: Tx, batch_id: str, settled: str) -> list[dict]:
    """The stored state rows (key and last writer) of the batch's persons: those of its settled
    claims, those whose rows it saved, those whose rows it wrote."""
    return tx.query(
        f"SELECT person_id, year, batch_id FROM state WHERE person_id IN ({PERSONS.format(settled=settled)})",
        (batch_id,),
    ).to_pylist()


def _touched_closed_years(tx: Tx, batch_id: str, table: str) -> list[int]:
    years = set(tx.query(f"SELECT DISTINCT year FROM {table} WHERE batch_id = $1", (batch_id,))["year"].to_pylist())
    return sorted(years & closed_years(tx))


def _move(tx: Tx, src: str, dst: str, batch_id: str) -> None:
    cols = ", ".join(f'"{c}"' for c in s.TABLES[src])
    tx.execute(f"INSERT INTO {dst} ({cols}) SELECT {cols} FROM {src} WHERE batch_id = $1", (batch_id,))
    tx.execute(f"DELETE FROM {src} WHERE batch_id = $1", (batch_id,))


def void(tx: Tx, batch_id: str, note: str | None) -> int:
    """Void ``batch_id``; returns the number of settled claims taken out."""
    _batch(tx, batch_id)
    refuse_if_voided(tx, batch_id)
    later = [r for r in _rows_of_persons(tx, batch_id, "settled") if r["batch_id"] != batch_id]
    if later:
        r = later[0]
        raise LedgerError(
            f"cannot void batch {batch_id!r}: person {r['person_id']}'s year {r['year']} was changed after it "
            f"(by {r['batch_id']!r}); void that first, or reverse the claims instead"
        )
    closed = _touched_closed_years(tx, batch_id, "settled")
    if closed:
        raise LedgerError(f"cannot void batch {batch_id!r}: year {closed[0]} is closed; reverse its claims instead")
    n = tx.query("SELECT COUNT(*) AS n FROM settled WHERE batch_id = $1", (batch_id,))["n"][0].as_py()
    tx.execute("DELETE FROM state_saved WHERE saved_by = $1 AND kind = 'voided'", (batch_id,))
    tx.execute(
        f"INSERT INTO state_saved (saved_by, kind, {STATE_COLS}) SELECT $1, 'voided', {STATE_COLS} FROM state "
        "WHERE batch_id = $1",
        (batch_id,),
    )
    tx.execute("DELETE FROM state WHERE batch_id = $1", (batch_id,))
    tx.execute(
        f"INSERT INTO state ({STATE_COLS}) SELECT {STATE_COLS} FROM state_saved "
        "WHERE saved_by = $1 AND kind = 'before'",
        (batch_id,),
    )
    _move(tx, "settled", "voided_settled", batch_id)
    _move(tx, "rejected", "voided_rejected", batch_id)
    tx.execute("DELETE FROM voids WHERE batch_id = $1", (batch_id,))
    record = pa.table({"batch_id": [batch_id], "voided_at": [now()], "restored_at": pa.nulls(1, pa.string()),
                       "note": pa.array([note], pa.string())})  # fmt: skip
    tx.append("voids", s.conform(record, "voids"))
    return n


def restore(tx: Tx, batch_id: str) -> int:
    """Undo :func:`void`; returns the number of settled claims put back."""
    _batch(tx, batch_id)
    if voided(tx, batch_id) is None:
        raise LedgerError(f"batch {batch_id!r} is not voided")
    now_rows = {(r["person_id"], r["year"], r["batch_id"]) for r in _rows_of_persons(tx, batch_id, "voided_settled")}
    before = tx.query(
        "SELECT person_id, year, batch_id FROM state_saved WHERE saved_by = $1 AND kind = 'before'", (batch_id,)
    ).to_pylist()
    changed = now_rows - {(r["person_id"], r["year"], r["batch_id"]) for r in before}
    if changed:
        person, year, by = sorted(changed)[0]
        raise LedgerError(
            f"cannot restore batch {batch_id!r}: person {person}'s year {year} was changed since it was voided "
            f"(by {by!r})"
        )
    again = tx.query(
        "SELECT v.claim_id FROM voided_settled v JOIN settled x ON x.claim_id = v.claim_id WHERE v.batch_id = $1 "
        "LIMIT 1",
        (batch_id,),
    )["claim_id"].to_pylist()
    if again:
        raise LedgerError(f"cannot restore batch {batch_id!r}: claim {again[0]} was settled again since it was voided")
    tx.execute(
        "DELETE FROM state WHERE EXISTS (SELECT 1 FROM state_saved b WHERE b.saved_by = $1 AND b.kind = 'before' "
        "AND b.person_id = state.person_id AND b.year = state.year)",
        (batch_id,),
    )
    tx.execute(
        f"INSERT INTO state ({STATE_COLS}) SELECT {STATE_COLS} FROM state_saved "
        "WHERE saved_by = $1 AND kind = 'voided'",
        (batch_id,),
    )
    tx.execute("DELETE FROM state_saved WHERE saved_by = $1 AND kind = 'voided'", (batch_id,))
    n = tx.query("SELECT COUNT(*) AS n FROM voided_settled WHERE batch_id = $1", (batch_id,))["n"][0].as_py()
    _move(tx, "voided_settled", "settled", batch_id)
    _move(tx, "voided_rejected", "rejected", batch_id)
    tx.execute("UPDATE voids SET restored_at = $2 WHERE batch_id = $1 AND restored_at IS NULL", (batch_id, now()))
    return n
