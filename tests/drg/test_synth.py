"""The synthetic DRG data look like a year of inpatient stays (docs/synth.md, DRG cases)."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import wzmedins.drg as drg
from wzmedins.synth.drg import generate


@pytest.fixture(scope="module")
def data():
    return generate(20_000, seed=3, n_hospitals=12)


def test_discharges_spread_over_the_year_and_stays_cross_new_year(data):
    c = data["cases"]
    dd = c.column("discharge_date").to_numpy().astype("datetime64[D]")
    ad = c.column("admit_date").to_numpy().astype("datetime64[D]")
    assert dd.min() >= np.datetime64("2022-01-01") and dd.max() <= np.datetime64("2022-12-31")
    per_day = np.bincount((dd - np.datetime64("2022-01-01")).astype(int), minlength=365)
    assert per_day[-1] < 2 * per_day.mean()  # no pile-up on 31 December
    assert (ad < np.datetime64("2022-01-01")).sum() > 0  # admitted in 2021, discharged in 2022


def test_case_mix_and_cmi_by_level(data):
    c = data["cases"]
    counts = pc.value_counts(c.column("drg_code").cast(pa.string())).field("counts").to_numpy()
    assert counts.max() / c.num_rows < 0.06  # the largest group holds a few percent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", drg.DrgWarning)
        cal = drg.calibrate(data["history"], data["hospitals"], year=2022)
        cmi = {r["hospital_id"]: r["cmi"] for r in drg.cmi_table(drg.score(c, cal)).to_pylist()}
    level = dict(zip(*(data["hospitals"].column(k).to_pylist() for k in ("hospital_id", "level")), strict=True))
    tertiary = [float(cmi[h]) for h, lv in level.items() if lv == "tertiary"]
    primary = [float(cmi[h]) for h, lv in level.items() if lv == "primary"]
    assert min(tertiary) > 1.05 and max(primary) < 0.9
