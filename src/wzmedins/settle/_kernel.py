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

from .._jit import kernel, parallel_kernel
from ._steps import (
    ACCOUNT_CURRENT,
    ACCOUNT_HIST,
    CASH,
    CI_ADDED,
    COINSURANCE,
    CRITICAL_ILLNESS,
    DEDUCTIBLE,
    ELIGIBLE,
    FUND_OUT,
    MA_ADDED,
    MEDICAL_ASSISTANCE,
    N_OUT,
    N_STATE,
    OVER_CAP,
    POOL_INPATIENT,
    POOL_OUTPATIENT,
    RATIO_BP,
    assistance,
    critical_illness,
    current_account,
    deductible,
    fund_and_cap,
    historical_account,
    lookup,
    open_year,
    reverse,
    split,
)  # fmt: skip

OUTPUT_FIELDS = (
    "eligible", "account_current", "deductible", "fund", "coinsurance", "over_cap",
    "critical_illness", "medical_assistance", "account_hist", "cash", "ratio_bp",
    "ci_base_added", "ma_base_added",
)  # fmt: skip
assert len(OUTPUT_FIELDS) == N_OUT
__all__ = ["OUTPUT_FIELDS", "N_OUT", "N_STATE", "POOL_INPATIENT", "POOL_OUTPATIENT", "settle_range"]


