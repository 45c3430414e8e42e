"""The settlement loop: claims in settlement order, each settled by the steps of ``_steps``
(settlement.md §4, §5) against its person-year's state row in the store, updated in place.

Only numpy arrays and scalars come in; outputs are allocated by the caller. The claim arrays
are already in settlement order (person, year, date, seq, input position), gathered once so the
loop reads and writes memory in sequence. ``settle_parallel`` runs disjoint ranges of persons
on the threads of numba's pool: a person-year's row is only ever touched by its own person's
claims, so the ranges never share a row and the result does not depend on the threads.
"""

from __future__ import annotations

import numba
import numpy as np

from .._jit import PREFETCH_AHEAD as AHEAD
from .._jit import kernel, parallel_kernel, prefetch, prefetch1, step
from ._steps import (
    ACCOUNT_CURRENT,
    ACCOUNT_HIST,
    ADM_P,
    ADM_S,
    ADM_T,
    CASH,
    CI_ADDED,
    CI_BASE,
    CI_PAID,
    COINSURANCE,
    CRITICAL_ILLNESS,
    CUR,
    DEDUCTIBLE,
    ELIGIBLE,
    FUND,
    FUND_OUT,
    HIST,
    IN_DED,
    MA_ADDED,
    MA_BASE,
    MA_PAID,
    MEDICAL_ASSISTANCE,
    N_OUT,
    N_STATE,
    OUT_DED,
    OVER_CAP,
    POOL_INPATIENT,
    POOL_OUTPATIENT,
    RATIO_BP,
    assistance,
    critical_illness,
    current_account,
    fund_and_cap,
    historical_account,
    inpatient_deductible,
    lookup,
    open_year,
    outpatient_deductible,
    reverse,
    split,
)  # fmt: skip

OUTPUT_FIELDS = (
    "eligible", "account_current", "deductible", "fund", "coinsurance", "over_cap",
    "critical_illness", "medical_assistance", "account_hist", "cash", "ratio_bp",
    "ci_base_added", "ma_base_added",
)  # fmt: skip
assert len(OUTPUT_FIELDS) == N_OUT
__all__ = ["OUTPUT_FIELDS", "N_OUT", "N_STATE", "POOL_INPATIENT", "POOL_OUTPATIENT", "ROW_WIDTH", "settle_range"]


# A store row: the N_STATE accumulators, then the person-year's last (date, seq) and whether
# it is opened; ROW_WIDTH int64 (two cache lines), so a person-year is read and written in one go.
LAST_DATE, LAST_SEQ, OPENED = N_STATE, N_STATE + 1, N_STATE + 2
ROW_WIDTH = 16


