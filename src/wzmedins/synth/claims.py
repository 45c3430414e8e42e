"""Seeded synthetic claims (模拟结算数据) for tests, demos and capacity planning.

Each claim number has its own random stream, keyed by ``(seed, year, claim number)``, and the
rows are made by a compiled generator (:mod:`._claims_kernel`) straight into record batches of
any size, on every core: the data depend on the seed and the sizes, never on ``batch_size`` or
the threads, and 10^8 claims never sit in memory at once.

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

BLOCK = 1 << 16  # a convenient batch size for tests (rows do not depend on how they are cut)
ROW_SALT = 0x434C_4D53  # the claims' per-row streams, apart from every other hash of the seed

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
    """Index of the bucket of each uniform ``u`` under the given shares (compiled: the first
    bucket whose cumulative share passes ``u``, at most the last)."""
    from ._claims_kernel import pick_all

    cum = np.cumsum(np.asarray(shares, dtype=np.float64))
    u = np.ascontiguousarray(u, dtype=np.float64)
    out = np.empty(u.shape, dtype=np.int64)
    pick_all(cum / cum[-1], u.reshape(-1), out.reshape(-1))
    return out


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
    from ._claims_kernel import fixed_ids

    numbers = np.ascontiguousarray(numbers, dtype=np.int64)
    n = len(numbers)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8).copy()
    size = len(head) + width
    chars = np.empty(n * size, dtype=np.uint8)
    fixed_ids(head, numbers, np.int64(width), chars)
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


def _mix_arrays(mix: Mix, seed: int, year: int, n_claims: int, n_persons: int, daily: bool) -> dict:
    """The mix as the arrays and scalars of :func:`._claims_kernel.generate` (cumulative shares
    normalised as :func:`_pick` does)."""

    def cum(shares) -> np.ndarray:
        c = np.cumsum(np.asarray(shares, dtype=np.float64), axis=-1)
        return c / c[..., -1:]

    def key(salt: int) -> np.uint64:
        return splitmix64(np.array([seed * 1_000_003 + salt], dtype=np.uint64))[0]

    first = _days(year, 1, 1)
    n_days = _days(year + 1, 1, 1) - first
    day_weight = 1.0 + mix.winter_peak * np.cos(2 * math.pi * (np.arange(n_days) - 14) / n_days)
    row_key = splitmix64(np.array([(seed * 1_000_003 + year) * 65_537 + ROW_SALT], dtype=np.uint64))[0]
    f64 = np.float64
    return dict(
        n_claims=np.int64(n_claims), n_persons=np.int64(n_persons), seed=np.int64(seed),
        stride=np.int64(_stride(n_persons)), row_key=row_key, daily=bool(daily),
        key1=key(1), key2=key(2), category_cum=cum(mix.category_share), assistance_cum=cum(mix.assistance_share),
        chronic_share=np.asarray(mix.chronic_share, f64), special_share=f64(mix.special_share),
        activity=np.asarray(mix.activity, f64), scheme_of=np.asarray(CATEGORY_SCHEME, np.int8),
        chronic_activity=f64(mix.chronic_activity), special_activity=f64(mix.special_activity),
        activity_cap=f64(mix.activity_cap), activity_skew=f64(mix.activity_skew),
        visit_plain=cum(mix.visit_share_plain), visit_chronic=cum(mix.visit_share_chronic),
        visit_special=cum(mix.visit_share_special), level_cum=cum(mix.level_share), area_cum=cum(mix.area_share),
        cost_median=np.asarray(mix.cost_median, f64), cost_sigma=np.asarray(mix.cost_sigma, f64),
        catastrophic_share=np.asarray(mix.catastrophic_share, f64), catastrophic_median=f64(mix.catastrophic_median),
        catastrophic_sigma=f64(mix.catastrophic_sigma), self_pay_chance=np.asarray(mix.self_pay_chance, f64),
        self_pay_max_bp=np.asarray(mix.self_pay_max_bp, np.int64), class_b_chance=np.asarray(mix.class_b_chance, f64),
        class_b_max_bp=np.asarray(mix.class_b_max_bp, np.int64), day_cum=np.cumsum(day_weight) / day_weight.sum(),
        first_day=np.int64(first), claim_prefix=np.frombuffer(f"C{year}".encode(), np.uint8).copy(),
        person_prefix=np.frombuffer(b"WZ", np.uint8).copy(),
    )  # fmt: skip


def _rows(start: int, n_rows: int, arrays: dict, threads: int) -> dict[str, np.ndarray]:
    """Claims ``start … start + n_rows − 1`` as numpy arrays, made on ``threads`` threads (the
    compiled generator releases the GIL; rows do not depend on the chunks)."""
    from concurrent.futures import ThreadPoolExecutor

    from ._claims_kernel import generate

    cw, pw = len(arrays["claim_prefix"]) + 10, len(arrays["person_prefix"]) + 10
    out = {
        "person": np.empty(n_rows, np.int64),
        **{k: np.empty(n_rows, np.int8) for k in ("scheme", "category", "assistance", "visit", "level", "area")},
        "day": np.empty(n_rows, np.int32),
        **{k: np.empty(n_rows, np.int64) for k in ("seq", "total", "self_pay", "class_b")},
        "claim_chars": np.empty(n_rows * cw, np.uint8),
        "person_chars": np.empty(n_rows * pw, np.uint8),
    }
    chunks = max(1, min(threads, n_rows // 50_000))
    bounds = np.linspace(0, n_rows, chunks + 1).astype(np.int64)

    def one(k: int) -> None:
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        part = {n: (a[lo * cw : hi * cw] if n == "claim_chars" else a[lo * pw : hi * pw] if n == "person_chars"
                    else a[lo:hi]) for n, a in out.items()}  # fmt: skip
        generate(first_claim=np.int64(start + lo), n_rows=np.int64(hi - lo), **arrays, **part)

    if chunks == 1:
        one(0)
    else:
        with ThreadPoolExecutor(chunks) as pool:
            list(pool.map(one, range(chunks)))
    return out


def _strings(chars: np.ndarray, n: int, width: int) -> pa.Array:
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def _batch(
    start: int, n_rows: int, arrays: dict, year: int, seed: int, communities=None, threads: int = 1
) -> pa.RecordBatch:
    """Rows ``start`` … ``start + n_rows − 1`` of the claims, as one record batch."""
    r = _rows(start, n_rows, arrays, threads)
    columns = [
        _strings(r["claim_chars"], n_rows, len(arrays["claim_prefix"]) + 10),
        _strings(r["person_chars"], n_rows, len(arrays["person_prefix"]) + 10),
        pa.Array.from_buffers(pa.date32(), n_rows, [None, pa.py_buffer(r["day"])]),
        pa.array(r["seq"], pa.int64()),
        _enum(r["scheme"], SCHEMES),
        _enum(r["category"], CATEGORIES),
        _enum(r["assistance"], ASSISTANCE),
        _enum(r["visit"], VISIT_TYPES),
        _enum(r["level"], FACILITY_LEVELS),
        _enum(r["area"], AREAS),
        pa.array(r["total"], pa.int64()),
        pa.array(r["self_pay"], pa.int64()),
        pa.array(r["class_b"], pa.int64()),
    ]
    if communities is None:
        return pa.RecordBatch.from_arrays(columns, schema=CLAIMS_SCHEMA)
    # drawn by hashing (seed, claim number): the other columns are the same with or without it
    claim_no = np.arange(start, start + n_rows, dtype=np.int64)
    columns.append(communities.facility_communities(claim_no, r["person"], r["level"], r["area"], seed=seed))
    return pa.RecordBatch.from_arrays(columns, schema=COMMUNITY_CLAIMS_SCHEMA)


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
    threads: int | None = None,
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
    threads : int, optional
        Threads making each batch (default ``wzmedins._jit.threads()``: every core, or
        ``WZMEDINS_THREADS``); the data do not depend on it.

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
    from .._jit import threads as _threads

    arrays = _mix_arrays(mix, seed, year, n_claims, n_persons, daily)
    for start in range(0, n_claims, batch_size):
        n_rows = min(batch_size, n_claims - start)
        yield _batch(start, n_rows, arrays, year, seed, communities, _threads(threads))


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
