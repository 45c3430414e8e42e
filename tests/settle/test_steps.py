"""Each compiled step of settling a claim (``wzmedins.settle._steps``) on its own, with numbers
worked by hand from the built-in profile (resident inpatient deductibles 300 / 500 / 800 yuan,
ratios 80 / 75 / 70 %, critical illness above 20 000 yuan at 60 / 70 / 80 %, ...)."""

from __future__ import annotations

import numpy as np

import wzmedins as wz
from wzmedins.settle import _steps as s
from wzmedins.vocab import AREAS, ASSISTANCE, FACILITY_LEVELS, VISIT_TYPES

POLICY = wz.load_policy("wenzhou-2022")
POL = POLICY.compiled
RESIDENT = 2  # benefit group "resident" (third in order of appearance)
INPATIENT = VISIT_TYPES.index("inpatient")
PRIMARY, SECONDARY, TERTIARY = range(3)
assert FACILITY_LEVELS == ("primary", "secondary", "tertiary")


def state(**values) -> np.ndarray:
    row = np.zeros(s.N_STATE, dtype=np.int64)
    for name, v in values.items():
        row[getattr(s, name)] = v
    return row


def test_split():
    assert s.split(5_000_000, 100_000, 200_000) == 4_700_000


def test_lookup_with_area_adjustment_and_clamp():
    ratio = POL.ratio[0, RESIDENT, INPATIENT, TERTIARY]
    assert ratio == 7_000
    assert s.lookup(ratio, POL.area_adjust[0, AREAS.index("local")]) == 7_000
    assert s.lookup(ratio, POL.area_adjust[0, AREAS.index("national_unregistered")]) == 5_000
    assert s.lookup(ratio, -9_000) == 0 and s.lookup(ratio, 5_000) == 10_000  # kept within 0..100 %


def test_current_account_pays_up_to_the_balance():
    assert s.current_account(50_000, 30_000, True) == 30_000
    assert s.current_account(20_000, 30_000, True) == 20_000
    assert s.current_account(50_000, 30_000, False) == 0


def test_half_up_is_the_rounding_rule():
    assert [s.half_up(n, 10_000) for n in (4_999, 5_000, 15_000, 0)] == [0, 1, 2, 0]


def inpatient(e1, used, level, top, pol=POL, admissions=0):
    per_admission = pol.per_admission[0] == 1
    factor = pol.factors[0, min(admissions, pol.n_factors[0] - 1)]
    ded = pol.deductible_inpatient[0, RESIDENT]
    return s.inpatient_deductible(e1, used, ded[level], ded[top], per_admission, factor)


def test_annual_inpatient_deductible_tops_up_to_the_highest_level():
    # a primary stay used 300 yuan; a tertiary one tops the year's deductible up to 800 yuan
    assert inpatient(1_000_000, 30_000, TERTIARY, TERTIARY) == 50_000
    # a primary stay after the tertiary one: the highest level admitted (tertiary) is met
    assert inpatient(1_000_000, 80_000, PRIMARY, TERTIARY) == 0
    assert inpatient(12_345, 30_000, TERTIARY, TERTIARY) == 12_345  # all of a small bill


def test_outpatient_deductible_and_a_small_claim():
    out = POL.deductible_outpatient[0, RESIDENT]  # resident: 300 yuan a year
    assert out == 30_000
    assert s.outpatient_deductible(50_000, 20_000, out) == 10_000
    assert s.outpatient_deductible(12_345, 0, out) == 12_345  # all of it
    assert s.outpatient_deductible(50_000, 30_000, out) == 0


def test_per_admission_deductible_with_factors():
    pol = POLICY.with_changes({"inpatient_deductible.mode": "per_admission"}).compiled  # factors 100 %, 50 %, 0 %
    # the second admission: 50 % of the primary 300 yuan, whatever was used before
    assert inpatient(1_000_000, 80_000, PRIMARY, TERTIARY, pol, admissions=1) == 15_000
    assert inpatient(1_000_000, 0, PRIMARY, PRIMARY, pol, admissions=3) == 0  # the fourth: the last factor repeats
    assert inpatient(10_000, 0, TERTIARY, TERTIARY, pol, admissions=0) == 10_000  # at most the bill


