"""The state store: every person-year a stream has touched, kept in memory across batches.

A :class:`Settler` holds a person index (id → dense slot, ``ids.IdIndex``), the person-years
(``(slot, year)`` → a row of dense int64 arrays the kernel updates in place), the opening
accounts (loaded once) and, unless told not to, the claims it settled (``memory.py``: ids for
duplicates, outputs for reversals). A batch does work in proportion to itself: it looks up its
own persons, claim ids and reversal targets, and never joins against or rebuilds what the store
holds. ``state()`` is a snapshot on demand; each result's ``state`` is the delta of the
person-years the batch touched.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from .._jit import threads as thread_count
from ..contract import LATE_COLUMN, state_schema
from ..errors import SchemaError
from ..policy import Policy
from ..vocab import FACILITY_LEVELS, VISIT_POOL, VISIT_TYPES
from . import _kernel as k
from .buffers import Recycler, Reserved
from .columns import ClaimColumns, check_balances, claim_columns
from .ids import IdIndex, _grow, plain
from .lean import SettledRows, settle_rows
from .memory import ClaimMemory, labels
from .result import SettleResult, metadata
from .reversals import IN_BATCH
from .state import ACCOUNT_FIELDS, STATE_FIELDS, int_matrix
from .units import MIN_ROWS, unit_symptom, warn_units
from .year_rows import YearRows

NO_DATE = np.iinfo(np.int64).min  # "no last claim": nothing is before it
YEAR_BITS = 16
PARTITION_ROWS = 1 << 16  # claims per parallel partition at least; a tuning knob, not a rule


def _keys(slots: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The int64 key of a person-year."""
    if len(years) and (years.min() < 0 or years.max() >= 1 << YEAR_BITS):
        raise SchemaError("year", f"a year from 0 to {(1 << YEAR_BITS) - 1}", str(int(years.max())))
    keys = np.left_shift(slots, YEAR_BITS, dtype=np.int64)  # one array made, not three
    keys |= years
    return keys


