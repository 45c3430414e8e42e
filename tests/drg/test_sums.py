"""The clearing's sums add across parts: sums of random parts of the scored rows, cleared with
clear_from_sums, and the per-case tables of the parts put back in row order, equal clear() of
the whole (whose point values and hospital money test_differential checks against the twin)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins.drg as drg

from .strategies_drg import profiles, score_inputs
from .test_differential import arrow_cases, arrow_catalog, e4

pytestmark = pytest.mark.filterwarnings("ignore::wzmedins.drg.DrgWarning")  # random budgets warn


def scored_of(data, p):
    rows, catalog, coefficients = data
    coef = pa.table(
        {
            "hospital_id": [k[0] for k in coefficients],
            "drg_code": [k[1] for k in coefficients],
            "coefficient": e4(list(coefficients.values())),
        }
    )
    return drg.score(arrow_cases(rows), arrow_catalog(catalog), coef, p).scored


def cleared_by_parts(scored, part_of, n_parts, budgets, p, **when):
    """clear() as a cluster does it: sums per part, added; point values; cases per part."""
    idx = [np.flatnonzero(part_of == k) for k in range(n_parts)]
    parts = [scored.take(pa.array(i, pa.int64())) for i in idx]
    sums = sum(drg.clearing_sums(t, p, positions=i, **when) for t, i in zip(parts, idx, strict=True))
    out = drg.clear_from_sums(sums, budgets, p)
    cases = [drg.clearing_cases(t, out.funds, p, positions=i, **when) for t, i in zip(parts, idx, strict=True)]
    order = np.concatenate([i[_kept(t, **when)] for t, i in zip(parts, idx, strict=True)])
    whole = pa.concat_tables(cases).take(pa.array(np.argsort(order, kind="stable"), pa.int64()))
    return out._replace(cases=whole), sums


def _kept(t, *, year=None, through_month=None):
    """The rows a clearing keeps, worked out from the dates here (not by the code under test)."""
    d = t["discharge_date"].to_pylist()
    return np.array([(year is None or x.year == year) and (through_month is None or x.month <= through_month)
                     for x in d], dtype=bool)  # fmt: skip


def assert_same(got, want):
    for name in ("funds", "hospitals", "cases", "drgs"):
        assert getattr(got, name).to_pylist() == getattr(want, name).to_pylist(), name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=score_inputs(), p=profiles(), seed=st.integers(0, 2**32 - 1), n_parts=st.integers(1, 4),
       dictionary=st.booleans())  # fmt: skip
def test_sums_of_parts_clear_as_the_whole(data, p, seed, n_parts, dictionary):
    scored = scored_of(data, p)
    if dictionary:  # a dictionary column lists the DRG codes in its own order
        i = scored.column_names.index("drg_code")
        scored = scored.set_column(i, "drg_code", scored["drg_code"].cast(pa.string()).dictionary_encode())
    rng = np.random.default_rng(seed)
    part_of = rng.integers(0, n_parts, scored.num_rows)
    budgets = {"employee": 10**7 + scored.num_rows, "resident": 3 * 10**7}
    got, sums = cleared_by_parts(scored, part_of, n_parts, budgets, p)
    assert_same(got, drg.clear(scored, budgets, p))
    whole = drg.clearing_sums(scored, p)
    assert sums.cells.sort_by([("hospital_id", "ascending"), ("fund", "ascending")]).to_pylist() == (
        whole.cells.sort_by([("hospital_id", "ascending"), ("fund", "ascending")]).to_pylist()
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=score_inputs(), p=profiles(), seed=st.integers(0, 2**32 - 1), month=st.integers(1, 12))
def test_provisional_sums_of_parts(data, p, seed, month):
    scored = scored_of(data, p)
    rng = np.random.default_rng(seed)
    days = rng.integers(dt.date(2021, 12, 1).toordinal(), dt.date(2022, 12, 31).toordinal(), scored.num_rows)
    dates = pa.array([dt.date.fromordinal(int(d)) for d in days], pa.date32())
    scored = scored.set_column(scored.column_names.index("discharge_date"), "discharge_date", dates)
    budgets = {"employee": 10**7, "resident": 3 * 10**7}
    got, _ = cleared_by_parts(scored, rng.integers(0, 3, scored.num_rows), 3, budgets, p, year=2022,
                              through_month=month)  # fmt: skip
    assert_same(got, drg.clear(scored, budgets, p, year=2022, through_month=month))


def test_sums_by_hand():
    """Two parts of three cases: the sums add, the point value is the whole's (drg.md §4)."""
    scored = pa.table({"hospital_id": ["H1", "H2", "H1"], "fund": ["resident"] * 3, "drg_code": ["A", "B", "A"],
                       "points": [100.0, 50.0, 50.0], "total_cost": [9000, 4000, 5000],
                       "patient_paid": [1000, 500, 500]})  # fmt: skip
    a = drg.clearing_sums(scored.slice(0, 2))
    b = drg.clearing_sums(scored.slice(2), positions=[2])
    both = a + b
    cells = {(c["hospital_id"], c["fund"]): (c["cases"], c["points"], c["cost"], c["patient_paid"])
             for c in both.cells.to_pylist()}  # fmt: skip
    assert cells == {("H1", 1): (2, 150 * 10**4, 14_000, 1_500), ("H2", 1): (1, 50 * 10**4, 4_000, 500)}
    p = drg.load_profile("wenzhou-2022")
    out = drg.clear_from_sums(both, {"resident": 1_000_000}, p)
    reserve = (1_000_000 * p.reserve_bp + 5_000) // 10_000  # half up
    pool = 1_000_000 - reserve + 2_000
    f = out.funds.to_pylist()[0]
    assert (f["reserve"], f["pool"], f["points"]) == (reserve, pool, Decimal(200))
    assert f["point_value"] == (Decimal(pool) / 100 / 200).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    assert out.drgs.select(["drg_code", "cases"]).to_pylist() == [
        {"drg_code": "A", "cases": 2},
        {"drg_code": "B", "cases": 1},
    ]
    with pytest.raises(ValueError, match="another year"):
        a + drg.ClearingSums(b.cells, b.funds, b.drgs, b.codes, b.years, b.year, 6)