def test_fund_and_cap():
    assert s.fund_and_cap(100_000, 7_000, 1_000_000, 950_000) == (50_000, 30_000, 20_000)
    assert s.fund_and_cap(1, 5_000, 10**9, 0) == (1, 0, 0)  # 0.5 fen rounds half up
    assert s.fund_and_cap(3, 5_000, 10**9, 0) == (2, 1, 0)  # 1.5 → 2
    assert s.fund_and_cap(100_000, 7_000, 1_000_000, 1_200_000) == (0, 30_000, 70_000)  # cap already passed


def ci(base, paid, x, cls=0):
    return s.critical_illness(base, paid, x, POL.ci_deductible[0, cls], POL.ci_upper, POL.ci_ratio, 0, cls,
                              POL.n_bands[0], POL.ci_cap[0, cls])  # fmt: skip


def test_critical_illness_on_the_cumulative_amount():
    assert ci(0, 0, 3_000_000) == 600_000  # 60 % of 30 000 − 20 000 yuan
    # from 30 000 to 80 000 yuan: 60 % of 20 000 + 70 % of 30 000
    assert ci(3_000_000, 600_000, 5_000_000) == 3_300_000
    assert ci(0, 0, 1_999_999) == 0 and ci(1_000_000, 0, 1_000_000) == 0  # not above the deductible
    # tekun: half the deductible, ratios + 5 points, no cap: 65 % of (30 000 − 10 000) yuan
    assert ci(0, 0, 3_000_000, ASSISTANCE.index("tekun")) == 1_300_000
    assert ci(0, 39_900_000, 3_000_000) == 100_000  # the 400 000 yuan cap leaves 1 000 yuan


def test_medical_assistance_per_class():
    dibao, dibian = ASSISTANCE.index("dibao"), ASSISTANCE.index("dibian")

    def ma(base, paid, y, cls):
        return s.assistance(base, paid, y, POL.ma_deductible[0, cls], POL.ma_ratio[0, cls], POL.ma_cap[0, cls])

    assert ma(0, 0, 1_000_000, dibao) == 900_000  # 90 %
    assert ma(0, 0, 1_000_000, dibian) == 560_000  # 80 % above 3 000 yuan
    assert ma(200_000, 0, 200_000, dibian) == 80_000  # 80 % of the 1 000 yuan above it
    assert ma(0, 9_900_000, 1_000_000, dibao) == 100_000  # 100 000 yuan cap, 1 000 left


def test_historical_account():
    assert s.historical_account(100_000, 30_000, False, 50_000) == 50_000
    assert s.historical_account(100_000, 30_000, False, 200_000) == 70_000  # not the self-paid part
    assert s.historical_account(100_000, 30_000, True, 200_000) == 100_000
    assert s.historical_account(20_000, 30_000, False, 200_000) == 0  # self-paid beyond what is left


def test_reverse_gives_back_what_the_original_took():
    o = np.zeros(s.N_OUT, dtype=np.int64)
    o[[s.ACCOUNT_CURRENT, s.DEDUCTIBLE, s.FUND_OUT, s.CI_ADDED, s.CRITICAL_ILLNESS, s.ACCOUNT_HIST, s.RATIO_BP]] = (
        1_000, 50_000, 70_000, 30_000, 6_000, 2_000, 7_000,
    )  # fmt: skip
    row = state(IN_DED=80_000, ADM_T=1, FUND=70_000, CI_BASE=30_000, CI_PAID=6_000, CUR=0, HIST=0)
    s.reverse(row, o, s.POOL_INPATIENT, TERTIARY)
    assert row.tolist() == state(IN_DED=30_000, CUR=1_000, HIST=2_000).tolist()


def test_open_year():
    none = np.zeros(0, dtype=np.int64)
    row = state(FUND=5)
    s.open_year(row, np.array([100, 200]), none, none)
    assert row.tolist() == state(CUR=100, HIST=200).tolist()
    s.open_year(row, none, state(CUR=30, HIST=70), none)  # last year's unused current account rolls over
    assert row.tolist() == state(HIST=100).tolist()
    s.open_year(row, none, none, np.array([40, 60]))
    assert row.tolist() == state(HIST=100).tolist()
    s.open_year(row, none, none, none)
    assert row.tolist() == state().tolist()
