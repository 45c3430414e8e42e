"""Synthetic signings and communities: consistent with the claims' persons; claims unchanged."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from wzmedins import synth
from wzmedins.synth.signings import AGE_BANDS, WENZHOU, Layout, SigningMix, age_bands


def test_claims_with_communities_keep_every_other_column():
    plain = synth.claims(5_000, seed=4)
    with_comm = synth.claims(5_000, seed=4, communities=WENZHOU, batch_size=999)
    assert with_comm.drop(["community_id"]).equals(plain)


def test_facilities_follow_the_rules():
    c = synth.claims(20_000, seed=2, communities=WENZHOU)
    comm = c.column("community_id")
    tertiary = pc.equal(c.column("facility_level").cast("string"), "tertiary")
    away = pc.not_equal(c.column("area").cast("string"), "local")
    null = pc.is_null(comm)
    assert pc.all(pc.or_(pc.invert(pc.or_(tertiary, away)), null)).as_py()  # city hospitals, out of area: none
    assert pc.all(pc.or_(pc.or_(tertiary, away), pc.invert(null))).as_py()  # primary, secondary: a community


def test_signings_are_the_claims_persons():
    n = 30_000
    s = synth.signings(n, seed=9)
    number = np.array([int(p[2:]) for p in s.column("person_id").to_pylist()])
    attrs = synth.persons(number, seed=9)
    assert (s.column("chronic").to_numpy(zero_copy_only=False) == attrs["chronic"]).all()
    county, home = WENZHOU.homes(number, seed=9)
    assert s.column("community_id").cast("string").to_pylist() == [WENZHOU.community_ids()[k] for k in home]
    months = s.column("months").to_numpy()
    assert months.min() >= 1 and months.max() == 12


def test_signing_rates_by_band_and_chronic():
    n = 200_000
    person = np.arange(n)
    band = age_bands(person, seed=1)
    chronic = synth.persons(person, seed=1)["chronic"]
    s = synth.signings(n, seed=1)
    signed = np.zeros(n, dtype=bool)
    signed[[int(p[2:]) for p in s.column("person_id").to_pylist()]] = True
    mix = SigningMix()
    for b in range(len(AGE_BANDS)):
        plain = (band == b) & ~chronic
        if plain.sum() > 2_000:
            assert abs(signed[plain].mean() - mix.signing_rate[b]) < 0.03
        sick = (band == b) & chronic
        if sick.sum() > 2_000:
            assert abs(signed[sick].mean() - mix.chronic_signing_rate[b]) < 0.03


def test_a_small_layout():
    layout = Layout(counties=("a", "b"), county_share=(1.0, 0.0), communities=(3, 1))
    county, home = layout.homes(np.arange(1000), seed=0)
    assert set(county.tolist()) == {0} and set(home.tolist()) == {0, 1, 2}
