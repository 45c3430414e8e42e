"""Claim settlement (报销结算): the wrapper around the numba kernel.

The wrapper checks and codes the claims (``columns``), orders them per person without a
Python loop, lays out state and accounts for the kernel (``state``), runs ``_kernel`` and
builds the Arrow outputs. See docs/rules/settlement.md and ``docs/settlement.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..policy import Policy
from . import _kernel as k
from .batch import Prepared, order_by_person
from .columns import check_keyed_tables, claim_columns

# settled table: the kernel's output fields, in its order (docs/rules/interfaces.md "settled")
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


def metadata(policy: Policy) -> dict[bytes, bytes]:
    return {b"wzmedins.policy": policy.name.encode(), b"wzmedins.fingerprint": policy.fingerprint.encode()}


def prepare(
    claims: Any, policy: Policy, *, state: Any = None, accounts: Any = None, known_claim_ids=None, originals=None
) -> Prepared:
    """Check, code and order a batch for the kernel without running it."""
    cols = claim_columns(claims, policy, known_claim_ids=known_claim_ids, originals=originals)
    state = None if state is None else t.to_table(state)
    accounts = None if accounts is None else t.to_table(accounts)
    check_keyed_tables(cols, state=state, accounts=accounts)
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
        The claims table (docs/rules/interfaces.md "claims"): Arrow, polars or a Parquet path.
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
    Worked example 1 of docs/rules/settlement.md §9: a resident's 50 000 yuan tertiary admission.

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
    batches: Iterable[Any], policy: Policy, *, state: Any = None, accounts: Any = None, carry: Iterable[str] = ()
) -> Iterator[SettleResult]:
    """Settle batches one after another, carrying the state; yields one result per batch.

    Each result's ``state`` is the whole carried state after that batch. Claims of one person
    must come in date order across batches (within a batch, any order).
    """
    state = None if state is None else t.to_table(state)
    accounts = None if accounts is None else t.to_table(accounts)
    for batch in batches:
        result = settle(batch, policy, state=state, accounts=accounts, carry=carry)
        state = result.state
        yield result


__all__ = [
    "SettleResult",
    "settle",
    "settle_stream",
    "prepare",
    "Prepared",
    "order_by_person",
    "OUTPUT_COLUMNS",
    "PAYERS",
]
