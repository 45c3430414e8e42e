"""The steps of settling one claim (docs/rules/settlement.md §4), one compiled function each.

Every function works on one claim and on ``s``, the person-year's state row (int64, the
fields below), which it updates in place. Money is int64 fen, ratios basis points. The
parameters are the values the loop in ``_kernel.py`` reads from the compiled policy for the
claim's profile, group and codes: a step never sees the whole policy (passing the policy's
tuple of arrays into a step cost a reference count per array per claim: four times slower).
"""

from __future__ import annotations

from .._jit import step
from ..rounding import rnd

BP = 10_000
# state fields, in the order of a state row (interfaces.md "state", without ids)
OUT_DED, IN_DED, ADM_P, ADM_S, ADM_T, FUND, CI_BASE, CI_PAID, MA_BASE, MA_PAID, CUR, HIST = range(12)
N_STATE = 12
# per-claim outputs, in the order of the ``out`` array rows
(ELIGIBLE, ACCOUNT_CURRENT, DEDUCTIBLE, FUND_OUT, COINSURANCE, OVER_CAP, CRITICAL_ILLNESS,
 MEDICAL_ASSISTANCE, ACCOUNT_HIST, CASH, RATIO_BP, CI_ADDED, MA_ADDED) = range(13)  # fmt: skip
N_OUT = 13
POOL_NONE, POOL_OUTPATIENT, POOL_INPATIENT = 0, 1, 2


@step
def split(total, self_pay, class_b):
    """Step 0: the eligible amount E = total − self_pay − class_b_self_pay (政策范围内费用)."""
    return total - self_pay - class_b


@step
def lookup(ratio, area_adjust):
    """Step 1: the payment ratio in bp — the profile's ratio for the claim's benefit group,
    visit type and level (``ratio``) plus the adjustment of its area — kept within 0..10 000."""
    return min(max(ratio + area_adjust, 0), BP)


@step
def current_account(s, eligible, pays):
    """Step 2: A1, paid from the current-year account when ``pays`` (the scheme has accounts
    and the visit type draws on the current-year account first); at most the balance."""
    if not pays:
        return 0
    a1 = min(eligible, s[CUR])
    s[CUR] -= a1
    return a1


@step
def deductible(s, pool, level, e1, outpatient, inpatient, per_admission, factors, n_factors):
    """Step 3: the part ``d`` of ``e1`` (eligible after A1) that goes to the deductible (起付).

    ``pool`` is the visit type's deductible pool. POOL_OUTPATIENT: one deductible a year,
    ``outpatient`` fen, topped up. POOL_INPATIENT: ``inpatient`` holds the deductible per
    facility level; with ``per_admission`` each admission pays its ``level``'s deductible times
    ``factors[k]`` bp for the (k+1)-th admission of the year (the last of ``n_factors`` repeats),
    else the year's deductible is topped up to that of the highest level admitted so far. An
    inpatient claim counts as an admission at its ``level``.
    """
    d = 0
    if pool == POOL_OUTPATIENT:
        d = min(e1, max(0, outpatient - s[OUT_DED]))
        s[OUT_DED] += d
    elif pool == POOL_INPATIENT:
        if per_admission:
            k = s[ADM_P] + s[ADM_S] + s[ADM_T]
            f = factors[min(k, n_factors - 1)]
            d = min(e1, rnd(inpatient[level] * f, BP))
        else:
            top = level
            for lvl in range(level + 1, 3):
                if s[ADM_P + lvl] > 0:
                    top = lvl
            d = min(e1, max(0, inpatient[top] - s[IN_DED]))
        s[IN_DED] += d
        s[ADM_P + level] += 1
    return d


@step
def fund_and_cap(s, above, ratio, cap):
    """Step 4: the pooled fund pays ``rnd(above × ratio)`` of the amount ``above`` the
    deductible, up to what is left of the annual ``cap``. Returns (fund, coinsurance,
    over_cap): coinsurance is the person's share, over_cap what the cap kept from the fund."""
    raw = rnd(above * ratio, BP)
    fund = min(raw, max(0, cap - s[FUND]))
    s[FUND] += fund
    return fund, above - raw, raw - fund


