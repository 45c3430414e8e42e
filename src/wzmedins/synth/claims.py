"""Seeded synthetic claims (模拟结算数据) for tests, demos and capacity planning.

Claims are generated in fixed blocks of ``BLOCK`` rows, each from its own random stream keyed by
``(seed, year, block number)``, and cut into record batches of any size: the data depend on the
seed and the sizes, never on ``batch_size``, and 10^8 claims never sit in memory at once.

A person's attributes (scheme, category, assistance class, chronic or special patient) are a
hash of ``(seed, person number)``, so every batch agrees on them without sharing state.
Realism choices and the default shares are in ``docs/synth.md``; they live in :class:`Mix`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..tables import splitmix64
from ..vocab import (
    AREAS,
    ASSISTANCE,
    CATEGORIES,
    CATEGORY_SCHEME,
    FACILITY_LEVELS,
    SCHEMES,
    VISIT_TYPES,
)

BLOCK = 1 << 16  # rows per random stream; part of the data's definition, do not change lightly

CLAIMS_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("person_id", pa.string()),
        ("settle_date", pa.date32()),
        ("seq", pa.int64()),
        ("scheme", pa.dictionary(pa.int8(), pa.string())),
        ("category", pa.dictionary(pa.int8(), pa.string())),
        ("assistance", pa.dictionary(pa.int8(), pa.string())),
        ("visit_type", pa.dictionary(pa.int8(), pa.string())),
        ("facility_level", pa.dictionary(pa.int8(), pa.string())),
        ("area", pa.dictionary(pa.int8(), pa.string())),
        ("total_cost", pa.int64()),
        ("self_pay", pa.int64()),
        ("class_b_self_pay", pa.int64()),
    ]
)

# with communities=: the facility's medical community (医共体), null for none (docs/capitation.md)
COMMUNITY_CLAIMS_SCHEMA = CLAIMS_SCHEMA.append(pa.field("community_id", pa.dictionary(pa.int16(), pa.string())))

ACCOUNTS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("year", pa.int32()),
        ("current_balance", pa.int64()),
        ("hist_balance", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Mix:
    """Shares and cost shapes of the synthetic population and its claims.

    Shares are fractions; costs are medians in yuan with the sigma of the log-normal.
    Tables indexed by visit type and facility level follow ``vocab.VISIT_TYPES`` and
    ``vocab.FACILITY_LEVELS``.

    Examples
    --------
    >>> m = Mix()
    >>> round(sum(m.category_share), 6)
    1.0
    >>> Mix(assistance_share=(0.5, 0.1, 0.1, 0.1, 0.2)).assistance_share[0]
    0.5
    """

    # persons: in_service, retired, adult, minor, student, elderly (vocab.CATEGORIES)
    category_share: tuple[float, ...] = (0.34, 0.11, 0.24, 0.12, 0.07, 0.12)
    # none, tekun, dibao, dibian, zhichu (vocab.ASSISTANCE)
    assistance_share: tuple[float, ...] = (0.915, 0.01, 0.03, 0.025, 0.02)
    # share of chronic-disease (门诊慢性病) patients, per category
    chronic_share: tuple[float, ...] = (0.08, 0.35, 0.08, 0.01, 0.01, 0.35)
    special_share: float = 0.015  # 门诊特殊病种 patients (dialysis, cancer treatment ...)
    # relative claim frequency per category; chronic and special patients multiply it
    activity: tuple[float, ...] = (0.8, 1.6, 0.8, 0.9, 0.5, 1.6)
    chronic_activity: float = 2.0
    special_activity: float = 3.0
    activity_cap: float = 4.0
    activity_skew: float = 1.5  # > 1: a few persons have many claims
    # visit mix (outpatient, chronic, special, inpatient) of a plain, chronic or special patient
    visit_share_plain: tuple[float, ...] = (0.965, 0.0, 0.0, 0.035)
    visit_share_chronic: tuple[float, ...] = (0.55, 0.40, 0.0, 0.05)
    visit_share_special: tuple[float, ...] = (0.35, 0.05, 0.50, 0.10)
    # facility level per visit type (rows) over primary, secondary, tertiary
    level_share: tuple[tuple[float, ...], ...] = (
        (0.50, 0.25, 0.25),
        (0.60, 0.25, 0.15),
        (0.10, 0.30, 0.60),
        (0.20, 0.40, 0.40),
    )
    area_share: tuple[float, ...] = (0.93, 0.04, 0.02, 0.01)
    # log-normal cost: median yuan by visit type (rows) and level (columns); sigma by visit type
    cost_median: tuple[tuple[float, ...], ...] = (
        (80.0, 180.0, 300.0),
        (250.0, 350.0, 500.0),
        (2000.0, 3000.0, 4000.0),
        (4000.0, 9000.0, 18000.0),
    )
    cost_sigma: tuple[float, ...] = (0.8, 0.6, 0.9, 0.85)
    # catastrophic bills (a heavy tail that takes some persons to the fund cap)
    catastrophic_share: tuple[float, ...] = (0.0, 0.0, 0.005, 0.015)
    catastrophic_median: float = 250_000.0
    catastrophic_sigma: float = 0.5
    # self-paid (全自费) and class-B (乙类先行自付) parts: chance of any, and max share in bp
    self_pay_chance: tuple[float, ...] = (0.4, 0.3, 0.6, 0.9)
    self_pay_max_bp: tuple[int, ...] = (3000, 1500, 2000, 1500)
    class_b_chance: tuple[float, ...] = (0.5, 0.5, 0.7, 0.9)
    class_b_max_bp: tuple[int, ...] = (1500, 1000, 1500, 1000)
    winter_peak: float = 0.15  # seasonal swing of daily claim volume, peak mid-January
    # opening accounts of employees: median yuan and sigma (in service, retired)
    current_median: tuple[float, ...] = (1500.0, 2500.0)
    hist_median: float = 5000.0
    hist_sigma: float = 1.2


DEFAULT_MIX = Mix()

# ------------------------------------------------------------------ hashing persons

_U = np.uint64


def _uniforms(seed: int, person: np.ndarray, salt: int) -> tuple[np.ndarray, np.ndarray]:
    """Two uniform [0, 1) numbers (32 bits each) per person, fixed by ``(seed, person, salt)``."""
    key = splitmix64(np.array([seed * 1_000_003 + salt], dtype=np.uint64))
    h = splitmix64(np.asarray(person, dtype=np.uint64) ^ key)
    low = (h & _U(0xFFFFFFFF)).astype(np.float64) * 2.0**-32
    high = (h >> _U(32)).astype(np.float64) * 2.0**-32
    return low, high


def _pick(u: np.ndarray, shares) -> np.ndarray:
    """Index of the bucket of each uniform ``u`` under the given shares."""
    cum = np.cumsum(np.asarray(shares, dtype=np.float64))
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(cum) - 1)


def persons(person: np.ndarray, *, seed: int = 0, mix: Mix = DEFAULT_MIX) -> dict[str, np.ndarray]:
    """Stable attributes of persons by number: the same number always gives the same person.

    Returns int8 codes ``category``, ``scheme``, ``assistance`` (into ``vocab``) and booleans
    ``chronic`` and ``special``.

    Examples
    --------
    >>> p = persons(np.arange(5), seed=1)
    >>> sorted(p)
    ['assistance', 'category', 'chronic', 'scheme', 'special']
    >>> bool((persons(np.array([3]), seed=1)["category"] == p["category"][3]).all())
    True
    """
    person = np.asarray(person, dtype=np.uint64)
    u_category, u_assistance = _uniforms(seed, person, 1)
    u_chronic, u_special = _uniforms(seed, person, 2)
    category = _pick(u_category, mix.category_share).astype(np.int8)
    scheme = np.asarray(CATEGORY_SCHEME, dtype=np.int8)[category]
    assistance = _pick(u_assistance, mix.assistance_share).astype(np.int8)
    chronic = u_chronic < np.asarray(mix.chronic_share)[category]
    special = u_special < mix.special_share
    return {
        "category": category,
        "scheme": scheme,
        "assistance": assistance,
        "chronic": chronic,
        "special": special,
    }


# ------------------------------------------------------------------ Arrow helpers


def _fixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Strings ``prefix`` + zero-padded ``numbers`` built without a Python loop.

    Examples
    --------
    >>> _fixed_ids("WZ", np.array([7, 12345]), 6).to_pylist()
    ['WZ000007', 'WZ012345']
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    size = len(head) + width
    chars = np.empty((n, size), dtype=np.uint8)
    chars[:, : len(head)] = head
    rest = numbers.copy()
    for col in range(size - 1, len(head) - 1, -1):
        chars[:, col] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def person_ids(person: np.ndarray) -> pa.Array:
    """The string id of person numbers (``WZ`` and ten digits).

    Examples
    --------
    >>> person_ids(np.array([0, 42])).to_pylist()
    ['WZ0000000000', 'WZ0000000042']
    """
    return _fixed_ids("WZ", person, 10)


def _enum(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(vocab, pa.string()))


# ------------------------------------------------------------------ claims


def _block(
    block: int,
    n_rows: int,
    n_claims: int,
    n_persons: int,
    seed: int,
    year: int,
    mix: Mix,
    daily: bool,
    communities=None,
) -> pa.Table:
    """Rows ``block * BLOCK`` ... ``+ n_rows`` of the claims of (seed, year)."""
    rng = np.random.default_rng([seed, year, block])
    # persons: a skewed draw (a few heavy users), permuted so heavy users are spread over ids,
    # then thinned by activity (retired, elderly, chronic and special patients visit more)
    stride = _stride(n_persons)
    top = mix.activity_cap  # weights above it are cut: fewer candidates thrown away
    chosen, accepted = [], 0
    draw = 2 * n_rows + 64
    while accepted < n_rows:
        raw = np.floor(n_persons * rng.random(draw) ** mix.activity_skew).astype(np.int64)
        cand = (raw * stride + seed) % n_persons
        p = persons(cand, seed=seed, mix=mix)
        w = np.asarray(mix.activity)[p["category"]]
        w = w * np.where(p["chronic"], mix.chronic_activity, 1.0) * np.where(p["special"], mix.special_activity, 1.0)
        keep = cand[rng.random(draw) * top < np.minimum(w, top)]
        chosen.append(keep)
        accepted += len(keep)
        # next draw sized by the acceptance seen so far, with a margin
        draw = int(1.2 * (n_rows - accepted) * draw / max(len(keep), 1)) + 64
    person = np.concatenate(chosen)[:n_rows]
    attrs = persons(person, seed=seed, mix=mix)

    u = rng.random(n_rows)
    visit = np.where(
        attrs["special"],
        _pick(u, mix.visit_share_special),
        np.where(attrs["chronic"], _pick(u, mix.visit_share_chronic), _pick(u, mix.visit_share_plain)),
    ).astype(np.int8)
    level_cum = np.cumsum(np.asarray(mix.level_share), axis=1)
    level_cum /= level_cum[:, -1:]
    u = rng.random(n_rows)
    level = (u[:, None] >= level_cum[visit][:, :-1]).sum(axis=1).astype(np.int8)
    area = _pick(rng.random(n_rows), mix.area_share).astype(np.int8)

    median = np.asarray(mix.cost_median)[visit, level]
    sigma = np.asarray(mix.cost_sigma)[visit]
    cata = rng.random(n_rows) < np.asarray(mix.catastrophic_share)[visit]
    median = np.where(cata, mix.catastrophic_median, median)
    sigma = np.where(cata, mix.catastrophic_sigma, sigma)
    yuan = median * np.exp(sigma * rng.standard_normal(n_rows))
    total = np.clip(np.rint(yuan * 100), 100, 10**10).astype(np.int64)
    # split in integer fen: share in bp, floor division
    sp_bp = np.where(
        rng.random(n_rows) < np.asarray(mix.self_pay_chance)[visit],
        rng.integers(0, np.asarray(mix.self_pay_max_bp)[visit] + 1),
        0,
    ).astype(np.int64)
    cb_bp = np.where(
        rng.random(n_rows) < np.asarray(mix.class_b_chance)[visit],
        rng.integers(0, np.asarray(mix.class_b_max_bp)[visit] + 1),
        0,
    ).astype(np.int64)
    self_pay = total * sp_bp // 10_000
    class_b = total * cb_bp // 10_000

    first = _days(year, 1, 1)
    n_days = _days(year + 1, 1, 1) - first
    day_weight = 1.0 + mix.winter_peak * np.cos(2 * math.pi * (np.arange(n_days) - 14) / n_days)
    claim_no = block * BLOCK + np.arange(n_rows, dtype=np.int64)
    if daily:  # a daily settlement feed: claim i falls on the day where (i + jitter) / n lands
        cum = np.cumsum(day_weight) / day_weight.sum()
        where = (claim_no + rng.random(n_rows)) / n_claims
        day = np.minimum(np.searchsorted(cum, where, side="right"), n_days - 1)
    else:
        day = rng.choice(n_days, size=n_rows, p=day_weight / day_weight.sum())
    day = day.astype(np.int32) + first
    seq = rng.integers(0, 4, n_rows).astype(np.int64)

    columns = [
        _fixed_ids(f"C{year}", claim_no, 10),
        person_ids(person),
        pa.array(day, pa.int32()).cast(pa.date32()),
        pa.array(seq, pa.int64()),
        _enum(attrs["scheme"], SCHEMES),
        _enum(attrs["category"], CATEGORIES),
        _enum(attrs["assistance"], ASSISTANCE),
        _enum(visit, VISIT_TYPES),
        _enum(level, FACILITY_LEVELS),
        _enum(area, AREAS),
        pa.array(total, pa.int64()),
        pa.array(self_pay, pa.int64()),
        pa.array(class_b, pa.int64()),
    ]
    if communities is None:
        return pa.table(columns, schema=CLAIMS_SCHEMA)
    # drawn by hashing (seed, claim number): the other columns are the same with or without it
    columns.append(communities.facility_communities(claim_no, person, level, area, seed=seed))
    return pa.table(columns, schema=COMMUNITY_CLAIMS_SCHEMA)


def _days(year: int, month: int, day: int) -> int:
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D").astype(np.int64))


def _stride(n: int) -> int:
    """A multiplier coprime with ``n``, so ``i * stride % n`` permutes ``range(n)``."""
    stride = 2_654_435_761 % n if n > 1 else 1
    while stride == 0 or math.gcd(stride, n) != 1:
        stride += 1
    return stride


def default_persons(n_claims: int) -> int:
    """Ten claims per person on average, at least one person.

    Examples
    --------
    >>> default_persons(1_000_000), default_persons(3)
    (100000, 1)
    """
    return max(1, n_claims // 10)


def claim_batches(
    n_claims: int,
    *,
    n_persons: int | None = None,
    seed: int = 0,
    year: int = 2022,
    batch_size: int = 1_000_000,
    daily: bool = True,
    mix: Mix = DEFAULT_MIX,
    communities=None,
) -> Iterator[pa.RecordBatch]:
    """Stream ``n_claims`` synthetic claims for ``year`` as Arrow record batches.

    Columns follow the **claims** table of ``interfaces.md`` (enum columns dictionary-encoded,
    money int64 fen, string ids). Rows are in no order of person. With ``daily`` (the default)
    the stream is a daily settlement feed: dates never go back from one row to the next, so
    batches can be settled one after another with the carried state. Without it every row
    draws its date independently (no order at all; settle such data as one batch).

    Parameters
    ----------
    n_claims : int
        Number of claims in all.
    n_persons : int, optional
        Size of the insured population; default ten claims per person.
    seed : int
        Same seed, sizes and mix: same data, whatever ``batch_size``.
    year : int
        Insurance year; every ``settle_date`` falls in it.
    batch_size : int
        Rows per batch (the last may be shorter).
    daily : bool
        Dates in stream order (a daily feed) rather than in no order.
    mix : Mix
        Population shares and cost shapes.
    communities : wzmedins.synth.signings.Layout, optional
        Add the facility's ``community_id`` (``synth.signings.WENZHOU``); the other columns
        are unchanged.

    Examples
    --------
    >>> batches = list(claim_batches(2500, seed=7, batch_size=1000))
    >>> [b.num_rows for b in batches]
    [1000, 1000, 500]
    >>> batches[0].column("claim_id")[0].as_py()
    'C20220000000000'
    """
    if n_claims < 0 or batch_size < 1:
        raise ValueError("n_claims must be >= 0 and batch_size >= 1")
    n_persons = default_persons(n_claims) if n_persons is None else int(n_persons)
    if n_persons < 1:
        raise ValueError("n_persons must be >= 1")
    cached: tuple[int, pa.Table] | None = None
    for start in range(0, n_claims, batch_size):
        stop = min(start + batch_size, n_claims)
        parts = []
        for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
            if cached is None or cached[0] != block:
                rows = min(BLOCK, n_claims - block * BLOCK)
                cached = (block, _block(block, rows, n_claims, n_persons, seed, year, mix, daily, communities))
            lo = max(start - block * BLOCK, 0)
            hi = min(stop - block * BLOCK, BLOCK)
            parts.append(cached[1].slice(lo, hi - lo))
        table = pa.concat_tables(parts).combine_chunks()
        yield from table.to_batches(max_chunksize=batch_size)


def claims(n_claims: int, **options) -> pa.Table:
    """All ``n_claims`` synthetic claims as one table (options as :func:`claim_batches`).

    Examples
    --------
    >>> t = claims(1000, seed=3)
    >>> t.num_rows, t.schema == CLAIMS_SCHEMA
    (1000, True)
    >>> t.equals(claims(1000, seed=3, batch_size=77))
    True
    """
    batches = list(claim_batches(n_claims, **options))
    schema = CLAIMS_SCHEMA if options.get("communities") is None else COMMUNITY_CLAIMS_SCHEMA
    return pa.Table.from_batches(batches, schema=schema)


def accounts(n_persons: int, *, seed: int = 0, year: int = 2022, mix: Mix = DEFAULT_MIX) -> pa.Table:
    """Opening personal-account balances (个人账户) of the employees among ``n_persons``.

    Pass the same ``n_persons`` and ``seed`` as to :func:`claim_batches`; residents have no
    account and get no row.

    Examples
    --------
    >>> a = accounts(1000, seed=3)
    >>> a.column_names
    ['person_id', 'year', 'current_balance', 'hist_balance']
    >>> 300 < a.num_rows < 600
    True
    """
    person = np.arange(n_persons, dtype=np.int64)
    attrs = persons(person, seed=seed, mix=mix)
    employee = attrs["scheme"] == SCHEMES.index("employee")
    person = person[employee]
    category = attrs["category"][employee]
    rng = np.random.default_rng([seed, year, 1 << 40])
    n = len(person)
    current = np.asarray(mix.current_median)[category] * np.exp(0.4 * rng.standard_normal(n))
    hist = mix.hist_median * np.exp(mix.hist_sigma * rng.standard_normal(n))
    return pa.table(
        [
            person_ids(person),
            pa.array(np.full(n, year, dtype=np.int32)),
            pa.array(np.rint(current * 100).astype(np.int64)),
            pa.array(np.rint(hist * 100).astype(np.int64)),
        ],
        schema=ACCOUNTS_SCHEMA,
    )
