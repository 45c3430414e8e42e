"""``clear``: point value per fund and the year-end (or provisional) settlement of each hospital.

docs/rules/drg.md §4–5. ``clear`` = :func:`clearing_sums` of the scored rows (kernels; any part
of them, the sums of parts add up), :func:`clear_from_sums` (the per-fund and per-hospital
formulas on Python integers, which cannot overflow: there are only hospitals × funds of them)
and :func:`clearing_cases` (value and gain of each case at the point value, per part).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from ..errors import SchemaError
from ..rounding import half_up as rnd
from ..vocab import SCHEMES
from .checks import budgets_fen, warn_budget_range
from .outputs import _cases_table, _dec4, _drgs_table, _money
from .profile import load_profile
from .score import score
from .sums import CELL_SUMS, NO_RANK, ClearingSums, Prepared, prepare, scored_table, sums_of

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
    t = scored_table(scored_or_cases)
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
    d = prepare(t, year=year, through_month=through_month)
    cleared = _clear_from_sums(sums_of(d, p.prepay_bp), budgets, p)
    return cleared._replace(cases=case_money(d, cleared.funds, p))


def clear_from_sums(sums: ClearingSums, budgets: Mapping[str, int] | Any, params: Any = "wenzhou-2022") -> Clearing:
    """The clearing from the sums of the scored rows: point value per fund (drg.md §4), then
    each hospital (§5) and each DRG code. The per-case table needs the rows: it is ``None``
    here, and :func:`clearing_cases` gives it, part by part, from the ``funds`` table.

    Parameters
    ----------
    sums
        :func:`clearing_sums` of the scored rows, or the sum of those of their parts.
    budgets, params
        As :func:`clear`.

    Examples
    --------
    >>> scored = pa.table({"hospital_id": ["H1", "H2"], "fund": ["resident"] * 2,
    ...     "drg_code": ["GB15", "GB15"], "points": [100.0, 100.0], "total_cost": [9000.0, 10000.0],
    ...     "patient_paid": [3000.0, 3000.0], "fund_ffs": [6000.0, 7000.0]})
    >>> from wzmedins.drg import clearing_sums
    >>> sums = clearing_sums(scored.slice(0, 1)) + clearing_sums(scored.slice(1), positions=[1])
    >>> out = clear_from_sums(sums, {"resident": 2_000_000})
    >>> out.hospitals.column("balance").to_pylist(), out.cases is None
    ([440000, 355000], True)
    >>> clearing_cases(scored, out.funds).column("value").to_pylist()
    [1250000, 1250000]
    """
    return _clear_from_sums(sums, budgets, load_profile(params))


def _clear_from_sums(sums: ClearingSums, budgets: Mapping[str, int] | Any, p) -> Clearing:
    """:func:`clear_from_sums` (one call deep from the user's, for the warnings)."""
    fen_budgets = budgets_fen(budgets)
    if sums.year is None and sums.years is not None and len(sums.years) > 1:
        raise SchemaError(
            "discharge_date",
            "cases discharged in one year (the budget is annual), or year=",
            "discharges in " + ", ".join(str(x) for x in sums.years),
        )
    months = sums.months
    fen_budgets = {f: rnd(b * months, 12) for f, b in fen_budgets.items()}
    _warn_budgets(fen_budgets, sums.funds)
    cells = sums.cells.to_pydict()
    fund_of = _fund_index(p, fen_budgets, set(cells["fund"]))
    fund_names = tuple(fund_of)
    if p.pool_funds:
        fen_budgets = {POOLED: sum(fen_budgets.values())}
    cell: dict[tuple, list[int]] = {}  # (hospital, fund index) -> CELL_SUMS
    for i, (h, f) in enumerate(zip(cells["hospital_id"], cells["fund"], strict=True)):
        acc = cell.setdefault((h, fund_of[_fund_name(p, f)]), [0] * len(CELL_SUMS))
        for j, c in enumerate(CELL_SUMS):
            acc[j] += cells[c][i]

    # ---- per fund (§4), Python integers
    fund_rows = []
    for k, f in enumerate(fund_names):
        mine = [v for (_, kk), v in cell.items() if kk == k]
        budget = fen_budgets[f]
        reserve = rnd(budget * p.reserve_bp, 10**4)
        paid = sum(c[3] for c in mine)
        total_points = sum(c[1] for c in mine)
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
                cases=sum(c[0] for c in mine),
                points=total_points,
                point_value=pv,
                note=None if pv is not None else "no points: no point value",
            )
        )
    # ---- per hospital (§5)
    hosp_rows = []
    claims = [0] * len(fund_names)
    for (h, k), (cases, pts, cst, paid, prepaid, sum_b, n_b) in cell.items():
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
    shared = [0] * len(fund_names)
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
    hospitals_t = (
        pa.table(
            {
                "hospital_id": pa.array([r["h"] for r in hosp_rows], sums.cells.schema.field("hospital_id").type),
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
    drgs = sums.drgs.to_pydict()
    rank: dict[str | None, int] = {None: NO_RANK}  # a code's place: its least rank in any part
    for code, r in zip(sums.codes["drg_code"].to_pylist(), sums.codes["rank"].to_pylist(), strict=True):
        rank[code] = min(r, rank.get(code, r))
    per_drg: dict[tuple, list[int]] = {}  # (rank, fund index) -> [code, cases, points, cost]
    for i, (code, f) in enumerate(zip(drgs["drg_code"], drgs["fund"], strict=True)):
        acc = per_drg.setdefault((rank[code], fund_of[_fund_name(p, f)]), [code, 0, 0, 0])
        for j, c in enumerate(("cases", "points", "cost"), start=1):
            acc[j] += drgs[c][i]
    return Clearing(funds_t, hospitals_t, None, _drgs_table(sorted(per_drg.items()), fund_names, fund_rows))


def _fund_name(p, scheme: int) -> str:
    return POOLED if p.pool_funds else SCHEMES[scheme]


def _fund_index(p, budgets: dict[str, int], schemes: set[int]) -> dict[str, int]:
    """Fund name -> its index in the output: the funds with cases or a budget, in SCHEMES order
    (one pooled fund with ``pool_funds``)."""
    if p.pool_funds:
        return {POOLED: 0}
    used = sorted(schemes | {SCHEMES.index(f) for f in budgets})
    for i in used:
        if SCHEMES[i] not in budgets:
            raise ValueError(f"budgets: no budget for fund {SCHEMES[i]!r}, which has cases")
    return {SCHEMES[i]: k for k, i in enumerate(used)}


def clearing_cases(
    scored_part: Any,
    funds: pa.Table,
    params: Any = "wenzhou-2022",
    *,
    year: int | None = None,
    through_month: int | None = None,
    positions: Any = None,
) -> pa.Table:
    """The per-case table of the clearing (value ``rnd(points·PV, 10⁶)`` and gain of each case)
    for a part of the scored rows, from the ``funds`` table of :func:`clear_from_sums`; the
    parts' tables, in the order of the rows, make :func:`clear`'s ``cases``.

    ``year``, ``through_month`` and ``positions`` as for :func:`clearing_sums`; the positions
    stand for a missing ``case_id``.
    """
    p = load_profile(params)
    d = prepare(scored_table(scored_part), year=year, through_month=through_month, positions=positions)
    return case_money(d, funds, p)


def case_money(d: Prepared, funds: pa.Table, p) -> pa.Table:
    """The per-case table of a prepared part, at the point values of ``funds``."""
    names = funds["fund"].to_pylist()
    fund_rows = [{"point_value": None if v is None else int(v.scaleb(4))} for v in funds["point_value"].to_pylist()]
    index = np.full(len(SCHEMES), -1, dtype=np.int8)
    for i, f in enumerate(SCHEMES):
        index[i] = 0 if p.pool_funds else (names.index(f) if f in names else -1)
    return _cases_table(d.table, d.rows, d.case_id, d.hospital_id, d.codes, index[d.fund], tuple(names),
                        d.points, d.cost, fund_rows)  # fmt: skip


def _warn_budgets(budgets: dict, funds: pa.Table) -> None:
    """Warn on a budget far from what fee-for-service would have paid (Σ fund_ffs, else cost − patient)."""
    by_fund = {f: (ffs, part) for f, ffs, part in zip(*funds.to_pydict().values(), strict=True)}
    for f, b in budgets.items():
        ffs, part = by_fund.get(SCHEMES.index(f), (0, 0))
        warn_budget_range(f, b, ffs or part)


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
