"""The group commit of a real-time caller: a few plain claims settled and stored with a
handful of statements (``Ledger.settle_rows``).

``Ledger.settle`` is built for a day's batch: it hashes the batch's content, checks and codes
it with Arrow, passes its ids through temporary tables and conforms every table it writes —
a fixed 60–120 ms that a batch of a million claims does not notice and a service settling
one claim at a time pays in full. Here, for a group of ordinary claims (``Settler.settle_rows``
says which) against a warm state store:

* one query reads everything the commit must know before it settles: the schema version,
  the id types, the generation and last batch (is the warm store still valid?), whether the
  batch id was settled, the last closed year, and whether a claim id was settled before;
* one reads the persons' stored state rows (what the group replaces, kept in
  ``state_saved`` so the batch can be voided), and one the opening accounts of persons the
  warm store does not hold yet;
* then one multi-row write per table: settled rows, the state rows replaced (``state_saved``),
  the state rows (the stored ones of the group's person-years deleted first), the generation,
  and the batch record.

Everything else — a cold or stale warm store, a batch id already recorded, a claim of a
closed year (its change is carried into the years after), a claim the lean settlement
declines (a reversal, a rejection, a back-dated claim, …) — goes through ``Ledger.settle``
unchanged, so every ledger invariant is the same: one transaction under the writer lock,
exactly once by batch id, void and restore, two writers.

The batch record of a group settled here carries no content hash (``content_hash`` is
:data:`NO_HASH`): the caller names each group uniquely (the service: a random id). Settling
that id again with ``settle_rows`` returns the stored result whatever the claims;
``Ledger.settle`` with that id refuses it (another content).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ..contract import MONEY_OUT
from ..settle.lean import SettledRows
from . import schema as s
from . import voids, warm
from .store import LedgerError, Tx

NO_HASH = "-"  # content_hash of a batch settled by settle_rows: replayed by its id alone
OUTPUTS = (*MONEY_OUT, "ratio_bp", "ci_base_added", "ma_base_added")


def _marks(n: int, start: int = 2) -> str:
    return ", ".join(f"${i}" for i in range(start, start + n))


def head(tx: Tx, batch_id: str, claim_ids: list[str]) -> dict[str, Any]:
    """One row: what the commit must know before it settles (see the module's docstring)."""
    sql = (
        "SELECT (SELECT value FROM meta WHERE key = 'schema_version') AS version, "
        f"(SELECT value FROM meta WHERE key = '{warm.GENERATION}') AS generation, "
        "(SELECT value FROM meta WHERE key = 'claim_id_type') AS claim_type, "
        "(SELECT value FROM meta WHERE key = 'person_id_type') AS person_type, "
        "(SELECT COALESCE(MAX(seqno), 0) FROM batches) AS last, "
        "(SELECT MAX(year) FROM closed_years) AS closed, "
        "(SELECT COUNT(*) FROM batches WHERE batch_id = $1) AS recorded, "
        f"(SELECT COUNT(*) FROM settled WHERE claim_id IN ({_marks(len(claim_ids))})) AS known"
    )
    return tx.query(sql, (batch_id, *claim_ids)).to_pylist()[0]


def stored_state(tx: Tx, persons: list[str]) -> pa.Table:
    """The stored state rows of ``persons``, every column, ids as text."""
    rows = tx.query(f"SELECT {warm.STATE_COLS} FROM state WHERE person_id IN ({_marks(len(persons), 1)})", persons)
    return s.conform(rows, "state")


def opening_accounts(tx: Tx, persons: list[str]) -> pa.Table | None:
    cols = ", ".join(f'"{c}"' for c in ("person_id", "year", "current_balance", "hist_balance"))
    rows = tx.query(f"SELECT {cols} FROM accounts WHERE person_id IN ({_marks(len(persons), 1)})", persons)
    return rows if rows.num_rows else None


def settled_table(claims: list[dict], out: SettledRows, batch_id: str) -> pa.Table:
    """The ``settled`` rows as stored: the outputs and the claim inputs a statement shows."""
    rows = []
    for i, (c, r) in enumerate(zip(claims, out.settled, strict=True)):
        row = {name: r[name] for name in OUTPUTS}
        row.update(
            claim_id=r["claim_id"], batch_id=batch_id, row=i, person_id=r["person_id"], year=r["year"],
            settle_date=c["settle_date"], seq=c.get("seq") or 0, scheme=c["scheme"], category=c["category"],
            visit_type=r["visit_type"], facility_level=r["facility_level"], area=c.get("area") or "local",
            assistance=c.get("assistance") or "none", reverses=None, total_cost=c["total_cost"],
            self_pay=c.get("self_pay") or 0, class_b_self_pay=c.get("class_b_self_pay") or 0, late=int(r["late"]),
        )  # fmt: skip
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=s.arrow_schema("settled"))


def write(tx: Tx, claims: list[dict], out: SettledRows, before: pa.Table, batch_id: str, record: dict) -> None:
    """The group's rows: settled, the state rows it replaces (state_saved), its state rows,
    the generation and the batch record, appended together (``Tx.append_all``; on PostgreSQL
    one statement, the replaced state rows and the generation by upsert; elsewhere the
    replaced state rows are deleted first)."""
    parts = [("settled", settled_table(claims, out, batch_id))]
    if before.num_rows:
        parts.append(("state_saved", voids.state_saved_rows(batch_id, before)))
    state = pa.Table.from_pylist([{**r, "batch_id": batch_id} for r in out.state], schema=s.arrow_schema("state"))
    generation = record.pop("_generation")
    meta = pa.table({"key": [warm.GENERATION], "value": [str(generation)]})
    batch = pa.Table.from_pylist([record], schema=s.arrow_schema("batches"))
    if tx.one_statement_writes:
        tx.append_all([*parts, ("state", state), ("meta", meta), ("batches", batch)], replace=("state", "meta"))
        return
    stored = set(zip(before["person_id"].to_pylist(), before["year"].to_pylist(), strict=True))
    again = [(r["person_id"], r["year"]) for r in out.state if (r["person_id"], r["year"]) in stored]
    if again:
        match = " OR ".join(f"(person_id = ${2 * i + 1} AND year = ${2 * i + 2})" for i in range(len(again)))
        tx.execute(f"DELETE FROM state WHERE {match}", [v for key in again for v in key])
    parts.append(("state", state))
    if generation > 1:
        tx.execute("UPDATE meta SET value = $1 WHERE key = $2", (str(generation), warm.GENERATION))
    else:
        parts.append(("meta", meta))
    parts.append(("batches", batch))
    tx.append_all(parts)


def check_head(row: dict) -> None:
    if row["version"] != s.SCHEMA_VERSION:
        raise LedgerError(
            f"ledger schema version {row['version'] or 'unknown'}; this wzmedins writes "
            f"version {s.SCHEMA_VERSION}: export it with the wzmedins that wrote it"
        )


__all__ = ["NO_HASH", "head", "stored_state", "opening_accounts", "write", "check_head"]
