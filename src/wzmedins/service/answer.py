"""The platform's answer for one settled claim, built from plain dicts.

:func:`wzmedins.platform.to_platform` builds answers for a batch through Arrow tables; for one
claim its fixed costs (table building, casts, joins) are most of a settle call's time. Here the
same record is made from the settled row, the claim's echoed fields and the person-year's
state after it, with the same rules (docs/platform.md): the tests hold the two equal field by
field. The explanation (``setl_proc_info``) is the reference twin's text
(:func:`wzmedins.explain_text`), checked against the settled amounts as ``proc_info`` does.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from typing import Any

import pyarrow as pa

from ..errors import WzmedinsError
from ..explain import explain_many, explain_text
from ..platform.codes import CodeLists
from ..platform.outbound import SETLINFO_MONEY
from ..platform.proc_info import CLAIM_INPUTS, MONEY, ExplanationMismatch, state_before

ECHOED = ("mdtrt_id", "fixmedins_code", "insutype", "psn_type", "med_type")
CENT = decimal.Decimal("0.01")
BASIS_POINT = decimal.Decimal("0.0001")


def _yuan(fen: int | None) -> decimal.Decimal | None:
    return None if fen is None else decimal.Decimal(int(fen)).scaleb(-2).quantize(CENT)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def answer(row: dict, claim: dict, codes: CodeLists, *, state: dict | None = None,
           explanation: str | None = None) -> dict:  # fmt: skip
    """``{"setlinfo": {...}, "setldetail": [...]}`` of one settled claim, as ``to_platform``
    gives it for a batch of that one claim.

    Parameters
    ----------
    row
        The claim's settled row (columns of ``settled``; ``scheme`` taken from ``claim`` when
        absent).
    claim
        The claim's input row: ``claim_id``, ``settle_date``, ``scheme``, the platform fields to
        echo (``mdtrt_id``, ``insutype``, …) and the self-paid split (``fulamt_ownpay_amt``,
        ``overlmt_selfpay``, ``class_b_self_pay``), fen.
    codes
        The code lists (``fund_pay_type`` of each fund).
    state
        The person-year's state row after the claim: fills ``balc`` (else null).
    explanation
        The ``setl_proc_info`` text.

    Examples
    --------
    >>> import datetime as dt
    >>> from wzmedins.platform import load_codes
    >>> row = {"claim_id": "H1:1", "person_id": "P1", "year": 2022, "eligible": 5_000_000,
    ...        "account_current": 0, "deductible": 80_000, "fund": 3_444_000, "coinsurance": 1_476_000,
    ...        "over_cap": 0, "critical_illness": 0, "medical_assistance": 0, "account_hist": 0,
    ...        "cash": 1_556_000, "ratio_bp": 7000, "reverses": None}
    >>> claim = {"claim_id": "H1:1", "settle_date": dt.date(2022, 3, 1), "scheme": "resident", "med_type": "21"}
    >>> out = answer(row, claim, load_codes())
    >>> [str(out["setlinfo"][k]) for k in ("medfee_sumamt", "hifp_pay", "pool_prop_selfpay", "psn_cash_pay")]
    ['50000.00', '34440.00', '0.7000', '15560.00']
    >>> [(d["fund_pay_type"], str(d["fund_payamt"])) for d in out["setldetail"]]
    [('390100', '34440.00')]
    """
    fund, ci, ma = (int(row.get(k) or 0) for k in ("fund", "critical_illness", "medical_assistance"))
    acct = int(row.get("account_current") or 0) + int(row.get("account_hist") or 0)
    cash, eligible = int(row.get("cash") or 0), int(row.get("eligible") or 0)
    total = fund + ci + ma + acct + cash
    employee = str(row.get("scheme") or claim.get("scheme")) == "employee"
    is_rev = row.get("reverses") is not None
    # a reversal's bill is the negated original's: its self-paid part is reported whole as 全自费
    class_b = 0 if is_rev else int(claim.get("class_b_self_pay") or 0)
    overlmt = 0 if is_rev else int(claim.get("overlmt_selfpay") or 0)
    fulamt = total - eligible if is_rev else int(claim.get("fulamt_ownpay_amt") or 0)
    amounts = {
        "medfee_sumamt": total, "fulamt_ownpay_amt": fulamt, "overlmt_selfpay": overlmt, "preselfpay_amt": class_b,
        "inscp_scp_amt": eligible, "act_pay_dedc": int(row.get("deductible") or 0), "hifp_pay": fund,
        "cvlserv_pay": 0, "hifes_pay": 0, "hifmi_pay": 0 if employee else ci, "hifob_pay": ci if employee else 0,
        "maf_pay": ma, "oth_pay": 0, "fund_pay_sumamt": fund + ci + ma, "psn_part_amt": acct + cash,
        "acct_pay": acct, "psn_cash_pay": cash, "hosp_part_amt": 0,
        "balc": None if state is None else int(state["current_balance"]) + int(state["hist_balance"]),
        "acct_mulaid_pay": 0,
    }  # fmt: skip
    setl_id = str(row["claim_id"])
    info: dict[str, Any] = {"setl_id": setl_id, "mdtrt_id": _text(claim.get("mdtrt_id")),
                            "psn_no": str(row["person_id"])}  # fmt: skip
    for name in ECHOED[1:]:
        info[name] = _text(claim.get(name))
    day = claim.get("settle_date")
    info["setl_time"] = day if day is None or type(day) is dt.date else dt.date.fromisoformat(str(day)[:10])
    for name in SETLINFO_MONEY[:7]:
        info[name] = _yuan(amounts[name])
    info["pool_prop_selfpay"] = decimal.Decimal(int(row.get("ratio_bp") or 0)).scaleb(-4).quantize(BASIS_POINT)
    for name in SETLINFO_MONEY[7:]:
        info[name] = _yuan(amounts[name])
    info["reverses"] = _text(row.get("reverses"))
    prefix = "employee" if employee else "resident"
    detail = []
    for j, (key, amount) in enumerate(((f"{prefix}_fund", fund), (f"{prefix}_critical_illness", ci),
                                       ("medical_assistance", ma))):  # fmt: skip
        if j and not amount:
            continue
        detail.append({
            "setl_id": setl_id, "fund_pay_type": codes.fund_pay_type[key],
            "fund_pay_type_name": codes.fund_pay_type_name[key], "inscp_scp_amt": _yuan(eligible),
            "crt_payb_lmt_amt": None, "fund_payamt": _yuan(amount), "setl_proc_info": explanation if j == 0 else None,
        })  # fmt: skip
    return {"setlinfo": info, "setldetail": detail}


def explanation(row: dict, claim: dict, policy, *, state: dict | None) -> str | None:
    """The twin's ``setl_proc_info`` text of one settled claim (not a reversal: None), from the
    claim's inputs and the person-year's state after it; the twin's amounts are checked against
    the settled row (:class:`~wzmedins.platform.proc_info.ExplanationMismatch`)."""
    return explanations([(row, claim, state)], policy).get(str(row["claim_id"]))


def explanations(items: list[tuple[dict, dict, dict | None]], policy) -> dict[str, str]:
    """The ``setl_proc_info`` texts of claims of different persons, from one run of the twin:
    ``items`` holds each claim's settled row, its inputs and its person-year's state after it.
    Reversals have no text (the statement's sentences serve them)."""
    items = [(row, claim, state) for row, claim, state in items if row.get("reverses") is None]
    if not items:
        return {}
    if len({str(row["person_id"]) for row, _, _ in items}) != len(items):
        raise ValueError("explanations: at most one claim per person (each one's state before is derived)")
    inputs = [{k: claim.get(k) for k in CLAIM_INPUTS} for _, claim, _ in items]
    claims = pa.Table.from_pylist(inputs)
    claims = claims.drop_columns([k for k in CLAIM_INPUTS if claims[k].null_count == claims.num_rows])
    before = [state_before(state, row) for row, _, state in items if state is not None]
    steps = explain_many(claims, policy, claim_ids=[row["claim_id"] for row, _, _ in items],
                         state=pa.Table.from_pylist(before) if before else None, tables=False)  # fmt: skip
    out = {}
    for row, _, _ in items:
        done = steps[row["claim_id"]]
        got = {r["output"]: r["amount"] for r in done if r["output"] in MONEY}
        wrong = [k for k in MONEY if k in got and got[k] != row[k]]
        if wrong:
            raise ExplanationMismatch(f"claim {row['claim_id']}: the explanation gives {wrong[0]} "
                                      f"{got[wrong[0]]}, the settlement {row[wrong[0]]}")  # fmt: skip
        out[str(row["claim_id"])] = explain_text(done)
    return out


class GroupTexts:
    """The explanations of one committed group (one claim per person), made in one run of the
    twin by whichever of the group's answers asks first, outside the writer's thread. Should the
    group's run fail, each claim is explained on its own (only the claim at fault fails)."""

    def __init__(self) -> None:
        self.items: list[tuple[dict, dict, dict | None]] = []
        self._lock = threading.Lock()
        self._texts: dict[str, str] | None = None

    def text(self, row: dict, claim: dict, policy, *, state: dict | None) -> str | None:
        with self._lock:
            if self._texts is None:
                try:
                    self._texts = explanations(self.items, policy)
                except (WzmedinsError, ValueError):
                    self._texts = {}
        key = str(row["claim_id"])
        if key in self._texts or row.get("reverses") is not None:
            return self._texts.get(key)
        return explanation(row, claim, policy, state=state)


__all__ = ["answer", "explanation", "explanations", "GroupTexts"]
