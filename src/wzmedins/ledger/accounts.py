"""Opening balances, year end and adjustments of a ledger: a mixin of
:class:`wzmedins.Ledger` (rules: docs/rules/settlement.md §5; see ``yearend``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables as t
from . import schema as s
from . import warm, yearend
from .batch import content_hash, duplicate_keys, id_text
from .reading import _check_version, _now, check_batch_id
from .store import BatchConflictError, LedgerError, Tx


class LedgerAccounts:
    """Opening balances, year end and adjustments (``self.store``: the ledger's store)."""

    def load_accounts(self, accounts: Any) -> int:
        """Load opening balances ``(person_id, year, current_balance[, hist_balance])``.

        A row replaces the stored opening balances of its person and year. Without a
        ``hist_balance`` column the stored one (e.g. from :meth:`close_year`) is kept. A
        person-year that already has settled claims is refused: its balances now live in
        the state (docs/rules/settlement.md §5).

        Examples
        --------
        >>> import pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
        >>> ledger = wz.Ledger(tmp_path / "a.duckdb")
        >>> ledger.load_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [50_000], "hist_balance": [200_000]}))
        1
        """
        self._warm = None  # state or accounts change in SQL: the warm store is stale
        table = t.to_table(accounts)
        n = table.num_rows
        reason = np.full(n, t.NO_REASON)
        person = t.ids(table, "person_id", reason)
        year = t.integers(table, "year", -1)
        data = {"person_id": id_text(person), "year": pa.array(year, pa.int32())}
        for name in ("current_balance", "hist_balance"):
            if name in table.column_names or name == "current_balance":
                data[name] = pa.array(t.money(table, name, reason, is_required=True))
        bad = np.flatnonzero((reason != t.NO_REASON) | (year < 0))
        if len(bad):
            row = int(bad[0])
            why = t.REASONS[reason[row]] if reason[row] != t.NO_REASON else "a missing or negative year"
            raise LedgerError(f"accounts row {row}: {why} (a missing, negative or malformed value)")
        twice = duplicate_keys(data["person_id"], data["year"])
        if twice is not None:
            raise LedgerError(
                f"accounts rows {twice[0]} and {twice[1]}: person {data['person_id'][twice[0]]}, "
                f"year {data['year'][twice[0]]} twice; one opening row per person and year"
            )
        data["source"] = pa.array(["loaded"] * n, pa.string())
        rows = pa.table(data)
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            self._id_type(tx, "person_id", person)
            tx.temp("_wz_accounts", rows)
            opened = tx.query(
                "SELECT a.person_id, a.year FROM _wz_accounts a JOIN state s "
                "ON s.person_id = a.person_id AND s.year = a.year LIMIT 1"
            ).to_pylist()
            if opened:
                raise LedgerError(
                    f"accounts for person {opened[0]['person_id']}, year {opened[0]['year']}: that year already "
                    "has settled claims, so its balances are carried in the state"
                )
            if "hist_balance" not in data:
                rows = tx.query(
                    "SELECT a.person_id, a.year, a.current_balance, COALESCE(o.hist_balance, 0) AS hist_balance, "
                    "a.source FROM _wz_accounts a LEFT JOIN accounts o ON o.person_id = a.person_id AND o.year = a.year"
                )
            tx.drop_temp("_wz_accounts")
            tx.upsert("accounts", s.conform(rows, "accounts"), s.KEYS["accounts"])
            warm.bump(tx)  # a warm store of another Ledger is stale now
        return n

    def close_year(self, year: int) -> int:
        """Year end (年终结转): roll each person's unused balances into next year's historical
        account (docs/rules/settlement.md §5), writing opening ``accounts`` rows for ``year + 1``.

        The closing balance is ``current_balance + hist_balance`` from the person's state
        for ``year``, or from the year's opening accounts row when the person had no
        claims. A current-year allocation already loaded for ``year + 1`` is kept. Persons
        who already have claims in ``year + 1`` are left alone (their year opened with the
        same roll-over), and so are zero balances with no row for ``year + 1``. Running it
        again refreshes the rows. Returns the number of accounts rows written.

        Examples
        --------
        >>> import pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> tmp_path = pathlib.Path(tempfile.mkdtemp())
        >>> ledger = wz.Ledger(tmp_path / "y.duckdb")
        >>> _ = ledger.load_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [50_000], "hist_balance": [200_000]}))
        >>> ledger.close_year(2022)
        1
        >>> ledger.table("accounts").filter(pa.compute.field("year") == 2023).select(
        ...     ["current_balance", "hist_balance"]).to_pylist()
        [{'current_balance': 0, 'hist_balance': 250000}]
        """
        self._warm = None  # state or accounts change in SQL: the warm store is stale
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            warm.bump(tx)
            return yearend.close_year(tx, int(year))

    def adjust_accounts(self, changes: Any, *, batch_id: str, note: str | None = None) -> int:
        """Add amounts to opened years' account balances, recorded as a batch (账户调整).

        ``changes`` has ``person_id``, ``year`` and the fen to add to ``current_balance``
        and/or ``hist_balance`` (negative to take away). A year that has begun (the person
        has claims in it) is changed in its state, otherwise in its opening accounts row; in a
        closed year the change is carried into the next year's historical balance too. A
        balance that would fall below zero refuses the whole adjustment. The batch id is
        recorded (``batches``, ``adjustments``): sending it again with the same rows changes
        nothing, with other rows raises :class:`BatchConflictError`. Returns the rows applied.

        Examples
        --------
        >>> import pathlib, tempfile, pyarrow as pa, wzmedins as wz
        >>> ledger = wz.Ledger(pathlib.Path(tempfile.mkdtemp()) / "adj.duckdb")
        >>> _ = ledger.load_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [50_000], "hist_balance": [0]}))
        >>> ledger.adjust_accounts(pa.table({"person_id": ["p"], "year": [2022],
        ...     "current_balance": [-10_000]}), batch_id="fix-1", note="allocation corrected")
        1
        >>> ledger.table("accounts")["current_balance"].to_pylist()
        [40000]
        """
        self._warm = None  # state or accounts change in SQL: the warm store is stale
        check_batch_id(batch_id)
        rows = yearend.adjustment_rows(t.to_table(changes))
        digest = content_hash(rows.append_column("note", pa.array([note] * rows.num_rows, pa.string())))
        with self.store.transaction(write=True) as tx:
            _check_version(tx)
            record = tx.query("SELECT * FROM batches WHERE batch_id = $1", (batch_id,)).to_pylist()
            if record:
                if record[0]["content_hash"] != digest:
                    raise BatchConflictError(f"batch {batch_id!r} was recorded on {record[0]['committed_at']} "
                                             "with different content: give the adjustment a new id")  # fmt: skip
                return rows.num_rows
            self._id_type(tx, "person_id", rows["person_id"] if rows.num_rows else None)
            late = yearend.LateChanges(tx, rows["person_id"])
            yearend.apply_deltas(tx, rows, batch_id, source="adjustment", why=f"adjustment {batch_id!r}")
            late.carry(tx, rows["person_id"], batch_id)
            warm.bump(tx)
            recorded = rows.append_column("batch_id", pa.array([batch_id] * rows.num_rows, pa.string()))
            recorded = recorded.append_column("note", pa.array([note] * rows.num_rows, pa.string()))
            tx.append("adjustments", s.conform(recorded, "adjustments"))
            self._record_batch(tx, {
                "batch_id": batch_id, "content_hash": digest, "policy": "adjustment", "fingerprint": "",
                "n_rows": rows.num_rows, "n_settled": 0, "n_rejected": 0, "settled_schema": "",
            })  # fmt: skip
        return rows.num_rows

    def _record_batch(self, tx: Tx, record: dict) -> int:
        seqno = tx.query("SELECT COALESCE(MAX(seqno), 0) + 1 AS n FROM batches")["n"][0].as_py()
        record = {**record, "seqno": seqno, "committed_at": _now()}
        tx.append("batches", s.conform(pa.Table.from_pylist([record]), "batches"))
        return seqno
