"""The numba kernels of wzmedins.drg: arrays in, arrays out, integers only.

Their pure-Python twins are in ``wzmedins.reference.drg``. Every ``rnd(a·b, d)`` goes through
:func:`mulrnd`, which splits ``a`` by ``d`` so that no intermediate leaves int64 (limits in
docs/drg.md). Set ``NUMBA_DISABLE_JIT=1`` to run these as plain Python (coverage).
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel  # the house numba options (cache, nogil, never fastmath)
from ..rounding import mulrnd

# Case types (docs/rules/drg.md §3); the integer is the index.
CASE_TYPES: tuple[str, ...] = (
    "normal",
    "low",
    "high",
    "partial",
    "unstable",
    "per_diem",
    "ungroupable",
    "ambiguous",
    "special",
    "incomplete",
)
NORMAL, LOW, HIGH, PARTIAL, UNSTABLE, PER_DIEM, UNGROUPABLE, AMBIGUOUS, SPECIAL, INCOMPLETE = range(10)
# Kind of a DRG code: a catalog group, 0000, or ...QY.
GROUP, KIND_UNGROUPABLE, KIND_AMBIGUOUS = 0, 1, 2
ONE = 10_000  # 1.0000 in 1e-4 units: the unit of the representation, not a policy number


@kernel
def _score(
    ok,
    kind,
    group,
    hosp,
    cost,
    los,
    has_manual,
    manual,
    bonus,
    incomplete,
    incomplete_on,
    base,
    stable,
    basic,
    daily,
    has_daily,
    coef,
    ref_cost,
    low,
    band_upper,
    band_mult,
    high_inclusive,
    partial_on,
    partial_upper,
    partial_beta,
    k_ungroupable,
    k_ambiguous,
    readm_bp,
    case_type,
    standard_cost,
    points,
    readmitted,
):
    """Type, standard cost and points of every case; ``readmitted`` is an input (the flags)."""
    n = len(ok)
    for i in range(n):
        standard_cost[i] = -1
        if not ok[i]:
            case_type[i] = NORMAL
            points[i] = 0
            continue
        g = group[i]
        c_fen = cost[i]
        b = 0
        c = ONE
        s = 0
        if g >= 0:
            b = base[g]
            if hosp[i] >= 0 and not basic[g]:
                c = coef[hosp[i], g]
            # S = rnd(M·B·c, 10^10): B·c < 2^63 by the catalog limits, then split by 10^10
            s = mulrnd(b * c, ref_cost, 10_000_000_000)
            standard_cost[i] = s
        if has_manual[i]:
            case_type[i] = SPECIAL
            points[i] = manual[i]
            continue
        if kind[i] == KIND_UNGROUPABLE:
            case_type[i] = UNGROUPABLE
            points[i] = mulrnd(c_fen, k_ungroupable * 100, ref_cost)
        elif kind[i] == KIND_AMBIGUOUS:
            case_type[i] = AMBIGUOUS
            points[i] = mulrnd(c_fen, k_ambiguous * 100, ref_cost)
        elif has_daily[g]:
            case_type[i] = PER_DIEM
            points[i] = daily[g] * los[i]
        elif not stable[g]:
            case_type[i] = UNSTABLE
            points[i] = mulrnd(c_fen, 1_000_000, ref_cost)
        elif incomplete_on and incomplete[i]:
            # min(B·c·C / M_g, B) with M_g = M·B / 10^6: B cancels, 100·c·C / M
            case_type[i] = INCOMPLETE
            points[i] = min(mulrnd(c_fen, 100 * c, ref_cost), b)
        else:
            h = band_mult[len(band_mult) - 1]
            for k in range(len(band_upper)):
                if b <= band_upper[k]:
                    h = band_mult[k]
                    break
            c4 = c_fen * 10_000
            if c4 < low * s:
                case_type[i] = LOW
                points[i] = mulrnd(c_fen, 1_000_000, ref_cost)
            elif c4 > h * s or (high_inclusive and c4 == h * s):
                # the normal points plus the cost above the threshold at the reference rate:
                # continuous at the threshold whatever c (docs/rules/drg.md §3)
                case_type[i] = HIGH
                points[i] = mulrnd(b, c, 10_000) + mulrnd(c4 - h * s, 100, ref_cost)
            elif partial_on and c4 <= partial_upper * s:
                # the cost plus β·B·c, which meets B·c at C = P_u·S since P_u + β = 1
                case_type[i] = PARTIAL
                points[i] = mulrnd(c_fen, 1_000_000, ref_cost) + mulrnd(b * c, partial_beta, 100_000_000)
            else:
                case_type[i] = NORMAL
                points[i] = mulrnd(b, c, 10_000)
    # Readmission (flags from _readmission, computed before) and bonus, in row order.
    for i in range(n):
        if readmitted[i]:
            points[i] = mulrnd(points[i], readm_bp, 10_000)
    for i in range(n):
        if ok[i] and not has_manual[i]:
            points[i] += bonus[i]


@kernel
def _sort_stays(order, person, admit, discharge):
    """Sort ``order`` (rows already grouped by person, stably) by (admit, discharge, row)
    within each person: insertion sort of each person's run, which is short."""
    n = len(order)
    start = 0
    while start < n:
        end = start + 1
        while end < n and person[end] == person[start]:
            end += 1
        for i in range(start + 1, end):
            row = order[i]
            a, d = admit[row], discharge[row]
            j = i - 1
            while j >= start:
                prev = order[j]
                if admit[prev] < a or (
                    admit[prev] == a and (discharge[prev] < d or (discharge[prev] == d and prev < row))
                ):
                    break
                order[j + 1] = prev
                j -= 1
            order[j + 1] = row
        start = end


