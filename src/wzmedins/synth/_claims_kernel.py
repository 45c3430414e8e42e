"""The compiled generator of synthetic claims (behind :func:`wzmedins.synth.claims.claim_batches`).

Every claim number ``i`` has its own splitmix64 stream, started from a hash of
``(seed, year, i)``: a row depends on nothing but its number, so rows can be made in any
chunks, on any number of threads, and come out the same. Floats only draw numbers; every
amount is rounded to whole fen once.

A person's attributes are the same hash of ``(seed, person number)`` as
:func:`wzmedins.synth.claims.persons` (the numpy version, which enrolment, signings and the
accounts use): :func:`_person` is that function compiled, and a test holds them equal.
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel, step

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
LOW32 = np.uint64(0xFFFFFFFF)
TWO_POW_32 = 2.0**-32
TWO_POW_53 = 2.0**-53


@step
def _splitmix(z):
    """The splitmix64 finaliser of ``wzmedins.tables.splitmix64`` (golden increment included)."""
    z = z + GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@step
def _next(state):
    """One uniform [0, 1) from a row's stream; returns (uniform, new state)."""
    state = state + GOLDEN
    return (_splitmix(state) >> np.uint64(11)) * TWO_POW_53, state


@step
def _pick(cum, u):
    """Bucket of ``u`` under normalised cumulative shares (as ``claims._pick``: the first ``k``
    with ``cum[k] > u``, at most the last)."""
    last = cum.shape[0] - 1
    for k in range(last):
        if cum[k] > u:
            return k
    return last


@step
def _bisect_right(cum, x):
    """``np.searchsorted(cum, x, side="right")`` on a sorted array."""
    lo, hi = 0, cum.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@step
def _person(person, key1, key2, category_cum, assistance_cum, chronic_share, special_share):
    """(category, assistance, chronic, special) of a person number, as ``claims.persons``."""
    h1 = _splitmix(np.uint64(person) ^ key1)
    h2 = _splitmix(np.uint64(person) ^ key2)
    category = _pick(category_cum, (h1 & LOW32) * TWO_POW_32)
    assistance = _pick(assistance_cum, (h1 >> np.uint64(32)) * TWO_POW_32)
    chronic = (h2 & LOW32) * TWO_POW_32 < chronic_share[category]
    special = (h2 >> np.uint64(32)) * TWO_POW_32 < special_share
    return category, assistance, chronic, special


@step
def _digits(buffer, at, prefix, number, width):
    """Write ``prefix`` and ``number`` zero-padded to ``width`` digits at ``buffer[at:]``."""
    for k in range(prefix.shape[0]):
        buffer[at + k] = prefix[k]
    end = at + prefix.shape[0] + width
    for k in range(width):
        buffer[end - 1 - k] = 48 + number % 10
        number //= 10


