"""The hashed ``distinct`` of capitation.columns agrees with Arrow's exact way, collisions included."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from wzmedins.capitation import columns

IDS = st.one_of(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "WZ1", "", "é"])), max_size=40),
    st.lists(st.one_of(st.none(), st.integers(-3, 5)), max_size=40),
)


@settings(max_examples=80, deadline=None)
@given(IDS, IDS)
def test_distinct_and_lookup(rows, values):
    arr = pa.array(rows)
    got_values, codes = columns.distinct(arr)
    assert got_values.to_pylist() == [v for v in dict.fromkeys(arr.to_pylist()) if v is not None]
    assert [None if c < 0 else got_values[c].as_py() for c in codes] == arr.to_pylist()
    vals = pc.unique(pa.array(values)).drop_null()
    want = [vals.to_pylist().index(x) if x in vals.to_pylist() else -1 for x in arr.to_pylist()]
    if arr.type == vals.type or len(vals) == 0:
        assert columns.lookup(arr, vals).tolist() == want


def test_collisions_fall_back_to_the_exact_way(monkeypatch):
    arr = pa.array(["a", "b", None, "c", "b", "zz"])
    monkeypatch.setattr(columns, "hash_ids", lambda ids: np.zeros(len(ids), dtype=np.uint64))
    values, codes = columns.distinct(arr)
    assert sorted(values.to_pylist()) == ["a", "b", "c", "zz"]
    assert [values[c].as_py() if c >= 0 else None for c in codes] == arr.to_pylist()


def test_sliced_strings_hash_like_fresh_ones():
    whole = pa.array(["x", "WZ0001", None, "WZ0002", "WZ0001", "é"])
    part = whole.slice(1, 4)
    fresh = pa.array(part.to_pylist())
    assert (columns.hash_ids(part)[[0, 2, 3]] == columns.hash_ids(fresh)[[0, 2, 3]]).all()
    values, codes = columns.distinct(part)
    assert values.to_pylist() == ["WZ0001", "WZ0002"] and codes.tolist() == [0, -1, 1, 0]
