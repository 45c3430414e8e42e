"""``calibrate``: reference cost, base points, stable flags, hospital coefficients (docs/rules/drg.md §2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ..rounding import half_up
from . import _kernel
from .catalog import code_kinds, id_lookup, string_column
from .columns import encoded_codes, encoded_ids, gather
from .profile import load_profile

ONE = _kernel.ONE


class Calibration(NamedTuple):
    """``catalog`` and ``coefficients``; ``reference_cost`` (fen) is in the catalog's metadata."""

    catalog: pa.Table
    coefficients: pa.Table

    def to_polars(self) -> dict:
        """The tables as polars DataFrames, by name (``pl.from_arrow`` on each)."""
        import polars as pl

        return {name: pl.from_arrow(table) for name, table in self._asdict().items()}

    def export(self, path, *, labels: str | None = None) -> list[str]:
        """Write the tables to ``….xlsx`` (one sheet each) or CSV files (:func:`export`)."""
        from .reports import export

        return export(self, path, labels=labels)

    @property
    def reference_cost(self) -> int:
        """The calibrated reference cost ``M`` in fen (the cost of 100 points)."""
        return int(self.catalog.schema.metadata[b"reference_cost"])


def calibrate(
    history: Any,
    hospitals: Any,
    params: Any = "wenzhou-2022",
    *,
    year: int | None = None,
    basic: Iterable[str] = (),
) -> Calibration:
    """Base points, stable flags and hospital coefficients from the cases of reference years.

    Parameters
    ----------
    history
        Cases with ``hospital_id``, ``drg_code``, ``total_cost`` and, when ``year`` is given,
        ``discharge_date``. Ungroupable (0000) and ambiguous (…QY) cases are left out, and so
        are rows with a null or invalid value or a hospital missing from ``hospitals``.
    hospitals
        ``hospital_id``, ``level`` (any strings; the peer group of the coefficient).
    params
        A DRG profile (trims, ``min_cases``, ``cv_max_bp``, coefficient weight and clamp).
    year
        The payment year: keep the ``reference_years`` years before it. ``None``: all rows.
    basic
        DRG codes of the basic groups (基础病组, 同病同价): coefficient always 1.

    Returns
    -------
    Calibration
        ``catalog`` (``drg_code``, ``base_points``, ``stable``, ``basic``, ``daily_points``,
        ``cases``, ``trimmed``, ``mean_cost``) and ``coefficients`` (``hospital_id``,
        ``drg_code``, ``coefficient``, ``cases``, ``trimmed``); ``.reference_cost`` in fen.
        Use it with ``params.with_changes(reference_cost=cal.reference_cost)`` to score.

    Examples
    --------
    >>> hist = pa.table({"hospital_id": ["H1"] * 5 + ["H2"] * 5, "drg_code": ["A"] * 10,
    ...     "total_cost": [100.0] * 5 + [300.0] * 5})
    >>> cal = calibrate(hist, pa.table({"hospital_id": ["H1", "H2"], "level": ["x", "y"]}))
    >>> cal.reference_cost, cal.catalog["base_points"].to_pylist()
    (20000, [Decimal('100.0000')])
    >>> cal.coefficients.column("coefficient").to_pylist()  # 0.5 and 1.5 clamped to 0.8 .. 1.2
    [Decimal('0.8000'), Decimal('1.2000')]
    """
    p = load_profile(params)
    t = tables.to_table(history)
    n = t.num_rows
    reason = np.full(n, tables.NO_REASON, dtype=np.int16)
    _, hosp_values, hosp_idx = encoded_ids(t, "hospital_id")
    tables.flag(reason, hosp_idx < 0, "MISSING_VALUE")
    _, code_values, code_idx = encoded_codes(t, "drg_code")
    tables.flag(reason, code_idx < 0, "MISSING_VALUE")
    cost = tables.money(t, "total_cost", reason, is_required=True)
    keep = reason == tables.NO_REASON
    if year is not None:
        days = tables.dates(t, "discharge_date", reason)
        y = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        in_years = (y >= year - p.reference_years) & (y < year)
        if not (keep & in_years).any():
            found = sorted(set(y[reason == tables.NO_REASON].tolist()))
            raise SchemaError(
                "discharge_date",
                f"history discharged in {year - p.reference_years}–{year - 1} (the {p.reference_years} "
                f"reference years before the payment year {year})",
                "discharges in " + (", ".join(str(v) for v in found) if found else "no valid row"),
            )
        keep &= in_years & (reason == tables.NO_REASON)

    ht = tables.to_table(hospitals)
    h_ids = tables.ids(ht, "hospital_id")
    levels = string_column(ht, "level")
    if h_ids.null_count or levels.null_count:
        raise SchemaError("hospital_id" if h_ids.null_count else "level", "a value on every hospital row", "null")
    if len(pc.unique(h_ids)) != len(h_ids):
        raise SchemaError("hospital_id", "one row per hospital", "a duplicate hospital_id")
    level_enc = pc.dictionary_encode(levels)
    level_of = level_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # codes and hospitals are looked up once per distinct value, then gathered
    hosp = gather(id_lookup(hosp_values, h_ids), hosp_idx, -1)
    _, kind_d = code_kinds(code_values, _NoCatalog)
    keep &= (gather(kind_d, code_idx, -1) == _kernel.GROUP) & (hosp >= 0)

    rows = np.flatnonzero(keep)
    # groups: the codes of the kept rows, numbered in code order (outputs sorted by drg_code)
    used = np.zeros(len(code_values), dtype=bool)
    used[code_idx[rows]] = True
    by_code = np.asarray(pc.sort_indices(code_values), dtype=np.int64)
    by_code = by_code[used[by_code]]
    group_codes = code_values.take(pa.array(by_code, pa.int64()))
    rank = np.full(len(code_values), -1, dtype=np.int64)
    rank[by_code] = np.arange(len(by_code))
    g = rank[code_idx[rows]]
    x = cost[rows]
    h = hosp[rows]
    lv = level_of[h] if len(rows) else np.zeros(0, np.int64)
    n_g, n_h, n_l = len(group_codes), len(h_ids), len(level_enc.dictionary)

    n_raw, s_raw, sq = _kernel._calib_raw(g, x, n_g)
    # trim bounds: lo·S ≤ 10^4·n·x ≤ hi·S  <=>  ceil(lo·S / (10^4·n)) ≤ x ≤ floor(hi·S / (10^4·n))
    lo_cut = np.array(
        [-(-p.trim_low_bp * s // (ONE * k)) for s, k in zip(s_raw.tolist(), n_raw.tolist(), strict=True)],
        dtype=np.int64,
    )
    hi_cut = np.array(
        [p.trim_high_bp * s // (ONE * k) for s, k in zip(s_raw.tolist(), n_raw.tolist(), strict=True)],
        dtype=np.int64,
    )
    tg, th, tl = _kernel._calib_trimmed(g, h, lv, x, lo_cut, hi_cut, n_g, n_h, n_l)
    n_kept, s_kept = int(tg[:, 0].sum()), int(tg[:, 1].sum())
    if n_kept == 0 or s_kept == 0:
        raise SchemaError("total_cost", "history with at least one groupable case of positive cost", "none")
    M = half_up(s_kept, n_kept)

    # per group: mean, base points, stability (Σx² from 20-bit limbs, Python ints)
    tg_n, tg_s = tg[:, 0], tg[:, 1]
    Mg = np.where(
        tg_n > 0,
        (2 * tg_s + np.maximum(tg_n, 1)) // (2 * np.maximum(tg_n, 1)),
        (2 * s_raw + np.maximum(n_raw, 1)) // (2 * np.maximum(n_raw, 1)),
    )
    base = np.array([half_up(10**6 * m, M) for m in Mg.tolist()], dtype=np.int64)
    stable = np.zeros(n_g, dtype=bool)
    for k, (nn, sx, (a0, a1, a2)) in enumerate(zip(n_raw.tolist(), s_raw.tolist(), sq.tolist(), strict=True)):
        sxx = (a2 << 40) + (a1 << 20) + a0
        stable[k] = nn >= p.min_cases and (nn * sxx - sx * sx) * 10**8 < p.cv_max_bp**2 * sx * sx
    is_basic = pc.is_in(group_codes, value_set=pa.array(list(basic), pa.string())).to_numpy(zero_copy_only=False)

    # coefficients, vectorised in int64: every product is below 10^4 · 10^12
    hn, hs, hraw = th[:, :, 0], th[:, :, 1], th[:, :, 2]
    ln, ls = tl[:, :, 0][level_of], tl[:, :, 1][level_of]  # the level of each hospital
    m_h = (2 * hs + np.maximum(hn, 1)) // (2 * np.maximum(hn, 1))
    m_l = (2 * ls + np.maximum(ln, 1)) // (2 * np.maximum(ln, 1))
    Mg1 = np.maximum(Mg, 1)[None, :]
    w = np.where(hn >= p.min_cases, p.coef_weight_bp, 0)
    c = (2 * w * m_h + Mg1) // (2 * Mg1) + (2 * (ONE - w) * m_l + Mg1) // (2 * Mg1)
    c = np.clip(c, p.coef_lo_bp, p.coef_hi_bp)
    c = np.where((ln < p.min_cases) | is_basic[None, :] | (Mg[None, :] == 0), ONE, c)
    hh, gg = _pairs(hraw)

    meta = {"reference_cost": str(M), "profile": p.name, "profile_fingerprint": p.fingerprint()}
    catalog = pa.table(
        {
            "drg_code": group_codes,
            "base_points": tables.decimal4(base),
            "stable": pa.array(stable),
            "basic": pa.array(is_basic, pa.bool_()),
            "daily_points": pa.nulls(n_g, pa.decimal128(18, 4)),
            "cases": pa.array(n_raw, pa.int64()),
            "trimmed": pa.array(tg_n, pa.int64()),
            "mean_cost": pa.array(Mg, pa.int64()),
        }
    ).replace_schema_metadata(meta)
    coefficients = pa.table(
        {
            "hospital_id": h_ids.take(pa.array(hh, pa.int64())),
            "drg_code": group_codes.take(pa.array(gg, pa.int64())),
            "coefficient": tables.decimal4(c[hh, gg]),
            "cases": pa.array(hraw[hh, gg], pa.int64()),
            "trimmed": pa.array(hn[hh, gg], pa.int64()),
        }
    ).replace_schema_metadata(meta)
    return Calibration(catalog, coefficients)


def _pairs(hraw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hospital, group) pairs with raw cases, ordered by group then hospital."""
    gg, hh = np.nonzero(hraw.T > 0)
    return hh.astype(np.int64), gg.astype(np.int64)


class _NoCatalog:
    """Stands in for a catalog when only the kind of a code (0000, …QY) is wanted."""

    codes = pa.array([], pa.string())