@step
def banded(u, deductible, upper, ratio, n_bands):
    """rnd(G(u), 10 000) for G(u) = Σ_k ratio_k · max(0, min(u, upper_k) − max(upper_{k−1}, D)).

    Each band's length is split into whole 10 000s and a remainder so no product overflows.
    """
    whole = 0
    rest = 0
    lower = 0
    for k in range(n_bands):
        lo = max(lower, deductible)
        hi = min(u, upper[k])
        if hi > lo:
            seg = hi - lo
            whole += ratio[k] * (seg // BP)
            rest += ratio[k] * (seg % BP)
        lower = upper[k]
    return whole + rnd(rest, BP)


@step
def critical_illness(s, x, deductible, upper, ratio, n_bands, cap):
    """Step 5: critical-illness insurance (大病保险) on the year's cumulative compliant amount.

    ``x`` is the claim's compliant self-paid amount (deductible + coinsurance + over_cap, plus
    class B when the profile says so). CI pays the increase of the banded function (bands of
    ``upper`` bounds and ``ratio`` bp above ``deductible``, for the person's assistance class)
    over the cumulative base, within what is left of ``cap`` (negative: no cap).
    Returns (ci, x added to the base).
    """
    u0 = s[CI_BASE]
    raw = banded(u0 + x, deductible, upper, ratio, n_bands) - banded(u0, deductible, upper, ratio, n_bands)
    ci = raw if cap < 0 else min(raw, max(0, cap - s[CI_PAID]))
    s[CI_BASE] = u0 + x
    s[CI_PAID] += ci
    return ci, x


@step
def assistance(s, base, deductible, ratio, cap, one_band, ratio_band):
    """Step 6: medical assistance (医疗救助) on the cumulative ``base`` (x − CI) above the
    class's ``deductible``, at its ``ratio`` bp, within what is left of its ``cap`` (negative:
    no cap). ``one_band`` and ``ratio_band`` are one-element scratch arrays.
    Returns (ma, base added)."""
    u0 = s[MA_BASE]
    ratio_band[0] = ratio
    raw = banded(u0 + base, deductible, one_band, ratio_band, 1) - banded(u0, deductible, one_band, ratio_band, 1)
    ma = raw if cap < 0 else min(raw, max(0, cap - s[MA_PAID]))
    s[MA_BASE] = u0 + base
    s[MA_PAID] += ma
    return ma, base


@step
def historical_account(s, rest, self_pay, covers_self_pay):
    """Step 7: A2, paid from the historical account (历年账户) towards ``rest`` (what no payer
    covered), less ``self_pay`` unless the account ``covers_self_pay``; at most the balance."""
    a2 = rest if covers_self_pay else rest - self_pay
    a2 = max(0, min(a2, s[HIST]))
    s[HIST] -= a2
    return a2


@step
def reverse(s, o, pool, level, out, r):
    """A reversal (冲正): the outputs ``o`` of the original, negated into column ``r`` of
    ``out`` (the ratio kept), and given back to the state: deductible and admission of its
    ``pool`` and ``level``, fund, both bases and payments, both account balances."""
    s[CUR] += o[ACCOUNT_CURRENT]
    if pool == POOL_OUTPATIENT:
        s[OUT_DED] -= o[DEDUCTIBLE]
    elif pool == POOL_INPATIENT:
        s[IN_DED] -= o[DEDUCTIBLE]
        s[ADM_P + level] -= 1
    s[FUND] -= o[FUND_OUT]
    s[CI_BASE] -= o[CI_ADDED]
    s[CI_PAID] -= o[CRITICAL_ILLNESS]
    s[MA_BASE] -= o[MA_ADDED]
    s[MA_PAID] -= o[MEDICAL_ASSISTANCE]
    s[HIST] += o[ACCOUNT_HIST]
    for j in range(N_OUT):
        out[j, r] = -o[j]
    out[RATIO_BP, r] = o[RATIO_BP]


@step
def open_year(s, acc, prev, prev_acc):
    """Open a person-year with no carried state: its ``acc`` row (current, hist) when there is
    one; else the historical account is last year's closing balance (hist + the unused
    current-year account) from last year's state row ``prev``, else from last year's accounts
    row ``prev_acc``; else 0. Empty arrays mean "no such row"."""
    s[:] = 0
    if acc.shape[0]:
        s[CUR] = acc[0]
        s[HIST] = acc[1]
    elif prev.shape[0]:
        s[HIST] = prev[HIST] + prev[CUR]
    elif prev_acc.shape[0]:
        s[HIST] = prev_acc[0] + prev_acc[1]
