"""``clear``: point value per fund and the year-end (or provisional) settlement of each hospital.

docs/rules/drg.md §4–5. The per-case work (sums, prepayment, value and gain of each case) runs in the
kernels; the per-fund and per-hospital formulas run on Python integers, which cannot
overflow (there are only hospitals × funds of them).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from .. import tables
from ..errors import SchemaError
from ..rounding import half_up as rnd
from ..vocab import SCHEMES
from . import _kernel
from .checks import budgets_fen, warn_budget_range, with_fund_aliases
from .columns import encoded_codes, encoded_ids, typed_nulls
from .outputs import _cases_table, _dec4, _drgs_table, _money
from .profile import load_profile
from .score import score

POOLED = "all"


class Clearing(NamedTuple):
    """The result of :func:`clear`: four Arrow tables (``pl.from_arrow`` gives polars)."""

    funds: pa.Table
    hospitals: pa.Table
    cases: pa.Table
    drgs: pa.Table

    def to_polars(self) -> dict:
        """The tables as polars DataFrames, by name (``pl.from_arrow`` on each)."""
        import polars as pl

        return {name: pl.from_arrow(table) for name, table in self._asdict().items()}

    def export(self, path, *, labels: str | None = None) -> list[str]:
        """Write the tables to ``….xlsx`` (one sheet each) or CSV files (:func:`export`)."""
        from .reports import export

        return export(self, path, labels=labels)


def clear(
    scored_or_cases: Any,
    budgets: Mapping[str, int] | Any,
    params: Any = "wenzhou-2022",
    *,
    catalog: Any = None,
    coefficients: Any = None,
    through_month: int | None = None,
    year: int | None = None,
) -> Clearing:
    """Point value, hospital money, fund due, prepaid, reserve share, balance and CMI.

    Parameters
    ----------
    scored_or_cases
        The result of :func:`score` or its ``scored`` table, or raw cases (then ``catalog`` is
        required and the cases are scored first; rejected rows are left out with a warning).
        ``patient_paid`` is required (it is part of the pool).
    budgets
        Budget per fund, ``{"employee": ..., "resident": ...}``: an ``int`` is fen, a
        ``Decimal`` is yuan; or a table with columns ``fund`` and ``budget`` (money). With
        ``pool_funds`` the budgets are added. A budget outside 10 %–1 000 % of the fund's
        fee-for-service total (Σ ``fund_ffs``) warns (DrgWarning): a unit slip, most likely.
    params
        A DRG profile or its name or path.
    through_month, year
        ``year`` keeps the cases discharged in that year (the budget is annual); without it,
        cases discharged in several years are a SchemaError. Monthly provisional clearing
        (月度预清算): ``through_month`` keeps the cases discharged up to and including that
        month, with ``rnd(budget · months, 12)`` of each budget.

    Returns
    -------
    Clearing
        ``funds`` (fund, months, budget, reserve, patient_paid, pool, cases, points,
        point_value, reserve_shared, reserve_left, note), ``hospitals`` (hospital_id, fund,
        cases, points, cost, patient_paid, money, fund_due, prepaid, reserve_share, balance,
        cmi), ``cases`` (case_id, hospital_id, fund, drg_code, points, value, gain) and
        ``drgs`` (drg_code, fund, cases, points, cost, money); hospitals sorted by id and
        fund. Money in fen; points, point value and CMI as decimal128(18, 4).

    Examples
    --------
    >>> scored = pa.table({"hospital_id": ["H1", "H2"], "fund": ["resident"] * 2,
    ...     "drg_code": ["GB15", "GB15"], "points": [100.0, 100.0], "total_cost": [9000.0, 10000.0],
    ...     "patient_paid": [3000.0, 3000.0], "fund_ffs": [6000.0, 7000.0]})
    >>> out = clear(scored, {"resident": 2_000_000})
    >>> out.funds.select(["fund", "point_value"]).to_pylist()
    [{'fund': 'resident', 'point_value': Decimal('125.0000')}]
    >>> out.hospitals.column("balance").to_pylist()
    [440000, 355000]
    """
    p = load_profile(params)
    if hasattr(scored_or_cases, "scored") and hasattr(scored_or_cases, "rejected"):  # a Scored
        scored_or_cases = scored_or_cases.scored
    t = with_fund_aliases(typed_nulls(tables.to_table(scored_or_cases)))
    if "points" not in t.column_names:
        if catalog is None:
            raise SchemaError("points", "a scored table, or raw cases with catalog=", "no such column")
        scored = score(t, catalog, coefficients, p)
        if scored.rejected.num_rows:
            warnings.warn(
                f"clear: {scored.rejected.num_rows} of {t.num_rows} cases rejected by score() and left out; "
                "call score() to see them",
                stacklevel=2,
            )
        t = scored.scored
    n = t.num_rows
    reason = np.full(n, tables.NO_REASON, dtype=np.int16)
    hospital_id, hosp_values, hosp_idx = encoded_ids(t, "hospital_id")
    tables.flag(reason, hosp_idx < 0, "MISSING_VALUE")
    fund = tables.enum_codes(t, "fund", SCHEMES, reason, "UNKNOWN_SCHEME")
    points, points_null = tables.e4(t, "points", is_required=True)
    cost = tables.money(t, "total_cost", reason, is_required=True)
    patient = tables.money(t, "patient_paid", reason, is_required=True)
    ffs = tables.money(t, "fund_ffs", reason, is_required=False)
    base, base_null = tables.e4(t, "base_points", is_required=False)
    if (reason != tables.NO_REASON).any() or points_null.any() or (points < 0).any():
        i = int(np.argmax((reason != tables.NO_REASON) | points_null | (points < 0)))
        raise SchemaError(
            "points" if points_null[i] or points[i] < 0 else "fund/total_cost",
            "scored rows (score() output): valid funds, amounts and points",
            f"row {i}",
        )
    if "drg_code" in t.column_names:
        codes, code_values, code_idx = encoded_codes(t, "drg_code")
    else:
        codes, code_values = pa.nulls(n, pa.string()), pa.array([], pa.string())
        code_idx = np.full(n, -1, dtype=np.int64)
    case_id = tables.ids(t, "case_id", is_required=False)

    fen_budgets = budgets_fen(budgets)
    months = 12
    keep = np.ones(n, dtype=bool)
    if through_month is not None and not 1 <= through_month <= 12:
        raise ValueError(f"through_month: {through_month} is not a month 1..12")
    if year is not None or through_month is not None or "discharge_date" in t.column_names:
        ym = discharge_months(t)
        y = ym // 12 + 1970
        if year is None:
            years = sorted(set(np.unique(y).tolist()))
            if len(years) > 1:
                raise SchemaError(
                    "discharge_date",
                    "cases discharged in one year (the budget is annual), or year=",
                    "discharges in " + ", ".join(str(x) for x in years),
                )
            year = years[0] if years else None
        keep = y == year
        if through_month is not None:
            keep &= ym % 12 + 1 <= through_month
            months = through_month
        fen_budgets = {f: rnd(b * months, 12) for f, b in fen_budgets.items()}
    _warn_budgets(fen_budgets, fund[keep], ffs[keep], cost[keep] - patient[keep], months)
    if p.pool_funds:
        fund_names = (POOLED,)
        fen_budgets = {POOLED: sum(fen_budgets.values())}
        fund = np.zeros(n, dtype=np.int8)
    else:
        used = sorted(set(np.unique(fund[keep]).tolist()) | {SCHEMES.index(f) for f in fen_budgets})
        fund_names = tuple(SCHEMES[i] for i in used)
        remap = np.full(len(SCHEMES), -1, dtype=np.int8)
        remap[used] = np.arange(len(used))
        fund = remap[fund]
        for f in fund_names:
            if f not in fen_budgets:
                raise ValueError(f"budgets: no budget for fund {f!r}, which has cases")
    rows = np.flatnonzero(keep)
    nf = len(fund_names)
    hosp_codes = hosp_idx[rows]
    n_h = len(hosp_values)
    cell = hosp_codes * nf + fund[rows]
    sums = _kernel._clear_sums(
        cell,
        n_h * nf,
        points[rows],
        cost[rows],
        patient[rows],
        ffs[rows],
        base[rows],
        ~base_null[rows],
        p.prepay_bp,
    ).tolist()

    # ---- per fund (§4), Python integers
    fund_rows = []
    for k, f in enumerate(fund_names):
        cells = [sums[h * nf + k] for h in range(n_h)]
        budget = fen_budgets[f]
        reserve = rnd(budget * p.reserve_bp, 10**4)
        paid = sum(c[3] for c in cells)
        total_points = sum(c[1] for c in cells)
        pool = budget - reserve + paid
        pv = rnd(pool * 10**6, total_points) if total_points > 0 else None
        fund_rows.append(
            dict(
                fund=f,
                months=months,
                budget=budget,
                reserve=reserve,
                patient_paid=paid,
                pool=pool,
                cases=sum(c[0] for c in cells),
                points=total_points,
                point_value=pv,
                note=None if pv is not None else "no points: no point value",
            )
        )
    # ---- per hospital (§5)
    hosp_rows = []
    claims = [0] * nf
    for h in range(n_h):
        for k in range(nf):
            cases, pts, cst, paid, prepaid, sum_b, n_b = sums[h * nf + k]
            if cases == 0:
                continue
            pv = fund_rows[k]["point_value"]
            money = fund_due = None
            claim = 0
            if pv is not None:
                money = rnd(pts * pv, 10**6)
                fund_due = money - paid
                loss = cst - money
                if loss > 0 and money * 10**4 >= (10**4 - p.share_band_bp) * cst:
                    claim = rnd(loss * p.share_bp, 10**4)
            claims[k] += claim
            hosp_rows.append(
                dict(
                    h=h,
                    k=k,
                    cases=cases,
                    points=pts,
                    cost=cst,
                    patient_paid=paid,
                    money=money,
                    fund_due=fund_due,
                    prepaid=prepaid,
                    claim=claim,
                    cmi=rnd(sum_b, n_b * 100) if n_b else None,
                )
            )
    shared = [0] * nf
    for r in hosp_rows:
        reserve = fund_rows[r["k"]]["reserve"]
        total = claims[r["k"]]
        r["reserve_share"] = r["claim"] * reserve // total if total > reserve else r["claim"]
        shared[r["k"]] += r["reserve_share"]
        r["balance"] = None if r["money"] is None else r["fund_due"] + r["reserve_share"] - r["prepaid"]
    for k, fr in enumerate(fund_rows):
        fr["reserve_shared"] = shared[k]
        fr["reserve_left"] = fr["reserve"] - shared[k]

    meta = {"profile": p.name, "profile_fingerprint": p.fingerprint(), "months": str(months)}
    funds_t = pa.table(
        {
            "fund": pa.array([r["fund"] for r in fund_rows], pa.string()),
            "months": pa.array([r["months"] for r in fund_rows], pa.int64()),
            **{c: _money([r[c] for r in fund_rows]) for c in ("budget", "reserve", "patient_paid", "pool")},
            "cases": pa.array([r["cases"] for r in fund_rows], pa.int64()),
            "points": _dec4([r["points"] for r in fund_rows]),
            "point_value": _dec4([r["point_value"] for r in fund_rows]),
            "reserve_shared": _money([r["reserve_shared"] for r in fund_rows]),
            "reserve_left": _money([r["reserve_left"] for r in fund_rows]),
            "note": pa.array([r["note"] for r in fund_rows], pa.string()),
        }
    ).replace_schema_metadata(meta)
    hosp_take = pa.array([r["h"] for r in hosp_rows], pa.int64())
    hospitals_t = (
        pa.table(
            {
                "hospital_id": hosp_values.take(hosp_take),
                "fund": pa.array([fund_names[r["k"]] for r in hosp_rows], pa.string()),
                "cases": pa.array([r["cases"] for r in hosp_rows], pa.int64()),
                "points": _dec4([r["points"] for r in hosp_rows]),
                **{
                    c: _money([r[c] for r in hosp_rows])
                    for c in (
                        "cost",
                        "patient_paid",
                        "money",
                        "fund_due",
                        "prepaid",
                        "reserve_share",
                        "balance",
                    )
                },
                "cmi": _dec4([r["cmi"] for r in hosp_rows]),
            }
        )
        .sort_by([("hospital_id", "ascending"), ("fund", "ascending")])
        .replace_schema_metadata(meta)
    )
    return Clearing(
        funds_t,
        hospitals_t,
        _cases_table(t, rows, case_id, hospital_id, codes, fund, fund_names, points, cost, fund_rows),
        _drgs_table(rows, code_values, code_idx, fund, fund_names, points, cost, fund_rows),
    )


_budgets = budgets_fen  # the name scenarios and older callers use


def discharge_months(t: pa.Table) -> np.ndarray:
    """Months since 1970-01 of each row's ``discharge_date`` (a SchemaError when missing or null)."""
    reason = np.full(t.num_rows, tables.NO_REASON, dtype=np.int16)
    days = tables.dates(t, "discharge_date", reason)
    if (reason != tables.NO_REASON).any():
        raise SchemaError(
            "discharge_date",
            "a discharge date on every case",
            f"null in row {int(np.argmax(reason != tables.NO_REASON))}",
        )
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _warn_budgets(budgets: dict, fund: np.ndarray, ffs: np.ndarray, fund_part: np.ndarray, months: int) -> None:
    """Warn on a budget far from what fee-for-service would have paid (Σ fund_ffs, else cost − patient)."""
    for f, b in budgets.items():
        k = SCHEMES.index(f)
        mine = fund == k
        total = int(ffs[mine].sum()) or int(fund_part[mine].sum())
        warn_budget_range(f, b, total)


