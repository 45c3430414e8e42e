"""Seeded synthetic stays: the hospital, DRG group and length of stay of inpatient claims.

The claims generator (:mod:`wzmedins.synth.claims`) says that a claim is an inpatient stay at a
facility of some level, and what it cost; a DRG clearing also needs the hospital (医院), the DRG
code a grouper would give (分组) and the admission date. :func:`add_stays` adds them to a batch of
claims, as a hash of ``(seed, claim_id)``, so every batch agrees without shared state:

- the hospital: one of the hospitals of the claim's facility level;
- the DRG code: the group whose standard cost (``base_points / 100 × M``) is nearest the
  claim's cost scaled by a log-normal factor, so costs spread over the low, normal and high
  bands as in the DRG generator; bed-day groups (``daily_points``) are never chosen;
- the length of stay: a geometric number of days; ``admit_date = settle_date − los``.

Other rows get nulls. Floats only draw numbers; every amount stays in whole fen.

Examples
--------
>>> import pyarrow.compute as pc
>>> from wzmedins.synth import claims, drg
>>> world = drg.generate(10, seed=1, n_hospitals=6)
>>> batch = add_stays(claims(2_000, seed=2), world["hospitals"], world["catalog"], seed=2)
>>> inpatient = batch.filter(pc.equal(batch["visit_type"].cast("string"), "inpatient"))
>>> inpatient["hospital_id"].null_count, inpatient["drg_code"].null_count
(0, 0)
>>> batch["hospital_id"].null_count == batch.num_rows - inpatient.num_rows
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..tables import hash64, splitmix64
from ..vocab import FACILITY_LEVELS

SALT = 0x5747_5354  # the stream of stays, apart from the claims' own streams


@dataclass(frozen=True)
class StayMix:
    """Shapes of the synthetic stays (illustrative)."""

    reference_cost_fen: int = 1_035_055  # M of the catalog's scale: standard cost = B/100 · M
    cost_noise_sigma: float = 0.25  # spread of cost around the group's standard cost
    los_p: float = 0.13  # geometric parameter: mean stay about 1/p days


def _uniform(seed: int, ids: pa.Array, salt: int) -> np.ndarray:
    """A uniform [0, 1) number per id, from a hash of (seed, salt, id)."""
    key = np.uint64((seed * 1_000_003 + salt) & (2**64 - 1))
    mixed = splitmix64(hash64(ids) ^ splitmix64(np.array([key], dtype=np.uint64)))
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _codes(column: pa.ChunkedArray, vocab: tuple[str, ...]) -> np.ndarray:
    """Index of each value in ``vocab`` (-1: not in it, or null); a dictionary column is looked
    up once per dictionary value, not per row."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(arr.type):
        per_value = pc.index_in(arr.dictionary.cast(pa.string()), value_set=pa.array(vocab)).fill_null(-1)
        codes = per_value.to_numpy(zero_copy_only=False).astype(np.int64)[arr.indices.fill_null(0).to_numpy()]
        return np.where(arr.indices.is_valid().to_numpy(zero_copy_only=False), codes, -1)
    return pc.index_in(arr.cast(pa.string()), value_set=pa.array(vocab)).fill_null(-1).to_numpy(zero_copy_only=False)


def add_stays(
    claims: pa.Table | pa.RecordBatch,
    hospitals: pa.Table,
    catalog: pa.Table,
    *,
    seed: int = 0,
    mix: StayMix = StayMix(),
) -> pa.Table:
    """The claims with ``hospital_id``, ``drg_code``, ``los`` and ``admit_date`` for inpatient rows.

    ``hospitals`` has ``hospital_id`` and ``level``; ``catalog`` is a DRG catalog (``drg_code``,
    ``base_points``, ``daily_points``). A facility level without a hospital takes any hospital.
    """
    t = pa.Table.from_batches([claims]) if isinstance(claims, pa.RecordBatch) else claims
    n = t.num_rows
    inpatient = _codes(t.column("visit_type"), ("inpatient",)) == 0
    level_code = np.maximum(_codes(t.column("facility_level"), FACILITY_LEVELS), 0)
    rows = np.flatnonzero(inpatient)  # only the stays draw numbers: the other rows get nulls
    ids = t.column("claim_id").combine_chunks().take(pa.array(rows))
    u_h, u_g, u_l = (_uniform(seed, ids, SALT + k) for k in range(3))
    level_code = level_code[rows]

    # hospital: one of those of the claim's level
    h_level = pc.index_in(hospitals.column("level"), value_set=pa.array(FACILITY_LEVELS)).to_numpy(zero_copy_only=False)
    hosp = np.zeros(len(rows), dtype=np.int64)
    for lv in range(len(FACILITY_LEVELS)):
        choices = np.flatnonzero(h_level == lv)
        if len(choices) == 0:
            choices = np.arange(hospitals.num_rows)
        at = level_code == lv
        hosp[at] = choices[np.minimum((u_h[at] * len(choices)).astype(np.int64), len(choices) - 1)]

    # DRG: nearest standard cost to the claim's cost times a log-normal factor
    daily = catalog.column("daily_points").is_null().to_numpy(zero_copy_only=False)
    groups = np.flatnonzero(daily & catalog.column("base_points").is_valid().to_numpy(zero_copy_only=False))
    base_e4 = np.array([int(v * 10_000) for v in catalog.column("base_points").take(pa.array(groups)).to_pylist()])
    std_cost = base_e4 * mix.reference_cost_fen // 1_000_000
    order = np.argsort(std_cost, kind="stable")
    sorted_cost = std_cost[order]
    cost = t.column("total_cost").to_numpy(zero_copy_only=False)[rows].astype(np.float64)
    z = np.sqrt(-2.0 * np.log(np.maximum(u_g, 1e-12))) * np.cos(2.0 * np.pi * u_l)
    target = cost * np.exp(mix.cost_noise_sigma * z)
    at = np.clip(np.searchsorted(sorted_cost, target), 0, len(sorted_cost) - 1)
    group = groups[order[at]]
    los = (1 + np.floor(np.log(np.maximum(u_l, 1e-12)) / np.log(1.0 - mix.los_p))).astype(np.int64)

    def spread(values: np.ndarray) -> pa.Array:  # the stays' values on their rows, null elsewhere
        full = np.zeros(n, dtype=np.int64)
        full[rows] = values
        return pa.array(full, pa.int64(), mask=~inpatient)

    settle_day = t.column("settle_date").cast(pa.int32()).to_numpy(zero_copy_only=False)
    los_all = spread(los)
    admit = pa.array(settle_day - los_all.fill_null(0).to_numpy(), pa.int32(), mask=~inpatient).cast(pa.date32())
    return (
        t.append_column("hospital_id", hospitals.column("hospital_id").combine_chunks().take(spread(hosp)))
        .append_column("drg_code", catalog.column("drg_code").combine_chunks().take(spread(group)))
        .append_column("los", los_all)
        .append_column("admit_date", admit)
    )
