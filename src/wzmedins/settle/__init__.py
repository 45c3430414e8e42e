"""Claim settlement (报销结算): the wrapper around the numba kernel.

The wrapper checks and codes the claims (``columns``), orders them per person without a
Python loop, lays out state and accounts for the kernel (``state``), runs ``_kernel`` and
builds the Arrow outputs. See settlement.md and ``docs/settlement.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..policy import Policy
from ..vocab import FACILITY_LEVELS, VISIT_POOL, VISIT_TYPES
from . import _kernel as k
from .columns import ClaimColumns, claim_columns
from .reversals import IN_BATCH
from .state import ACCOUNT_FIELDS, STATE_FIELDS, KeyedRows, carried_state, state_table

# settled table: the kernel's output fields, in its order (interfaces.md "settled")
OUTPUT_COLUMNS = {name: j for j, name in enumerate(k.OUTPUT_FIELDS)}
PAYERS = ("account_current", "fund", "critical_illness", "medical_assistance", "account_hist", "cash")


@dataclass
class SettleResult:
    """What a batch came to: ``settled`` (accepted claims, input order), ``rejected`` (row,
    claim_id, reason, message) and ``state`` (one row per person and year, to carry on)."""

    settled: pa.Table
    rejected: pa.Table
    state: pa.Table

    def totals(self) -> dict[str, int]:
        """Sum in fen of each payer column and of total cost.

        Examples
        --------
        >>> import datetime as dt, pyarrow as pa, wzmedins as wz
        >>> claims = pa.table({"claim_id": [1, 2], "person_id": [7, 7],
        ...     "settle_date": [dt.date(2022, 5, 1)] * 2, "scheme": ["resident"] * 2,
        ...     "category": ["student"] * 2, "visit_type": ["outpatient"] * 2,
        ...     "facility_level": ["primary"] * 2, "total_cost": [500.0, 100.0]})
        >>> totals = wz.settle(claims, wz.load_policy("wenzhou-2022")).totals()
        >>> totals["fund"], totals["cash"], totals["total_cost"]
        (18000, 42000, 60000)
        """
        sums = {c: int(pc.sum(self.settled[c]).as_py() or 0) for c in ("eligible", *PAYERS)}
        sums["total_cost"] = sum(sums[c] for c in PAYERS)
        return sums


def _bits(span: int) -> int:
    return max(int(span).bit_length(), 1)


def order_by_person(
    person_codes: np.ndarray, year: np.ndarray, date: np.ndarray, seq: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Rows sorted by (person, year, settle_date, seq, input position), as settlement.md §3
    says; the year only matters for a reversal, which counts in its original's year.

    (year, date, seq) are packed into one int64 key when their ranges allow, and the rows are
    ordered by a counting sort on the (dense) person codes, then by key within each person
    (``_kernel.person_order``, stable, linear in practice); otherwise by ``np.lexsort``.

    Examples
    --------
    >>> rows = np.arange(4)
    >>> order_by_person(np.array([1, 0, 1, 0]), np.full(4, 2022), np.array([5, 9, 5, 1]),
    ...                 np.array([0, 0, -1, 0]), rows).tolist()
    [3, 1, 2, 0]
    """
    if len(rows) == 0:
        return rows
    p = person_codes[rows]
    d = date[rows].astype(np.int64)
    y = year[rows].astype(np.int64)
    q = seq[rows]
    d0, y0, q0 = d.min(), y.min(), q.min()
    yd = (y - y0) * (int(d.max() - d0) + 1) + (d - d0)
    bq, byd = _bits(q.max() - q0), _bits(yd.max())
    if bq + byd <= 62 and p.min() >= 0:
        key = (yd << bq) | (q - q0)
        return rows[k.person_order(p, key, int(p.max()) + 1)]
    return rows[np.lexsort((q, yd, p))]