@kernel
def settle_range(
    lo, hi, rows, codes, money, rev, opening,
    pol, visit_pool, local, store, acc_vals, orig_vals, out,
):  # fmt: skip
    """Settle claims ``lo:hi`` and write each one's outputs into its row of ``out``. Every
    per-claim array is in settlement order (``gather_claims`` makes them), and so are the
    batch's person-year rows (``move_rows``), so the loop reads and writes memory in sequence.

    Parameters
    ----------
    lo, hi
        The range of claims, in settlement order; it holds whole persons.
    rows
        int64 ``[m]``: each claim's person-year as a row of ``local`` (a person-year's claims
        are adjacent).
    codes
        int8 ``[m, 8]``: profile index, the codes of scheme, category, visit type, facility
        level, area and assistance, and the reversal kind: 0 an ordinary claim, 1 a reversal of
        a claim of this batch (``rev``: the original's position), 2 a reversal of a claim of an
        earlier batch (``rev``: the original's row in ``orig_vals``).
    money
        int64 ``[m, 5]``: total_cost, self_pay, class_b_self_pay in fen, then the settle date
        (days) and seq; each person-year keeps the greatest (date, seq) of its ordinary claims
        (the order rule).
    rev
        int64 ``[m]`` (see ``codes``; any array of length 1 when the batch has no reversal).
    opening
        int64 ``[rows of local, 4]``: for a person-year not yet opened, its accounts row, last
        year's row in ``local`` (when the batch touches it too) or else in ``store``, and last
        year's accounts row (-1: none).
    pol
        The compiled policy (``wzmedins.policy.compile``).
    visit_pool
        Deductible pool of each visit type code.
    local
        int64 ``[rows, ROW_WIDTH]``: the batch's person-year rows (store rows, see
        ``ROW_WIDTH``), in settlement order. Updated in place; ``move_rows`` puts them back.
    store
        The store's rows, read only for last year's row of a person-year being opened.
    acc_vals
        Opening accounts ``[rows, 2]`` (current, hist).
    orig_vals
        Outputs ``[rows, N_OUT]`` of originals settled in earlier batches.
    out
        int64 ``[m, N_OUT]``: the outputs, written.
    """
    none = np.zeros(0, dtype=np.int64)
    r = lo
    while r < hi:
        row = rows[r]
        s = local[row]
        if s[OPENED] == 0:
            a, pl, ps, pa_ = opening[row, 0], opening[row, 1], opening[row, 2], opening[row, 3]
            prev = local[pl] if pl >= 0 else (store[ps] if ps >= 0 else none)
            open_year(s, acc_vals[a] if a >= 0 else none, prev, acc_vals[pa_] if pa_ >= 0 else none)
            s[OPENED] = 1
        # the person-year's accumulators, in registers while its claims are settled
        out_ded, in_ded, adm_p, adm_s, adm_t = s[OUT_DED], s[IN_DED], s[ADM_P], s[ADM_S], s[ADM_T]
        fund_used, ci_base, ci_paid, ma_base, ma_paid = s[FUND], s[CI_BASE], s[CI_PAID], s[MA_BASE], s[MA_PAID]
        cur, hist = s[CUR], s[HIST]
        ld, lq = s[LAST_DATE], s[LAST_SEQ]
        while r < hi and rows[r] == row:
            p, sc, cat, v, lv, area, cls = (codes[r, 0], codes[r, 1], codes[r, 2], codes[r, 3], codes[r, 4],
                                            codes[r, 5], codes[r, 6])  # fmt: skip
            kind = codes[r, 7]
            if kind != 0:  # a reversal: the original's outputs negated, its effects given back
                src = out[rev[r]] if kind == 1 else orig_vals[rev[r]]
                s[OUT_DED], s[IN_DED], s[ADM_P], s[ADM_S], s[ADM_T] = out_ded, in_ded, adm_p, adm_s, adm_t
                s[FUND], s[CI_BASE], s[CI_PAID], s[MA_BASE], s[MA_PAID] = fund_used, ci_base, ci_paid, ma_base, ma_paid
                s[CUR], s[HIST] = cur, hist
                reverse(s, src, visit_pool[v], lv)
                out_ded, in_ded, adm_p, adm_s, adm_t = s[OUT_DED], s[IN_DED], s[ADM_P], s[ADM_S], s[ADM_T]
                fund_used, ci_base, ci_paid = s[FUND], s[CI_BASE], s[CI_PAID]
                ma_base, ma_paid, cur, hist = s[MA_BASE], s[MA_PAID], s[CUR], s[HIST]
                for j in range(N_OUT):
                    out[r, j] = -src[j]
                out[r, RATIO_BP] = src[RATIO_BP]
                r += 1
                continue
            d_r, q_r = money[r, 3], money[r, 4]
            if d_r > ld or (d_r == ld and q_r > lq):
                ld, lq = d_r, q_r
            g = pol.group[p, cat]
            total, sp, cb = money[r, 0], money[r, 1], money[r, 2]
            eligible = split(total, sp, cb)
            ratio = lookup(pol.ratio[p, g, v, lv], pol.area_adjust[p, area])
            has_account = pol.account_scheme[p, sc] == 1
            a1 = current_account(eligible, cur, has_account and pol.current_first[p, v] == 1)
            cur -= a1
            e1 = eligible - a1
            pool = visit_pool[v]
            d = 0
            if pool == POOL_OUTPATIENT:
                d = outpatient_deductible(e1, out_ded, pol.deductible_outpatient[p, g])
                out_ded += d
            elif pool == POOL_INPATIENT:
                top = lv
                if adm_t > 0:
                    top = 2
                elif adm_s > 0 and top < 1:
                    top = 1
                k = min(adm_p + adm_s + adm_t, pol.n_factors[p] - 1)
                d = inpatient_deductible(e1, in_ded, pol.deductible_inpatient[p, g, lv],
                                         pol.deductible_inpatient[p, g, top], pol.per_admission[p] == 1,
                                         pol.factors[p, k])  # fmt: skip
                in_ded += d
                if lv == 0:
                    adm_p += 1
                elif lv == 1:
                    adm_s += 1
                else:
                    adm_t += 1
            fund, coins, over = fund_and_cap(e1 - d, ratio, pol.fund_cap[p, sc], fund_used)
            fund_used += fund
            x = d + coins + over
            if pol.ci_includes_class_b[p] == 1:
                x += cb
            ci = 0
            ci_added = 0
            if pol.ci_scheme[p, sc] == 1 and pol.ci_visit[p, v] == 1:
                ci = critical_illness(ci_base, ci_paid, x, pol.ci_deductible[p, cls], pol.ci_upper, pol.ci_ratio,
                                      p, cls, pol.n_bands[p], pol.ci_cap[p, cls])  # fmt: skip
                ci_added = x
                ci_base += x
                ci_paid += ci
            ma = 0
            ma_added = 0
            if cls != 0 and pol.ma_visit[p, v] == 1:
                ma_added = x - ci
                ma = assistance(ma_base, ma_paid, ma_added, pol.ma_deductible[p, cls], pol.ma_ratio[p, cls],
                                pol.ma_cap[p, cls])  # fmt: skip
                ma_base += ma_added
                ma_paid += ma
            rest = total - a1 - fund - ci - ma
            a2 = 0
            if has_account and pol.hist_pays[p] == 1:
                a2 = historical_account(rest, sp, pol.hist_covers_self_pay[p] == 1, hist)
                hist -= a2
            out[r, ELIGIBLE] = eligible
            out[r, ACCOUNT_CURRENT] = a1
            out[r, DEDUCTIBLE] = d
            out[r, FUND_OUT] = fund
            out[r, COINSURANCE] = coins
            out[r, OVER_CAP] = over
            out[r, CRITICAL_ILLNESS] = ci
            out[r, MEDICAL_ASSISTANCE] = ma
            out[r, ACCOUNT_HIST] = a2
            out[r, CASH] = rest - a2
            out[r, RATIO_BP] = ratio
            out[r, CI_ADDED] = ci_added
            out[r, MA_ADDED] = ma_added
            r += 1
        s[OUT_DED], s[IN_DED], s[ADM_P], s[ADM_S], s[ADM_T] = out_ded, in_ded, adm_p, adm_s, adm_t
        s[FUND], s[CI_BASE], s[CI_PAID], s[MA_BASE], s[MA_PAID] = fund_used, ci_base, ci_paid, ma_base, ma_paid
        s[CUR], s[HIST] = cur, hist
        s[LAST_DATE], s[LAST_SEQ] = ld, lq


