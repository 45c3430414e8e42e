"""How a settled claim's amounts came about, step by step (docs/explain.md).

The explanation is computed by the reference twin (``wzmedins.reference.settle``) with a
trace collector on its step functions: the same arithmetic that the differential tests hold
equal to the kernel, not a second copy. Each step names the rule of docs/rules/settlement.md §4,
the parameter it read with its value and source label (from the profile), the amount it
produced and the accumulator of the person-year before and after.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from . import contract as c
from .errors import NotSettledError
from .reference.settle import Trace
from .reference.settle import settle as reference_settle

EXPLAIN_SCHEMA = pa.schema(
    [
        ("step", pa.string()),  # split, lookup, current account, deductible, fund and cap, ...
        ("rule", pa.string()),
        ("parameter", pa.string()),  # dotted key in the profile, e.g. ratio_inpatient.resident
        ("value", pa.string()),  # the parameter's value as written in the profile (JSON)
        ("source", pa.string()),  # its source label (FZ, FV, NR, ND, what-if)
        ("source_note", pa.string()),
        ("amount", pa.int64()),  # fen (basis points for the ratio)
        ("output", pa.string()),  # the settled column the amount is, if any
        ("accumulator", pa.string()),  # the person-year state field the step moved
        ("before", pa.int64()),
        ("after", pa.int64()),
    ]
)

# how the short text names each settled amount (Chinese first: the platform's users search for it)
LABELS = {
    "eligible": "政策范围内 eligible", "account_current": "当年账户 current account",
    "deductible": "起付线 deductible", "fund": "统筹基金 fund", "coinsurance": "比例自付 coinsurance",
    "over_cap": "超限额 over cap", "critical_illness": "大病保险 critical illness",
    "medical_assistance": "医疗救助 assistance", "account_hist": "历年账户 historical account", "cash": "现金 cash",
}  # fmt: skip


def source_of(profile, parameter: str | None) -> tuple[str | None, str | None]:
    """The source label and note of a parameter: its own, or that of the leaf holding it."""
    if profile is None or parameter is None:
        return None, None
    parts = parameter.split(".")
    for k in range(len(parts), 0, -1):
        found = profile.sources.get(".".join(parts[:k]))
        if found is not None:
            return found[0], found[1] or None
    return None, None


def explain(
    claims: Any,
    policy,
    *,
    claim_id: Any,
    state: Any = None,
    accounts: Any = None,
    known_claim_ids: Any = None,
    originals: Any = None,
) -> pa.Table:
    """The steps that produced each amount of one settled claim, as a table.

    The batch is settled by the reference twin exactly as :func:`wzmedins.settle` would
    settle it (same ``state``, ``accounts``, ``known_claim_ids`` and ``originals``), and the
    steps of ``claim_id`` are returned in the order they ran: one row per rule applied, with
    the parameter read (name, value, source label), the amount in fen and the person-year
    accumulator before and after. Rows with ``output`` set are the claim's settled amounts.

    Parameters
    ----------
    claims
        The batch the claim is in (any input form of :func:`wzmedins.settle`).
    policy
        From :func:`wzmedins.load_policy`.
    claim_id
        The claim to explain.
    state, accounts, known_claim_ids, originals
        As for :func:`wzmedins.settle`.

    Raises
    ------
    NotSettledError
        When the claim is not in the batch or was rejected (the reason is given).

    Examples
    --------
    Worked example 1 of docs/rules/settlement.md §9: a resident's 50 000 yuan tertiary stay.

    >>> import datetime as dt, pyarrow as pa, wzmedins as wz
    >>> claims = pa.table({
    ...     "claim_id": ["c1"], "person_id": ["p1"], "settle_date": [dt.date(2022, 3, 1)],
    ...     "scheme": ["resident"], "category": ["adult"], "visit_type": ["inpatient"],
    ...     "facility_level": ["tertiary"], "total_cost": [5_000_000],
    ... })
    >>> steps = wz.explain(claims, wz.load_policy("wenzhou-2022"), claim_id="c1")
    >>> for r in steps.filter(pa.compute.is_valid(steps["output"])).to_pylist():
    ...     print(f"{r['step']:<18} {r['output']:<18} {r['amount']:>9} {r['source'] or '-'}")
    split              eligible             5000000 -
    lookup             ratio_bp                7000 ND
    current account    account_current            0 ND
    deductible         deductible             80000 FZ
    fund and cap       fund                 3444000 ND
    fund and cap       coinsurance          1476000 -
    fund and cap       over_cap                   0 -
    critical illness   critical_illness           0 ND
    assistance         medical_assistance         0 ND
    historical account account_hist               0 ND
    cash               cash                 1556000 -
    """
    return explain_many(claims, policy, claim_ids=[claim_id], state=state, accounts=accounts,
                        known_claim_ids=known_claim_ids, originals=originals)[claim_id]  # fmt: skip


def explain_many(
    claims: Any,
    policy,
    *,
    claim_ids: Any,
    state: Any = None,
    accounts: Any = None,
    known_claim_ids: Any = None,
    originals: Any = None,
    tables: bool = True,
) -> dict[Any, pa.Table] | dict[Any, list[dict]]:
    """The steps of several claims of one batch, from one run of the twin: ``{claim_id: steps}``
    with the tables :func:`explain` gives one at a time (the settlement service explains a
    whole group of claims at once this way). With ``tables=False`` each claim's steps are a
    list of dicts instead (the table's columns, ``value`` as the profile holds it, not JSON):
    what :func:`explain_text` reads, without building a table per claim.

    Raises
    ------
    NotSettledError
        When a claim is not in the batch or was rejected.

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa, wzmedins as wz
    >>> claims = pa.table({"claim_id": ["a", "b"], "person_id": ["p1", "p2"],
    ...     "settle_date": [dt.date(2022, 3, 1)] * 2, "scheme": ["resident"] * 2, "category": ["adult"] * 2,
    ...     "visit_type": ["outpatient", "inpatient"], "facility_level": ["primary", "tertiary"],
    ...     "total_cost": [20_000, 5_000_000]})
    >>> steps = explain_many(claims, wz.load_policy("wenzhou-2022"), claim_ids=["a", "b"])
    >>> for c in ("a", "b"):
    ...     print(explain_text(steps[c]).split("; ")[1])
    起付线 deductible 200.00 [deductible_outpatient.resident FZ]
    起付线 deductible 800.00 [deductible_inpatient.resident FZ]
    """
    traces = {claim_id: Trace() for claim_id in claim_ids}
    out = reference_settle(
        claims, policy, state=state, accounts=accounts, known_claim_ids=known_claim_ids, originals=originals,
        trace=traces,
    )  # fmt: skip
    for claim_id, trace in traces.items():
        if trace.row is None:
            rejected = [r for r in out.rejected.to_pylist() if r["claim_id"] == str(claim_id)]
            reason = f"rejected {rejected[0]['reason']}: {rejected[0]['message']}" if rejected else "no such claim_id"
            raise NotSettledError(claim_id, reason)
    if not tables:
        return {claim_id: _step_rows(trace) for claim_id, trace in traces.items()}
    return {claim_id: _steps_table(trace, policy, claim_id) for claim_id, trace in traces.items()}


def _step_rows(trace: Trace) -> list[dict]:
    rows = []
    for step in trace:
        label, note = source_of(trace.profile, step["parameter"])
        rows.append({**step, "source": label, "source_note": note})
    return rows


def _steps_table(trace: Trace, policy, claim_id: Any) -> pa.Table:
    rows = _step_rows(trace)
    for row in rows:
        row["value"] = None if row["parameter"] is None else json.dumps(row["value"], ensure_ascii=False, default=str)
    meta = {
        c.META_POLICY: policy.name.encode(),
        c.META_FINGERPRINT: policy.fingerprint.encode(),
        b"wzmedins.profile": (trace.profile.name if trace.profile is not None else "").encode(),
        b"wzmedins.claim_id": str(claim_id).encode(),
    }
    return pa.Table.from_pylist(rows, schema=EXPLAIN_SCHEMA).replace_schema_metadata(meta)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    q, r = divmod(abs(fen), c.FEN_PER_YUAN)
    return f"{sign}{q}.{r:02d}"


def explain_text(steps: pa.Table | list[dict] | Any, policy=None, *, claim_id: Any = None, **kwargs) -> str:
    """The short text a settlement record's ``setl_proc_info`` carries: each non-zero amount in
    yuan with the parameter behind it and its source label, in the order of the steps.

    ``steps`` is a table from :func:`explain` (or a list of its rows as dicts, as
    ``explain_many(..., tables=False)`` gives them), or the claims (then ``policy`` and
    ``claim_id`` and the options of :func:`explain` are given).

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa, wzmedins as wz
    >>> claims = pa.table({
    ...     "claim_id": ["c1"], "person_id": ["p1"], "settle_date": [dt.date(2022, 3, 1)],
    ...     "scheme": ["resident"], "category": ["adult"], "visit_type": ["inpatient"],
    ...     "facility_level": ["tertiary"], "total_cost": [5_000_000],
    ... })
    >>> text = wz.explain_text(claims, wz.load_policy("wenzhou-2022"), claim_id="c1")
    >>> for part in text.split("; "):
    ...     print(part)
    政策范围内 eligible 50000.00
    起付线 deductible 800.00 [deductible_inpatient.resident FZ]
    统筹基金 fund 34440.00 at 70.00% [fund_cap.resident ND]
    比例自付 coinsurance 14760.00
    现金 cash 15560.00
    """
    if isinstance(steps, list) and policy is None:
        rows = steps
    else:
        if not (isinstance(steps, pa.Table) and steps.schema.names == EXPLAIN_SCHEMA.names):
            steps = explain(steps, policy, claim_id=claim_id, **kwargs)
        rows = steps.to_pylist()
    ratio = next((r["amount"] for r in rows if r["output"] == "ratio_bp"), None)
    parts = []
    for r in rows:
        if r["output"] not in LABELS or (r["amount"] == 0 and r["output"] not in ("fund", "cash")):
            continue
        text = f"{LABELS[r['output']]} {_yuan(r['amount'])}"
        if r["output"] == "fund" and ratio is not None:
            text += f" at {ratio // 100}.{ratio % 100:02d}%"
        if r["parameter"] and r["output"] != "eligible":
            text += f" [{r['parameter']} {r['source'] or '?'}]"
        parts.append(text)
    return "; ".join(parts)


__all__ = ["EXPLAIN_SCHEMA", "explain", "explain_many", "explain_text"]
