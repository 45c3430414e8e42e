"""The numba kernels of wzmedins.capitation: arrays in, arrays out, integers only.

Their pure-Python twin is ``wzmedins.reference.capitation``. Every ``rnd(a·b, d)`` goes through
:func:`mulrnd`, so no intermediate leaves int64 within the limits of docs/capitation.md. Set
``NUMBA_DISABLE_JIT=1`` to run these as plain Python (coverage).
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel  # the house numba options (cache, nogil, never fastmath)
from ..rounding import mulrnd

# What happened to a claim (the ``kind`` output of _charge).
NOT_CHARGED, OWN, OUTSIDE = 0, 1, 2
BP = 10_000  # 1e-4 units
YEAR_MONTHS_BP = 120_000  # 10^4 · 12: weight in bp times months in the year


@kernel
def _person_budgets(weight, months, per_capita, community, n_communities):
    """Budget of each signed person, ``rnd(a·w·months, 10⁴·12)``, and their sum per community.

    docs/rules/capitation.md §2. ``weight`` (bp) and ``months`` per signing, ``community`` the
    index of the person's community; returns ``(budget per signing, budget per community)``.
    """
    n = len(weight)
    budget = np.empty(n, dtype=np.int64)
    totals = np.zeros(n_communities, dtype=np.int64)
    for i in range(n):
        b = mulrnd(per_capita, weight[i] * months[i], YEAR_MONTHS_BP)
        budget[i] = b
        totals[community[i]] += b
    return budget, totals


@kernel
def _outside_charge(fund, outside_bp):
    """``rnd(fund·outside_bp, 10⁴)``, symmetric in sign: a reversal gives back exactly what its
    original was charged."""
    if fund < 0:
        return -mulrnd(-fund, outside_bp, BP)
    return mulrnd(fund, outside_bp, BP)


@kernel
def _charge(
    claim_person,
    person_signing,
    claim_community,
    fund,
    usable,
    visit,
    charged_visit,
    signing_community,
    outside_bp,
    own,
    outside,
    kinds,
):
    """Charge each in-scope claim of a signed person to the person's community (§3).

    Parameters
    ----------
    claim_person : int64[n]
        The claim's person among the distinct persons of the year's signings, -1 for none.
    person_signing : int64[d]
        The signing row used for each of those persons, -1 when all their rows were rejected.
    claim_community : int64[n]
        Index of the facility's community among the signings' communities; -1 for none (null)
        and -2 for a community with no signings.
    fund : int64[n]
        The fund amount of the settled claim, fen (negative for a reversal).
    usable : bool[n]
        The claim was accepted and counts in the year (and up to the month).
    visit : int8[n], charged_visit : bool[4]
        Visit type code of each claim (``vocab.VISIT_TYPES``) and whether it is charged.
    signing_community : int64[m]
        Community index of each signing.
    outside_bp : int
        ``outside_charge_bp``.
    own, outside : int64[m]
        Accumulated in place: what each signed person's claims charged, own and outside.
    kinds : int8[n] or int8[0]
        Written when of length n: NOT_CHARGED, OWN or OUTSIDE per claim.

    Returns
    -------
    counts : int64[4]
        Claims charged own, charged outside, charged outside with no facility community, and
        claims of signed persons whose visit type is not charged.
    """
    n = len(claim_person)
    write = len(kinds) == n
    counts = np.zeros(4, dtype=np.int64)
    for i in range(n):
        kind = NOT_CHARGED
        d = claim_person[i]
        p = person_signing[d] if d >= 0 else -1
        if p >= 0 and usable[i]:
            if not charged_visit[visit[i]]:
                counts[3] += 1
                if write:
                    kinds[i] = kind
                continue
            c = claim_community[i]
            if c >= 0 and c == signing_community[p]:
                own[p] += fund[i]
                kind = OWN
                counts[0] += 1
            else:
                outside[p] += _outside_charge(fund[i], outside_bp)
                kind = OUTSIDE
                counts[1] += 1
                if c == -1:
                    counts[2] += 1
        if write:
            kinds[i] = kind
    return counts


@kernel
def _sum_by(keys, values, n_keys):
    """Σ values per key (int64, exact; numpy's bincount would go through float64)."""
    out = np.zeros(n_keys, dtype=np.int64)
    for i in range(len(keys)):
        out[keys[i]] += values[i]
    return out
