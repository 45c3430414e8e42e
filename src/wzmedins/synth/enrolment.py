"""Seeded synthetic enrolment (参保登记) for the fund: employers, workers, retirees, residents.

The persons are those of :mod:`wzmedins.synth.claims`: pass the same ``n_persons`` and
``seed`` as to ``claim_batches`` and every claimant is enrolled, in the scheme, category and
assistance class the claims give him. What the claims do not say is drawn here from the same
hash of ``(seed, person number)``: the county (the twelve counties and districts of Wenzhou),
flexible employment, last year's wage, the employer. Floats appear only to draw numbers;
every amount leaves as whole fen. The shares are illustrative (``docs/synth.md``, ``EnrolmentMix``).

Examples
--------
>>> e = generate(2_000, seed=1)
>>> sorted(e)
['counties', 'employers', 'persons', 'residents', 'workers']
>>> e["workers"].num_rows + e["residents"].num_rows
2000
>>> generate(300, seed=2)["workers"].equals(generate(300, seed=2)["workers"])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..vocab import ASSISTANCE, CATEGORIES, SCHEMES
from .claims import DEFAULT_MIX, Mix, _fixed_ids, _pick, _uniforms, person_ids, persons

COUNTIES: tuple[str, ...] = (
    "lucheng", "longwan", "ouhai", "dongtou", "ruian", "yueqing",
    "longgang", "yongjia", "pingyang", "cangnan", "wencheng", "taishun",
)  # fmt: skip
URBAN: tuple[str, ...] = ("lucheng", "longwan", "ouhai", "dongtou")  # 市区: the urban districts


@dataclass(frozen=True)
class EnrolmentMix:
    """Shares and shapes of the enrolment (illustrative).

    Examples
    --------
    >>> round(sum(EnrolmentMix().county_share), 6)
    1.0
    """

    # population shares of the counties, in the order of COUNTIES (rough, illustrative)
    county_share: tuple[float, ...] = (0.14, 0.08, 0.10, 0.02, 0.15, 0.15, 0.05, 0.09, 0.08, 0.08, 0.03, 0.03)
    flexible_share: float = 0.15  # of the employee persons in service: 灵活就业
    wage_median: float = 7_000.0  # yuan a month, last year's wage of a worker in service
    wage_sigma: float = 0.55
    flexible_base: tuple[float, ...] = (4_200.0, 7_000.0)  # declared bases a flexible worker picks from
    workers_per_employer: int = 20
    full_year_share: float = 0.9  # workers enrolled all year; the others join in a random month
    # the counties' own resident standards of the base year, yuan (total, individual), rural ones only
    base_total: tuple[float, float] = (1_080.0, 1_300.0)
    base_individual: tuple[float, float] = (350.0, 440.0)


DEFAULT_ENROLMENT = EnrolmentMix()


def _normal(seed: int, person: np.ndarray, salt: int) -> np.ndarray:
    u1, u2 = _uniforms(seed, person, salt)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2 * np.pi * u2)


def counties_of(person: np.ndarray, *, seed: int = 0, enrolment_mix: EnrolmentMix = DEFAULT_ENROLMENT) -> np.ndarray:
    """County code (into ``COUNTIES``) of each person number: the same number, the same county.

    Examples
    --------
    >>> c = counties_of(np.arange(6), seed=1)
    >>> bool((counties_of(np.array([4]), seed=1) == c[4]).all())
    True
    """
    u, _ = _uniforms(seed, np.asarray(person, dtype=np.uint64), 3)
    return _pick(u, enrolment_mix.county_share).astype(np.int8)


def _enum(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(vocab, pa.string()))


def generate(
    n_persons: int,
    *,
    seed: int = 0,
    year: int = 2022,
    monthly: bool = False,
    mix: Mix = DEFAULT_MIX,
    enrolment_mix: EnrolmentMix = DEFAULT_ENROLMENT,
) -> dict[str, pa.Table]:
    """The enrolment of ``year`` for the persons ``0 .. n_persons - 1`` of the claims generator.

    Parameters
    ----------
    n_persons, seed, mix
        As given to :func:`wzmedins.synth.claim_batches`: the same persons.
    year
        The enrolment year.
    monthly
        One worker row per person and month (``months`` = 1): person-month rows, the shape of a
        monthly collection feed. Otherwise one row per person (``months`` = months enrolled).
    enrolment_mix
        Shares of counties and flexible workers, wages, employer size, base-year standards.

    Returns
    -------
    dict
        ``"workers"`` (person_id, year, county, category, wage_prev, months, employer_id),
        ``"employers"`` (employer_id, county, year, month, payroll: Σ wages of its workers
        enrolled that month), ``"residents"`` (person_id, year, county, assistance, category),
        ``"counties"`` (county, urban, base_total, base_individual: the inputs of
        ``wz.fund.resident_standards``) and ``"persons"`` (person_id, year, county, scheme: the
        enrolment of ``wz.fund.expenditure``). Money in fen.

    Examples
    --------
    >>> e = generate(1_000, seed=3)
    >>> p = persons(np.arange(1_000), seed=3)
    >>> e["workers"].num_rows == int((p["scheme"] == 0).sum())
    True
    >>> generate(1_000, seed=3, monthly=True)["workers"].num_rows >= e["workers"].num_rows
    True
    """
    if n_persons < 0:
        raise ValueError("n_persons must be >= 0")
    em = enrolment_mix
    person = np.arange(n_persons, dtype=np.int64)
    attrs = persons(person, seed=seed, mix=mix)
    county = counties_of(person, seed=seed, enrolment_mix=em)
    employee = attrs["scheme"] == SCHEMES.index("employee")

    # workers
    w = person[employee]
    w_cat = attrs["category"][employee]
    u_flex, u_base = _uniforms(seed, w.astype(np.uint64), 4)
    u_start, u_full = _uniforms(seed, w.astype(np.uint64), 7)
    in_service = w_cat == CATEGORIES.index("in_service")
    flexible = in_service & (u_flex < em.flexible_share)
    category = np.where(w_cat == CATEGORIES.index("retired"), 2, np.where(flexible, 1, 0)).astype(np.int8)
    wage = em.wage_median * np.exp(em.wage_sigma * _normal(seed, w.astype(np.uint64), 5))
    declared = np.asarray(em.flexible_base)[np.minimum((u_base * len(em.flexible_base)).astype(int), 1)]
    wage_fen = np.rint(np.where(flexible, declared, np.where(category == 2, 0.0, wage)) * 100).astype(np.int64)
    first_month = np.where(u_full < em.full_year_share, 1, 1 + (u_start * 12).astype(np.int64))
    months = (13 - first_month).astype(np.int64)
    n_employers = max(1, int(in_service.sum()) // em.workers_per_employer)
    u_emp, _ = _uniforms(seed, w.astype(np.uint64), 6)
    employer = np.where(category == 0, (u_emp * n_employers).astype(np.int64), -1)
    employer_ids = pc.if_else(pa.array(employer >= 0), _fixed_ids("E", np.maximum(employer, 0), 6), None)

    if monthly:
        reps = months
        rows = np.repeat(np.arange(len(w)), reps)
        start = np.repeat(first_month, reps)
        offset = np.arange(len(rows)) - np.repeat(np.cumsum(reps) - reps, reps)
        month_of_row = start + offset
        row_months = np.ones(len(rows), dtype=np.int64)
    else:
        rows = np.arange(len(w))
        row_months = months
    workers = pa.table(
        {
            "person_id": person_ids(w[rows]),
            "year": pa.array(np.full(len(rows), year, dtype=np.int32)),
            "county": _enum(county[employee][rows], COUNTIES),
            "category": _enum(category[rows], ("in_service", "flexible", "retired")),
            "wage_prev": pa.array(wage_fen[rows]),
            "months": pa.array(row_months),
            "employer_id": employer_ids.take(pa.array(rows)),
        }
    )
    if monthly:
        workers = workers.append_column("month", pa.array(month_of_row.astype(np.int32)))

    # employers: each month, the wages of the workers in service enrolled that month
    e_county = counties_of(np.arange(n_employers) + (1 << 40), seed=seed, enrolment_mix=em)
    payroll = np.zeros((n_employers, 12), dtype=np.int64)
    has = employer >= 0
    for m in range(1, 13):
        on = has & (first_month <= m)
        np.add.at(payroll[:, m - 1], employer[on], wage_fen[on])
    e_idx = np.repeat(np.arange(n_employers), 12)
    employers = pa.table(
        {
            "employer_id": _fixed_ids("E", e_idx, 6),
            "county": _enum(e_county[e_idx], COUNTIES),
            "year": pa.array(np.full(len(e_idx), year, dtype=np.int32)),
            "month": pa.array(np.tile(np.arange(1, 13, dtype=np.int32), n_employers)),
            "payroll": pa.array(payroll.reshape(-1)),
        }
    )

    # residents
    r = person[~employee]
    residents = pa.table(
        {
            "person_id": person_ids(r),
            "year": pa.array(np.full(len(r), year, dtype=np.int32)),
            "county": _enum(county[~employee], COUNTIES),
            "assistance": _enum(attrs["assistance"][~employee], ASSISTANCE),
            "category": _enum(attrs["category"][~employee], CATEGORIES),
        }
    )

    # the counties' base-year standards (rural counties only; urban districts hold the city's)
    rng = np.random.default_rng([seed, 2021, 7])
    urban = np.array([c in URBAN for c in COUNTIES])
    total = np.rint(rng.uniform(*em.base_total, len(COUNTIES))) * 100
    individual = np.rint(rng.uniform(*em.base_individual, len(COUNTIES))) * 100
    counties = pa.table(
        {
            "county": pa.array(COUNTIES, pa.string()),
            "urban": pa.array(urban),
            "base_total": pa.array(total.astype(np.int64), pa.int64(), mask=urban),
            "base_individual": pa.array(individual.astype(np.int64), pa.int64(), mask=urban),
        }
    )
    everyone = pa.table(
        {
            "person_id": person_ids(person),
            "year": pa.array(np.full(n_persons, year, dtype=np.int32)),
            "county": _enum(county, COUNTIES),
            "scheme": _enum(attrs["scheme"], SCHEMES),
        }
    )
    return {
        "workers": workers,
        "employers": employers,
        "residents": residents,
        "counties": counties,
        "persons": everyone,
    }
