"""``score``: DRG cases → case type, standard cost, points, readmission flag (docs/rules/drg.md §3)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ..tables import NO_REASON, flag
from ..vocab import SCHEMES
from . import _kernel
from .catalog import (
    bool_column,
    code_kinds,
    compile_catalog,
    compile_coefficients,
    id_lookup,
)
from .checks import catalog_reference_cost, warn, warn_extreme_types, with_catalog_reference_cost, with_fund_aliases
from .columns import dense_codes, encode, encoded_codes, encoded_ids, gather, typed_nulls
from .profile import load_profile

MAX_LOS = 100_000  # days; keeps daily·los inside int64
MAX_MANUAL_E4 = 10**12  # 100 million points

MESSAGES = {
    "MISSING_VALUE": "a required value is null",
    "NEGATIVE_AMOUNT": "an amount, points or length of stay is negative",
    "SPLIT_EXCEEDS_TOTAL": "patient_paid exceeds total_cost",
    "AMOUNT_NOT_IN_FEN": "an amount is not a whole number of fen",
    "AMOUNT_TOO_LARGE": "an amount, points or length of stay is too large",
    "UNKNOWN_SCHEME": "fund is not employee or resident",
    "DUPLICATE_CLAIM_ID": "case_id repeats an earlier row",
    "UNKNOWN_DRG": "drg_code is not in the catalog",
}


COEFFICIENT_SOURCES = ("table", "basic", "default")


class Scored(NamedTuple):
    """The result of :func:`score`: ``scored`` (accepted rows, input order), ``rejected`` and
    ``coverage`` of the coefficient table (``hospitals_without``: hospitals with cases and no
    coefficient row; ``pairs_without``: hospital × DRG pairs scored with the default 1;
    ``unmatched_rows``: coefficient rows whose hospital has no case)."""

    scored: pa.Table
    rejected: pa.Table
    coverage: dict | None = None

    def to_polars(self) -> dict:
        """The tables as polars DataFrames, by name (``pl.from_arrow`` on each)."""
        import polars as pl

        return {"scored": pl.from_arrow(self.scored), "rejected": pl.from_arrow(self.rejected)}

    def export(self, path, *, labels: str | None = None) -> list[str]:
        """Write the tables to ``….xlsx`` (one sheet each) or CSV files (:func:`export`)."""
        from .reports import export

        return export(self, path, labels=labels)


def score(cases: Any, catalog: Any, coefficients: Any = None, params: Any = "wenzhou-2022") -> Scored:
    """Score DRG cases: type, standard cost, points and readmission (docs/rules/drg.md §3).

    Parameters
    ----------
    cases
        The *drg cases* table (interfaces.md): ``case_id``, ``person_id``, ``hospital_id``,
        ``fund`` (``employee``/``resident``, or 职工/居民), ``drg_code``, ``total_cost``,
        ``patient_paid`` (money: int64 fen, decimal or float yuan), ``admit_date``,
        ``discharge_date``; optional ``fund_ffs``, ``los`` (default: discharge − admit), ``manual_points``,
        ``bonus_points``, ``incomplete`` (bool: the stay was not completed; used when the
        profile has ``incomplete_enabled``). Any input of ``wzmedins.tables.to_table``.
    catalog, coefficients
        The DRG catalog and the coefficient table (``None``: every coefficient is 1), or the
        :class:`Calibration` of :func:`calibrate` as ``catalog`` (its coefficients are used
        unless others are given). A catalog that carries ``reference_cost`` in its schema
        metadata (a calibrated one) is scored with it; an explicit, different reference cost
        in ``params`` is a PolicyError naming both.
    params
        A :class:`DrgProfile` or a profile name or path.

    Warns
    -----
    DrgWarning
        Hospitals with cases but no coefficient row, coefficient rows whose hospital has no
        case (``h001`` vs ``H001``, int vs string ids); more than half the cases high or low
        (money in the wrong unit).

    Returns
    -------
    Scored
        ``scored``: ``row``, ``case_id``, ``person_id``, ``hospital_id``, ``fund``, ``drg_code``,
        ``case_type``, ``standard_cost`` (fen, null outside the catalog), ``points`` and
        ``base_points`` (decimal128(18, 4)), ``coefficient`` (the one used, null outside the
        catalog) and ``coefficient_source`` (``table``, ``basic``: 1 for a basic group,
        ``default``: 1 as no row gives one), ``readmission``, and ``total_cost``,
        ``patient_paid``, ``fund_ffs`` (fen), ``admit_date``, ``discharge_date`` for :func:`clear`.
        ``rejected``: ``row``, ``case_id``, ``reason``, ``message``. Every input row is in
        exactly one of them.

    Examples
    --------
    >>> import datetime as dt
    >>> cases = pa.table({"case_id": [1, 2], "person_id": [7, 8], "hospital_id": ["H1", "H1"],
    ...     "fund": ["resident", "resident"], "drg_code": ["FR23", "ZZ99"],
    ...     "total_cost": [12000.0, 500.0], "patient_paid": [3000.0, 100.0], "admit_date": [dt.date(2022, 3, 1)] * 2,
    ...     "discharge_date": [dt.date(2022, 3, 9)] * 2})
    >>> catalog = pa.table({"drg_code": ["FR23"], "base_points": [120.0]})
    >>> coefficients = pa.table(
    ...     {"hospital_id": ["H1"], "drg_code": ["FR23"], "coefficient": [1.05]})
    >>> out = score(cases, catalog, coefficients, "wenzhou-2022")
    >>> out.scored.select(["case_id", "case_type", "points"]).to_pylist()
    [{'case_id': 1, 'case_type': 'normal', 'points': Decimal('126.0000')}]
    >>> out.rejected.column("reason").to_pylist()
    ['UNKNOWN_DRG']
    >>> out.to_polars()["scored"]["points"].to_list()
    [Decimal('126.0000')]
    """
    if hasattr(catalog, "catalog") and hasattr(catalog, "coefficients"):  # a Calibration
        coefficients = catalog.coefficients if coefficients is None else coefficients
        catalog = catalog.catalog
    catalog = tables.to_table(catalog)
    p = with_catalog_reference_cost(load_profile(params), catalog_reference_cost(catalog))
    t = with_fund_aliases(typed_nulls(tables.to_table(cases)))
    cat = compile_catalog(catalog)
    coef = compile_coefficients(coefficients, cat)
    coef_hospitals, coef_matrix = coef.hospitals, coef.matrix
    n = t.num_rows
    reason = np.full(n, NO_REASON, dtype=np.int16)

    case_id = tables.ids(t, "case_id", reason)
    person_id = tables.ids(t, "person_id", reason)
    hospital_id, hosp_values, hosp_idx = encoded_ids(t, "hospital_id")
    flag(reason, hosp_idx < 0, "MISSING_VALUE")
    fund = tables.enum_codes(t, "fund", SCHEMES, reason, "UNKNOWN_SCHEME")
    codes, code_values, code_idx = encoded_codes(t, "drg_code")
    flag(reason, code_idx < 0, "MISSING_VALUE")
    cost = tables.money(t, "total_cost", reason, is_required=True)
    patient = tables.money(t, "patient_paid", reason, is_required=True)
    ffs = tables.money(t, "fund_ffs", reason, is_required=False)
    flag(reason, patient > cost, "SPLIT_EXCEEDS_TOTAL")
    admit = tables.dates(t, "admit_date", reason)
    discharge = tables.dates(t, "discharge_date", reason)
    los = _los(t, admit, discharge, reason)
    manual, manual_null = tables.e4(t, "manual_points", is_required=False)
    bonus, _ = tables.e4(t, "bonus_points", is_required=False)
    incomplete = bool_column(t, "incomplete", False)
    for vals in (manual, bonus):
        flag(reason, vals < 0, "NEGATIVE_AMOUNT")
        flag(reason, vals > MAX_MANUAL_E4, "AMOUNT_TOO_LARGE")
    has_manual = ~manual_null
    _flag_duplicates(case_id, reason)
    # codes and hospitals are looked up once per distinct value, then gathered
    group_d, kind_d = code_kinds(code_values, cat)
    group, kind = gather(group_d, code_idx, -1), gather(kind_d, code_idx, 0)
    flag(reason, (kind == _kernel.GROUP) & (group < 0) & ~has_manual, "UNKNOWN_DRG")

    ok = reason == NO_REASON
    hosp = (
        gather(id_lookup(hosp_values, coef_hospitals), hosp_idx, -1)
        if len(coef_hospitals)
        else np.full(n, -1, np.int64)
    )
    person = _person_keys(person_id)
    order, order_person = _readmission_order(np.flatnonzero(ok), person, admit, discharge)
    exempt = np.zeros(len(cat), dtype=bool)
    for prefix in p.readmission_exempt:
        exempt |= pc.starts_with(cat.codes, prefix).to_numpy(zero_copy_only=False)

    readmitted = np.zeros(n, dtype=np.bool_)
    if len(order):
        flags = _kernel._readmission(
            order_person,
            group[order],
            kind[order],
            has_manual[order],
            admit[order],
            discharge[order],
            exempt,
            p.readmission_days,
        )
        readmitted[order] = flags
    case_type = np.empty(n, dtype=np.int8)
    standard = np.empty(n, dtype=np.int64)
    points = np.empty(n, dtype=np.int64)
    _kernel._score(
        ok,
        kind,
        group,
        hosp,
        cost,
        los,
        has_manual,
        manual,
        bonus,
        incomplete,
        p.incomplete_enabled,
        cat.base,
        cat.stable,
        cat.basic,
        cat.daily,
        cat.has_daily,
        coef_matrix,
        p.reference_cost,
        p.low_bp,
        np.array(p.high_band_upper, dtype=np.int64),
        np.array(p.high_multiple_bp, dtype=np.int64),
        p.high_inclusive,
        p.partial_enabled,
        p.partial_upper_bp,
        p.partial_beta_bp,
        p.ungroupable_bp,
        p.ambiguous_bp,
        p.readmission_bp,
        case_type,
        standard,
        points,
        readmitted,
    )
    rows = np.flatnonzero(ok)
    take = pa.array(rows, pa.int64())
    in_catalog = group[rows] >= 0
    base = np.where(in_catalog, cat.base[np.maximum(group[rows], 0)], 0)
    has_base = in_catalog & cat.has_base[np.maximum(group[rows], 0)]
    coef_used, coef_source, coverage = _coefficients_used(rows, group, hosp, hosp_idx, hosp_values, cat, coef)
    warn_extreme_types(
        case_type[rows],
        np.ones(len(rows), dtype=bool),
        _kernel.HIGH,
        _kernel.LOW,
        pa.types.is_floating(t.schema.field("total_cost").type),
    )
    scored = pa.table(
        {
            "row": take,
            "case_id": case_id.take(take),
            "person_id": person_id.take(take),
            "hospital_id": hospital_id.take(take),
            "fund": pa.DictionaryArray.from_arrays(pa.array(fund[rows].astype(np.int8)), pa.array(SCHEMES)),
            "drg_code": codes.take(take),
            "case_type": pa.DictionaryArray.from_arrays(pa.array(case_type[rows]), pa.array(_kernel.CASE_TYPES)),
            "standard_cost": pa.array(standard[rows], pa.int64(), mask=(standard[rows] < 0) | (in_catalog & ~has_base)),
            "points": tables.decimal4(points[rows]),
            "base_points": _nullable_decimal4(base, has_base),
            "coefficient": _nullable_decimal4(coef_used, in_catalog),
            "coefficient_source": pa.DictionaryArray.from_arrays(
                pa.array(coef_source, pa.int8(), mask=~in_catalog), pa.array(COEFFICIENT_SOURCES)
            ),
            "readmission": pa.array(readmitted[rows], pa.bool_()),
            "total_cost": pa.array(cost[rows], pa.int64()),
            "patient_paid": pa.array(patient[rows], pa.int64()),
            "fund_ffs": pa.array(ffs[rows], pa.int64()),
            "admit_date": pa.array(admit[rows], pa.int32()).cast(pa.date32()),
            "discharge_date": pa.array(discharge[rows], pa.int32()).cast(pa.date32()),
        }
    ).replace_schema_metadata(
        {"profile": p.name, "profile_fingerprint": p.fingerprint(), "reference_cost": str(p.reference_cost)}
    )
    bad = np.flatnonzero(~ok)
    rejected = tables.rejected_table(bad, case_id, reason, MESSAGES)
    return Scored(scored, rejected.rename_columns(["row", "case_id", "reason", "message"]), coverage)


def _coefficients_used(rows, group, hosp, hosp_idx, hosp_values, cat, coef):
    """Per accepted row the coefficient used and its source; coverage of the table, with a warning."""
    g = np.maximum(group[rows], 0)
    h = hosp[rows]
    in_catalog = group[rows] >= 0
    basic = cat.basic[g] & in_catalog
    from_table = in_catalog & ~basic & (h >= 0)
    if len(coef.seen):
        from_table &= coef.seen[np.maximum(h, 0), g]
    else:
        from_table[:] = False
    used = np.full(len(rows), _kernel.ONE, dtype=np.int64)
    used[from_table] = coef.matrix[h[from_table], g[from_table]]
    source = np.where(basic, 1, np.where(from_table, 0, 2)).astype(np.int8)
    # coverage: hospitals (with catalog cases) that have no row, pairs scored with the default
    need = in_catalog & ~basic
    case_hosp = np.unique(hosp_idx[rows][need])
    lookup = (
        gather(id_lookup(hosp_values, coef.hospitals), case_hosp, -1)
        if len(coef.hospitals)
        else np.full(len(case_hosp), -1)
    )
    without = hosp_values.take(pa.array(case_hosp[lookup < 0], pa.int64())).to_pylist()
    pairs = np.unique(hosp_idx[rows][need & ~from_table] * max(len(cat), 1) + g[need & ~from_table])
    all_case_hosp = np.unique(hosp_idx[rows][hosp_idx[rows] >= 0])
    case_keys = hosp_values.take(pa.array(all_case_hosp, pa.int64()))
    coef_row_has_case = (
        gather(id_lookup(coef.hospitals, case_keys) >= 0, coef.row_hospital, False) if len(coef.hospitals) else []
    )
    unmatched = int(len(coef.row_hospital) - np.sum(coef_row_has_case))
    coverage = {
        "coefficients_given": coef.given,
        "hospitals": len(case_hosp),
        "hospitals_without": sorted(without, key=str),
        "pairs_without": int(len(pairs)),
        "unmatched_rows": unmatched,
    }
    if coef.given and (without or unmatched):
        parts = []
        if without:
            more = " …" if len(without) > 5 else ""
            shown = ", ".join(str(x) for x in coverage["hospitals_without"][:5]) + more
            parts.append(
                f"{len(without)} of {len(case_hosp)} hospitals with cases have no coefficient ({shown}: 1 used)"
            )
        if unmatched:
            parts.append(f"{unmatched} coefficient rows match no case hospital")
        warn(f"score: {'; '.join(parts)} (check the spelling and type of hospital_id in both tables)")
    return used, source, coverage


def _nullable_decimal4(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    arr = tables.decimal4(values)
    if valid.all():
        return arr
    return pc.if_else(pa.array(valid), arr, pa.scalar(None, arr.type))


def _los(t: pa.Table, admit: np.ndarray, discharge: np.ndarray, reason: np.ndarray) -> np.ndarray:
    """Length of stay: the ``los`` column, or discharge − admit where it is absent or null."""
    days = discharge.astype(np.int64) - admit.astype(np.int64)
    arr = tables.column(t, "los", "int64")
    if arr is None:
        los = days
    else:
        if not pa.types.is_integer(arr.type):
            raise SchemaError("los", "int64 days", str(arr.type))
        los = np.where(tables.null_mask(arr), days, arr.fill_null(0).cast(pa.int64()).to_numpy())
    flag(reason, los < 0, "NEGATIVE_AMOUNT")
    flag(reason, los > MAX_LOS, "AMOUNT_TOO_LARGE")
    return np.clip(los, 0, MAX_LOS).astype(np.int64)


def _flag_duplicates(case_id: pa.Array, reason: np.ndarray) -> None:
    """DUPLICATE_CLAIM_ID on every row whose case_id appeared on an earlier row."""
    if len(case_id) < 2:
        return
    if pa.types.is_integer(case_id.type) and case_id.null_count == 0:
        ids_sorted = np.sort(case_id.cast(pa.int64()).to_numpy())
        if not (ids_sorted[1:] == ids_sorted[:-1]).any():
            return  # the usual case: no duplicates, one sort
    codes = dense_codes(case_id)
    order = np.argsort(codes, kind="stable")  # equal ids stay in row order: the first is kept
    sorted_codes = codes[order]
    again = np.zeros(len(codes), dtype=bool)
    again[order[1:][(sorted_codes[1:] == sorted_codes[:-1]) & (sorted_codes[1:] >= 0)]] = True
    flag(reason, again, "DUPLICATE_CLAIM_ID")


def _person_keys(person_id: pa.Array) -> np.ndarray:
    """An int64 key per row, equal for equal persons: the id itself when it is an integer."""
    if pa.types.is_integer(person_id.type):
        return person_id.fill_null(0).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return encode(person_id)[1]


def _readmission_order(rows: np.ndarray, person: np.ndarray, admit, discharge):
    """Accepted rows sorted by (person, admit, discharge, row), and their person keys."""
    keys = person[rows]
    by_person = np.argsort(keys)  # no need for a stable sort: runs are sorted fully below
    order = rows[by_person].astype(np.int64)
    keys = keys[by_person]
    _kernel._sort_stays(order, keys, admit, discharge)
    return order, keys
