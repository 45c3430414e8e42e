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
    row = state(CUR=30_000)
    assert s.current_account(row, 50_000, True) == 30_000 and row[s.CUR] == 0
    row = state(CUR=30_000)
    assert s.current_account(row, 50_000, False) == 0 and row[s.CUR] == 30_000


def ded(row, pool, level, e1, pol=POL):
    out, inp = pol.deductible_outpatient[0, RESIDENT], pol.deductible_inpatient[0, RESIDENT]
    return s.deductible(row, pool, level, e1, out, inp,
                        pol.per_admission[0] == 1, pol.factors[0], pol.n_factors[0])  # fmt: skip


def test_annual_inpatient_deductible_tops_up_to_the_highest_level():
    row = state(IN_DED=30_000, ADM_P=1)  # a primary stay used 300 yuan
    assert ded(row, s.POOL_INPATIENT, TERTIARY, 1_000_000) == 50_000  # 800 − 300
    assert row[s.IN_DED] == 80_000 and row[s.ADM_T] == 1
    assert ded(row, s.POOL_INPATIENT, PRIMARY, 1_000_000) == 0  # tertiary already met
    assert row[s.ADM_P] == 2


def test_outpatient_deductible_and_a_small_claim():
    row = state(OUT_DED=20_000)  # resident: 300 yuan a year
    assert ded(row, s.POOL_OUTPATIENT, PRIMARY, 50_000) == 10_000
    row = state()
    assert ded(row, s.POOL_OUTPATIENT, PRIMARY, 12_345) == 12_345  # all of it
    assert ded(state(), s.POOL_NONE, PRIMARY, 12_345) == 0


def test_per_admission_deductible_with_factors():
    pol = POLICY.with_changes({"inpatient_deductible.mode": "per_admission"}).compiled  # factors 100 %, 50 %, 0 %
    row = state(ADM_S=1)  # the second admission: 50 % of 300 yuan
    assert ded(row, s.POOL_INPATIENT, PRIMARY, 1_000_000, pol) == 15_000
    row = state(ADM_P=1, ADM_T=2)  # the fourth: the last factor repeats
    assert ded(row, s.POOL_INPATIENT, PRIMARY, 1_000_000, pol) == 0


def test_fund_and_cap():
    row = state(FUND=950_000)
    assert s.fund_and_cap(row, 100_000, 7_000, 1_000_000) == (50_000, 30_000, 20_000)
    assert row[s.FUND] == 1_000_000
    assert s.fund_and_cap(state(), 1, 5_000, 10**9) == (1, 0, 0)  # 0.5 fen rounds half up
    assert s.fund_and_cap(state(), 3, 5_000, 10**9) == (2, 1, 0)  # 1.5 → 2


def ci(row, x, cls=0):
    return s.critical_illness(row, x, POL.ci_deductible[0, cls], POL.ci_upper[0], POL.ci_ratio[0, cls], POL.n_bands[0],
                              POL.ci_cap[0, cls])  # fmt: skip


def test_critical_illness_on_the_cumulative_amount():
    row = state()
    assert ci(row, 3_000_000) == (600_000, 3_000_000)  # 60 % of 30 000 − 20 000 yuan
    # from 30 000 to 80 000 yuan: 60 % of 20 000 + 70 % of 30 000
    assert ci(row, 5_000_000) == (3_300_000, 5_000_000)
    assert row[s.CI_BASE] == 8_000_000 and row[s.CI_PAID] == 3_900_000
    # tekun: half the deductible, ratios + 5 points, no cap: 65 % of (30 000 − 10 000) yuan
    assert ci(state(), 3_000_000, ASSISTANCE.index("tekun"))[0] == 1_300_000
    capped = state(CI_PAID=39_900_000)  # the 400 000 yuan cap leaves 1 000 yuan
    assert ci(capped, 3_000_000)[0] == 100_000


def test_medical_assistance_per_class():
    one, ratio = np.full(1, np.iinfo(np.int64).max // 4, dtype=np.int64), np.zeros(1, dtype=np.int64)
    dibao, dibian = ASSISTANCE.index("dibao"), ASSISTANCE.index("dibian")

    def ma(row, base, cls):
        return s.assistance(row, base, POL.ma_deductible[0, cls], POL.ma_ratio[0, cls], POL.ma_cap[0, cls], one, ratio)

    assert ma(state(), 1_000_000, dibao) == (900_000, 1_000_000)  # 90 %
    assert ma(state(), 1_000_000, dibian)[0] == 560_000  # 80 % above 3 000 yuan
    near_cap = state(MA_PAID=9_900_000)  # 100 000 yuan cap, 1 000 left
    assert ma(near_cap, 1_000_000, dibao)[0] == 100_000


def test_historical_account():
    row = state(HIST=50_000)
    assert s.historical_account(row, 100_000, 30_000, False) == 50_000 and row[s.HIST] == 0
    row = state(HIST=200_000)
    assert s.historical_account(row, 100_000, 30_000, False) == 70_000  # not the self-paid part
    assert s.historical_account(state(HIST=200_000), 100_000, 30_000, True) == 100_000


def test_reverse_gives_back_what_the_original_took():
    o = np.zeros(s.N_OUT, dtype=np.int64)
    o[[s.ACCOUNT_CURRENT, s.DEDUCTIBLE, s.FUND_OUT, s.CI_ADDED, s.CRITICAL_ILLNESS, s.ACCOUNT_HIST, s.RATIO_BP]] = (
        1_000, 50_000, 70_000, 30_000, 6_000, 2_000, 7_000,
    )  # fmt: skip
    row = state(IN_DED=80_000, ADM_T=1, FUND=70_000, CI_BASE=30_000, CI_PAID=6_000, CUR=0, HIST=0)
    out = np.zeros((s.N_OUT, 1), dtype=np.int64)
    s.reverse(row, o, s.POOL_INPATIENT, TERTIARY, out, 0)
    assert row.tolist() == state(IN_DED=30_000, CUR=1_000, HIST=2_000).tolist()
    assert out[s.FUND_OUT, 0] == -70_000 and out[s.RATIO_BP, 0] == 7_000


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
