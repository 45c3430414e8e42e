"""``setl_proc_info`` (结算过程信息): how a settled claim's amounts came about, as text."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..ledger.eob import POOL, explain


def proc_info(settled: pa.Table, claims: pa.Table, *, state_before: pa.Table | None = None) -> dict[str, str]:
    """The explanation text of each settled claim, by claim id.

    The year-to-date figures the text quotes (deductible paid, fund paid, compliant amount)
    start from ``state_before`` (the person's state before the batch) and add the batch's
    claims in settlement order.

    Examples
    --------
    >>> import wzmedins as wz
    >>> mapped = wz.platform.from_platform([{"psn_no": "P1", "mdtrt_id": "M1", "insutype": "390",
    ...     "psn_type": "21", "med_type": "21", "hosp_lv": "02", "setl_time": "2022-03-01",
    ...     "medfee_sumamt": "50000.00"}])
    >>> out = wz.settle(mapped.claims, wz.load_policy("wenzhou-2022"))
    >>> print(proc_info(out.settled, mapped.claims)["M1"].splitlines()[2])
    The fund pays 70% of the remaining 49 200.00: 34 440.00; the other 14 760.00 is coinsurance (比例自付).
    """
    n = settled.num_rows
    if n == 0:
        return {}
    ids = pc.cast(settled["claim_id"], pa.string())
    src = claims.take(pc.index_in(ids, value_set=pc.cast(claims["claim_id"], pa.string())))
    rows = settled.to_pylist()
    inputs = src.select([c for c in ("settle_date", "seq", "total_cost", "self_pay", "class_b_self_pay")
                         if c in src.column_names]).to_pylist()  # fmt: skip
    start: dict[tuple, dict] = {}
    if state_before is not None:
        for s in state_before.to_pylist():
            start[(str(s["person_id"]), s["year"])] = s

    def settlement_order(i: int) -> tuple:
        return (
            str(rows[i]["person_id"]),
            rows[i]["year"],
            str(inputs[i].get("settle_date")),
            inputs[i].get("seq") or 0,
            i,
        )

    order = sorted(range(n), key=settlement_order)
    todate: dict[tuple, dict] = {}
    out = {}
    for i in order:
        r = {**rows[i], **{k: v for k, v in inputs[i].items() if v is not None}}
        for k in ("total_cost", "self_pay", "class_b_self_pay"):
            r.setdefault(k, 0)
        if r.get("total_cost") is None or r.get("reverses") is not None:
            r["total_cost"] = sum(r[c] for c in ("account_current", "fund", "critical_illness",
                                                  "medical_assistance", "account_hist", "cash"))  # fmt: skip
        key = (str(r["person_id"]), r["year"])
        if key not in todate:
            s = start.get(key, {})
            todate[key] = {"fund": s.get("fund_paid", 0), "ci": s.get("ci_base", 0),
                           "outpatient": s.get("outpatient_deductible_used", 0),
                           "inpatient": s.get("inpatient_deductible_used", 0)}  # fmt: skip
        acc = todate[key]
        acc["fund"] += r["fund"]
        acc["ci"] += r["ci_base_added"]
        pool = POOL.get(str(r["visit_type"]))
        if pool:
            acc[pool] += r["deductible"]
        out[str(r["claim_id"])] = "\n".join(explain(r, acc["fund"], acc["ci"], acc.get(pool, 0) if pool else 0))
    return out


__all__ = ["proc_info"]