def _metadata(policy: Policy) -> dict[bytes, bytes]:
    return {b"wzmedins.policy": policy.name.encode(), b"wzmedins.fingerprint": policy.fingerprint.encode()}


class Prepared:
    """A batch ready for the kernel: ``run()`` executes only the compiled loop (for timing),
    ``result()`` builds the Arrow tables."""

    def __init__(self, cols: ClaimColumns, policy: Policy, state: pa.Table | None, accounts: pa.Table | None):
        self.cols = cols
        self.policy = policy
        self.state_in = state
        accepted = cols.accepted
        encoded = pc.dictionary_encode(cols.person_id)
        self.persons = encoded.dictionary
        person_code = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
        self.order = order = order_by_person(person_code, cols.year, cols.date, cols.seq, accepted)
        m = len(order)
        # the claim columns in settlement order: the kernel then reads memory in sequence
        self.sorted = [
            a[order]
            for a in (person_code, cols.year, cols.profile, cols.scheme, cols.category, cols.visit, cols.level,
                      cols.area, cols.assistance, cols.total, cols.self_pay, cols.class_b, cols.rev_kind)
        ]  # fmt: skip
        rev_index = cols.rev_index[order]
        if (cols.rev_kind == IN_BATCH).any():
            position = np.empty(len(cols.reason), dtype=np.int64)
            position[order] = np.arange(m)
            in_batch = self.sorted[-1] == IN_BATCH
            rev_index[in_batch] = position[rev_index[in_batch]]
        self.sorted.append(rev_index)
        self.state = KeyedRows(state, STATE_FIELDS, self.persons, "state")
        self.accounts = KeyedRows(accounts, ACCOUNT_FIELDS, self.persons, "accounts")
        self.out = np.empty((k.N_OUT, m), dtype=np.int64)
        codes = self.sorted[0]
        years = self.sorted[1]
        n_person_years = int(np.count_nonzero((codes[1:] != codes[:-1]) | (years[1:] != years[:-1])) + 1) if m else 0
        self.st_person = np.zeros(n_person_years, dtype=np.int64)
        self.st_year = np.zeros(n_person_years, dtype=np.int64)
        self.st_vals = np.zeros((n_person_years, k.N_STATE), dtype=np.int64)
        self.st_used = np.zeros(len(self.state.years), dtype=np.bool_)
        self.visit_pool = np.asarray(VISIT_POOL, dtype=np.int64)

    def run(self) -> int:
        """Run the kernel over the prepared arrays; returns the number of state rows."""
        if len(self.order) == 0:
            return 0
        return k.settle_kernel(
            *self.sorted, self.cols.originals.values, self.policy.compiled, self.visit_pool,
            self.state.ptr, self.state.years, self.state.values,
            self.accounts.ptr, self.accounts.years, self.accounts.values,
            self.out, self.st_person, self.st_year, self.st_vals, self.st_used,
        )  # fmt: skip

    def result(self, carry: tuple[str, ...] = ()) -> SettleResult:
        c = self.cols
        n_state = self.run()
        accepted = c.accepted
        # accepted rows in input order are ``order`` sorted back: rank of each in the kernel order
        rank = np.empty(len(c.reason), dtype=np.int64)
        rank[self.order] = np.arange(len(self.order))
        position = rank[accepted]
        take = pa.array(accepted)
        cols: dict[str, Any] = {
            "claim_id": c.claim_id.take(take),
            "person_id": c.person_id.take(take),
            "year": pa.array(c.year[accepted]),
        }
        for name, j in OUTPUT_COLUMNS.items():
            values = self.out[j][position]
            cols[name] = pa.array(values.astype(np.int32) if name == "ratio_bp" else values)
        cols["visit_type"] = _labels(c.visit[accepted], VISIT_TYPES)
        cols["facility_level"] = _labels(c.level[accepted], FACILITY_LEVELS)
        cols["reverses"] = c.reverses.take(take)
        for name in carry:
            cols[name] = t.required(c.table, name, "a column to carry").take(take)
        settled = pa.table(cols).replace_schema_metadata(_metadata(self.policy))
        new_state = state_table(self.persons, self.st_person[:n_state], self.st_year[:n_state], self.st_vals[:n_state])
        used = self.state.rows[self.st_used]
        state = carried_state(self.state_in, used, new_state).replace_schema_metadata(_metadata(self.policy))
        return SettleResult(settled, c.rejected(), state)


