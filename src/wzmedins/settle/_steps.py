"""The steps of settling one claim (docs/rules/settlement.md §4), one compiled function each.

Every function works on one claim and on ``s``, the person-year's state row (int64, the
fields of ``STATE``), which it updates in place. Money is int64 fen, ratios basis points;
``pol`` is the :class:`~wzmedins.policy.compile.CompiledPolicy` and ``p`` the index of the
profile in force. The loop in ``_kernel.py`` calls them in this order.
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
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


@kernel
def split(total, self_pay, class_b):
    """Step 0: the eligible amount E = total − self_pay − class_b_self_pay (政策范围内费用)."""
    return total - self_pay - class_b


@kernel
def lookup(pol, p, group, visit, level, area):
    """Step 1: the payment ratio in bp for benefit ``group``, visit type and facility
    ``level`` codes, plus the adjustment of ``area``, kept within 0..10 000."""
    ratio = pol.ratio[p, group, visit, level] + pol.area_adjust[p, area]
    return min(max(ratio, 0), BP)


@kernel
def current_account(s, eligible, pays):
    """Step 2: A1, paid from the current-year account when ``pays`` (the scheme has accounts
    and the visit type draws on the current-year account first); at most the balance."""
    if not pays:
        return 0
    a1 = min(eligible, s[CUR])
    s[CUR] -= a1
    return a1


@kernel
def deductible(s, pol, p, group, pool, level, e1):
    """Step 3: the part ``d`` of ``e1`` (eligible after A1) that goes to the deductible (起付).

    ``pool`` is the visit type's deductible pool (POOL_OUTPATIENT: annual, topped up to
    ``deductible_outpatient[group]``; POOL_INPATIENT: per admission with the profile's
    factors by admission count, or annual at the highest ``level`` admitted this year).
    An inpatient claim counts as an admission at its ``level``.
    """
    d = 0
    if pool == POOL_OUTPATIENT:
        d = min(e1, max(0, pol.deductible_outpatient[p, group] - s[OUT_DED]))
        s[OUT_DED] += d
    elif pool == POOL_INPATIENT:
        if pol.per_admission[p] == 1:
            k = s[ADM_P] + s[ADM_S] + s[ADM_T]
            f = pol.factors[p, min(k, pol.n_factors[p] - 1)]
            d = min(e1, rnd(pol.deductible_inpatient[p, group, level] * f, BP))
        else:
            top = level
            for lvl in range(level + 1, 3):
                if s[ADM_P + lvl] > 0:
                    top = lvl
            d = min(e1, max(0, pol.deductible_inpatient[p, group, top] - s[IN_DED]))
        s[IN_DED] += d
        s[ADM_P + level] += 1
    return d


@kernel
def fund_and_cap(s, above, ratio, cap):
    """Step 4: the pooled fund pays ``rnd(above × ratio)`` of the amount ``above`` the
    deductible, up to what is left of the annual ``cap``. Returns (fund, coinsurance,
    over_cap): coinsurance is the person's share, over_cap what the cap kept from the fund."""
    raw = rnd(above * ratio, BP)
    fund = min(raw, max(0, cap - s[FUND]))
    s[FUND] += fund
    return fund, above - raw, raw - fund


@kernel
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


@kernel
def critical_illness(s, x, pol, p, assistance):
    """Step 5: critical-illness insurance (大病保险) on the year's cumulative compliant amount.

    ``x`` is the claim's compliant self-paid amount (deductible + coinsurance + over_cap, plus
    class B when the profile says so); CI pays the increase of the banded function over the
    cumulative base, within the cap for the ``assistance`` class. Returns (ci, x added).
    """
    u0 = s[CI_BASE]
    ded = pol.ci_deductible[p, assistance]
    nb = pol.n_bands[p]
    upper = pol.ci_upper[p]
    ratio = pol.ci_ratio[p, assistance]
    raw = banded(u0 + x, ded, upper, ratio, nb) - banded(u0, ded, upper, ratio, nb)
    cap = pol.ci_cap[p, assistance]
    ci = raw if cap < 0 else min(raw, max(0, cap - s[CI_PAID]))
    s[CI_BASE] = u0 + x
    s[CI_PAID] += ci
    return ci, x


@kernel
def assistance(s, base, pol, p, cls, one_band, ratio_band):
    """Step 6: medical assistance (医疗救助) for assistance class ``cls`` on the cumulative
    ``base`` (x − CI) above its deductible, at its ratio, within its cap. ``one_band`` and
    ``ratio_band`` are one-element scratch arrays. Returns (ma, base added)."""
    u0 = s[MA_BASE]
    ded = pol.ma_deductible[p, cls]
    ratio_band[0] = pol.ma_ratio[p, cls]
    raw = banded(u0 + base, ded, one_band, ratio_band, 1) - banded(u0, ded, one_band, ratio_band, 1)
    cap = pol.ma_cap[p, cls]
    ma = raw if cap < 0 else min(raw, max(0, cap - s[MA_PAID]))
    s[MA_BASE] = u0 + base
    s[MA_PAID] += ma
    return ma, base


@kernel
def historical_account(s, rest, self_pay, covers_self_pay):
    """Step 7: A2, paid from the historical account (历年账户) towards ``rest`` (what no payer
    covered), less ``self_pay`` unless the account ``covers_self_pay``; at most the balance."""
    a2 = rest if covers_self_pay else rest - self_pay
    a2 = max(0, min(a2, s[HIST]))
    s[HIST] -= a2
    return a2


@kernel
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


@kernel
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
