"""Year end (年终结转) and what may still change a closed year: rolling balances over
(docs/rules/settlement.md §5), carrying a late change of a closed year (a January refund of a
December stay) into the years after it, and adjusting an opened year's accounts.

Every function here runs inside a writing transaction of the ledger (``tx``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from . import schema as s
from .batch import duplicate_keys, id_text, unique_text
from .store import LedgerError, Tx


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# a person's closing balance of a year: current + historical from the year's state, or from the
# year's opening accounts row when the person had no claims in it
CLOSING = (
    "SELECT person_id, year, current_balance + hist_balance AS closing FROM state WHERE year IN ({years}) {persons} "
    "UNION ALL SELECT a.person_id, a.year, a.current_balance + a.hist_balance FROM accounts a "
    "WHERE a.year IN ({years}) {apersons} "
    "AND NOT EXISTS (SELECT 1 FROM state s WHERE s.person_id = a.person_id AND s.year = a.year)"
)


def closing_sql(years: list[int], *, persons: str | None = None) -> str:
    listed = ", ".join(str(int(y)) for y in years)
    only = f"AND person_id IN (SELECT id FROM {persons})" if persons else ""
    aonly = f"AND a.person_id IN (SELECT id FROM {persons})" if persons else ""
    return CLOSING.format(years=listed, persons=only, apersons=aonly)


def close_year(tx: Tx, year: int) -> int:
    """Roll each person's closing balance of ``year`` into ``year + 1``'s opening accounts
    (see :meth:`wzmedins.Ledger.close_year`). Returns the number of rows written."""
    rows = tx.query(
        f"SELECT c.person_id, CAST($1 AS INTEGER) AS year, COALESCE(n.current_balance, 0) AS current_balance, "
        f"c.closing AS hist_balance, 'close_year' AS source FROM ({closing_sql([year])}) c "
        "LEFT JOIN accounts n ON n.person_id = c.person_id AND n.year = $1 "
        "WHERE NOT EXISTS (SELECT 1 FROM state s2 WHERE s2.person_id = c.person_id AND s2.year = $1) "
        # a zero closing balance is what §5 derives anyway: no row unless one is there
        "AND (c.closing <> 0 OR n.person_id IS NOT NULL)",
        (year + 1,),
    )
    tx.upsert("accounts", s.conform(rows, "accounts"), s.KEYS["accounts"])
    record = pa.table({"year": [year], "persons": [rows.num_rows], "closed_at": [now()]})
    tx.upsert("closed_years", s.conform(record, "closed_years"), s.KEYS["closed_years"])
    return rows.num_rows


def closed_years(tx: Tx) -> set[int]:
    return set(tx.query("SELECT year FROM closed_years")["year"].to_pylist())


class LateChanges:
    """What a batch changes in closed years, carried into the years after them.

    Made before the batch writes (it reads the closing balances of its persons in every closed
    year, and which next-year rows exist); :meth:`carry` after, adds each difference to the
    next year's historical balance: to its state when the year has begun, else to its opening
    accounts row (made if missing). A closed next year passes it on to the year after.
    """

    def __init__(self, tx: Tx, person_col: pa.Array | None):
        self.years = sorted(closed_years(tx))
        if not self.years or person_col is None:
            self.years = []
            return
        tx.temp("_wz_late_persons", unique_text(person_col))
        self.before = self._closings(tx)
        nxt = ", ".join(str(y + 1) for y in self.years)
        rows = tx.query(f"SELECT person_id, year FROM state WHERE year IN ({nxt}) "
                        "AND person_id IN (SELECT id FROM _wz_late_persons)").to_pylist()  # fmt: skip
        self.state_before = {(r["person_id"], r["year"]) for r in rows}
        tx.drop_temp("_wz_late_persons")

    def _closings(self, tx: Tx) -> dict[tuple[str, int], int]:
        rows = tx.query(closing_sql(self.years, persons="_wz_late_persons")).to_pylist()
        return {(r["person_id"], r["year"]): r["closing"] for r in rows}

    def carry(self, tx: Tx, person_col: pa.Array, batch_id: str) -> int:
        """Carry the differences; returns how many person-years were changed."""
        if not self.years:
            return 0
        tx.temp("_wz_late_persons", unique_text(person_col))
        after = self._closings(tx)
        accounts_next = {
            (r["person_id"], r["year"])
            for r in tx.query(
                "SELECT person_id, year FROM accounts WHERE person_id IN (SELECT id FROM _wz_late_persons)"
            ).to_pylist()
        }
        tx.drop_temp("_wz_late_persons")
        closed = set(self.years)
        deltas: dict[tuple[str, int], int] = {}
        for key in sorted(set(after) | set(self.before), key=lambda k: k[1]):
            delta = after.get(key, 0) - self.before.get(key, 0)
            person, year = key
            while delta:
                target = (person, year + 1)
                # no next-year row (state before the batch, or accounts): the next year opens,
                # or opened in this batch, from the changed year itself (docs/rules/settlement.md §5)
                if target not in self.state_before and target not in accounts_next:
                    break
                deltas[target] = deltas.get(target, 0) + delta
                if year + 1 not in closed:
                    break
                year += 1
        changes = pa.table({
            "person_id": pa.array([k[0] for k in deltas], pa.string()),
            "year": pa.array([k[1] for k in deltas], pa.int32()),
            "current_balance": pa.array([0] * len(deltas), pa.int64()),
            "hist_balance": pa.array(list(deltas.values()), pa.int64()),
        })  # fmt: skip
        return apply_deltas(tx, changes, batch_id, source="close_year", why="a late change of a closed year")


def apply_deltas(tx: Tx, changes: pa.Table, batch_id: str, *, source: str, why: str) -> int:
    """Add ``current_balance`` and ``hist_balance`` of ``changes`` (person_id as text, year)
    to the person-year's state when it has one, else to its opening accounts row (made with
    ``source`` when missing). A result below zero is refused, naming the person and year."""
    changes = changes.filter(pc.or_(pc.not_equal(changes["current_balance"], 0),
                                    pc.not_equal(changes["hist_balance"], 0)))  # fmt: skip
    if changes.num_rows == 0:
        return 0
    tx.temp("_wz_deltas", changes)
    result = tx.query(
        "SELECT d.person_id, d.year, "
        "COALESCE(st.current_balance, a.current_balance, 0) + d.current_balance AS current_balance, "
        "COALESCE(st.hist_balance, a.hist_balance, 0) + d.hist_balance AS hist_balance, "
        "st.person_id IS NOT NULL AS in_state FROM _wz_deltas d "
        "LEFT JOIN state st ON st.person_id = d.person_id AND st.year = d.year "
        "LEFT JOIN accounts a ON a.person_id = d.person_id AND a.year = d.year"
    )
    negative = result.filter(pc.or_(pc.less(result["current_balance"], 0), pc.less(result["hist_balance"], 0)))
    if negative.num_rows:
        row = negative.to_pylist()[0]
        raise LedgerError(
            f"{why} would leave person {row['person_id']}, year {row['year']} with a negative balance "
            f"(current {row['current_balance']}, historical {row['hist_balance']} fen): refused"
        )
    in_state = result.filter(result["in_state"])
    if in_state.num_rows:
        tx.temp("_wz_new_balances", in_state.drop_columns(["in_state"]))
        tx.execute(
            "UPDATE state SET current_balance = n.current_balance, hist_balance = n.hist_balance, batch_id = $1 "
            "FROM _wz_new_balances n WHERE state.person_id = n.person_id AND state.year = n.year",
            (batch_id,),
        )
        tx.drop_temp("_wz_new_balances")
    opening = result.filter(pc.invert(result["in_state"]))
    if opening.num_rows:
        tx.temp("_wz_new_opening", opening.drop_columns(["in_state"]))
        rows = tx.query(
            "SELECT n.person_id, n.year, n.current_balance, n.hist_balance, COALESCE(a.source, $1) AS source "
            "FROM _wz_new_opening n LEFT JOIN accounts a ON a.person_id = n.person_id AND a.year = n.year",
            (source,),
        )
        tx.drop_temp("_wz_new_opening")
        tx.upsert("accounts", s.conform(rows, "accounts"), s.KEYS["accounts"])
    tx.drop_temp("_wz_deltas")
    return changes.num_rows


def adjustment_rows(changes: pa.Table) -> pa.Table:
    """Checked ``(person_id, year, current_balance, hist_balance)`` amounts to add, fen; a
    missing amount column is 0."""
    n = changes.num_rows
    reason = np.full(n, t.NO_REASON)
    person = t.ids(changes, "person_id", reason)
    year = t.integers(changes, "year", -1)
    cols = {"person_id": id_text(person), "year": pa.array(year, pa.int32())}
    for name in ("current_balance", "hist_balance"):
        arr = t.column(changes, name, "int64 fen")
        if arr is None:
            cols[name] = pa.array(np.zeros(n, dtype=np.int64))
        elif not pa.types.is_integer(arr.type) or arr.null_count:
            raise LedgerError(f"adjustment column {name!r}: int64 fen without nulls, got {arr.type}")
        else:
            cols[name] = arr.cast(pa.int64())
    bad = np.flatnonzero((reason != t.NO_REASON) | (year < 1900) | (year > 2199))
    if len(bad):
        raise LedgerError(f"adjustment row {int(bad[0])}: a missing or malformed person_id or year")
    rows = pa.table(cols)
    twice = duplicate_keys(rows["person_id"], rows["year"])
    if twice is not None:
        raise LedgerError(f"adjustment rows {twice[0]} and {twice[1]}: the same person and year twice")
    return rows
