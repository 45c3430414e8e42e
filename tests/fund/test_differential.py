"""wz.fund == wz.reference.fund to the fen on random inputs under random profiles (hypothesis),
and the identities of docs/rules/fund.md §4 on every random year end."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wzmedins as wz
from wzmedins.reference import fund as twin

from . import strategies_fund as S

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WAGES = st.fixed_dictionaries({2021: st.integers(0, 3_000_000), 2022: st.integers(0, 3_000_000)})


def same(a: pa.Table, b: pa.Table) -> None:
    assert a.column_names == b.column_names
    assert a.to_pylist() == b.to_pylist()


def accepted_plus_rejected(out: pa.Table, n: int) -> None:
    reasons = out.column("reason")
    assert out.num_rows == n
    assert (n - reasons.null_count) + reasons.null_count == n


@SETTINGS
@given(S.profiles(), S.workers(), WAGES)
def test_employee_contributions(fp, workers, wages):
    out = wz.fund.employee_contributions(workers, fp, social_avg_wage=wages)
    same(out, twin.employee_contributions(workers, fp, social_avg_wage=wages))
    accepted_plus_rejected(out, workers.num_rows)
    same(wz.fund.accounts(out, fp), twin.accounts(out, fp))
    for row in out.to_pylist():  # §1: the account gets no more than is paid, except the retirees'
        if row["reason"] is None and row["category"] == "in_service":
            assert row["account_credit"] == row["individual"] >= 0


@SETTINGS
@given(S.profiles(), S.employers())
def test_employer_contributions(fp, employers):
    same(wz.fund.employer_contributions(employers, fp), twin.employer_contributions(employers, fp))


@SETTINGS
@given(S.profiles(), S.counties(), S.residents(), st.integers(0, 20_000_000), st.integers(0, 300_000))
def test_standards_and_residents(fp, counties, residents, income, policy_total):
    kw = {
        "income_prev": {2021: income, 2022: income + 1, 2029: income},
        "policy_amounts": {2022: (policy_total, policy_total // 4), 2023: (policy_total, 0), 2030: (0, 0)},
    }
    std = wz.fund.resident_standards(counties, fp, **kw)
    std_twin = twin.resident_standards(counties, fp, **kw)
    keep = ["county", "year", "urban", "city_total", "city_individual", "share_bp", "total", "individual", "reason"]
    same(std.select(keep), std_twin.select(keep))
    assert std.num_rows == 3 * counties.num_rows
    out = wz.fund.resident_contributions(residents, std, fp)
    same(out, twin.resident_contributions(residents, std, fp))
    for row in out.to_pylist():
        if row["reason"] is None:
            levels = sum(row[f"subsidy_{lv}"] for lv in fp.subsidy_levels)
            assert levels == row["subsidy"] == row["total"] - row["individual"]
            assert row["by_assistance"] + row["by_person"] == row["individual"]


@SETTINGS
@given(S.profiles(), st.lists(st.tuples(st.sampled_from(S.COUNTIES), st.integers(-10**12, 10**12),
                                        st.one_of(st.integers(0, 10**11), st.just(-5))), max_size=12))  # fmt: skip
def test_legacy(fp, rows):
    t = pa.table({"county": [r[0] for r in rows], "balance": pa.array([r[1] for r in rows], pa.int64()),
                  "monthly_expenditure": pa.array([r[2] for r in rows], pa.int64())})  # fmt: skip
    out = wz.fund.legacy(t, fp)
    same(out, twin.legacy(t, fp))
    for row in out.to_pylist():
        if row["reason"] is None:
            assert row["transferred"] + row["retained"] - row["county_debt"] == row["balance"]


def check_identities(res) -> None:
    """docs/rules/fund.md §4: a gap is covered exactly; a surplus is placed exactly."""
    city = res.city.to_pylist()[0]
    rows = [r for r in res.counties.to_pylist() if r["reason"] is None]
    total = {k: sum(r[k] for r in rows) for k in ("responsibility", "reward", "gap_share")}
    assert all(r[k] >= 0 for r in rows for k in ("shortfall", "overspend", "responsibility", "reward", "gap_share"))
    if city["delta"] < 0:
        assert -city["delta"] == (
            total["responsibility"] + city["from_balance"] + city["from_reserve"] + city["city_part"]
            + total["gap_share"]
        )  # fmt: skip
        assert total["reward"] == 0 and city["to_reserve"] == 0
        assert city["balance"] == city["balance_before"] - city["from_balance"]
        assert city["reserve"] == city["reserve_before"] - city["from_reserve"] >= 0
    else:
        assert city["delta"] == total["reward"] + city["to_reserve"] + city["balance"] - city["balance_before"]
        assert total["responsibility"] == total["gap_share"] == city["city_part"] == 0
        assert city["reserve"] == city["reserve_before"] + city["to_reserve"]


@SETTINGS
@given(S.profiles(), S.county_years(), st.integers(-(10**12), 10**12), st.integers(0, 10**12))
def test_year_end(fp, county_year, balance, reserve):
    res = wz.fund.year_end(county_year, fp, balance=balance, reserve=reserve)
    ref = twin.year_end(county_year, fp, balance=balance, reserve=reserve)
    same(res.counties, ref.counties)
    same(res.city, ref.city)
    check_identities(res)


@SETTINGS
@given(S.profiles(), S.county_years(big=False), st.integers(0, 10**7), st.integers(0, 10**6))
def test_year_end_small_amounts(fp, county_year, balance, reserve):
    """Small amounts make every step of the gap order matter (balance, reserve, city, counties)."""
    res = wz.fund.year_end(county_year, fp, balance=balance, reserve=reserve)
    same(res.counties, twin.year_end(county_year, fp, balance=balance, reserve=reserve).counties)
    check_identities(res)


@SETTINGS
@given(S.profiles(), S.county_years(), st.integers(0, 10**13))
def test_budget(fp, county_year, forecast):
    out = wz.fund.budget(county_year, fp, revenue_forecast=forecast)
    same(out, twin.budget(county_year, fp, revenue_forecast=forecast))
    used = [r for r in out.to_pylist() if r["reason"] is None]
    grown, final = sum(r["grown"] for r in used), sum(r["budget_next"] for r in used)
    assert final <= grown
    if used and grown > used[0]["cap"]:  # scaled down to the cap (docs/rules/fund.md §5)
        assert final <= used[0]["cap"]


@SETTINGS
@given(S.profiles(), S.monthly(), st.integers(-(10**6), 10**7))
def test_warning(fp, monthly, opening):
    kw = {"opening": {None: opening, "ruian": -opening}}
    same(wz.fund.warning(monthly, fp, **kw), twin.warning(monthly, fp, **kw))