@parallel_kernel
def settle_parallel(
    bounds, rows, codes, money, rev, opening,
    pol, visit_pool, local, store, acc_vals, orig_vals, out,
):  # fmt: skip
    """``settle_range`` over the ranges ``bounds[j]:bounds[j+1]`` (whole persons each) on
    numba's threads."""
    for j in numba.prange(bounds.shape[0] - 1):
        settle_range(bounds[j], bounds[j + 1], rows, codes, money, rev, opening,
                     pol, visit_pool, local, store, acc_vals, orig_vals, out)  # fmt: skip


@step
def _gather_range(lo, hi, idx, profile, scheme, category, visit, level, area, assistance, rev_kind, total,
                  self_pay, class_b, date, seq, codes, money):  # fmt: skip
    for r in range(lo, hi):
        if r + AHEAD < hi:
            ahead = idx[r + AHEAD]
            prefetch1(total, ahead)
            prefetch1(self_pay, ahead)
            prefetch1(class_b, ahead)
            prefetch1(date, ahead)
            prefetch1(seq, ahead)
        i = idx[r]
        codes[r, 0] = profile[i]
        codes[r, 1] = scheme[i]
        codes[r, 2] = category[i]
        codes[r, 3] = visit[i]
        codes[r, 4] = level[i]
        codes[r, 5] = area[i]
        codes[r, 6] = assistance[i]
        codes[r, 7] = rev_kind[i]
        money[r, 0] = total[i]
        money[r, 1] = self_pay[i]
        money[r, 2] = class_b[i]
        money[r, 3] = date[i]
        money[r, 4] = seq[i]


