"""DRG cases from settled inpatient claims: where settlement and DRG payment meet.

A DRG case is an inpatient stay. Settlement (``wz.settle``) says who paid what on the claim; the
DRG clearing needs two of those amounts per case (docs/rules/drg.md §4–5):

- ``fund_ffs``: what the pooled fund (统筹基金) paid under item-based settlement, the settled
  ``fund`` column; the base of the monthly prepayment;
- ``patient_paid``: everything the pooled fund did not pay — the person's current-year and
  historical accounts and cash (deductible, coinsurance, class B, self-pay, over the cap), and
  critical-illness insurance and medical assistance that pay on the person's behalf. So
  ``patient_paid + fund_ffs = total_cost`` on every case, and ``points × PV − patient_paid`` is
  what the DRG budget owes for it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from .checks import warn

# the settled payer columns that are not the pooled fund (settlement: total = Σ payers)
NOT_FUND = ("account_current", "critical_illness", "medical_assistance", "account_hist", "cash")
CARRIED = ("los", "manual_points", "bonus_points", "incomplete")


class FromSettled(NamedTuple):
    """``cases`` (the *drg cases* table) and ``left_out``: inpatient claims that are not cases,
    with ``claim_id`` and ``why`` (``not settled``, ``reversed``, ``reversal``)."""

    cases: pa.Table
    left_out: pa.Table

    def to_polars(self) -> dict:
        """The tables as polars DataFrames, by name."""
        import polars as pl

        return {name: pl.from_arrow(t) for name, t in self._asdict().items()}

    def export(self, path, *, labels: str | None = None) -> list[str]:
        """Write the tables to ``….xlsx`` (one sheet each) or CSV files (:func:`export`)."""
        from .reports import export

        return export(self, path, labels=labels)


def cases_from_settled(claims: Any, settled: Any) -> FromSettled:
    """DRG cases from the inpatient claims and their settlement.

    Parameters
    ----------
    claims
        The claims given to ``wz.settle``, with the stay's ``hospital_id`` and ``drg_code``
        (from the grouper) and ``admit_date``; ``discharge_date`` defaults to ``settle_date``,
        ``admit_date`` to ``discharge_date − los`` when only ``los`` is given. ``los``,
        ``manual_points``, ``bonus_points`` and ``incomplete`` are carried when present.
    settled
        ``wz.settle(claims, ...).settled`` (or the result itself).

    Returns
    -------
    FromSettled
        ``cases``: one row per settled inpatient claim that is not reversed, in claim order:
        ``case_id`` (the ``claim_id``), ``person_id``, ``hospital_id``, ``fund`` (the scheme),
        ``drg_code``, ``total_cost``, ``patient_paid``, ``fund_ffs`` (fen), ``admit_date``,
        ``discharge_date`` and the carried columns. A reversed claim and its reversal are both
        left out (the stay was undone); so is an inpatient claim that settlement rejected
        (with a DrgWarning that counts them).

    Examples
    --------
    >>> import datetime as dt
    >>> import wzmedins as wz
    >>> claims = pa.table({"claim_id": ["a", "b"], "person_id": ["p", "q"],
    ...     "settle_date": [dt.date(2022, 3, 9)] * 2, "scheme": ["resident", "resident"],
    ...     "category": ["adult", "adult"], "visit_type": ["inpatient", "outpatient"],
    ...     "facility_level": ["tertiary", "primary"], "total_cost": [1_200_000, 10_000],
    ...     "hospital_id": ["H1", "H2"], "drg_code": ["FR23", None],
    ...     "admit_date": [dt.date(2022, 3, 1), None]})
    >>> out = cases_from_settled(claims, wz.settle(claims, wz.load_policy("wenzhou-2022")))
    >>> out.cases.select(["case_id", "total_cost", "fund_ffs", "patient_paid"]).to_pylist()
    [{'case_id': 'a', 'total_cost': 1200000, 'fund_ffs': 784000, 'patient_paid': 416000}]
    """
    if hasattr(settled, "settled"):
        settled = settled.settled
    c = tables.to_table(claims)
    s = tables.to_table(settled)
    for name in ("hospital_id", "drg_code"):
        tables.required(
            c, name, "the stay's " + ("hospital" if name == "hospital_id" else "DRG code (from the grouper)")
        )
    claim_ids = tables.ids(c, "claim_id")
    settled_ids = tables.ids(s, "claim_id")
    if claim_ids.type != settled_ids.type:
        claim_ids, settled_ids = claim_ids.cast(pa.string()), settled_ids.cast(pa.string())
    visit = tables.column(c, "visit_type", "enum string")
    if visit is None:
        raise SchemaError("visit_type", "the claims' visit_type (inpatient claims are the DRG cases)", "no such column")
    inpatient = pc.equal(visit.cast(pa.string()), "inpatient").fill_null(False).to_numpy(zero_copy_only=False)
    at = pc.index_in(claim_ids, value_set=settled_ids).fill_null(-1).to_numpy().astype(np.int64)

    # reversals: the reversing row and the row it reverses both leave
    reversal = np.zeros(c.num_rows, dtype=bool)
    reversed_ = np.zeros(c.num_rows, dtype=bool)
    if "reverses" in c.column_names:
        rev = tables.ids(c, "reverses", is_required=False)
        reversal = ~tables.null_mask(rev)
        targets = rev.filter(pa.array(reversal))
        if targets.type != claim_ids.type:
            targets = targets.cast(pa.string())
            reversed_ = pc.is_in(claim_ids.cast(pa.string()), value_set=targets).to_numpy(zero_copy_only=False)
        else:
            reversed_ = pc.is_in(claim_ids, value_set=targets).to_numpy(zero_copy_only=False)
    why = np.full(c.num_rows, "", dtype=object)
    why[inpatient & (at < 0)] = "not settled"
    why[inpatient & (at >= 0) & reversed_] = "reversed"
    why[inpatient & (at >= 0) & reversal] = "reversal"
    keep = inpatient & (at >= 0) & ~reversed_ & ~reversal
    rows = pa.array(np.flatnonzero(keep), pa.int64())
    n_unsettled = int((why == "not settled").sum())
    if n_unsettled:
        warn(f"cases_from_settled: {n_unsettled} inpatient claims have no settled row (rejected?) and are left out", 3)

    reason = np.full(s.num_rows, tables.NO_REASON, dtype=np.int16)
    fund_ffs = tables.money(s, "fund", reason, is_required=True)
    patient = np.zeros(s.num_rows, dtype=np.int64)
    for name in NOT_FUND:
        patient += tables.money(s, name, reason, is_required=True)
    creason = np.full(c.num_rows, tables.NO_REASON, dtype=np.int16)
    total = tables.money(c, "total_cost", creason, is_required=True)
    sub = c.take(rows)
    discharge = sub.column("discharge_date") if "discharge_date" in c.column_names else sub.column("settle_date")
    discharge = discharge.cast(pa.date32()) if pa.types.is_timestamp(discharge.type) else discharge
    if "admit_date" in c.column_names:
        admit = sub.column("admit_date")
    elif "los" in c.column_names:
        days = pc.cast(discharge, pa.int32()).to_numpy(zero_copy_only=False) - sub.column("los").to_numpy(
            zero_copy_only=False
        )
        admit = pa.array(days.astype(np.int32)).cast(pa.date32())
    else:
        raise SchemaError("admit_date", "the admission date of each inpatient claim (or its los)", "no such column")
    cols = {
        "case_id": claim_ids.take(rows),
        "person_id": tables.ids(sub, "person_id"),
        "hospital_id": sub.column("hospital_id"),
        "fund": sub.column("scheme"),
        "drg_code": sub.column("drg_code"),
        "total_cost": pa.array(total[keep], pa.int64()),
        "patient_paid": pa.array(patient[at[keep]], pa.int64()),
        "fund_ffs": pa.array(fund_ffs[at[keep]], pa.int64()),
        "admit_date": admit,
        "discharge_date": discharge,
    }
    for name in CARRIED:
        if name in c.column_names:
            cols[name] = sub.column(name)
    left = np.flatnonzero(why != "")
    left_out = pa.table(
        {
            "claim_id": claim_ids.take(pa.array(left, pa.int64())),
            "why": pa.array(why[left].tolist(), pa.string()),
        }
    )
    return FromSettled(pa.table(cols), left_out)