def _labels(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(vocab))


def prepare(
    claims: Any, policy: Policy, *, state: Any = None, accounts: Any = None, known_claim_ids=None, originals=None
) -> Prepared:
    """Check, code and order a batch for the kernel without running it."""
    cols = claim_columns(claims, policy, known_claim_ids=known_claim_ids, originals=originals)
    state = None if state is None else t.to_table(state)
    accounts = None if accounts is None else t.to_table(accounts)
    return Prepared(cols, policy, state, accounts)


def settle(
    claims: Any,
    policy: Policy,
    *,
    state: Any = None,
    accounts: Any = None,
    known_claim_ids: pa.Array | None = None,
    originals: Any = None,
    carry: Iterable[str] = (),
) -> SettleResult:
    """Settle a batch of claims: split each across personal accounts, the pooled fund,
    critical-illness insurance (大病保险), medical assistance (医疗救助) and cash.

    Parameters
    ----------
    claims
        The claims table (interfaces.md "claims"): Arrow, polars or a Parquet path.
    policy
        From :func:`wzmedins.load_policy`.
    state
        The ``state`` of an earlier batch, to carry each person's year on.
    accounts
        Opening balances ``(person_id, year, current_balance, hist_balance)``.
    known_claim_ids
        Claim ids settled in earlier batches; repeating one is ``DUPLICATE_CLAIM_ID``.
    originals
        Settled rows of earlier batches (columns of ``settled``) that the batch's reversals
        (rows with ``reverses`` set) may name; any superset will do.
    carry
        Input columns to copy into ``settled``.

    Examples
    --------
    Worked example 1 of settlement.md §9: a resident's 50 000 yuan tertiary admission.

    >>> import datetime as dt, pyarrow as pa, wzmedins as wz
    >>> claims = pa.table({
    ...     "claim_id": ["c1"], "person_id": ["p1"], "settle_date": [dt.date(2022, 3, 1)],
    ...     "scheme": ["resident"], "category": ["adult"], "visit_type": ["inpatient"],
    ...     "facility_level": ["tertiary"], "total_cost": [5_000_000],
    ... })
    >>> out = wz.settle(claims, wz.load_policy("wenzhou-2022"))
    >>> out.settled.select(["deductible", "fund", "coinsurance", "cash"]).to_pylist()
    [{'deductible': 80000, 'fund': 3444000, 'coinsurance': 1476000, 'cash': 1556000}]
    >>> out.state["inpatient_deductible_used"].to_pylist(), out.rejected.num_rows
    ([80000], 0)
    """
    prepared = prepare(
        claims, policy, state=state, accounts=accounts, known_claim_ids=known_claim_ids, originals=originals
    )
    return prepared.result(tuple(carry))


def settle_stream(
    batches: Iterable[Any], policy: Policy, *, state: Any = None, accounts: Any = None
) -> Iterator[SettleResult]:
    """Settle batches one after another, carrying the state; yields one result per batch.

    Each result's ``state`` is the whole carried state after that batch. Claims of one person
    must come in date order across batches (within a batch, any order).
    """
    state = None if state is None else t.to_table(state)
    accounts = None if accounts is None else t.to_table(accounts)
    for batch in batches:
        result = settle(batch, policy, state=state, accounts=accounts)
        state = result.state
        yield result


__all__ = ["SettleResult", "settle", "settle_stream", "prepare", "Prepared", "OUTPUT_COLUMNS", "PAYERS"]