def order_by_person(codes: np.ndarray, year: np.ndarray, date: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Positions sorted by (person code, year, settle_date, seq, position), as settlement.md §3
    says; the year only matters for a reversal, which counts in its original's year.

    Examples
    --------
    >>> order_by_person(np.array([1, 0, 1, 0]), np.full(4, 2022), np.array([5, 9, 5, 1]),
    ...                 np.array([0, 0, -1, 0])).tolist()
    [3, 1, 2, 0]
    """
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    key, n_codes = k.order_key(codes, year, date, seq)
    if n_codes >= 0:
        return k.person_order(codes, key, n_codes)
    yd = (year.astype(np.int64) - year.min()) * (int(date.max()) - int(date.min()) + 1) + date
    return np.lexsort((seq, yd, codes))  # (year, date, seq) do not pack into 62 bits: rare


class Settler:
    """Settle batch after batch against state kept in memory (the state store).

    Parameters
    ----------
    policy
        From :func:`wzmedins.load_policy`.
    accounts
        Opening balances ``(person_id, year, current_balance, hist_balance)``, loaded once.
    threads
        Threads for the kernel; ``1`` forces one (default: env ``WZMEDINS_THREADS``, else all
        cores). The result does not depend on it.
    remember_claims
        Keep every settled claim's id and outputs, so a repeated id in a later batch is
        ``DUPLICATE_CLAIM_ID`` and a reversal finds its original (about 150 bytes a claim).

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa, wzmedins as wz
    >>> settler = wz.Settler(wz.load_policy("wenzhou-2022"))
    >>> def claim(cid, day, cost):
    ...     return pa.table({"claim_id": [cid], "person_id": ["p1"], "settle_date": [dt.date(2022, 3, day)],
    ...         "scheme": ["resident"], "category": ["adult"], "visit_type": ["inpatient"],
    ...         "facility_level": ["primary"], "total_cost": [cost]})
    >>> settler.settle(claim("c1", 1, 20_000)).settled["deductible"].to_pylist()
    [20000]
    >>> settler.settle(claim("c2", 9, 50_000)).settled["deductible"].to_pylist()   # tops up to 300 yuan
    [10000]
    >>> settler.settle(claim("c3", 5, 50_000)).rejected["reason"].to_pylist()      # dated before c2
    ['OUT_OF_ORDER']
    >>> settler.settle(claim("c1", 20, 50_000)).rejected["reason"].to_pylist()
    ['DUPLICATE_CLAIM_ID']
    >>> settler.state().select(["person_id", "inpatient_deductible_used", "last_date"]).to_pylist()
    [{'person_id': 'p1', 'inpatient_deductible_used': 30000, 'last_date': datetime.date(2022, 3, 9)}]
    """

    def __init__(self, policy: Policy, *, accounts: Any = None, threads: int | None = None,
                 remember_claims: bool = True):  # fmt: skip
        self.policy = policy
        self.threads = thread_count(threads)
        self.persons = IdIndex("person_id")
        self.years = YearRows(YEAR_BITS)  # person-year key -> row
        self.row_slot = np.zeros(0, dtype=np.int32)  # each person-year's person (slots stay below 2**31)
        self.row_year = np.zeros(0, dtype=np.int32)
        self._person_rows = Reserved(k.ROW_WIDTH, np.int64)  # grows without copying
        self.person_years = self._person_rows.empty()  # a row per person-year: _kernel.ROW_WIDTH
        self.account_rows = YearRows(YEAR_BITS)
        self.account_values = np.zeros((0, 2), dtype=np.int64)
        self.claims = ClaimMemory() if remember_claims else None
        self._scratch = np.zeros(0, dtype=np.int64)
        self._buffers: dict[str, np.ndarray] = {}
        self._outputs = Recycler()  # the settled columns' arrays, reused once written
        self._units_checked = False  # the unit-slip warning is given once per store
        self.kernel_seconds = 0.0  # time spent in the compiled loop, for benchmarks/bench_store.py
        self._snapshots: weakref.WeakSet[_StateSnapshot] = weakref.WeakSet()  # results' states not built yet
        if accounts is not None:
            self.load_accounts(accounts)

    def __repr__(self) -> str:
        return f"Settler({self.policy.name!r}, {self.persons.n} persons, {self.years.n} person-years)"

    # ----------------------------------------------------------------- loading

    def _rows(self, slots: np.ndarray, years: np.ndarray) -> np.ndarray:
        """Person-year rows for (slots, years), added when new (not yet opened)."""
        before = self.years.n
        rows = self.years.keys(_keys(slots, years), add=True)
        n = self.years.n
        if n > before:
            self.row_slot, self.row_year = _grow(self.row_slot, n), _grow(self.row_year, n)
            self.person_years = self._person_rows.grown(self.person_years, n)
            is_new = rows >= before
            new = rows[is_new]
            self.row_slot[new] = slots[is_new]
            self.row_year[new] = years[is_new]
            fresh = self.person_years[before:n]
            fresh[:, k.OPENED] = 0
            fresh[:, k.LAST_DATE] = NO_DATE
            fresh[:, k.LAST_SEQ] = NO_DATE
        return rows

    def load_accounts(self, table: Any) -> None:
        """Add opening balances ``(person_id, year, current_balance, hist_balance)``; a
        person-year already held is a SchemaError, a negative balance too."""
        self._freeze_snapshots()
        table = t.to_table(table)
        check_balances(table, "accounts")
        slots = self.persons.slots(t.ids(table, "person_id"), add=True)
        years = int_matrix(table, ("year",), "accounts")[:, 0]
        before = self.account_rows.n
        rows = self.account_rows.keys(_keys(slots, years), add=True)
        if self.account_rows.n - before != table.num_rows:
            dup = int(np.flatnonzero(np.bincount(rows) > 1)[0])
            raise SchemaError("person_id, year", "one row per person and year in the accounts table",
                              f"{self.persons.ids(np.array([slots[rows == dup][0]]))[0]}, "
                              f"{years[rows == dup][0]} twice")  # fmt: skip
        self.account_values = _grow(self.account_values, self.account_rows.n)
        self.account_values[rows] = int_matrix(table, ACCOUNT_FIELDS, "accounts")

    def load_state(self, table: Any) -> None:
        """Seed the store with carried state (a ``state`` table of an earlier run); a row
        replaces what the store holds for its person-year."""
        self._freeze_snapshots()
        table = t.to_table(table)
        if table.num_rows == 0:
            return
        check_balances(table, "state")
        slots = self.persons.slots(t.ids(table, "person_id"), add=True)
        years = int_matrix(table, ("year",), "state")[:, 0]
        keys = _keys(slots, years)
        if len(np.unique(keys)) != len(keys):
            first = np.sort(keys)
            dup = first[1:][first[1:] == first[:-1]][0]
            i = int(np.flatnonzero(keys == dup)[0])
            raise SchemaError("person_id, year", "one row per person and year in the state table",
                              f"{table['person_id'][i]}, {years[i]} twice")  # fmt: skip
        rows = self._rows(slots, years)
        self.person_years[rows, : k.N_STATE] = int_matrix(table, STATE_FIELDS, "state")
        self.person_years[rows, k.OPENED] = 1
        if "last_date" in table.column_names:
            last = table["last_date"]
            if pa.types.is_date(last.type):
                last = pc.cast(last, pa.date32()).cast(pa.int32())
            self.person_years[rows, k.LAST_DATE] = last.cast(pa.int64()).fill_null(NO_DATE).to_numpy()
            seq = t.column(table, "last_seq", "int64")
            self.person_years[rows, k.LAST_SEQ] = (NO_DATE if seq is None else
                                                   seq.cast(pa.int64()).fill_null(NO_DATE).to_numpy())  # fmt: skip

    # ----------------------------------------------------------------- snapshots

    def _state_table(self, rows: np.ndarray) -> pa.Table:
        return _StateSnapshot(self, rows)()

    def _freeze_snapshots(self) -> None:
        """Copy the rows of every batch's ``state`` not built yet, before the store changes them."""
        for snapshot in list(self._snapshots):
            snapshot.freeze()
        self._snapshots.clear()

    def state(self) -> pa.Table:
        """Every person-year in the store, as a ``state`` table (interfaces.md "state")."""
        return self._state_table(np.flatnonzero(self.person_years[: self.years.n, k.OPENED]))

    @property
    def known_claim_ids(self) -> pa.Array:
        """Ids of every claim the store settled (reversals included)."""
        if self.claims is None:
            return pa.array([], pa.string())
        return self.claims.index.ids()

    # ----------------------------------------------------------------- settling

    def settle(self, claims: Any, *, carry=(), known_claim_ids: pa.Array | None = None,
               originals: Any = None) -> SettleResult:  # fmt: skip
        """Settle one batch against the store and keep its effects.

        Parameters
        ----------
        claims
            The claims table (Arrow, polars or a Parquet path), as for :func:`wzmedins.settle`.
        carry
            Input columns to copy into ``settled``.
        known_claim_ids, originals
            Ids settled elsewhere and settled rows reversals may name, on top of what the store
            remembers (the ledger passes them).

        Returns
        -------
        SettleResult
            ``settled``, ``rejected``, and ``state``: the person-years this batch touched.
        """
        self._freeze_snapshots()
        table = t.to_table(claims)
        known, orig = known_claim_ids, None if originals is None else t.to_table(originals)
        if self.claims is not None and len(self.claims):
            if "claim_id" in table.column_names:
                mine = self.claims.known(plain(table["claim_id"]))
                known = mine if known is None else (known if mine is None else pa.concat_arrays(
                    [known.cast(mine.type), mine]))  # fmt: skip
            if "reverses" in table.column_names:
                mine = self.claims.originals(plain(table["reverses"]), self.persons)
                if mine is not None:
                    orig = mine if orig is None else pa.concat_tables(
                        [orig.select(mine.column_names).cast(mine.schema), mine])  # fmt: skip
        cols = claim_columns(table, self.policy, known_claim_ids=known, originals=orig)
        accepted = cols.accepted
        if not self._units_checked:  # the first batch big enough says whether the unit is plausible
            ordinary = accepted[cols.rev_kind[accepted] == 0]
            if len(ordinary) >= MIN_ROWS:
                self._units_checked = True
                float_money = pa.types.is_floating(table.schema.field("total_cost").type)
                warn_units(unit_symptom(cols.total[ordinary], self.policy.compiled, float_money=float_money))
        self.persons.hint(cols.person_id, cols.person_hash)  # hashed while checked: not hashed again
        try:
            # each accepted row's person, looked up once (a late row's person is known already)
            slots = self.persons.slots(cols.person_id, rows=accepted, add=True)
            rows = np.full(len(slots), -1, dtype=np.int64)
            rows[accepted] = self._rows(slots[accepted], cols.year[accepted])
            late = self._check_order(cols, slots, rows)
            return self._run(cols, late, tuple(carry), slots, rows)
        finally:
            self.persons.hint(cols.person_id, None)

    def settle_rows(self, claims: list[dict], *, known_claim_ids=()) -> SettledRows | None:
        """Settle a small group of ordinary claims given as dicts (the columns of the claims
        table, ids as strings, ``settle_date`` a ``datetime.date``, amounts int fen) without
        the Arrow checks of :meth:`settle`, and return plain rows (:class:`~wzmedins.settle.lean.SettledRows`).

        Returns None, having changed nothing, when any claim is not an ordinary one this path
        handles — malformed, unknown code, a reversal, an id settled before or in
        ``known_claim_ids``, back-dated, no profile in force: settle the group with
        :meth:`settle` then. Otherwise the result is exactly what :meth:`settle` gives.

        Examples
        --------
        >>> import datetime as dt, wzmedins as wz
        >>> settler = wz.Settler(wz.load_policy("wenzhou-2022"))
        >>> claim = {"claim_id": "c1", "person_id": "p1", "settle_date": dt.date(2022, 3, 1),
        ...     "scheme": "resident", "category": "adult", "visit_type": "inpatient",
        ...     "facility_level": "primary", "total_cost": 20_000}
        >>> settler.settle_rows([claim]).settled[0]["deductible"]
        20000
        >>> settler.settle_rows([claim]) is None   # c1 again: settle() rejects it, with its reason
        True
        """
        return settle_rows(self, claims, known_claim_ids)

    def _check_order(self, cols: ClaimColumns, person_slots: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The order rule: flag back-dated rows (``late``), rejecting them where the profile
        says so; a reversal in the batch whose original is rejected so has no original.
        ``rows``: each row's person-year row (-1: none), looked up here when not given."""
        late = np.zeros(len(cols.reason), dtype=bool)
        accepted = cols.accepted
        accepted = accepted[cols.rev_kind[accepted] == 0]  # reversals are outside the rule
        if self.years.n == 0 or len(accepted) == 0:
            return late
        if rows is None:
            slots = person_slots[accepted]
            seen = slots >= 0
            found = np.full(len(accepted), -1, dtype=np.int64)
            found[seen] = self.years.keys(_keys(slots[seen], cols.year[accepted][seen]))
        else:
            found = rows[accepted]
        is_late = np.zeros(len(accepted), dtype=bool)
        k.late_rows(found, cols.date[accepted], cols.seq[accepted], self.person_years, is_late)
        late[accepted[is_late]] = True
        reject = late & (self.policy.compiled.late_settle[cols.profile] == 0)
        if reject.any():
            t.flag(cols.reason, reject, "OUT_OF_ORDER")
            if cols.reverses.null_count < len(cols.reverses):  # a reversal of a late claim has no original
                late_ids = cols.claim_id.filter(pa.array(reject))
                names = pc.is_in(cols.reverses, value_set=late_ids).fill_null(False).to_numpy(zero_copy_only=False)
                t.flag(cols.reason, names & ~t.null_mask(cols.reverses), "UNKNOWN_ORIGINAL")
        return late & (cols.reason == t.NO_REASON)

    def _run(
        self, cols: ClaimColumns, late: np.ndarray, carry: tuple[str, ...], person_slots: np.ndarray,
        rows: np.ndarray | None = None,
    ) -> SettleResult:  # fmt: skip
        accepted = cols.accepted
        m = len(accepted)
        every = m == len(cols.reason)

        def pick(values: np.ndarray) -> np.ndarray:  # the accepted rows' values (no copy when all are)
            return values if every else values[accepted]

        slots = pick(person_slots)
        year = pick(cols.year)
        rows = self._rows(slots, year) if rows is None else pick(rows)
        if len(self._scratch) < self.persons.n:
            self._scratch = _grow(self._scratch, self.persons.n)
            self._scratch[:] = -1
        codes, _ = k.local_codes(slots, self._scratch)
        order = order_by_person(codes, year, pick(cols.date), pick(cols.seq))

        idx = accepted[order]  # input row of each claim in settlement order
        lrows = self._buffer("lrows", m, 1, np.int64)[:, 0]
        touched = k.local_rows(rows[order], lrows)  # the batch's person-years, in settlement order
        parts = self._parts(m)
        local = self._buffer("local", len(touched), k.ROW_WIDTH, np.int64)
        self._move_rows(touched, local, False, parts)
        opening = self._opening(touched, local)
        codes8 = self._buffer("codes", m, 8, np.int8)  # one claim's codes in 8 bytes
        money = self._buffer("money", m, 5, np.int64)
        columns = (idx, cols.profile, cols.scheme, cols.category, cols.visit, cols.level, cols.area,
                   cols.assistance, cols.rev_kind, cols.total, cols.self_pay, cols.class_b, cols.date, cols.seq,
                   codes8, money)  # fmt: skip
        if parts > 1:
            k.gather_claims_parallel(*columns, parts)
        else:
            k.gather_claims(*columns)
        rev = np.zeros(1, dtype=np.int64)
        kinds = cols.rev_kind[idx]
        if kinds.any():  # an original of this batch: its input row -> its position in this order
            rev = cols.rev_index[idx]
            position = np.empty(len(cols.reason), dtype=np.int64)
            position[idx] = np.arange(m)
            in_batch = kinds == IN_BATCH
            rev[in_batch] = position[rev[in_batch]]
        work = self._buffer("out", m, k.N_OUT, np.int64)  # outputs in settlement order
        if m:
            args = (lrows, codes8, money, rev, opening, self.policy.compiled, np.asarray(VISIT_POOL, dtype=np.int64),
                    local, self.person_years, self.account_values, cols.originals.values, work)  # fmt: skip
            bounds = self._partitions(codes[order])
            start = time.perf_counter()
            if len(bounds) > 2:
                k.settle_parallel(bounds, *args)
            else:
                k.settle_range(0, m, *args)
            self.kernel_seconds += time.perf_counter() - start
        self._move_rows(touched, local, True, parts)
        out = self._outputs.take(k.N_OUT, m, np.int64)  # by rank among accepted rows (input order)
        if parts > 1:
            k.scatter_columns_parallel(work, order.astype(np.int64, copy=False), out, parts)
        else:
            k.scatter_columns(work, order.astype(np.int64, copy=False), out)
        return self._result(cols, late, out, slots, touched, carry, accepted)

    def _move_rows(self, touched: np.ndarray, local: np.ndarray, put: bool, parts: int) -> None:
        """The batch's person-year rows out of the store into ``local``, or (``put``) back."""
        if parts > 1:
            k.move_rows_parallel(self.person_years, touched, local, put, parts)
        else:
            k.move_rows(self.person_years, touched, local, put)

    def _opening(self, touched: np.ndarray, local: np.ndarray) -> np.ndarray:
        """For each of the batch's person-years not yet opened: its accounts row, last year's
        row among the batch's own (the one before it, when the batch touches it too) or else
        in the store (when opened), and last year's accounts row; -1 for none."""
        opening = self._buffer("opening", len(touched), 4, np.int64)
        unopened = np.flatnonzero(local[:, k.OPENED] == 0)
        if len(unopened) == 0:
            return opening
        opening[unopened] = -1
        rows = touched[unopened]
        keys = _keys(self.row_slot[rows], self.row_year[rows])
        if self.account_rows.n:
            opening[unopened, 0] = self.account_rows.keys(keys)
            opening[unopened, 3] = self.account_rows.keys(keys - 1)
        prev = self.years.keys(keys - 1)
        before = unopened - 1
        in_batch = (prev >= 0) & (before >= 0) & (touched[np.maximum(before, 0)] == prev)
        opening[unopened[in_batch], 1] = before[in_batch]
        stored = (prev >= 0) & ~in_batch
        stored[stored] = self.person_years[prev[stored], k.OPENED] == 1  # a row never opened holds nothing
        opening[unopened[stored], 2] = prev[stored]
        return opening

    def _buffer(self, name: str, n: int, width: int, dtype) -> np.ndarray:
        """A kernel input buffer ``[n, width]`` kept between batches (fresh memory costs a page
        fault per 4 KiB on first touch; reused memory does not). Never used for outputs handed
        to Arrow."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape[0] < n:
            buf = self._buffers[name] = np.empty((max(n, 1), width), dtype)
        return buf[:n]

    def _parts(self, m: int) -> int:
        """Ranges for a parallel gather or scatter of ``m`` rows (one when small or on one thread)."""
        return max(1, min(self.threads, m // PARTITION_ROWS))

    def _partitions(self, codes: np.ndarray) -> np.ndarray:
        """Bounds of ranges of whole persons (``codes`` in settlement order) for the threads
        (two: run on one thread): a person's rows of two years must be on one thread, since
        opening a year reads the last."""
        m = len(codes)
        n = min(self.threads * 4, m // PARTITION_ROWS) if self.threads > 1 else 1
        if n <= 1:
            return np.array([0, m], dtype=np.int64)
        cuts = np.linspace(0, m, n + 1).astype(np.int64)[1:-1]
        change = np.flatnonzero(codes[1:] != codes[:-1]) + 1  # first position of each person
        cuts = change[np.minimum(np.searchsorted(change, cuts), len(change) - 1)] if len(change) else cuts[:0]
        return np.unique(np.concatenate([[0], cuts, [m]])).astype(np.int64)

    def _result(self, cols, late, out, slots, touched, carry, accepted) -> SettleResult:
        """The settled table from the kernel's output rows (numpy buffers handed to Arrow as
        they are); when every row was accepted, the input columns are taken whole."""
        every = len(accepted) == len(cols.reason)
        keep = None if every else pa.array(cols.reason == t.NO_REASON)  # a filter copies runs, a take row by row

        def rows(arr):
            if every:
                return arr
            return pa.nulls(len(accepted), arr.type) if arr.null_count == len(arr) else arr.filter(keep)

        def pick(values: np.ndarray) -> np.ndarray:
            return values if every else values[accepted]

        columns = {"claim_id": rows(cols.claim_id), "person_id": rows(cols.person_id)}
        columns["year"] = pa.array(pick(cols.year))
        for j, name in enumerate(k.OUTPUT_FIELDS):
            columns[name] = pa.array(out[j].astype(np.int32) if name == "ratio_bp" else out[j])
        visit, level = pick(cols.visit), pick(cols.level)
        columns["visit_type"] = labels(visit, VISIT_TYPES)
        columns["facility_level"] = labels(level, FACILITY_LEVELS)
        columns["reverses"] = rows(cols.reverses)
        columns[LATE_COLUMN] = pa.array(pick(late))
        for name in carry:
            columns[name] = rows(t.required(cols.table, name, "a column to carry"))
        settled = pa.table(columns).replace_schema_metadata(metadata(self.policy))
        if self.claims is not None and len(accepted):
            self.claims.add(columns["claim_id"], slots, pick(cols.year), visit, level, np.ascontiguousarray(out.T),
                            columns["reverses"])  # fmt: skip
        snapshot = _StateSnapshot(self, touched)
        self._snapshots.add(snapshot)
        return SettleResult(settled, cols.rejected(), snapshot)


class _StateSnapshot:
    """A batch's ``state`` (the person-years it touched), built when first read. Until the
    store changes (the next batch, a load), it reads the store's rows where they are; the store
    calls ``freeze`` first, which copies them. A result dropped unread costs nothing."""

    def __init__(self, settler: Settler, rows: np.ndarray):
        self.settler, self.rows, self.frozen = settler, rows, None

    def freeze(self) -> None:
        if self.frozen is None:
            st, rows = self.settler, self.rows
            self.frozen = (st.row_slot[rows], st.row_year[rows], st.person_years[rows])

    def __call__(self) -> pa.Table:
        st, rows = self.settler, self.rows
        if self.frozen is None:
            slot, year, values = st.row_slot[rows], st.row_year[rows], st.person_years[rows]
        else:
            slot, year, values = self.frozen
        last, last_seq = values[:, k.LAST_DATE], values[:, k.LAST_SEQ]
        persons = st.persons  # a person's id never changes: read from the index whenever
        cols = {"person_id": persons.ids(slot), "year": pa.array(year.astype(np.int32))}
        for j, name in enumerate(STATE_FIELDS):
            cols[name] = pa.array(values[:, j].astype(np.int32 if name.startswith("admissions") else np.int64))
        none = last == NO_DATE
        masked = none if none.any() else None
        cols["last_date"] = pa.array(np.where(none, 0, last).astype(np.int32), mask=masked).cast(pa.date32())
        cols["last_seq"] = pa.array(np.where(none, 0, last_seq), mask=masked)
        meta = metadata(st.policy)
        return pa.table(cols, schema=state_schema(persons.arrow_type)).replace_schema_metadata(meta)
