"""Hypothesis strategies for the fund: random profiles and random (often bad) input rows."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import strategies as st

import wzmedins as wz

BASE = wz.fund.load_profile("wenzhou-2022")
COUNTIES = BASE.counties
bp = st.integers(0, 10_000)


@st.composite
def profiles(draw):
    """The built-in profile with random rates, shares, bands and windows."""
    floor = draw(st.integers(0, 50_000))
    shares = draw(st.lists(bp, min_size=1, max_size=4))
    split = draw(st.integers(0, 10_000))
    split2 = draw(st.integers(0, 10_000 - split))
    bands = sorted(draw(st.lists(st.integers(0, 400), min_size=3, max_size=3, unique=True)))
    changes = {
        "employer_rate_bp": draw(bp),
        "individual_rate_bp": draw(bp),
        "flexible_rate_bp": draw(bp),
        "retired_rate_bp": draw(bp),
        "floor_bp": floor,
        "ceiling_bp": draw(st.integers(floor, 100_000)),
        "retired_account_annual": draw(st.integers(0, 10**7)),
        "min_income_share_bp": draw(bp),
        "individual_min_third": draw(st.booleans()),
        "transition_base_year": draw(st.integers(2019, 2022)),
        "transition_share_bp": {str(2022 + k): s for k, s in enumerate(shares)},
        "assistance_pays_bp": {a: draw(bp) for a in ("none", "tekun", "dibao", "dibian", "zhichu")},
        "subsidy_split_bp": {"default": [split, split2, 10_000 - split - split2], "taishun": [10_000, 0, 0]},
        "capacity_months": draw(st.integers(0, 24)),
        "tolerance_bp": draw(bp),
        "shortfall_share_bp": draw(bp),
        "overspend_share_bp": draw(bp),
        "city_share_bp": draw(bp),
        "reward_bp": draw(bp),
        "reserve_rate_bp": draw(bp),
        "reserve_cap_months": draw(st.integers(0, 24)),
        "growth_bp": draw(st.integers(-10_000, 20_000)),
        "warning_window_months": draw(st.integers(1, 12)),
        "warning_bands": bands,
    }
    return BASE.with_changes(changes)


county = st.one_of(st.sampled_from(COUNTIES), st.sampled_from(["nowhere", None]))
money = st.one_of(st.integers(0, 10**9), st.integers(-(10**6), 10**13), st.none())


def table(rows: list[dict], schema: list[tuple[str, pa.DataType]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=pa.schema(schema))


@st.composite
def workers(draw):
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "person_id": st.one_of(st.sampled_from(["p1", "p2", "p3", "p4"]), st.none()),
                    "year": st.one_of(st.sampled_from([2021, 2022, 2023]), st.none()),
                    "county": county,
                    "category": st.one_of(st.sampled_from(["in_service", "flexible", "retired", "adult"]), st.none()),
                    "wage_prev": money,
                    "months": st.one_of(st.integers(-1, 14), st.none()),
                }
            ),
            max_size=25,
        )
    )
    schema = [("person_id", pa.string()), ("year", pa.int32()), ("county", pa.string()), ("category", pa.string()),
              ("wage_prev", pa.int64()), ("months", pa.int64())]  # fmt: skip
    return table(rows, schema)


@st.composite
def employers(draw):
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "employer_id": st.one_of(st.sampled_from(["E1", "E2"]), st.none()),
                    "county": county,
                    "year": st.sampled_from([2022, 2023]),
                    "month": st.one_of(st.integers(0, 13), st.none()),
                    "payroll": money,
                }
            ),
            max_size=20,
        )
    )
    schema = [("employer_id", pa.string()), ("county", pa.string()), ("year", pa.int32()), ("month", pa.int32()),
              ("payroll", pa.int64())]  # fmt: skip
    return table(rows, schema)


@st.composite
def counties(draw):
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "county": county,
                    "urban": st.one_of(st.booleans(), st.none()),
                    "base_total": st.one_of(st.integers(0, 500_000), st.integers(-10, 10), st.none()),
                    "base_individual": st.one_of(st.integers(0, 200_000), st.none()),
                }
            ),
            max_size=8,
        )
    )
    schema = [
        ("county", pa.string()),
        ("urban", pa.bool_()),
        ("base_total", pa.int64()),
        ("base_individual", pa.int64()),
    ]
    return table(rows, schema)


@st.composite
def residents(draw):
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "person_id": st.one_of(st.integers(1, 5), st.none()),
                    "year": st.sampled_from([2022, 2023, 2030]),
                    "county": county,
                    "assistance": st.one_of(
                        st.sampled_from(["none", "tekun", "dibao", "dibian", "zhichu", "rich"]), st.none()
                    ),  # fmt: skip
                }
            ),
            max_size=25,
        )
    )
    schema = [("person_id", pa.int64()), ("year", pa.int32()), ("county", pa.string()), ("assistance", pa.string())]
    return table(rows, schema)


@st.composite
def county_years(draw, big: bool = True):
    """County rows of one scheme; mostly good, sometimes bad."""
    amount = st.integers(0, 10**12 if big else 10**6)
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "county": st.one_of(st.sampled_from(COUNTIES), st.just("nowhere")),
                    "revenue": amount,
                    "target": amount,
                    "expenditure": amount,
                    "budget": amount,
                }  # fmt: skip
            ),
            min_size=1,
            max_size=12,
        )
    )
    if draw(st.booleans()) and rows:
        rows[0]["revenue"] = -1
    schema = [("county", pa.string())] + [(k, pa.int64()) for k in ("revenue", "target", "expenditure", "budget")]
    return table(rows, schema)


@st.composite
def monthly(draw):
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "county": st.one_of(st.sampled_from(["lucheng", "ruian"]), st.sampled_from(["nowhere", None])),
                    "year": st.sampled_from([2022, 2023]),
                    "month": st.one_of(st.integers(0, 13), st.none()),
                    "revenue": st.one_of(st.integers(0, 10**6), st.just(-1)),
                    "expenditure": st.one_of(st.integers(0, 10**6), st.just(0)),
                    "balance": st.one_of(st.integers(-(10**6), 10**7), st.none()),
                }
            ),
            max_size=40,
        )
    )
    schema = [("county", pa.string()), ("year", pa.int32()), ("month", pa.int32()), ("revenue", pa.int64()),
              ("expenditure", pa.int64()), ("balance", pa.int64())]  # fmt: skip
    return table(rows, schema)
