"""The compiled facility communities (synth._claims_kernel.facility_communities) equal the numpy
program they replaced, claim for claim."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from wzmedins.synth.claims import _uniforms
from wzmedins.synth.signings import WENZHOU, Layout
from wzmedins.vocab import AREAS, FACILITY_LEVELS


def _by_numpy(layout: Layout, claim_no, person, level, area, seed: int) -> pa.Array:
    """The numpy program: each claim's home, then own, another of the county, or any community."""
    county, home = layout.homes(person, seed=seed)
    u_where, u_which = _uniforms(seed, np.asarray(claim_no, dtype=np.uint64), 13)
    n_here = np.asarray(layout.communities, dtype=np.int64)[county]
    first = layout._first()[county]
    other = first + (home - first + 1 + np.minimum((u_which * (n_here - 1)).astype(np.int64), n_here - 2)) % n_here
    n_all = len(layout.community_ids())
    anywhere = np.minimum((u_which * n_all).astype(np.int64), n_all - 1)
    comm = np.where(u_where < layout.own_share, home,
                    np.where((u_where < layout.own_share + layout.same_county_share) & (n_here > 1), other,
                             anywhere))  # fmt: skip
    inside = (level != FACILITY_LEVELS.index("tertiary")) & (area == AREAS.index("local"))
    return pa.array(np.where(inside, comm, -1)).to_pylist(), inside


@pytest.mark.parametrize(
    "layout",
    [
        WENZHOU,
        Layout(
            counties=("n", "s", "e"),
            county_share=(0.5, 0.3, 0.2),
            communities=(3, 1, 2),
            own_share=0.6,
            same_county_share=0.3,
        ),
    ],
)
@pytest.mark.parametrize("seed", [0, 7])
def test_compiled_communities_equal_the_numpy_program(layout, seed):
    rng = np.random.default_rng(seed)
    n = 20_000
    claim_no = rng.integers(0, 10**9, n)
    person = rng.integers(0, 10**7, n)
    level = rng.integers(0, len(FACILITY_LEVELS), n).astype(np.int8)
    area = rng.integers(0, len(AREAS), n).astype(np.int8)
    got = layout.facility_communities(claim_no, person, level, area, seed=seed)
    want, inside = _by_numpy(layout, claim_no, person, level, area, seed)
    codes = [None if v is None else v for v in got.indices.to_pylist()]
    assert codes == [w if ok else None for w, ok in zip(want, inside, strict=True)]
    assert got.null_count == int((~inside).sum()) > 0
    assert got.dictionary.to_pylist() == list(layout.community_ids())
