"""Tables analysts ask for after clearing, and export to CSV and Excel.

- :func:`drg_table`: per DRG — name from the catalog, base points, case-type mix, points, cost,
  value, gain and mean gain;
- :func:`hospital_drg_table`: hospital × DRG gain or loss;
- :func:`cmi_table`: case-mix index per hospital across funds;
- :func:`export`: any result (or dict of tables) to one Excel workbook or CSV files.

Sums are exact int64 (fen, e4 points); a mean is rounded half up to the fen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ..rounding import half_up as rnd
from ._kernel import CASE_TYPES
from .labels import label


def _cases(clearing: Any) -> pa.Table:
    t = clearing.cases if hasattr(clearing, "cases") else tables.to_table(clearing)
    for col in ("hospital_id", "drg_code", "points", "cost", "value", "gain"):
        tables.required(t, col, "the cases table of clear() (clearing.cases)")
    return t


def _e4(t: pa.Table, name: str) -> pa.Array:
    vals, nulls = tables.e4(t, name, is_required=True)
    return pa.array(vals, pa.int64(), mask=nulls)


def _int_view(t: pa.Table, keys: list[str]) -> pa.Table:
    cols = {k: t.column(k).cast(pa.string()) if pa.types.is_dictionary(t.column(k).type) else t.column(k) for k in keys}
    cols.update(points=_e4(t, "points"), cost=t.column("cost"), value=t.column("value"), gain=t.column("gain"))
    return pa.table(cols)


def drg_table(clearing: Any, catalog: Any = None, *, labels: str | None = None) -> pa.Table:
    """Per DRG code, across funds: cases by type, points, cost, value, gain and mean gain.

    Parameters
    ----------
    clearing
        The result of :func:`clear` (its ``cases`` table; clear a scored table, or raw cases,
        so that it carries ``case_type`` and ``base_points``).
    catalog
        Adds ``name`` (when the catalog has it) and ``base_points``.
    labels
        ``"zh"`` for Chinese column names and values.

    Returns
    -------
    pyarrow.Table
        ``drg_code``, [``name``, ``base_points``,] ``cases``, ``n_<type>`` for every case type
        present, ``points`` (decimal), ``cost``, ``value``, ``gain``, ``mean_gain`` (fen,
        ``rnd(gain, cases)``), sorted by gain, the largest loss first.

    Examples
    --------
    >>> cases = pa.table({"hospital_id": ["H1", "H2", "H1"], "drg_code": ["A", "A", "B"],
    ...     "case_type": ["normal", "high", "low"], "points": [1.0, 3.0, 0.5],
    ...     "cost": [100, 400, 30], "value": [110, 330, 55], "gain": [10, -70, 25]})
    >>> for row in drg_table(cases).select(["drg_code", "cases", "n_high", "gain", "mean_gain"]).to_pylist():
    ...     print(row)
    {'drg_code': 'A', 'cases': 2, 'n_high': 1, 'gain': -60, 'mean_gain': -30}
    {'drg_code': 'B', 'cases': 1, 'n_high': 0, 'gain': 25, 'mean_gain': 25}
    """
    t = _cases(clearing)
    v = _int_view(t, ["drg_code"])
    g = v.group_by("drg_code", use_threads=False).aggregate(
        [("drg_code", "count"), ("points", "sum"), ("cost", "sum"), ("value", "sum"), ("gain", "sum")]
    )
    g = pa.table(
        {
            "drg_code": g.column("drg_code"),
            "cases": g.column("drg_code_count"),
            **{c: g.column(f"{c}_sum") for c in ("points", "cost", "value", "gain")},
        }
    )
    out = {"drg_code": g.column("drg_code"), "cases": g.column("cases")}
    if catalog is not None:
        cat = tables.to_table(catalog.catalog if hasattr(catalog, "catalog") else catalog)
        codes = cat.column("drg_code").cast(pa.string())
        idx = pc.index_in(g.column("drg_code").cast(pa.string()), value_set=codes)
        if "name" in cat.column_names:
            out["name"] = cat.column("name").take(idx)
        out["base_points"] = cat.column("base_points").take(idx)
    if "case_type" in t.column_names:
        types = t.column("case_type").cast(pa.string()).to_numpy(zero_copy_only=False)
        codes = v.column("drg_code").to_numpy(zero_copy_only=False)
        row_of = {c: k for k, c in enumerate(g.column("drg_code").to_pylist())}
        at = np.array([row_of[c] for c in codes], dtype=np.int64)
        for name in CASE_TYPES:
            mask = types == name
            if mask.any():
                out[f"n_{name}"] = pa.array(np.bincount(at[mask], minlength=g.num_rows), pa.int64())
    out["points"] = tables.decimal4(g.column("points").to_numpy())
    for col in ("cost", "value", "gain"):
        out[col] = g.column(col)
    out["mean_gain"] = pa.array(
        [rnd(s, n) for s, n in zip(g.column("gain").to_pylist(), g.column("cases").to_pylist(), strict=True)],
        pa.int64(),
    )
    res = pa.table(out).sort_by([("gain", "ascending"), ("drg_code", "ascending")])
    return label(res, labels)


def hospital_drg_table(clearing: Any, *, labels: str | None = None) -> pa.Table:
    """Hospital × DRG: cases, points, cost, value and gain (value − cost), the largest loss first.

    Examples
    --------
    >>> cases = pa.table({"hospital_id": ["H1", "H2", "H1"], "drg_code": ["A", "A", "A"],
    ...     "points": [1.0, 3.0, 0.5], "cost": [100, 400, 30], "value": [110, 330, 55], "gain": [10, -70, 25]})
    >>> hospital_drg_table(cases).select(["hospital_id", "cases", "gain"]).to_pylist()
    [{'hospital_id': 'H2', 'cases': 1, 'gain': -70}, {'hospital_id': 'H1', 'cases': 2, 'gain': 35}]
    """
    v = _int_view(_cases(clearing), ["hospital_id", "drg_code"])
    g = v.group_by(["hospital_id", "drg_code"], use_threads=False).aggregate(
        [("drg_code", "count"), ("points", "sum"), ("cost", "sum"), ("value", "sum"), ("gain", "sum")]
    )
    res = pa.table(
        {
            "hospital_id": g.column("hospital_id"),
            "drg_code": g.column("drg_code"),
            "cases": g.column("drg_code_count"),
            "points": tables.decimal4(g.column("points_sum").to_numpy()),
            "cost": g.column("cost_sum"),
            "value": g.column("value_sum"),
            "gain": g.column("gain_sum"),
        }
    ).sort_by([("gain", "ascending"), ("hospital_id", "ascending"), ("drg_code", "ascending")])
    return label(res, labels)


def cmi_table(scored: Any, *, labels: str | None = None) -> pa.Table:
    """Case-mix index per hospital across funds: ``rnd(Σ B, n·100)`` over cases with base points.

    ``scored`` is the result of :func:`score` (or its table), or ``clearing.cases``.

    Examples
    --------
    >>> s = pa.table({"hospital_id": ["H1", "H1", "H2"], "fund": ["employee", "resident", "resident"],
    ...     "base_points": [120.0, 100.0, None]})
    >>> for row in cmi_table(s).to_pylist():
    ...     print(row)
    {'hospital_id': 'H1', 'cases': 2, 'cases_with_base': 2, 'cmi': Decimal('1.1000')}
    {'hospital_id': 'H2', 'cases': 1, 'cases_with_base': 0, 'cmi': None}
    """
    t = scored.scored if hasattr(scored, "scored") else scored.cases if hasattr(scored, "cases") else scored
    t = tables.to_table(t)
    if "base_points" not in t.column_names:
        raise SchemaError(
            "base_points", "scored cases (score() output) or clearing.cases of scored cases", "no such column"
        )
    hosp = t.column("hospital_id")
    hosp = hosp.cast(hosp.type.value_type) if pa.types.is_dictionary(hosp.type) else hosp
    v = pa.table({"hospital_id": hosp, "base": _e4(t, "base_points")})
    g = v.group_by("hospital_id", use_threads=False).aggregate(
        [("hospital_id", "count"), ("base", "count"), ("base", "sum")]
    )
    n_all, n_b, s_b = (g.column(c).to_pylist() for c in ("hospital_id_count", "base_count", "base_sum"))
    cmi = [rnd(s, n * 100) if n else None for s, n in zip(s_b, n_b, strict=True)]
    res = pa.table(
        {
            "hospital_id": g.column("hospital_id"),
            "cases": pa.array(n_all, pa.int64()),
            "cases_with_base": pa.array(n_b, pa.int64()),
            "cmi": pc.if_else(
                pa.array([c is not None for c in cmi]), tables.decimal4(np.array([c or 0 for c in cmi])), None
            ),
        }
    ).sort_by("hospital_id")
    return label(res, labels)


def _named_tables(result: Any) -> dict[str, pa.Table]:
    if isinstance(result, pa.Table):
        return {"table": result}
    if isinstance(result, Mapping):
        return {str(k): tables.to_table(v) for k, v in result.items()}
    if hasattr(result, "_asdict"):
        return {k: v for k, v in result._asdict().items() if isinstance(v, pa.Table)}
    return {"table": tables.to_table(result)}


def export(result: Any, path: str | os.PathLike, *, labels: str | None = None) -> list[str]:
    """Write a result's tables to an Excel workbook (``.xlsx``: one sheet per table; needs the
    ``excel`` extra, xlsxwriter) or to CSV (``.csv`` for one table, else a directory with one
    ``<name>.csv`` per table). Money stays in fen and points in decimals, as in the tables.

    Parameters
    ----------
    result
        A :class:`Clearing`, :class:`Scored`, :class:`Calibration`, a dict of tables, or a table.
    path
        ``….xlsx``, ``….csv`` or a directory.
    labels
        ``"zh"`` for Chinese column names and values.

    Returns
    -------
    list of str
        The files written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> export({"funds": pa.table({"fund": ["resident"], "budget": [100]})}, d / "out")
    [...funds.csv']
    >>> (d / "out" / "funds.csv").read_text().splitlines()
    ['fund,budget', 'resident,100']
    """
    import polars as pl

    named = {k: label(v, labels) for k, v in _named_tables(result).items()}
    path = os.fspath(path)
    if path.endswith(".xlsx"):
        try:
            import xlsxwriter
        except ImportError:  # pragma: no cover - the dev extra installs it
            raise SchemaError("path", "xlsxwriter for Excel (pip install 'wzmedins[excel]')", path) from None
        with xlsxwriter.Workbook(path) as wb:
            for name, t in named.items():
                pl.from_arrow(t).write_excel(wb, worksheet=name[:31], autofit=True)
        return [path]
    if path.endswith(".csv"):
        if len(named) != 1:
            raise SchemaError("path", "a directory for several tables (one CSV each)", path)
        pl.from_arrow(next(iter(named.values()))).write_csv(path)
        return [path]
    os.makedirs(path, exist_ok=True)
    written = []
    for name, t in named.items():
        f = os.path.join(path, f"{name}.csv")
        pl.from_arrow(t).write_csv(f)
        written.append(f)
    return written