@kernel
def gather_claims(idx, profile, scheme, category, visit, level, area, assistance, rev_kind, total, self_pay,
                  class_b, date, seq, codes, money):  # fmt: skip
    """The claims' columns (by input row) packed into ``codes`` ``[m, 8]`` and ``money``
    ``[m, 5]`` in settlement order (``idx[r]``: the input row of the r-th claim): a tight run
    of independent loads, which the processor overlaps, instead of the settling loop waiting
    on each claim's scattered columns."""
    _gather_range(0, idx.shape[0], idx, profile, scheme, category, visit, level, area, assistance, rev_kind,
                  total, self_pay, class_b, date, seq, codes, money)  # fmt: skip


@parallel_kernel
def gather_claims_parallel(idx, profile, scheme, category, visit, level, area, assistance, rev_kind, total,
                           self_pay, class_b, date, seq, codes, money, parts):  # fmt: skip
    """``gather_claims`` in ``parts`` ranges on numba's threads (for large batches only:
    waking the thread pool costs more than a small batch's gather)."""
    m = idx.shape[0]
    for j in numba.prange(parts):
        _gather_range(j * m // parts, (j + 1) * m // parts, idx, profile, scheme, category, visit, level, area,
                      assistance, rev_kind, total, self_pay, class_b, date, seq, codes, money)  # fmt: skip


@step
def _scatter_range(lo, hi, values, inverse, out):
    w = values.shape[1]
    for d in range(lo, hi):
        if d + AHEAD < hi:
            ahead = inverse[d + AHEAD]
            prefetch(values, ahead, 0)
            prefetch(values, ahead, w - 1)
        r = inverse[d]
        for c in range(w):
            out[c, d] = values[r, c]


@step
def _invert(dest, inverse):
    for r in range(dest.shape[0]):
        inverse[dest[r]] = r


@kernel
def scatter_columns(values, dest, out):
    """``out[:, dest[r]] = values[r]`` (outputs back from settlement order, one array per
    output, which Arrow then takes as it is). ``dest`` is a permutation; it is inverted first,
    so each output array is written in sequence and each claim's outputs read in one go."""
    inverse = np.empty(dest.shape[0], dtype=np.int64)
    _invert(dest, inverse)
    _scatter_range(0, values.shape[0], values, inverse, out)


