"""``setl_proc_info`` (结算过程信息): how a settled claim's amounts came about, as text.

With a policy, the text is :func:`wzmedins.explain_text`: the reference twin settles the
person's claims again with a trace of every step (rule, parameter, source label), and its
amounts are checked against the settled row before the text is used. Without one (or for a
reversal), the ledger statement's sentences are used.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import WzmedinsError
from ..ledger.eob import POOL, explain
from ..settle.state import STATE_FIELDS

MONEY = ("eligible", "account_current", "deductible", "fund", "coinsurance", "over_cap", "critical_illness",
         "medical_assistance", "account_hist", "cash")  # fmt: skip
CLAIM_INPUTS = ("claim_id", "person_id", "settle_date", "seq", "scheme", "category", "visit_type", "facility_level",
                "area", "assistance", "total_cost", "self_pay", "class_b_self_pay")  # fmt: skip


class ExplanationMismatch(WzmedinsError):
    """The twin's explanation of a claim does not give the settled amounts (a bug to report)."""


def state_before(after: dict, row: dict) -> dict:
    """A person-year's state before one claim, from the state after it and the claim's settled
    row: what the claim took from each accumulator and balance, given back."""
    before = {k: after[k] for k in ("person_id", "year", *STATE_FIELDS)}
    pool = POOL.get(str(row["visit_type"]))
    if pool:
        before[f"{pool}_deductible_used"] -= row["deductible"]
    if str(row["visit_type"]) == "inpatient":
        before[f"admissions_{row['facility_level']}"] -= 1
    before["fund_paid"] -= row["fund"]
    before["ci_base"] -= row["ci_base_added"]
    before["ci_paid"] -= row["critical_illness"]
    before["ma_base"] -= row["ma_base_added"]
    before["ma_paid"] -= row["medical_assistance"]
    before["current_balance"] += row["account_current"]
    before["hist_balance"] += row["account_hist"]
    return before


def _of_person(table: pa.Table | None, person) -> pa.Table | None:
    if table is None or table.num_rows == 0:
        return None
    keep = pc.equal(pc.cast(table["person_id"], pa.string()), str(person))
    out = table.filter(keep)
    return out if out.num_rows else None


def _twin_text(settled_rows: list[dict], claims: pa.Table, policy, state, accounts) -> dict[str, str]:
    from ..explain import explain as explain_steps
    from ..explain import explain_text

    inputs = claims.select([c for c in CLAIM_INPUTS if c in claims.column_names])
    out = {}
    for person in sorted({str(r["person_id"]) for r in settled_rows}):
        mine = _of_person(inputs, person)
        st, acc = _of_person(state, person), _of_person(accounts, person)
        for row in (r for r in settled_rows if str(r["person_id"]) == person):
            steps = explain_steps(mine, policy, claim_id=row["claim_id"], state=st, accounts=acc)
            got = {r["output"]: r["amount"] for r in steps.to_pylist() if r["output"] in MONEY}
            wrong = [k for k in MONEY if k in got and got[k] != row[k]]
            if wrong:
                raise ExplanationMismatch(
                    f"claim {row['claim_id']}: the explanation gives {wrong[0]} {got[wrong[0]]}, "
                    f"the settlement {row[wrong[0]]}"
                )
            out[str(row["claim_id"])] = explain_text(steps)
    return out


def proc_info(
    settled: pa.Table, claims: pa.Table, *, policy=None, state_before: pa.Table | None = None, accounts=None
) -> dict[str, str]:
    """The explanation text of each settled claim, by claim id.

    Parameters
    ----------
    settled, claims
        The settled rows and the claims they came from (matched by ``claim_id``).
    policy
        With it, the twin's step-by-step text (:func:`wzmedins.explain_text`), checked against
        the settled amounts; without it, the statement's sentences.
    state_before, accounts
        The persons' state before the batch and their opening balances, as given to the
        settlement.

    Examples
    --------
    >>> import wzmedins as wz
    >>> policy = wz.load_policy("wenzhou-2022")
    >>> mapped = wz.platform.from_platform([{"psn_no": "P1", "mdtrt_id": "M1", "insutype": "390",
    ...     "psn_type": "21", "med_type": "21", "hosp_lv": "02", "setl_time": "2022-03-01",
    ...     "medfee_sumamt": "50000.00"}])
    >>> out = wz.settle(mapped.claims, policy)
    >>> print(proc_info(out.settled, mapped.claims, policy=policy)["M1"].replace("; ", "\\n"))
    政策范围内 eligible 50000.00
    起付线 deductible 800.00 [deductible_inpatient.resident FZ]
    统筹基金 fund 34440.00 at 70.00% [fund_cap.resident ND]
    比例自付 coinsurance 14760.00
    现金 cash 15560.00
    >>> print(proc_info(out.settled, mapped.claims)["M1"].splitlines()[2])
    The fund pays 70% of the remaining 49 200.00: 34 440.00; the other 14 760.00 is coinsurance (比例自付).
    """
    n = settled.num_rows
    if n == 0:
        return {}
    rows = settled.to_pylist()
    plain = [r for r in rows if r.get("reverses") is None]
    out: dict[str, str] = {}
    if policy is not None and plain:
        out.update(_twin_text(plain, claims, policy, state_before, accounts))
    rest = settled.filter(pa.array([str(r["claim_id"]) not in out for r in rows], pa.bool_()))
    if rest.num_rows:
        out.update(_sentences(rest, claims, state_before))
    return out


def _sentences(settled: pa.Table, claims: pa.Table, state_before: pa.Table | None) -> dict[str, str]:
    """The ledger statement's sentences, with year-to-date figures from ``state_before`` plus
    the batch's claims in settlement order."""
    n = settled.num_rows
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

    todate: dict[tuple, dict] = {}
    out = {}
    for i in sorted(range(n), key=settlement_order):
        r = {**rows[i], **{k: v for k, v in inputs[i].items() if v is not None}}
        for k in ("total_cost", "self_pay", "class_b_self_pay"):
            r.setdefault(k, 0)
        if r.get("reverses") is not None:
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


__all__ = ["proc_info", "state_before", "ExplanationMismatch"]
