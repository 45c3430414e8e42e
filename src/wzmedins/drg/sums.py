"""Sums of the clearing (docs/rules/drg.md §4–5), computed on any part of the scored rows.

The point value of a fund and the money of a hospital depend on the cases only through sums:
per hospital × fund (cases, points, cost, patient payments, prepayment, base points), per
fund (fee-for-service totals, for the unit check) and per DRG code × fund. :func:`clearing_sums`
computes them on a part of the scored rows (a bucket of persons on a cluster worker, say), the
sums of parts add up (``a + b``, :meth:`ClearingSums.add`) to the sums of the whole, and
:func:`wzmedins.drg.clear_from_sums` turns them into point values and hospital money.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables
from ..errors import SchemaError
from ..vocab import SCHEMES
from . import _kernel
from .checks import with_fund_aliases
from .columns import encoded_codes, encoded_ids, typed_nulls
from .profile import load_profile

CELL_SUMS = ("cases", "points", "cost", "patient_paid", "prepaid", "base_points", "base_cases")
NO_RANK = 2**62  # the rank of the null DRG code: its row comes last


@dataclass
class ClearingSums:
    """Sums of scored rows for the clearing; ``a + b`` is the sums of both parts.

    ``cells``: per ``hospital_id`` × ``fund`` (the scheme's code in ``SCHEMES``) the columns of
    ``CELL_SUMS`` (points in 10⁻⁴, money in fen). ``funds``: per fund Σ ``fund_ffs`` and
    Σ (cost − patient_paid) (the budget's unit check). ``drgs``: per ``drg_code`` × ``fund``
    cases, points and cost. ``codes``: the ``rank`` of every code met, kept or not (its index
    in a dictionary column, else its first row): a code's least rank places it in the output.
    ``years``: the discharge years met (``None`` without discharge dates), ``year`` and
    ``months`` the filter the sums were taken with.
    """

    cells: pa.Table
    funds: pa.Table
    drgs: pa.Table
    codes: pa.Table
    years: tuple[int, ...] | None
    year: int | None
    months: int

    def __add__(self, other: ClearingSums) -> ClearingSums:
        return ClearingSums.add([self, other])

    def __radd__(self, other: Any) -> ClearingSums:  # sum(parts) starts from 0
        return self if other == 0 else NotImplemented

    @staticmethod
    def add(parts: list[ClearingSums]) -> ClearingSums:
        """The sums of several parts of the scored rows (taken with the same year and months)."""
        if not parts:
            raise ValueError("ClearingSums.add: no parts")
        first = parts[0]
        if any((s.year, s.months) != (first.year, first.months) for s in parts):
            raise ValueError("ClearingSums.add: parts taken with another year= or through_month=")
        years = None
        if any(s.years is not None for s in parts):
            years = tuple(sorted({y for s in parts for y in (s.years or ())}))
        return ClearingSums(
            _grouped([s.cells for s in parts], ["hospital_id", "fund"], CELL_SUMS),
            _grouped([s.funds for s in parts], ["fund"], ("ffs", "fund_part")),
            _grouped([s.drgs for s in parts], ["drg_code", "fund"], ("cases", "points", "cost")),
            _grouped([s.codes for s in parts], ["drg_code"], (), least=("rank",)),
            years,
            first.year,
            first.months,
        )


def _grouped(parts: list[pa.Table], keys: list[str], sums: tuple[str, ...], least: tuple[str, ...] = ()) -> pa.Table:
    whole = pa.concat_tables(parts)
    if len(parts) == 1:
        return whole
    aggs = [(c, "sum") for c in sums] + [(c, "min") for c in least]
    out = whole.group_by(keys, use_threads=False).aggregate(aggs)
    out = out.rename_columns([c.rsplit("_sum", 1)[0].rsplit("_min", 1)[0] if c not in keys else c
                              for c in out.column_names])  # fmt: skip
    return out.select(whole.column_names).cast(whole.schema)


@dataclass
class Prepared:
    """The columns of a scored table the clearing reads, checked, and the rows it keeps."""

    table: pa.Table
    hospital_id: pa.Array
    hosp_values: pa.Array
    hosp_idx: np.ndarray
    fund: np.ndarray  # the scheme's code in SCHEMES
    points: np.ndarray
    cost: np.ndarray
    patient: np.ndarray
    ffs: np.ndarray
    base: np.ndarray
    base_null: np.ndarray
    codes: pa.Array
    code_values: pa.Array
    code_idx: np.ndarray
    code_rank: np.ndarray
    case_id: pa.Array  # the row's position when the table has no case_id
    rows: np.ndarray  # the rows kept (year, through_month)
    years: tuple[int, ...] | None
    year: int | None
    months: int


def scored_table(scored: Any) -> pa.Table:
    """A scored table from a :class:`Scored`, its ``scored`` table or any table-like."""
    if hasattr(scored, "scored") and hasattr(scored, "rejected"):
        scored = scored.scored
    return with_fund_aliases(typed_nulls(tables.to_table(scored)))


def prepare(t: pa.Table, *, year: int | None, through_month: int | None, positions: Any = None) -> Prepared:
    """Check a scored table (a SchemaError on a row ``score()`` would not give) and keep the
    cases of ``year`` (all of one year without it) up to ``through_month``. ``positions``:
    each row's position in the whole (default ``0..n-1``): it orders the DRG codes of a plain
    ``drg_code`` column by first row, and stands for a missing ``case_id``."""
    n = t.num_rows
    pos = np.arange(n, dtype=np.int64) if positions is None else np.asarray(positions, dtype=np.int64)
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
            f"row {int(pos[i])}",
        )
    if "drg_code" in t.column_names:
        codes, code_values, code_idx = encoded_codes(t, "drg_code")
    else:
        codes, code_values = pa.nulls(n, pa.string()), pa.array([], pa.string())
        code_idx = np.full(n, -1, dtype=np.int64)
    if pa.types.is_dictionary(codes.type) and len(code_values) == len(codes.dictionary):
        rank = np.arange(len(code_values), dtype=np.int64)  # the dictionary's order
    else:  # the order of first appearance
        rank = np.full(len(code_values), NO_RANK, dtype=np.int64)
        valid = code_idx >= 0
        np.minimum.at(rank, code_idx[valid], pos[valid])
    case_id = tables.ids(t, "case_id", is_required=False)

    if through_month is not None and not 1 <= through_month <= 12:
        raise ValueError(f"through_month: {through_month} is not a month 1..12")
    months, keep, years = 12, np.ones(n, dtype=bool), None
    if year is not None or through_month is not None or "discharge_date" in t.column_names:
        ym = discharge_months(t)
        y = ym // 12 + 1970
        years = tuple(sorted(set(np.unique(y).tolist())))
        if year is not None:
            keep = y == year
        if through_month is not None:
            keep &= ym % 12 + 1 <= through_month
            months = through_month
    return Prepared(t, hospital_id, hosp_values, hosp_idx, fund, points, cost, patient, ffs, base, base_null,
                    codes, code_values, code_idx, rank, pa.array(pos) if case_id is None else case_id,
                    np.flatnonzero(keep), years, year, months)  # fmt: skip


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


def sums_of(d: Prepared, prepay_bp: int) -> ClearingSums:
    """The sums of the kept rows of a prepared table."""
    rows, ns = d.rows, len(SCHEMES)
    fund = d.fund[rows].astype(np.int64)
    cell = d.hosp_idx[rows] * ns + fund
    sums = _kernel._clear_sums(cell, len(d.hosp_values) * ns, d.points[rows], d.cost[rows], d.patient[rows],
                               d.ffs[rows], d.base[rows], ~d.base_null[rows], prepay_bp)  # fmt: skip
    used = np.flatnonzero(sums[:, 0] > 0)
    cells = pa.table(
        {
            "hospital_id": d.hosp_values.take(pa.array(used // ns, pa.int64())),
            "fund": pa.array(used % ns, pa.int8()),
            **{c: pa.array(sums[used, j], pa.int64()) for j, c in enumerate(CELL_SUMS)},
        }
    )
    ffs = _kernel._sum_by(fund, d.ffs[rows], ns)
    fund_part = _kernel._sum_by(fund, d.cost[rows] - d.patient[rows], ns)
    funds = pa.table({"fund": pa.array(np.arange(ns), pa.int8()), "ffs": pa.array(ffs, pa.int64()),
                      "fund_part": pa.array(fund_part, pa.int64())})  # fmt: skip
    values = pa.concat_arrays([d.code_values.cast(pa.string()), pa.nulls(1, pa.string())])
    g = d.code_idx[rows]
    g = np.where(g < 0, len(values) - 1, g)  # null codes form their own row
    key = g * ns + fund
    n_keys = len(values) * ns
    count = _kernel._sum_by(key, np.ones(len(rows), dtype=np.int64), n_keys)
    keys = np.flatnonzero(count > 0)
    drgs = pa.table(
        {
            "drg_code": values.take(pa.array(keys // ns, pa.int64())),
            "fund": pa.array(keys % ns, pa.int8()),
            "cases": pa.array(count[keys], pa.int64()),
            "points": pa.array(_kernel._sum_by(key, d.points[rows], n_keys)[keys], pa.int64()),
            "cost": pa.array(_kernel._sum_by(key, d.cost[rows], n_keys)[keys], pa.int64()),
        }
    )
    codes = pa.table({"drg_code": d.code_values.cast(pa.string()), "rank": pa.array(d.code_rank, pa.int64())})
    return ClearingSums(cells, funds, drgs, codes, d.years, d.year, d.months)


def clearing_sums(
    scored_part: Any,
    params: Any = "wenzhou-2022",
    *,
    year: int | None = None,
    through_month: int | None = None,
    positions: Any = None,
) -> ClearingSums:
    """The clearing's sums over a part of the scored rows (docs/rules/drg.md §4–5).

    Parameters
    ----------
    scored_part
        Scored rows (``score()``'s ``scored`` table, or any part of it: a slice, a bucket).
    params
        A DRG profile or its name or path (the prepayment rate).
    year, through_month
        As :func:`wzmedins.drg.clear`: the same for every part.
    positions
        Each row's position in the whole scored table (default ``0..n-1``): the DRG codes of a
        plain ``drg_code`` column are listed in order of first appearance. Parts that are
        slices or takes of one table keep its dictionary, and need no positions for that.

    Returns
    -------
    ClearingSums
        Small tables of sums; ``a + b`` adds two parts; :func:`wzmedins.drg.clear_from_sums`
        clears them.

    Examples
    --------
    >>> scored = pa.table({"hospital_id": ["H1", "H2"], "fund": ["resident"] * 2,
    ...     "drg_code": ["GB15", "GB15"], "points": [100.0, 100.0], "total_cost": [9000, 10000],
    ...     "patient_paid": [3000, 3000]})
    >>> a, b = clearing_sums(scored.slice(0, 1)), clearing_sums(scored.slice(1), positions=[1])
    >>> (a + b).drgs.select(["drg_code", "cases", "cost"]).to_pylist()
    [{'drg_code': 'GB15', 'cases': 2, 'cost': 19000}]
    """
    p = load_profile(params)
    d = prepare(scored_table(scored_part), year=year, through_month=through_month, positions=positions)
    return sums_of(d, p.prepay_bp)