@parallel_kernel
def scatter_columns_parallel(values, dest, out, parts):
    """``scatter_columns`` in ``parts`` ranges on numba's threads (large batches only)."""
    m = values.shape[0]
    inverse = np.empty(m, dtype=np.int64)
    _invert(dest, inverse)
    for j in numba.prange(parts):
        _scatter_range(j * m // parts, (j + 1) * m // parts, values, inverse, out)


@kernel
def local_rows(sorted_rows, local):
    """Each claim's person-year as a row of the batch's own (``local``), for claims in
    settlement order (a person-year's claims adjacent); returns the store rows of the
    batch's person-years, in that order."""
    m = sorted_rows.shape[0]
    touched = np.empty(m, dtype=np.int64)
    u = -1
    for r in range(m):
        if r == 0 or sorted_rows[r] != sorted_rows[r - 1]:
            u += 1
            touched[u] = sorted_rows[r]
        local[r] = u
    return touched[: u + 1]


@step
def _move_range(lo, hi, store, touched, local, put):
    for u in range(lo, hi):
        if u + AHEAD < hi:
            ahead = touched[u + AHEAD]
            prefetch(store, ahead, 0)
            prefetch(store, ahead, ROW_WIDTH - 1)
        r = touched[u]
        if put:
            for c in range(ROW_WIDTH):
                store[r, c] = local[u, c]
        else:
            for c in range(ROW_WIDTH):
                local[u, c] = store[r, c]


@kernel
def move_rows(store, touched, local, put):
    """``local[u] = store[touched[u]]`` (the batch's person-year rows, read once, each row asked
    for ``AHEAD`` rows before it is copied; the settling loop then reads them in sequence), or
    with ``put`` the reverse: the rows put back into the store."""
    _move_range(0, touched.shape[0], store, touched, local, put)


@parallel_kernel
def move_rows_parallel(store, touched, local, put, parts):
    """``move_rows`` in ``parts`` ranges on numba's threads."""
    n = touched.shape[0]
    for j in numba.prange(parts):
        _move_range(j * n // parts, (j + 1) * n // parts, store, touched, local, put)


@kernel
def late_rows(rows, date, seq, store, late):
    """``late[i]`` when claim i is dated before its person-year's last settled claim: (date,
    seq) below the row's (``rows[i]`` of ``store``; -1: no row). The order rule."""
    n = rows.shape[0]
    for i in range(n):
        if i + AHEAD < n and rows[i + AHEAD] >= 0:
            prefetch(store, rows[i + AHEAD], LAST_DATE)
        r = rows[i]
        if r >= 0:
            d = np.int64(date[i])
            ld = store[r, LAST_DATE]
            late[i] = d < ld or (d == ld and seq[i] < store[r, LAST_SEQ])


@kernel
def order_key(codes, year, date, seq):
    """The settlement order's key within a person, (year, date, seq) packed into one int64 in
    two passes, and the number of person codes; (-1 for the count when the three do not fit
    in 62 bits: the caller sorts them as they are)."""
    m = codes.shape[0]
    y0, y1, d0, d1, q0, q1, c1 = year[0], year[0], date[0], date[0], seq[0], seq[0], codes[0]
    for i in range(m):
        y0, y1 = min(y0, year[i]), max(y1, year[i])
        d0, d1 = min(d0, date[i]), max(d1, date[i])
        q0, q1 = min(q0, seq[i]), max(q1, seq[i])
        c1 = max(c1, codes[i])
    span = np.int64(d1) - d0 + 1
    top = (np.int64(y1) - y0) * span + span  # above every packed (year, date)
    bq = 1
    while bq < 63 and (np.int64(1) << bq) <= np.int64(q1) - q0:
        bq += 1
    byd = 1
    while byd < 63 and (np.int64(1) << byd) <= top:
        byd += 1
    key = np.empty(m, dtype=np.int64)
    if bq + byd > 62:
        return key, -1
    for i in range(m):
        yd = (np.int64(year[i]) - y0) * span + (np.int64(date[i]) - d0)
        key[i] = (yd << bq) | (np.int64(seq[i]) - q0)
    return key, np.int64(c1) + 1


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


@kernel
def local_codes(slots, scratch):
    """Dense codes 0..k-1 of ``slots`` in order of first appearance, using ``scratch`` (all
    -1, as long as the slot space; restored to -1 before returning). Returns (codes, k)."""
    m = slots.shape[0]
    codes = np.empty(m, dtype=np.int64)
    seen = np.empty(m, dtype=np.int64)
    k = 0
    for i in range(m):
        if i + AHEAD < m:
            prefetch1(scratch, slots[i + AHEAD])
        s = slots[i]
        c = scratch[s]
        if c < 0:
            c = k
            scratch[s] = k
            seen[k] = s
            k += 1
        codes[i] = c
    for j in range(k):
        scratch[seen[j]] = -1
    return codes, k
