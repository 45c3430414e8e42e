"""The DRG catalog and the coefficient table, checked and compiled to dense arrays once."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ._kernel import GROUP, KIND_AMBIGUOUS, KIND_UNGROUPABLE, ONE

# Catalog limits keep B·c and M·B·c/10^10 inside int64 (docs/drg.md, "Limits").
MAX_POINTS_E4 = 10**9  # 100 000 points
MAX_COEFFICIENT_E4 = 10**6  # 100.0000
CODE_EXPECTED = "string (plain or dictionary-encoded) DRG codes"


@dataclasses.dataclass(frozen=True)
class Catalog:
    """A catalog compiled to arrays indexed by group number (the row in ``codes``)."""

    codes: pa.Array  # string
    base: np.ndarray  # int64 e4 (0 when null: per-diem groups)
    has_base: np.ndarray  # bool
    stable: np.ndarray  # bool
    basic: np.ndarray  # bool
    daily: np.ndarray  # int64 e4
    has_daily: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.codes)


def string_column(table: pa.Table, name: str) -> pa.Array:
    """A required string column (dictionary-encoded accepted), as a plain string array."""
    arr = tables.required(table, name, CODE_EXPECTED)
    t = arr.type
    if pa.types.is_dictionary(t):
        if not (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
            raise SchemaError(name, CODE_EXPECTED, str(t))
        arr = arr.cast(pa.string())
    elif pa.types.is_large_string(t) or pa.types.is_null(t):
        arr = arr.cast(pa.string())
    elif not pa.types.is_string(t):
        raise SchemaError(name, CODE_EXPECTED, str(t))
    return arr


def compile_catalog(catalog: Any) -> Catalog:
    """Check a catalog table and compile it.

    Columns: ``drg_code``, ``base_points`` (null only for per-diem groups), ``stable``
    (default true), ``basic`` (default false), ``daily_points`` (null unless per-diem).

    Examples
    --------
    >>> cat = compile_catalog(pa.table({"drg_code": ["FR23"], "base_points": [120.0]}))
    >>> cat.base.tolist(), cat.stable.tolist()
    ([1200000], [True])
    """
    t = tables.to_table(catalog)
    codes = string_column(t, "drg_code")
    if codes.null_count:
        raise SchemaError("drg_code", "a DRG code on every catalog row", "null")
    if len(pc.unique(codes)) != len(codes):
        dup = pc.value_counts(codes).filter(pc.greater(pc.value_counts(codes).field("counts"), 1))
        raise SchemaError("drg_code", "unique catalog codes", f"duplicate {dup[0]['values']}")
    base, base_null = tables.e4(t, "base_points", is_required=True)
    daily, daily_null = tables.e4(t, "daily_points", is_required=False)
    has_daily = ~daily_null
    for name, vals, valid in (
        ("base_points", base, ~base_null),
        ("daily_points", daily, has_daily),
    ):
        bad = valid & ((vals < 0) | (vals > MAX_POINTS_E4))
        if bad.any():
            i = int(np.argmax(bad))
            raise SchemaError(name, f"points in [0, {MAX_POINTS_E4 // ONE}]", f"{vals[i] / ONE} for {codes[i]}")
    missing = base_null & ~has_daily
    if missing.any():
        raise SchemaError(
            "base_points",
            "a value unless daily_points is given",
            f"null for {codes[int(np.argmax(missing))]}",
        )
    return Catalog(
        codes=codes,
        base=np.where(base_null, 0, base).astype(np.int64),
        has_base=~base_null,
        stable=bool_column(t, "stable", True),
        basic=bool_column(t, "basic", False),
        daily=np.where(has_daily, daily, 0).astype(np.int64),
        has_daily=has_daily,
    )


def bool_column(t: pa.Table, name: str, default: bool) -> np.ndarray:
    arr = tables.column(t, name, "bool")
    if arr is None:
        return np.full(t.num_rows, default)
    if not pa.types.is_boolean(arr.type):
        raise SchemaError(name, "bool", str(arr.type))
    return np.asarray(arr.fill_null(default).to_numpy(zero_copy_only=False), dtype=bool)


def code_kinds(codes: pa.Array, catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Group index into the catalog (-1 when absent) and kind (group, 0000, ...QY) per code.

    Examples
    --------
    >>> cat = compile_catalog(pa.table({"drg_code": ["FR23"], "base_points": [120.0]}))
    >>> [a.tolist() for a in code_kinds(pa.array(["FR23", "0000", "GQY", "ZZ99"]), cat)]
    [[0, -1, -1, -1], [0, 1, 2, 0]]
    """
    group = pc.index_in(codes, value_set=catalog.codes).fill_null(-1).to_numpy().astype(np.int32)
    kind = np.full(len(codes), GROUP, dtype=np.int8)
    filled = codes.fill_null("")
    kind[pc.equal(filled, "0000").to_numpy(zero_copy_only=False)] = KIND_UNGROUPABLE
    kind[pc.ends_with(filled, "QY").to_numpy(zero_copy_only=False)] = KIND_AMBIGUOUS
    return group, kind


