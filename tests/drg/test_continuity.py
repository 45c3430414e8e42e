"""docs/rules/drg.md §3: points are continuous in cost at the high and partial edges, whatever
the coefficient (the first rule jumped by H·B·(c − 1) points one fen above the high threshold)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

import wzmedins.drg as drg
from wzmedins.reference import drg as ref

D = dt.date(2022, 3, 1)
P = drg.load_profile("wenzhou-2022")


def score_costs(base_e4: int, coef_e4: int, costs_fen: list[int], p=P) -> list[tuple[str, int]]:
    n = len(costs_fen)
    cases = pa.table(
        {
            "case_id": list(range(n)),
            "person_id": [str(i) for i in range(n)],
            "hospital_id": ["H1"] * n,
            "fund": ["resident"] * n,
            "drg_code": ["GB15"] * n,
            "total_cost": pa.array(costs_fen, pa.int64()),
            "patient_paid": pa.array([0] * n, pa.int64()),
            "admit_date": [D] * n,
            "discharge_date": [D] * n,
        }
    )
    catalog = pa.table(
        {"drg_code": ["GB15"], "base_points": pa.array([Decimal(base_e4).scaleb(-4)], pa.decimal128(18, 4))}
    )
    coef = pa.table(
        {
            "hospital_id": ["H1"],
            "drg_code": ["GB15"],
            "coefficient": pa.array([Decimal(coef_e4).scaleb(-4)], pa.decimal128(18, 4)),
        }
    )
    out = drg.score(cases, catalog, coef, p).scored
    return list(
        zip(
            out.column("case_type").to_pylist(),
            [int(x.scaleb(4)) for x in out.column("points").to_pylist()],
            strict=True,
        )
    )


def test_one_fen_above_the_high_threshold_at_c_1_2_earns_one_more_fen_of_points():
    # B = 100, c = 1.2, H = 3: S = rnd(M·B·c, 10^10) = 12 420.66; threshold 37 261.98 yuan
    s = ref.score_case(
        {"drg_code": "GB15", "total_cost": 0}, {"base": 10**6, "stable": True, "basic": False, "daily": None}, 12_000, P
    )[1]
    assert s == 1_242_066
    at, above = score_costs(10**6, 12_000, [3 * s, 3 * s + 1])
    assert at == ("normal", 1_200_000)
    assert above == ("high", 1_200_000 + 1)  # rnd(10^4·100, M) = 1: one fen is 0.0001 point here
    # the first version gave 120 + (360.0000 − 300) = 180 points: a jump of 60


def test_a_coefficient_below_one_is_paid_from_the_threshold_on():
    # c = 0.9 (example 15's hospital): 10 000 yuan above the threshold earns 10 000 / M·100 points
    s = 1_117_859  # FR23, B = 120: rnd(M·1 200 000·9 000, 10^10)
    (_, at), (kind, pts) = score_costs(1_200_000, 9_000, [2 * s, 2 * s + 1_000_000])
    assert at == 1_080_000 and kind == "high"
    assert pts == 1_080_000 + 966_132  # rnd(10^6 · 1 000 000, 1 035 055) = 966 132


@given(
    base=st.integers(10_000, 5_000_000),
    coef=st.integers(8_000, 12_000),
)
def test_points_are_continuous_at_the_high_and_partial_edges(base, coef):
    s = ref.score_case(
        {"drg_code": "X", "total_cost": 0}, {"base": base, "stable": True, "basic": False, "daily": None}, coef, P
    )[1]
    h = P.high_multiple(base)
    hi_edge = h * s // 10_000  # the last cost (fen) that is not high
    pu_edge = P.partial_upper_bp * s // 10_000  # the last cost that is partial
    got = score_costs(base, coef, [hi_edge, hi_edge + 1, pu_edge, pu_edge + 1])
    one_fen = -(-(10**6) // P.reference_cost)  # at most this many e4 points per fen, rounding aside
    assert got[0][0] == "normal" and got[1][0] == "high"
    assert 0 <= got[1][1] - got[0][1] <= one_fen + 1
    assert got[2][0] == "partial" and got[3][0] == "normal"
    assert abs(got[3][1] - got[2][1]) <= one_fen + 1