@kernel
def settle_range(
    lo, hi, claims, money, reversal, opening, date, seq,
    pol, visit_pool, state, last_date, last_seq, opened, acc_vals, orig_vals, out, dest,
):  # fmt: skip
    """Settle claims ``lo:hi`` (settlement order) and write each one's outputs into column
    ``dest[r]`` of ``out`` (its place in the output, in input order).

    Parameters
    ----------
    lo, hi
        The range of claims; it holds whole persons.
    claims
        int64 ``[9, m]``: person-year row in the store, profile index, then the codes of scheme,
        category, visit type, facility level, area, assistance, and the claim's ``late`` flag
        (unused here: late claims are either gone or settled like the others).
    money
        int64 ``[3, m]``: total_cost, self_pay, class_b_self_pay in fen.
    reversal
        int64 ``[2, m]``: kind (0 ordinary, 1 original in this batch, 2 original of an earlier
        batch) and the original's position (in this order, or a row of ``orig_vals``).
    opening
        int64 ``[3, m]``: for a claim whose person-year is not yet opened, its accounts row,
        last year's state row and last year's accounts row (-1: none).
    date, seq
        The claims' settle date (days) and seq: each person-year keeps the greatest pair.
    pol
        The compiled policy.
    visit_pool
        Deductible pool of each visit type code.
    state, last_date, last_seq, opened
        The store's person-year rows: accumulators ``[rows, N_STATE]``, order keys, and 1 once
        the row is opened.
    acc_vals
        Opening accounts ``[rows, 2]`` (current, hist).
    orig_vals
        Outputs ``[rows, N_OUT]`` of originals settled in earlier batches.
    out
        int64 ``[N_OUT, m]``: the outputs, written.
    dest
        int64 ``[m]``: the output column of each claim.
    """
    one_band = np.full(1, np.iinfo(np.int64).max // 4, dtype=np.int64)
    ratio_band = np.zeros(1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    s = np.zeros(N_STATE, dtype=np.int64)  # the current person-year's row, written back when it changes
    cur = -1
    for r in range(lo, hi):
        row = claims[0, r]
        if row != cur:
            if cur >= 0:
                state[cur, :] = s
            cur = row
            if opened[row] == 0:
                a, pr, pa_ = opening[0, r], opening[1, r], opening[2, r]
                open_year(s, acc_vals[a] if a >= 0 else none, state[pr] if pr >= 0 else none,
                          acc_vals[pa_] if pa_ >= 0 else none)  # fmt: skip
                opened[row] = 1
            else:
                s[:] = state[row, :]
        v = claims[4, r]
        lv = claims[5, r]
        kind = reversal[0, r]
        if kind != 0:
            o = out[:, dest[reversal[1, r]]] if kind == 1 else orig_vals[reversal[1, r]]
            reverse(s, o, visit_pool[v], lv, out, dest[r])
            continue
        d_r, q_r = date[r], seq[r]  # the order rule: the greatest (date, seq) of ordinary claims
        if d_r > last_date[row] or (d_r == last_date[row] and q_r > last_seq[row]):
            last_date[row] = d_r
            last_seq[row] = q_r
        p = claims[1, r]
        sc = claims[2, r]
        cls = claims[7, r]
        g = pol.group[p, claims[3, r]]
        total, sp, cb = money[0, r], money[1, r], money[2, r]
        eligible = split(total, sp, cb)
        ratio = lookup(pol.ratio[p, g, v, lv], pol.area_adjust[p, claims[6, r]])
        a1 = current_account(s, eligible, pol.account_scheme[p, sc] == 1 and pol.current_first[p, v] == 1)
        e1 = eligible - a1
        d = deductible(s, visit_pool[v], lv, e1, pol.deductible_outpatient[p, g], pol.deductible_inpatient[p, g],
                       pol.per_admission[p] == 1, pol.factors[p], pol.n_factors[p])  # fmt: skip
        fund, coins, over = fund_and_cap(s, e1 - d, ratio, pol.fund_cap[p, sc])
        x = d + coins + over
        if pol.ci_includes_class_b[p] == 1:
            x += cb
        ci, ci_added = 0, 0
        if pol.ci_scheme[p, sc] == 1 and pol.ci_visit[p, v] == 1:
            ci, ci_added = critical_illness(s, x, pol.ci_deductible[p, cls], pol.ci_upper[p], pol.ci_ratio[p, cls],
                                            pol.n_bands[p], pol.ci_cap[p, cls])  # fmt: skip
        ma, ma_added = 0, 0
        if cls != 0 and pol.ma_visit[p, v] == 1:
            ma, ma_added = assistance(s, x - ci, pol.ma_deductible[p, cls], pol.ma_ratio[p, cls], pol.ma_cap[p, cls],
                                      one_band, ratio_band)  # fmt: skip
        rest = total - a1 - fund - ci - ma
        a2 = 0
        if pol.account_scheme[p, sc] == 1 and pol.hist_pays[p] == 1:
            a2 = historical_account(s, rest, sp, pol.hist_covers_self_pay[p] == 1)
        c = dest[r]
        out[ELIGIBLE, c] = eligible
        out[ACCOUNT_CURRENT, c] = a1
        out[DEDUCTIBLE, c] = d
        out[FUND_OUT, c] = fund
        out[COINSURANCE, c] = coins
        out[OVER_CAP, c] = over
        out[CRITICAL_ILLNESS, c] = ci
        out[MEDICAL_ASSISTANCE, c] = ma
        out[ACCOUNT_HIST, c] = a2
        out[CASH, c] = rest - a2
        out[RATIO_BP, c] = ratio
        out[CI_ADDED, c] = ci_added
        out[MA_ADDED, c] = ma_added
    if cur >= 0:
        state[cur, :] = s


@parallel_kernel
def settle_parallel(
    bounds, claims, money, reversal, opening, date, seq,
    pol, visit_pool, state, last_date, last_seq, opened, acc_vals, orig_vals, out, dest,
):  # fmt: skip
    """``settle_range`` over the ranges ``bounds[j]:bounds[j+1]`` (whole persons each) on
    numba's threads."""
    for j in numba.prange(bounds.shape[0] - 1):
        settle_range(bounds[j], bounds[j + 1], claims, money, reversal, opening, date, seq,
                     pol, visit_pool, state, last_date, last_seq, opened, acc_vals, orig_vals, out, dest)  # fmt: skip


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
