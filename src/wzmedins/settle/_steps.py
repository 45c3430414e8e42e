"""The steps of settling one claim (docs/rules/settlement.md §4), one compiled function each.

Each step is a pure function of integers: the claim's amounts, the person-year's accumulators
before the claim and the parameters in force; it returns the amounts it decides, and the loop in
``_kernel.py`` adds them to the accumulators, which it keeps in registers while it settles a
person-year's claims. Steps are inlined into the loop (``_jit.step``), so a step costs what its
arithmetic costs: no call, no array, no reference count. Money is int64 fen, ratios basis points.
"""

from __future__ import annotations

from .._jit import step

BP = 10_000
# state fields, in the order of a state row (interfaces.md "state", without ids)
OUT_DED, IN_DED, ADM_P, ADM_S, ADM_T, FUND, CI_BASE, CI_PAID, MA_BASE, MA_PAID, CUR, HIST = range(12)
N_STATE = 12
# per-claim outputs, in the order of an output row
(ELIGIBLE, ACCOUNT_CURRENT, DEDUCTIBLE, FUND_OUT, COINSURANCE, OVER_CAP, CRITICAL_ILLNESS,
 MEDICAL_ASSISTANCE, ACCOUNT_HIST, CASH, RATIO_BP, CI_ADDED, MA_ADDED) = range(13)  # fmt: skip
N_OUT = 13
POOL_NONE, POOL_OUTPATIENT, POOL_INPATIENT = 0, 1, 2


@step
def half_up(n, d):
    """``n / d`` rounded half up for ``n >= 0`` (docs/rules/settlement.md §1), as
    ``wzmedins.rounding.half_up``; inlined so a constant ``d`` becomes a multiplication."""
    return (2 * n + d) // (2 * d)


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
def current_account(eligible, balance, pays):
    """Step 2: A1, paid from the current-year account's ``balance`` when ``pays`` (the scheme
    has accounts and the visit type draws on the current-year account first); at most the
    balance."""
    return min(eligible, balance) if pays else 0


@step
def outpatient_deductible(e1, used, deductible):
    """Step 3, outpatient pool: one ``deductible`` a year, of which ``used`` is met; the part
    of ``e1`` (eligible after A1) that tops it up."""
    return min(e1, max(0, deductible - used))


@step
def inpatient_deductible(e1, used, level_deductible, top_deductible, per_admission, factor):
    """Step 3, inpatient pool. Per admission: the claim's level's ``level_deductible`` times
    ``factor`` bp (the factor of the year's k-th admission); else the year's deductible is
    topped up to ``top_deductible``, that of the highest level admitted so far (this claim
    included), of which ``used`` is met."""
    if per_admission:
        return min(e1, half_up(level_deductible * factor, BP))
    return min(e1, max(0, top_deductible - used))


@step
def fund_and_cap(above, ratio, cap, used):
    """Step 4: the pooled fund pays ``half_up(above × ratio)`` of the amount ``above`` the
    deductible, up to what is left of the annual ``cap`` (``used`` paid so far). Returns
    (fund, coinsurance, over_cap): coinsurance is the person's share, over_cap what the cap
    kept from the fund."""
    raw = half_up(above * ratio, BP)
    fund = min(raw, max(0, cap - used))
    return fund, above - raw, raw - fund


@step
def band_sum(u, deductible, upper, ratio, p, c, n_bands):
    """G(u)·10 000 split as (whole, rest) for the bands ``upper[p, k]`` / ``ratio[p, c, k]``:
    G(u) = Σ_k ratio_k · max(0, min(u, upper_k) − max(upper_{k−1}, D)). Each band's length is
    split into whole 10 000s and a remainder so no product overflows."""
    whole = 0
    rest = 0
    lower = 0
    for k in range(n_bands):
        lo = max(lower, deductible)
        hi = min(u, upper[p, k])
        if hi > lo:
            seg = hi - lo
            r = ratio[p, c, k]
            whole += r * (seg // BP)
            rest += r * (seg % BP)
        lower = upper[p, k]
    return whole + half_up(rest, BP)


@step
def critical_illness(base, paid, x, deductible, upper, ratio, p, c, n_bands, cap):
    """Step 5: critical-illness insurance (大病保险) on the year's cumulative compliant amount.

    ``x`` is the claim's compliant self-paid amount (deductible + coinsurance + over_cap, plus
    class B when the profile says so), ``base`` the year's cumulative amount before it and
    ``paid`` what CI paid so far. CI pays the increase of the banded function (bands
    ``upper[p]`` and ratios ``ratio[p, c]`` in bp above ``deductible``, for the person's
    assistance class ``c``) within what is left of ``cap`` (negative: no cap)."""
    if base + x <= deductible:  # nothing above the deductible yet: no band to walk
        return 0
    raw = band_sum(base + x, deductible, upper, ratio, p, c, n_bands) - band_sum(
        base, deductible, upper, ratio, p, c, n_bands
    )
    return raw if cap < 0 else min(raw, max(0, cap - paid))


@step
def one_band(u, deductible, ratio):
    """half_up(ratio · max(0, u − D), 10 000) without overflow."""
    seg = max(0, u - deductible)
    return ratio * (seg // BP) + half_up(ratio * (seg % BP), BP)


@step
def assistance(base, paid, y, deductible, ratio, cap):
    """Step 6: medical assistance (医疗救助) on the cumulative base (``base`` before, ``y`` =
    x − CI added by this claim) above the class's ``deductible``, at its ``ratio`` bp, within
    what is left of its ``cap`` (negative: no cap; ``paid`` so far)."""
    raw = one_band(base + y, deductible, ratio) - one_band(base, deductible, ratio)
    return raw if cap < 0 else min(raw, max(0, cap - paid))


@step
def historical_account(rest, self_pay, covers_self_pay, balance):
    """Step 7: A2, paid from the historical account (历年账户) ``balance`` towards ``rest``
    (what no payer covered), less ``self_pay`` unless the account ``covers_self_pay``; at
    most the balance."""
    a2 = rest if covers_self_pay else rest - self_pay
    return max(0, min(a2, balance))


@step
def reverse(s, o, pool, level):
    """A reversal (冲正): give back to the state row ``s`` what the original's outputs ``o``
    took — deductible and admission of its ``pool`` and ``level``, fund, both bases and
    payments, both account balances."""
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


@step
def open_year(s, acc, prev, prev_acc):
    """Open a person-year with no carried state: its ``acc`` row (current, hist) when there is
    one; else the historical account is last year's closing balance (hist + the unused
    current-year account) from last year's state row ``prev``, else from last year's accounts
    row ``prev_acc``; else 0. Empty arrays mean "no such row". Only the ``N_STATE``
    accumulators of ``s`` are written (a store row carries more after them)."""
    s[:N_STATE] = 0
    if acc.shape[0]:
        s[CUR] = acc[0]
        s[HIST] = acc[1]
    elif prev.shape[0]:
        s[HIST] = prev[HIST] + prev[CUR]
    elif prev_acc.shape[0]:
        s[HIST] = prev_acc[0] + prev_acc[1]
