"""Output tables of :func:`wzmedins.drg.clear`: per case and per DRG code."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..rounding import half_up as rnd
from . import _kernel

CARRIED = ("case_type", "base_points")  # from a scored input, for the reports
MAX_KERNEL_PV = 4 * 10**12  # 1e-4 yuan per point: 400 million yuan a point


def _cases_table(t, rows, case_id, hospital_id, codes, fund, fund_names, points, cost, fund_rows):
    """Per case: points, value ``rnd(points·PV, 10^6)`` and gain or loss ``value − cost``."""
    pv = np.array([min(r["point_value"] or 0, 2**62) for r in fund_rows], dtype=np.int64)
    has_pv = np.array([r["point_value"] is not None for r in fund_rows], dtype=np.bool_)
    if len(pv) and pv.max() > MAX_KERNEL_PV:
        # beyond the kernel's exact range (2·10^6·PV < 2^63): Python integers, slowly
        pvs = [r["point_value"] for r in fund_rows]
        vals = [
            0 if pvs[f] is None else rnd(pt * pvs[f], 10**6)
            for f, pt in zip(fund[rows].tolist(), points[rows].tolist(), strict=True)
        ]
        value = np.array(vals, dtype=np.int64)
        gain = np.where(has_pv[fund[rows]], value - cost[rows], 0)
    else:
        value, gain = _kernel._case_money(fund[rows], points[rows], cost[rows], pv, has_pv)
    take = pa.array(rows, pa.int64())
    missing = ~has_pv[fund[rows]] if len(fund_rows) else np.zeros(len(rows), dtype=bool)
    carried = {name: t.column(name).take(take) for name in CARRIED if name in t.column_names}
    return pa.table(
        {
            "case_id": case_id.take(take) if case_id is not None else pa.array(rows, pa.int64()),
            "hospital_id": hospital_id.take(take),
            "fund": pa.DictionaryArray.from_arrays(pa.array(fund[rows], pa.int8()), pa.array(fund_names)),
            "drg_code": codes.take(take),
            "points": tables.decimal4(points[rows]),
            "cost": pa.array(cost[rows], pa.int64()),
            "value": pa.array(value, pa.int64(), mask=missing),
            "gain": pa.array(gain, pa.int64(), mask=missing),
            **carried,
        }
    )


def _drgs_table(per_drg, fund_names, fund_rows):
    """Per DRG code and fund: cases, points, cost and money at the fund's point value.

    ``per_drg``: ``((rank, fund index), [code, cases, points, cost])`` in output order."""
    out = []
    for (_, k), (code, count, pts, cst) in per_drg:
        pv = fund_rows[k]["point_value"]
        out.append((code, fund_names[k], count, pts, cst, None if pv is None else rnd(pts * pv, 10**6)))
    return pa.table(
        {
            "drg_code": pa.array([o[0] for o in out], pa.string()),
            "fund": pa.array([o[1] for o in out], pa.string()),
            "cases": pa.array([o[2] for o in out], pa.int64()),
            "points": _dec4([o[3] for o in out]),
            "cost": _money([o[4] for o in out]),
            "money": _money([o[5] for o in out]),
        }
    )


def _money(values: list) -> pa.Array:
    return pa.array(values, pa.int64())


def _dec4(values: list) -> pa.Array:
    valid = np.array([v is not None for v in values], dtype=bool)
    arr = tables.decimal4(np.array([v or 0 for v in values], dtype=np.int64))
    if valid.all():
        return arr
    return pc.if_else(pa.array(valid), arr, pa.scalar(None, arr.type))
