"""The hashed lookups of capitation.columns agree with Arrow's exact ``index_in``, collisions included."""

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


def exact(arr, values):
    return pc.index_in(arr, value_set=values).fill_null(-1).to_numpy(zero_copy_only=False).tolist()


@settings(max_examples=80, deadline=None)
@given(IDS, IDS)
def test_hashed_lookup_is_exact(rows, values):
    arr = pa.array(rows)
    vals = pc.unique(pa.array(values)).drop_null()
    arr, vals = columns._same_type(columns._plain(arr), columns._plain(vals))
    if len(vals) == 0:
        return
    assert columns._hash_lookup(arr, vals).tolist() == exact(arr, vals)
    got_values, codes = columns.distinct(arr)
    assert got_values.to_pylist() == [v for v in dict.fromkeys(arr.to_pylist()) if v is not None]
    assert [None if c < 0 else got_values[c].as_py() for c in codes] == arr.to_pylist()


def test_collisions_fall_back_to_the_exact_way(monkeypatch):
    arr = pa.array(["a", "b", None, "c", "b", "zz"])
    vals = pa.array(["b", "c", "a"])
    want = exact(arr, vals)
    # every value hashes alike: the table sees one distinct hash
    monkeypatch.setattr(columns, "hash_ids", lambda ids: np.zeros(len(ids), dtype=np.uint64))
    assert columns._hash_lookup(arr, vals).tolist() == want
    values, codes = columns.distinct(arr)
    assert values.to_pylist() == ["a", "b", "c", "zz"] and codes.tolist() == [0, 1, -1, 2, 1, 3]


def test_a_query_colliding_with_a_value(monkeypatch):
    arr = pa.array(["a", "x", "b"])
    vals = pa.array(["a", "b"])
    fake = {"a": 1, "b": 2, "x": 2}  # x collides with b
    monkeypatch.setattr(columns, "hash_ids", lambda ids: np.array([fake[v] for v in ids.to_pylist()], dtype=np.uint64))
    assert columns._hash_lookup(arr, vals).tolist() == [0, -1, 1]


def test_sliced_strings_hash_like_fresh_ones():
    whole = pa.array(["x", "WZ0001", None, "WZ0002", "WZ0001", "é"])
    part = whole.slice(1, 4)
    fresh = pa.array(part.to_pylist())
    assert (columns.hash_ids(part)[[0, 2, 3]] == columns.hash_ids(fresh)[[0, 2, 3]]).all()
    vals = pa.array(["WZ0002", "WZ0001"])
    assert columns._hash_lookup(part, vals).tolist() == [1, -1, 0, 1]
    assert columns._hash_lookup(part, vals.slice(0)).tolist() == exact(part, vals)
