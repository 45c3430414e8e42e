"""The settlement kernel: one pass over claims in person order (settlement.md §4, §5).

Only numpy arrays and scalars come in; outputs are allocated by the caller. The claim arrays
are already in settlement order (person, year, date, seq, input position): the wrapper
gathers them once, so the loop reads and writes memory in sequence.
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from ..rounding import rnd

BP = 10_000
# state fields, in the order of the ``state`` arrays (interfaces.md "state", without ids)
OUT_DED, IN_DED, ADM_P, ADM_S, ADM_T, FUND, CI_BASE, CI_PAID, MA_BASE, MA_PAID, CUR, HIST = range(12)
N_STATE = 12
# per-claim outputs, in the order of the ``out`` array rows ([field, claim]: claims come in
# sequence, so each field is written as one stream)
(ELIGIBLE, ACCOUNT_CURRENT, DEDUCTIBLE, FUND_OUT, COINSURANCE, OVER_CAP, CRITICAL_ILLNESS,
 MEDICAL_ASSISTANCE, ACCOUNT_HIST, CASH, RATIO_BP, CI_ADDED, MA_ADDED) = range(13)  # fmt: skip
N_OUT = 13
OUTPUT_FIELDS = (
    "eligible", "account_current", "deductible", "fund", "coinsurance", "over_cap",
    "critical_illness", "medical_assistance", "account_hist", "cash", "ratio_bp",
    "ci_base_added", "ma_base_added",
)  # fmt: skip
POOL_OUTPATIENT, POOL_INPATIENT = 1, 2


@kernel
def rnd_banded(u, deductible, upper, ratio, n_bands):
    """rnd(G(u), 10 000) for G(u) = sum_k ratio_k * max(0, min(u, upper_k) - max(upper_{k-1}, D)).

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
def _find(ptr, years, code, year):
    """Row of (person code, year) in a CSR table sorted by (code, year), or -1."""
    for k in range(ptr[code], ptr[code + 1]):
        if years[k] == year:
            return k
    return -1