def id_lookup(values: pa.Array, keys: pa.Array) -> np.ndarray:
    """Index of each of ``values`` in ``keys`` (-1 when absent); int and string ids both work.

    Examples
    --------
    >>> id_lookup(pa.array([2, 7]), pa.array(["7", "2"])).tolist()
    [1, 0]
    """
    if values.type != keys.type:
        values, keys = values.cast(pa.string()), keys.cast(pa.string())
    return pc.index_in(values, value_set=keys).fill_null(-1).to_numpy().astype(np.int64)


@dataclasses.dataclass(frozen=True)
class Coefficients:
    """A coefficient table compiled to a dense matrix hospital × group (default 1)."""

    hospitals: pa.Array  # distinct hospital ids of the table
    matrix: np.ndarray  # int64 e4, hospital × group
    seen: np.ndarray  # bool: the pair has a row in the table
    row_hospital: np.ndarray  # per table row, index into hospitals
    given: bool  # False when no table was given (every coefficient 1 by choice)


def compile_coefficients(coefficients: Any, catalog: Catalog) -> Coefficients:
    """The coefficient table as hospital ids and a dense int64 matrix hospital × group (default 1).

    Pairs for a code outside the catalog are ignored; a duplicate pair is a SchemaError.

    Examples
    --------
    >>> cat = compile_catalog(pa.table({"drg_code": ["A", "B"], "base_points": [1.0, 2.0]}))
    >>> coef = compile_coefficients(pa.table({"hospital_id": ["H1"], "drg_code": ["B"],
    ...                                       "coefficient": [1.1]}), cat)
    >>> coef.hospitals.to_pylist(), coef.matrix.tolist(), coef.seen.tolist()
    (['H1'], [[10000, 11000]], [[False, True]])
    """
    if coefficients is None:
        return Coefficients(
            pa.array([], pa.string()),
            np.full((0, len(catalog)), ONE, dtype=np.int64),
            np.zeros((0, len(catalog)), dtype=bool),
            np.zeros(0, dtype=np.int64),
            False,
        )
    t = tables.to_table(coefficients)
    hosp = tables.ids(t, "hospital_id")
    codes = string_column(t, "drg_code")
    coef, nulls = tables.e4(t, "coefficient", is_required=True)
    if hosp.null_count or codes.null_count or nulls.any():
        col = "hospital_id" if hosp.null_count else "drg_code" if codes.null_count else "coefficient"
        raise SchemaError(col, "a value on every coefficient row", "null")
    bad = (coef < 0) | (coef > MAX_COEFFICIENT_E4)
    if bad.any():
        raise SchemaError(
            "coefficient",
            f"in [0, {MAX_COEFFICIENT_E4 // ONE}]",
            str(coef[int(np.argmax(bad))] / ONE),
        )
    hospitals = pc.unique(hosp)
    h = id_lookup(hosp, hospitals)
    g = pc.index_in(codes, value_set=catalog.codes).fill_null(-1).to_numpy()
    keep = g >= 0
    matrix = np.full((len(hospitals), len(catalog)), ONE, dtype=np.int64)
    seen = np.zeros(matrix.shape, dtype=bool)
    hk, gk = h[keep], g[keep]
    flat = hk * len(catalog) + gk
    if len(np.unique(flat)) != len(flat):
        raise SchemaError("hospital_id", "one coefficient per (hospital_id, drg_code)", "a duplicate pair")
    matrix[hk, gk] = coef[keep]
    seen[hk, gk] = True
    return Coefficients(hospitals, matrix, seen, h, True)
