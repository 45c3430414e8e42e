"""Seeded synthetic family-doctor signings (家庭医生签约) and medical communities (医共体).

Consistent with the persons of :mod:`wzmedins.synth.claims`: a person number gives the same
person (category, chronic status) there and here. What this module adds is also a hash of
``(seed, person number)``, so any batch agrees on it without shared state:

- a **home**: a county (by population share) and one of its medical communities;
- an **age band**, drawn from the person's category (a retiree is 60–79 or 80+, a minor 0–6
  or 7–17 ...);
- a **signing**, at a rate by age band and chronic status, for 12 months or fewer.

Claims get the facility's ``community_id`` from :meth:`Layout.facility_communities` (pass
``communities=WENZHOU`` to :func:`wzmedins.synth.claim_batches`): primary and secondary care in
the city is at a community's facility — mostly the person's own, sometimes another of the
county, rarely one elsewhere — and tertiary or out-of-area care is at none (null). The shares
are illustrative, chosen to look like a county's year, not taken from Wenzhou's data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..vocab import AREAS, FACILITY_LEVELS
from . import enrolment
from .claims import DEFAULT_MIX, Mix, _pick, _uniforms, person_ids, persons

AGE_BANDS: tuple[str, ...] = ("0-6", "7-17", "18-59", "60-79", "80+")

SIGNINGS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("year", pa.int32()),
        ("county", pa.dictionary(pa.int8(), pa.string())),
        ("community_id", pa.dictionary(pa.int16(), pa.string())),
        ("age_band", pa.dictionary(pa.int8(), pa.string())),
        ("chronic", pa.bool_()),
        ("months", pa.int8()),
    ]
)


@dataclass(frozen=True)
class Layout:
    """Counties, their population shares and their medical communities, and where care happens.

    Community ids are ``"<county>-<k>"`` for k = 1 … the county's number of communities.

    Examples
    --------
    >>> small = Layout(counties=("north", "south"), county_share=(0.6, 0.4), communities=(2, 1))
    >>> small.community_ids()
    ('north-1', 'north-2', 'south-1')
    """

    counties: tuple[str, ...]
    county_share: tuple[float, ...]
    communities: tuple[int, ...]  # medical communities per county
    own_share: float = 0.80  # community care at the person's own community
    same_county_share: float = 0.15  # at another community of the county (else anywhere)

    def community_ids(self) -> tuple[str, ...]:
        return tuple(f"{c}-{k + 1}" for c, n in zip(self.counties, self.communities, strict=True) for k in range(n))

    def _first(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.communities)[:-1]]).astype(np.int64)

    def homes(self, person: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """County index and home community index (into :meth:`community_ids`) of each person.

        Examples
        --------
        >>> county, community = WENZHOU.homes(np.arange(3), seed=1)
        >>> [WENZHOU.community_ids()[k].startswith(WENZHOU.counties[c]) for c, k in zip(county, community)]
        [True, True, True]
        """
        u_county, u_comm = _uniforms(seed, np.asarray(person, dtype=np.uint64), 11)
        if self.counties == enrolment.COUNTIES:
            # one home per person: the county of his enrolment (wz.synth.enrolment), where the
            # fund counts his contributions and spending
            county = enrolment.counties_of(np.asarray(person), seed=seed).astype(np.int64)
        else:
            county = _pick(u_county, self.county_share).astype(np.int64)
        n = np.asarray(self.communities, dtype=np.int64)[county]
        return county, self._first()[county] + np.minimum((u_comm * n).astype(np.int64), n - 1)

    def facility_communities(
        self, claim_no: np.ndarray, person: np.ndarray, level: np.ndarray, area: np.ndarray, *, seed: int = 0
    ) -> pa.DictionaryArray:
        """The ``community_id`` of each claim's facility (null: a city hospital or out of area).

        Drawn from ``(seed, claim number)`` by hashing, so the other columns of the claims do
        not change when this one is added.
        """
        from ..tables import splitmix64
        from ._claims_kernel import facility_communities

        def key(salt: int) -> np.uint64:  # the stream keys of claims._uniforms
            return splitmix64(np.array([seed * 1_000_003 + salt], dtype=np.uint64))[0]

        enrolment_counties = self.counties == enrolment.COUNTIES
        shares = enrolment.DEFAULT_ENROLMENT.county_share if enrolment_counties else self.county_share
        cum = np.cumsum(np.asarray(shares, dtype=np.float64))
        out = np.empty(len(claim_no), np.int64)
        facility_communities(
            np.ascontiguousarray(claim_no, dtype=np.int64), np.ascontiguousarray(person, dtype=np.int64),
            np.ascontiguousarray(level), np.ascontiguousarray(area), key(3), key(11), key(13), enrolment_counties,
            cum / cum[-1], np.asarray(self.communities, dtype=np.int64), self._first(), float(self.own_share),
            float(self.own_share + self.same_county_share), FACILITY_LEVELS.index("tertiary"), AREAS.index("local"),
            out,
        )  # fmt: skip
        indices = pa.array(out.astype(np.int16), pa.int16(), mask=out < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array(self.community_ids(), pa.string()))


# Wenzhou's twelve county-level areas (districts, county-level cities, counties), population
# shares from the 2020 census (rounded), and an illustrative number of medical communities each.
# Its persons live in the county of their enrolment (wz.synth.enrolment): the shares serve a
# layout with other counties.
WENZHOU = Layout(
    counties=(
        "lucheng", "longwan", "ouhai", "dongtou", "ruian", "yueqing",
        "longgang", "yongjia", "pingyang", "cangnan", "wencheng", "taishun",
    ),
    county_share=(12.9, 7.6, 9.6, 1.5, 15.2, 14.5, 4.7, 8.7, 8.6, 8.4, 2.9, 2.7),
    communities=(2, 1, 2, 1, 3, 3, 1, 2, 2, 2, 1, 1),
)  # fmt: skip


@dataclass(frozen=True)
class SigningMix:
    """Age bands by category and signing rates by age band and chronic status (illustrative).

    Examples
    --------
    >>> m = SigningMix()
    >>> len(m.band_share) == 6 and all(abs(sum(r) - 1) < 1e-9 for r in m.band_share)
    True
    """

    # rows: in_service, retired, adult, minor, student, elderly (vocab.CATEGORIES); columns: AGE_BANDS
    band_share: tuple[tuple[float, ...], ...] = (
        (0.0, 0.0, 0.97, 0.03, 0.0),
        (0.0, 0.0, 0.12, 0.70, 0.18),
        (0.0, 0.0, 1.0, 0.0, 0.0),
        (0.55, 0.45, 0.0, 0.0, 0.0),
        (0.0, 0.75, 0.25, 0.0, 0.0),
        (0.0, 0.0, 0.0, 0.78, 0.22),
    )
    signing_rate: tuple[float, ...] = (0.55, 0.25, 0.20, 0.60, 0.70)  # per age band
    chronic_signing_rate: tuple[float, ...] = (0.80, 0.80, 0.80, 0.90, 0.90)  # chronic patients
    full_year_share: float = 0.80  # signed all year; the others for 1..11 months


DEFAULT_SIGNING_MIX = SigningMix()


def age_bands(person: np.ndarray, *, seed: int = 0, mix: Mix = DEFAULT_MIX, signing_mix=DEFAULT_SIGNING_MIX):
    """Age band code (into :data:`AGE_BANDS`) of each person, from the person's category.

    Examples
    --------
    >>> bands = age_bands(np.arange(1000), seed=1)
    >>> cat = persons(np.arange(1000), seed=1)["category"]
    >>> set(bands[cat == 1].tolist()) <= {2, 3, 4}  # retirees: 18-59, 60-79 or 80+
    True
    """
    person = np.asarray(person, dtype=np.uint64)
    category = persons(person, seed=seed, mix=mix)["category"]
    u, _ = _uniforms(seed, person, 12)
    cum = np.cumsum(np.asarray(signing_mix.band_share), axis=1)
    cum /= cum[:, -1:]
    return (u[:, None] >= cum[category][:, :-1]).sum(axis=1).astype(np.int8)


def signings(
    n_persons: int,
    *,
    seed: int = 0,
    year: int = 2022,
    layout: Layout = WENZHOU,
    mix: Mix = DEFAULT_MIX,
    signing_mix: SigningMix = DEFAULT_SIGNING_MIX,
) -> pa.Table:
    """The signings of ``year`` among persons ``0 … n_persons − 1`` (pass the claims' ``n_persons``
    and ``seed``): ``person_id``, ``year``, ``county``, ``community_id`` (home), ``age_band``,
    ``chronic``, ``months``. One row per signed person.

    Examples
    --------
    >>> s = signings(10_000, seed=3)
    >>> s.column_names
    ['person_id', 'year', 'county', 'community_id', 'age_band', 'chronic', 'months']
    >>> 2_000 < s.num_rows < 5_000, s.equals(signings(10_000, seed=3))
    (True, True)
    """
    person = np.arange(n_persons, dtype=np.int64)
    attrs = persons(person, seed=seed, mix=mix)
    band = age_bands(person, seed=seed, mix=mix, signing_mix=signing_mix)
    county, home = layout.homes(person, seed=seed)
    u_sign, u_months = _uniforms(seed + year, person.astype(np.uint64), 14)
    rate = np.where(
        attrs["chronic"], np.asarray(signing_mix.chronic_signing_rate)[band], np.asarray(signing_mix.signing_rate)[band]
    )
    signed = u_sign < rate
    part = u_months >= signing_mix.full_year_share
    months = np.where(part, 1 + (u_months * 1e6).astype(np.int64) % 11, 12)
    rows = np.flatnonzero(signed)
    return pa.table(
        [
            person_ids(rows),
            pa.array(np.full(len(rows), year, dtype=np.int32)),
            pa.DictionaryArray.from_arrays(pa.array(county[rows].astype(np.int8)), pa.array(layout.counties)),
            pa.DictionaryArray.from_arrays(pa.array(home[rows].astype(np.int16)), pa.array(layout.community_ids())),
            pa.DictionaryArray.from_arrays(pa.array(band[rows]), pa.array(AGE_BANDS)),
            pa.array(attrs["chronic"][rows]),
            pa.array(months[rows].astype(np.int8)),
        ],
        schema=SIGNINGS_SCHEMA,
    )