@kernel
def settle_kernel(
    person, year, profile, scheme, category, visit, level, area, assistance,
    total, self_pay, class_b, rev_kind, rev_index, orig_vals,
    pol,
    visit_pool,
    st_ptr, st_year, st_vals, acc_ptr, acc_year, acc_vals,
    out, st_out_person, st_out_year, st_out_vals, st_used,
):  # fmt: skip
    """Settle claims given in settlement order; returns the number of state rows written."""
    s = np.zeros(N_STATE, dtype=np.int64)
    n_state = 0
    m = person.shape[0]
    i = 0
    one_band = np.full(1, np.iinfo(np.int64).max // 4, dtype=np.int64)
    ma_ratio_band = np.zeros(1, dtype=np.int64)
    while i < m:
        code = person[i]
        cur_year = -1
        prev_year = -1
        prev_closing = 0
        while i < m and person[i] == code:
            r = i
            y = year[r]
            if y != cur_year:
                if cur_year != -1:
                    st_out_person[n_state] = code
                    st_out_year[n_state] = cur_year
                    st_out_vals[n_state, :] = s
                    n_state += 1
                    prev_year = cur_year
                    prev_closing = s[HIST] + s[CUR]
                # open (person, y): carried state, else accounts row, else roll last year over
                k = _find(st_ptr, st_year, code, y)
                if k >= 0:
                    s[:] = st_vals[k, :]
                    st_used[k] = True
                else:
                    s[:] = 0
                    a = _find(acc_ptr, acc_year, code, y)
                    if a >= 0:
                        s[CUR] = acc_vals[a, 0]
                        s[HIST] = acc_vals[a, 1]
                    elif prev_year == y - 1 and prev_year != -1:
                        s[HIST] = prev_closing
                    else:
                        k1 = _find(st_ptr, st_year, code, y - 1)
                        if k1 >= 0:
                            s[HIST] = st_vals[k1, HIST] + st_vals[k1, CUR]
                        else:
                            a1 = _find(acc_ptr, acc_year, code, y - 1)
                            if a1 >= 0:
                                s[HIST] = acc_vals[a1, 0] + acc_vals[a1, 1]
                cur_year = y

            v = visit[r]
            lv = level[r]
            if rev_kind[r] != 0:
                # a reversal: negate the original's outputs, give back what it took
                # IN_BATCH: the original's position in this order (earlier); EARLIER: its row
                o = out[:, rev_index[r]] if rev_kind[r] == 1 else orig_vals[rev_index[r]]
                s[CUR] += o[ACCOUNT_CURRENT]
                if visit_pool[v] == POOL_OUTPATIENT:
                    s[OUT_DED] -= o[DEDUCTIBLE]
                elif visit_pool[v] == POOL_INPATIENT:
                    s[IN_DED] -= o[DEDUCTIBLE]
                    s[ADM_P + lv] -= 1
                s[FUND] -= o[FUND_OUT]
                s[CI_BASE] -= o[CI_ADDED]
                s[CI_PAID] -= o[CRITICAL_ILLNESS]
                s[MA_BASE] -= o[MA_ADDED]
                s[MA_PAID] -= o[MEDICAL_ASSISTANCE]
                s[HIST] += o[ACCOUNT_HIST]
                for j in range(N_OUT):
                    out[j, r] = -o[j]
                out[RATIO_BP, r] = o[RATIO_BP]
                i += 1
                continue
            p = profile[r]
            sc = scheme[r]
            asst = assistance[r]
            g = pol.group[p, category[r]]
            sp = self_pay[r]
            cb = class_b[r]
            # step 0 and 1
            eligible = total[r] - sp - cb
            ratio = pol.ratio[p, g, v, lv] + pol.area_adjust[p, area[r]]
            ratio = min(max(ratio, 0), BP)
            # step 2: current-year account
            a1 = 0
            if pol.account_scheme[p, sc] == 1 and pol.current_first[p, v] == 1:
                a1 = min(eligible, s[CUR])
                s[CUR] -= a1
            e1 = eligible - a1
            # step 3: deductible
            pool = visit_pool[v]
            d = 0
            if pool == POOL_OUTPATIENT:
                d = min(e1, max(0, pol.deductible_outpatient[p, g] - s[OUT_DED]))
                s[OUT_DED] += d
            elif pool == POOL_INPATIENT:
                if pol.per_admission[p] == 1:
                    k = s[ADM_P] + s[ADM_S] + s[ADM_T]
                    f = pol.factors[p, min(k, pol.n_factors[p] - 1)]
                    d = min(e1, rnd(pol.deductible_inpatient[p, g, lv] * f, BP))
                else:
                    top = lv
                    for lvl in range(lv + 1, 3):
                        if s[ADM_P + lvl] > 0:
                            top = lvl
                    d = min(e1, max(0, pol.deductible_inpatient[p, g, top] - s[IN_DED]))
                s[IN_DED] += d
                s[ADM_P + lv] += 1
            # step 4: pooled fund
            b = e1 - d
            raw = rnd(b * ratio, BP)
            fund = min(raw, max(0, pol.fund_cap[p, sc] - s[FUND]))
            s[FUND] += fund
            coins = b - raw
            over = raw - fund
            x = d + coins + over
            if pol.ci_includes_class_b[p] == 1:
                x += cb
            # step 5: critical illness on the cumulative compliant amount
            ci = 0
            ci_added = 0
            if pol.ci_scheme[p, sc] == 1 and pol.ci_visit[p, v] == 1:
                u0 = s[CI_BASE]
                ded = pol.ci_deductible[p, asst]
                nb = pol.n_bands[p]
                raw_ci = rnd_banded(u0 + x, ded, pol.ci_upper[p], pol.ci_ratio[p, asst], nb) - rnd_banded(
                    u0, ded, pol.ci_upper[p], pol.ci_ratio[p, asst], nb
                )
                cap = pol.ci_cap[p, asst]
                ci = raw_ci if cap < 0 else min(raw_ci, max(0, cap - s[CI_PAID]))
                s[CI_BASE] = u0 + x
                s[CI_PAID] += ci
                ci_added = x
            # step 6: medical assistance on the cumulative base x - CI
            ma = 0
            ma_added = 0
            if asst != 0 and pol.ma_visit[p, v] == 1:
                base = x - ci
                u0 = s[MA_BASE]
                ded = pol.ma_deductible[p, asst]
                ma_ratio_band[0] = pol.ma_ratio[p, asst]
                raw_ma = rnd_banded(u0 + base, ded, one_band, ma_ratio_band, 1) - rnd_banded(
                    u0, ded, one_band, ma_ratio_band, 1
                )
                cap = pol.ma_cap[p, asst]
                ma = raw_ma if cap < 0 else min(raw_ma, max(0, cap - s[MA_PAID]))
                s[MA_BASE] = u0 + base
                s[MA_PAID] += ma
                ma_added = base
            # step 7: historical account, then cash
            rest = total[r] - a1 - fund - ci - ma
            a2 = 0
            if pol.account_scheme[p, sc] == 1 and pol.hist_pays[p] == 1:
                a2 = rest if pol.hist_covers_self_pay[p] == 1 else rest - sp
                a2 = max(0, min(a2, s[HIST]))
                s[HIST] -= a2

            out[ELIGIBLE, r] = eligible
            out[ACCOUNT_CURRENT, r] = a1
            out[DEDUCTIBLE, r] = d
            out[FUND_OUT, r] = fund
            out[COINSURANCE, r] = coins
            out[OVER_CAP, r] = over
            out[CRITICAL_ILLNESS, r] = ci
            out[MEDICAL_ASSISTANCE, r] = ma
            out[ACCOUNT_HIST, r] = a2
            out[CASH, r] = rest - a2
            out[RATIO_BP, r] = ratio
            out[CI_ADDED, r] = ci_added
            out[MA_ADDED, r] = ma_added
            i += 1
        st_out_person[n_state] = code
        st_out_year[n_state] = cur_year
        st_out_vals[n_state, :] = s
        n_state += 1
    return n_state


@kernel
def person_order(codes, key, n_persons):
    """Stable order of rows by (person code, key): a counting sort by person, then each
    person's few rows sorted by key (insertion sort, or merge sort for long runs)."""
    m = codes.shape[0]
    start = np.zeros(n_persons + 1, dtype=np.int64)
    for i in range(m):
        start[codes[i] + 1] += 1
    for c in range(n_persons):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    out = np.empty(m, dtype=np.int64)
    for i in range(m):
        c = codes[i]
        out[fill[c]] = i
        fill[c] += 1
    for c in range(n_persons):
        lo = start[c]
        hi = start[c + 1]
        if hi - lo > 32:
            run = out[lo:hi].copy()
            out[lo:hi] = run[np.argsort(key[run], kind="mergesort")]
            continue
        for j in range(lo + 1, hi):
            v = out[j]
            kv = key[v]
            h = j - 1
            while h >= lo and key[out[h]] > kv:
                out[h + 1] = out[h]
                h -= 1
            out[h + 1] = v
    return out