@kernel
def _readmission(person, group, kind, manual, admit, discharge, exempt, window):
    """Flags of stays reduced for readmission, for stays sorted by (person, admit, discharge, row).

    A stay is reduced when the next stay of the same person has the same DRG group and is
    admitted 0..window days after this one's discharge; never for special, ungroupable,
    ambiguous or exempt stays. The flags do not depend on points, so they come first.
    """
    n = len(person)
    flags = np.zeros(n, dtype=np.bool_)
    for t in range(n - 1):
        g = group[t]
        if person[t] != person[t + 1] or kind[t] != GROUP or manual[t] or g < 0:
            continue
        if group[t + 1] != g or kind[t + 1] != GROUP or exempt[g]:
            continue
        days = admit[t + 1] - discharge[t]
        if 0 <= days <= window:
            flags[t] = True
    return flags


@kernel
def _sum_by(keys, values, n_keys):
    """Σ values per key (int64, exact; numpy's bincount would go through float64)."""
    out = np.zeros(n_keys, dtype=np.int64)
    for i in range(len(keys)):
        out[keys[i]] += values[i]
    return out


@kernel
def _clear_sums(cell, n_cells, points, cost, patient, ffs, base, has_base, prepay_bp):
    """Per cell (hospital × fund): cases, Σ points, Σ cost, Σ patient_paid, Σ prepaid, Σ B, n(B)."""
    sums = np.zeros((n_cells, 7), dtype=np.int64)
    for i in range(len(cell)):
        k = cell[i]
        sums[k, 0] += 1
        sums[k, 1] += points[i]
        sums[k, 2] += cost[i]
        sums[k, 3] += patient[i]
        sums[k, 4] += mulrnd(ffs[i], prepay_bp, 10_000)
        if has_base[i]:
            sums[k, 5] += base[i]
            sums[k, 6] += 1
    return sums


@kernel
def _case_money(fund, points, cost, pv, has_pv):
    """Per case: value ``rnd(points·PV, 10^6)`` fen and gain or loss ``value − cost``."""
    n = len(fund)
    value = np.zeros(n, dtype=np.int64)
    gain = np.zeros(n, dtype=np.int64)
    for i in range(n):
        f = fund[i]
        if has_pv[f]:
            value[i] = mulrnd(points[i], pv[f], 1_000_000)
            gain[i] = value[i] - cost[i]
    return value, gain


@kernel
def _calib_raw(group, cost, n_groups):
    """Per group: raw n, Σx and Σx² as three 20-bit limbs (x < 2^40 fen; Σx² exact)."""
    n = np.zeros(n_groups, dtype=np.int64)
    s = np.zeros(n_groups, dtype=np.int64)
    sq = np.zeros((n_groups, 3), dtype=np.int64)
    mask = (1 << 20) - 1
    for i in range(len(group)):
        g = group[i]
        x = cost[i]
        n[g] += 1
        s[g] += x
        x1 = x >> 20
        x0 = x & mask
        sq[g, 0] += x0 * x0
        sq[g, 1] += 2 * x1 * x0
        sq[g, 2] += x1 * x1
        sq[g, 1] += sq[g, 0] >> 20
        sq[g, 0] &= mask
        sq[g, 2] += sq[g, 1] >> 20
        sq[g, 1] &= mask
    return n, s, sq


@kernel
def _calib_trimmed(group, hosp, level, cost, lo_cut, hi_cut, n_groups, n_hosp, n_levels):
    """Trimmed n and Σ cost per group, per (hospital, group) (+ raw n) and per (level, group)."""
    tg = np.zeros((n_groups, 2), dtype=np.int64)
    th = np.zeros((n_hosp, n_groups, 3), dtype=np.int64)
    tl = np.zeros((n_levels, n_groups, 2), dtype=np.int64)
    for i in range(len(group)):
        g = group[i]
        x = cost[i]
        th[hosp[i], g, 2] += 1
        if lo_cut[g] <= x <= hi_cut[g]:
            tg[g, 0] += 1
            tg[g, 1] += x
            th[hosp[i], g, 0] += 1
            th[hosp[i], g, 1] += x
            tl[level[i], g, 0] += 1
            tl[level[i], g, 1] += x
    return tg, th, tl
