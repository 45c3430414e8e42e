"""Issue findings that gave wrong numbers or crashed without a word; each test failed before its fix.

Values are worked by hand from docs/rules/drg.md (M = 10 350.55 yuan unless said otherwise).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pytest

import wzmedins.drg as drg
from wzmedins.errors import PolicyError, SchemaError

D = dt.date(2022, 3, 1)
CATALOG = pa.table({"drg_code": ["GB15", "ES35"], "base_points": [100.0, 80.0]})


def cases(n=2, **cols):
    base = {
        "case_id": list(range(n)),
        "person_id": [f"p{i}" for i in range(n)],
        "hospital_id": ["H1"] * n,
        "fund": ["resident"] * n,
        "drg_code": ["GB15"] * n,
        "total_cost": pa.array([1_000_000] * n, pa.int64()),
        "patient_paid": pa.array([300_000] * n, pa.int64()),
        "fund_ffs": pa.array([700_000] * n, pa.int64()),
        "admit_date": [D] * n,
        "discharge_date": [D] * n,
    }
    base.update(cols)
    return pa.table(base)


# ---- 2. the calibrated reference cost travels with the catalog


def with_m(table, m_fen):
    return table.replace_schema_metadata({"reference_cost": str(m_fen)})


def test_catalog_reference_cost_is_used():
    # M = 20 000 yuan: S(GB15) = 20 000, cost 10 000 = 0.5·S is partial:
    # rnd(10^6·1 000 000, 2 000 000) + rnd(2 000·1 000 000·10 000, 10^8) = 500 000 + 200 000
    out = drg.score(cases(1), with_m(CATALOG, 2_000_000))
    row = out.scored.to_pylist()[0]
    assert (row["case_type"], row["points"], row["standard_cost"]) == ("partial", Decimal("70.0000"), 2_000_000)
    assert out.scored.schema.metadata[b"reference_cost"] == b"2000000"
    # clear and scenarios score raw cases with it too
    cl = drg.clear(cases(1), {"resident": 1_000_000}, catalog=with_m(CATALOG, 2_000_000))
    assert cl.cases.column("points").to_pylist() == [Decimal("70.0000")]
    sc = drg.scenarios(cases(1), {"resident": 1_000_000}, variants=[{"name": "a"}], catalog=with_m(CATALOG, 2_000_000))
    assert sc.column("points").to_pylist() == [Decimal("70.0000")]


def test_catalog_reference_cost_conflicting_with_an_explicit_one_is_an_error():
    p = drg.load_profile("wenzhou-2022").with_changes(reference_cost=1_500_000)
    with pytest.raises(PolicyError, match=r"reference_cost.*1500000.*2000000|reference_cost.*15000\.00.*20000\.00"):
        drg.score(cases(1), with_m(CATALOG, 2_000_000), None, p)
    same = drg.load_profile("wenzhou-2022").with_changes(reference_cost=2_000_000)
    assert drg.score(cases(1), with_m(CATALOG, 2_000_000), None, same).scored.num_rows == 1


def test_calibration_result_can_be_the_catalog():
    hist = pa.table(
        {"hospital_id": ["H1"] * 5 + ["H2"] * 5, "drg_code": ["GB15"] * 10, "total_cost": [100.0] * 5 + [300.0] * 5}
    )
    cal = drg.calibrate(hist, pa.table({"hospital_id": ["H1", "H2"], "level": ["x", "x"]}))
    # M = 200 yuan, B = 100, c(H1) = rnd(5 000·10 000 + 5 000·20 000, 20 000) = 0.75 → clamped 0.8
    out = drg.score(cases(1, total_cost=pa.array([16_000], pa.int64()), patient_paid=pa.array([0], pa.int64())), cal)
    row = out.scored.to_pylist()[0]
    assert row["standard_cost"] == 16_000 and row["points"] == Decimal("80.0000")


# ---- 3. year always filters


def test_year_filters_without_a_month_and_mixed_years_are_an_error():
    t = cases(3, discharge_date=[dt.date(2021, 6, 1), D, D], admit_date=[dt.date(2021, 5, 1), D, D])
    out = drg.clear(t, {"resident": 1_000_000}, catalog=CATALOG, year=2022)
    assert out.funds.column("cases").to_pylist() == [2]
    # pool = 10 000 − 500 + 6 000 = 15 500 yuan over 200 points: 77.5
    assert out.funds.column("point_value").to_pylist() == [Decimal("77.5000")]
    with pytest.raises(SchemaError, match=r"discharge_date.*2021, 2022"):
        drg.clear(t, {"resident": 1_000_000}, catalog=CATALOG)
    with pytest.raises(SchemaError, match=r"discharge_date.*2021, 2022"):
        drg.provisional(drg.score(t, CATALOG).scored, {"resident": 1_000_000})


# ---- 4. coefficients that match nothing


def test_coefficients_matching_nothing_are_reported_and_each_row_says_its_coefficient():
    coef = pa.table({"hospital_id": ["h1"], "drg_code": ["GB15"], "coefficient": [1.1]})
    with pytest.warns(drg.DrgWarning, match=r"1 of 1 hospitals .*no coefficient.*H1.*1 coefficient rows match no case"):
        out = drg.score(cases(2), CATALOG, coef)
    rows = out.scored.select(["coefficient", "coefficient_source"]).to_pylist()
    assert rows == [{"coefficient": Decimal("1.0000"), "coefficient_source": "default"}] * 2
    cov = out.coverage
    assert cov["hospitals_without"] == ["H1"] and cov["unmatched_rows"] == 1 and cov["pairs_without"] == 1
    good = drg.score(cases(2), CATALOG, pa.table({"hospital_id": ["H1"], "drg_code": ["GB15"], "coefficient": [1.1]}))
    assert good.scored.column("coefficient_source").to_pylist() == ["table", "table"]
    assert good.scored.column("points").to_pylist() == [Decimal("110.0000")] * 2
    assert good.coverage["hospitals_without"] == [] and good.coverage["unmatched_rows"] == 0


def test_basic_group_coefficient_source():
    cat = pa.table({"drg_code": ["GB15"], "base_points": [100.0], "basic": [True]})
    coef = pa.table({"hospital_id": ["H1"], "drg_code": ["GB15"], "coefficient": [1.1]})
    out = drg.score(cases(1), cat, coef)
    assert out.scored.select(["coefficient", "coefficient_source"]).to_pylist() == [
        {"coefficient": Decimal("1.0000"), "coefficient_source": "basic"}
    ]


# ---- 5. units


def test_float_fen_symptom_warns():
    # 10 000 yuan meant, written as 1 000 000.0 in a float column (read as yuan): all high
    t = cases(4, total_cost=[1_000_000.0] * 4, patient_paid=[0.0] * 4)
    with pytest.warns(drg.DrgWarning, match=r"100% of the cases are high.*total_cost"):
        drg.score(t, CATALOG)


def test_budget_outside_the_plausible_range_warns():
    # fee-for-service fund total 14 000 yuan; a budget of 14 000 fen (140 yuan) is 1%
    with pytest.warns(drg.DrgWarning, match=r"budget.*resident.*1\.00% of the fee-for-service"):
        drg.clear(cases(2), {"resident": 14_000}, catalog=CATALOG)


def test_budget_in_yuan_as_decimal_equals_fen():
    a = drg.clear(cases(2), {"resident": 2_000_000}, catalog=CATALOG).funds
    b = drg.clear(cases(2), {"resident": Decimal("20000.00")}, catalog=CATALOG).funds
    assert a.equals(b)


def test_missing_patient_paid_is_refused():
    with pytest.raises(SchemaError, match="patient_paid"):
        drg.score(cases(1).drop_columns(["patient_paid"]), CATALOG)
    scored = drg.score(cases(1), CATALOG).scored.drop_columns(["patient_paid"])
    with pytest.raises(SchemaError, match="patient_paid"):
        drg.clear(scored, {"resident": 1_000_000})


# ---- 6. range checks


def test_high_multiples_below_one_are_rejected():
    with pytest.raises(
        PolicyError, match=r"high_multiple_bp: \[3, 2, 2\] is out of range; expected .*\[10000, 100000\]"
    ):
        drg.load_profile("wenzhou-2022").with_changes(high_multiple_bp=[3, 2, 2])


def test_partial_band_must_meet_the_normal_points():
    with pytest.raises(PolicyError, match=r"partial_beta_bp.*partial_upper_bp.*10000"):
        drg.load_profile("wenzhou-2022").with_changes(partial_beta_bp=3000)


def test_scenario_budget_share_and_names_are_checked():
    with pytest.raises(PolicyError, match=r"budget_bp: 105 is out of range; expected an integer in \[1000, 100000\]"):
        drg.scenarios(cases(2), {"resident": 1_000_000}, variants=[{"name": "x", "budget_bp": 105}], catalog=CATALOG)
    with pytest.raises(PolicyError, match=r"name: 'a' is used twice"):
        drg.scenarios(cases(2), {"resident": 1_000_000}, variants=[{"name": "a"}, {"name": "a"}], catalog=CATALOG)


# ---- 7. polars Categorical and Enum (unsigned dictionary indices)


@pytest.mark.parametrize("kind", ["categorical", "enum"])
def test_polars_categorical_and_enum_inputs(kind):
    t = cases(2, hospital_id=["H1", "H2"], discharge_date=[D, dt.date(2022, 4, 1)])
    df = pl.from_arrow(t)
    for col in ("hospital_id", "fund", "drg_code"):
        dtype = pl.Categorical if kind == "categorical" else pl.Enum(sorted(set(df[col].to_list())))
        df = df.with_columns(pl.col(col).cast(dtype))
    cat = pl.from_arrow(CATALOG).with_columns(pl.col("drg_code").cast(pl.Categorical))
    out = drg.score(df, cat)
    assert out.scored.column("points").to_pylist() == [Decimal("100.0000")] * 2
    again = pl.from_arrow(out.scored)
    cl = drg.clear(again, {"resident": 1_000_000})
    assert cl.funds.column("points").to_pylist() == [Decimal("200.0000")]
    assert drg.provisional(again, {"resident": 1_000_000}).num_rows == 12
    assert drg.scenarios(df, {"resident": 1_000_000}, catalog=cat).num_rows == 2
    hist = pl.concat([df] * 3).with_columns(pl.Series("case_id", range(6)))
    hosp = pl.DataFrame({"hospital_id": ["H1", "H2"], "level": ["a", "a"]}).with_columns(pl.all().cast(pl.Categorical))
    assert drg.calibrate(hist, hosp).catalog.num_rows == 1


# ---- 8. clear accepts the result of score()


def test_clear_accepts_the_score_result():
    out = drg.score(cases(2), CATALOG)
    assert drg.clear(out, {"resident": 1_000_000}).funds.equals(drg.clear(out.scored, {"resident": 1_000_000}).funds)
