"""Claim settlement (报销结算): the wrapper around the numba kernel.

The wrapper checks and codes the claims (``columns``), keeps persons' years in a store
(``store.Settler``), orders each batch per person without a Python loop, runs the kernel
(``_kernel``, in the steps of ``_steps``) and builds the Arrow outputs. See
docs/rules/settlement.md and ``docs/settlement.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from ..policy import Policy
from .result import OUTPUT_COLUMNS, PAYERS, SettleResult, metadata
from .store import Settler, order_by_person


def settle(
    claims: Any,
    policy: Policy,
    *,
    state: Any = None,
    accounts: Any = None,
    known_claim_ids: pa.Array | None = None,
    originals: Any = None,
    carry: Iterable[str] = (),
    threads: int | None = None,
) -> SettleResult:
    """Settle a batch of claims: split each across personal accounts, the pooled fund,
    critical-illness insurance (大病保险), medical assistance (医疗救助) and cash.

    A one-shot :class:`Settler`: the store is seeded with ``state`` and ``accounts``, settles
    the batch and is dropped.

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
    threads
        Threads for the kernel (``1``: one); the result does not depend on it.

    Returns
    -------
    SettleResult
        ``settled``, ``rejected``, and ``state``: every row of the input state, updated
        where the batch touched it, and the person-years it opened.

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
    settler = Settler(policy, accounts=accounts, threads=threads, remember_claims=False)
    if state is not None:
        settler.load_state(state)
    out = settler.settle(claims, carry=carry, known_claim_ids=known_claim_ids, originals=originals)
    return SettleResult(out.settled, out.rejected, settler.state)  # built when first read


def settle_stream(
    batches: Iterable[Any],
    policy: Policy,
    *,
    state: Any = None,
    accounts: Any = None,
    carry: Iterable[str] = (),
    threads: int | None = None,
) -> Iterator[SettleResult]:
    """Settle batches one after another on one :class:`Settler`; yields one result per batch.

    Each result's ``state`` holds the person-years that batch touched (the whole state is
    ``Settler.state()``; keep the settler to ask for it). Claim ids repeated across batches
    and reversals of claims of earlier batches are recognised; a back-dated claim follows the
    order rule (docs/settlement.md).

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa, wzmedins as wz
    >>> day = lambda d, cid: pa.table({"claim_id": [cid], "person_id": [1],
    ...     "settle_date": [dt.date(2022, 3, d)], "scheme": ["resident"], "category": ["adult"],
    ...     "visit_type": ["outpatient"], "facility_level": ["primary"], "total_cost": [20_000]})
    >>> outs = wz.settle_stream([day(1, 1), day(2, 2), day(2, 2)], wz.load_policy("wenzhou-2022"))
    >>> [o.settled["deductible"].to_pylist() or o.rejected["reason"].to_pylist() for o in outs]
    [[20000], [10000], ['DUPLICATE_CLAIM_ID']]
    """
    settler = Settler(policy, accounts=accounts, threads=threads)
    if state is not None:
        settler.load_state(state)
    for batch in batches:
        yield settler.settle(batch, carry=tuple(carry))


__all__ = [
    "SettleResult",
    "Settler",
    "settle",
    "settle_stream",
    "order_by_person",
    "metadata",
    "OUTPUT_COLUMNS",
    "PAYERS",
]