@kernel
def generate(
    first_claim, n_rows, n_claims, n_persons, seed, stride, row_key, daily,
    key1, key2, category_cum, assistance_cum, chronic_share, special_share, activity, scheme_of,
    chronic_activity, special_activity, activity_cap, activity_skew,
    visit_plain, visit_chronic, visit_special, level_cum, area_cum,
    cost_median, cost_sigma, catastrophic_share, catastrophic_median, catastrophic_sigma,
    self_pay_chance, self_pay_max_bp, class_b_chance, class_b_max_bp, day_cum, first_day,
    claim_prefix, person_prefix,
    person, scheme, category, assistance, visit, level, area, day, seq, total, self_pay, class_b,
    claim_chars, person_chars,
):  # fmt: skip
    """Claims ``first_claim … first_claim + n_rows − 1`` into the preallocated output arrays.

    The inputs after ``daily`` are the :class:`~wzmedins.synth.claims.Mix` as arrays (shares
    normalised to cumulative tables by :func:`wzmedins.synth.claims._mix_arrays`); the outputs
    are the person number, the enum codes, the day number (days since 1970), ``seq``, the money
    in fen and the id characters (``claim_prefix`` + 10 digits, ``person_prefix`` + 10 digits).
    """
    claim_width = claim_prefix.shape[0] + 10
    person_width = person_prefix.shape[0] + 10
    n_days = day_cum.shape[0]
    for r in range(n_rows):
        i = first_claim + r
        state = _splitmix(np.uint64(i) ^ row_key)
        # the person: a skewed draw (a few heavy users), spread over ids by the stride,
        # thinned by activity (retired, elderly, chronic and special patients visit more)
        while True:
            u, state = _next(state)
            raw = np.int64(np.floor(n_persons * u**activity_skew))
            cand = (raw * stride + seed) % n_persons
            c, a, ch, sp = _person(cand, key1, key2, category_cum, assistance_cum, chronic_share, special_share)
            w = activity[c]
            if ch:
                w *= chronic_activity
            if sp:
                w *= special_activity
            u, state = _next(state)
            if u * activity_cap < min(w, activity_cap):
                break
        person[r] = cand
        category[r] = c
        scheme[r] = scheme_of[c]
        assistance[r] = a
        u, state = _next(state)
        if sp:
            v = _pick(visit_special, u)
        elif ch:
            v = _pick(visit_chronic, u)
        else:
            v = _pick(visit_plain, u)
        visit[r] = v
        u, state = _next(state)
        lv = _pick(level_cum[v], u)
        level[r] = lv
        u, state = _next(state)
        area[r] = _pick(area_cum, u)
        # log-normal cost, with a catastrophic tail
        median = cost_median[v, lv]
        sigma = cost_sigma[v]
        u, state = _next(state)
        if u < catastrophic_share[v]:
            median = catastrophic_median
            sigma = catastrophic_sigma
        u1, state = _next(state)
        u2, state = _next(state)
        z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
        fen = np.rint(median * np.exp(sigma * z) * 100.0)
        fen = min(max(fen, 100.0), 1e10)
        cost = np.int64(fen)
        total[r] = cost
        # self-paid and class-B parts: integer shares in bp of the total, floored
        u, state = _next(state)
        u2, state = _next(state)
        bp = np.int64(u2 * (self_pay_max_bp[v] + 1)) if u < self_pay_chance[v] else 0
        self_pay[r] = cost * bp // 10_000
        u, state = _next(state)
        u2, state = _next(state)
        bp = np.int64(u2 * (class_b_max_bp[v] + 1)) if u < class_b_chance[v] else 0
        class_b[r] = cost * bp // 10_000
        # the date: a daily feed puts claim i where (i + jitter) / n falls in the year
        u, state = _next(state)
        where = (i + u) / n_claims if daily else u
        d = min(_bisect_right(day_cum, where), n_days - 1)
        day[r] = first_day + d
        u, state = _next(state)
        if daily:  # seq 0-3 by the claim's place within its day: (settle_date, seq) never goes back
            start = day_cum[d - 1] if d > 0 else 0.0
            within = (where - start) / (day_cum[d] - start) if day_cum[d] > start else 0.0
            seq[r] = min(max(np.int64(within * 4.0), 0), 3)
        else:
            seq[r] = np.int64(u * 4.0)
        _digits(claim_chars, r * claim_width, claim_prefix, i, 10)
        _digits(person_chars, r * person_width, person_prefix, cand, 10)


@kernel
def pick_all(cum, u, out):
    """:func:`_pick` for every ``u[i]`` (``cum`` normalised cumulative shares)."""
    for i in range(u.shape[0]):
        out[i] = _pick(cum, u[i])


@kernel
def fixed_ids(prefix, numbers, width, out):
    """``prefix`` and each number zero-padded to ``width`` digits, one after the other in ``out``."""
    size = prefix.shape[0] + width
    for i in range(numbers.shape[0]):
        _digits(out, i * size, prefix, numbers[i], width)


@kernel
def facility_communities(claim_no, person, level, area, county_key, home_key, where_key, enrolment_counties,
                         county_cum, communities, first, own_share, near_share, tertiary, local, out):  # fmt: skip
    """The community index of each claim's facility (-1: none), as
    ``signings.Layout.facility_communities`` computes it over numpy arrays (a test holds them
    equal): the person's home (county, then one of its communities, by hashes of the person
    number), then the facility's by a hash of the claim number — his own community, another of
    the county, or any. ``enrolment_counties``: the county is the enrolment's (``county_key``
    the enrolment's stream, ``county_cum`` its shares), else the layout's (from the home's
    stream)."""
    n_total = first[-1] + communities[-1]
    for r in range(claim_no.shape[0]):
        if level[r] == tertiary or area[r] != local:
            out[r] = -1
            continue
        h = _splitmix(np.uint64(person[r]) ^ home_key)
        if enrolment_counties:
            c = _pick(county_cum, (_splitmix(np.uint64(person[r]) ^ county_key) & LOW32) * TWO_POW_32)
        else:
            c = _pick(county_cum, (h & LOW32) * TWO_POW_32)
        u_comm = (h >> np.uint64(32)) * TWO_POW_32
        n = communities[c]
        home = first[c] + min(np.int64(u_comm * n), n - 1)
        w = _splitmix(np.uint64(claim_no[r]) ^ where_key)
        u_where = (w & LOW32) * TWO_POW_32
        u_which = (w >> np.uint64(32)) * TWO_POW_32
        if u_where < own_share:
            out[r] = home
        elif u_where < near_share and n > 1:
            out[r] = first[c] + (home - first[c] + 1 + min(np.int64(u_which * (n - 1)), n - 2)) % n
        else:
            out[r] = min(np.int64(u_which * n_total), n_total - 1)