def provisional(
    scored: Any,
    budgets: Mapping[str, int] | Any,
    params: Any = "wenzhou-2022",
    *,
    year: int | None = None,
) -> pa.Table:
    """Monthly provisional point value (月度预结算点值) through each month 1..12 of ``year``.

    Returns one row per (month, fund): ``month``, ``fund``, ``budget`` (the year-to-date
    share), ``points``, ``point_value``.

    Examples
    --------
    >>> import datetime as dt
    >>> s = pa.table({"hospital_id": ["H1", "H1"], "fund": ["resident"] * 2, "drg_code": ["A", "A"],
    ...     "points": [100.0, 100.0], "total_cost": [9000, 9000], "patient_paid": [0, 0],
    ...     "discharge_date": [dt.date(2022, 1, 5), dt.date(2022, 2, 5)]})
    >>> pv = provisional(s, {"resident": 1_200_000})
    >>> pv.slice(0, 2).select(["month", "point_value"]).to_pylist()
    [{'month': 1, 'point_value': Decimal('9.5000')}, {'month': 2, 'point_value': Decimal('9.5000')}]
    """
    parts = []
    for m in range(1, 13):
        f = clear(scored, budgets, params, through_month=m, year=year).funds
        parts.append(
            pa.table(
                {
                    "month": pa.array([m] * f.num_rows, pa.int64()),
                    "fund": f["fund"],
                    "budget": f["budget"],
                    "points": f["points"],
                    "point_value": f["point_value"],
                }
            )
        )
    return pa.concat_tables(parts)
