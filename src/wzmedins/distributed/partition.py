"""Which bucket a person's rows go to: a stable hash of ``person_id``, modulo the bucket count.

The hash is the one ``wz.settle`` uses to split a large batch into parts
(:func:`wzmedins.tables.hash64`: polars' string hash with seed 0, splitmix64 for integers). It
depends only on the identifier, never on how or where rows are stored, so a person's claims,
state and opening accounts always meet in the same bucket, on any machine.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import tables as t


def person_type(schema: pa.Schema) -> pa.DataType:
    """The type ``person_id`` has once read as an identifier (string or int64).

    Examples
    --------
    >>> person_type(pa.schema([("person_id", pa.dictionary(pa.int8(), pa.string()))]))
    DataType(string)
    >>> person_type(pa.schema([("person_id", pa.int32())]))
    DataType(int64)
    """
    return t.ids(schema.empty_table(), "person_id").type


def bucket_of(person_ids: pa.Array, partitions: int) -> np.ndarray:
    """The bucket (0 … ``partitions`` − 1) of each person id, as int64.

    Equal ids always land in the same bucket, whatever the batch or machine; integer and
    string ids are hashed as themselves (cast the ids of a second table to the claims' type
    first, as :func:`wzmedins.settle` does for state and accounts).

    Examples
    --------
    >>> b = bucket_of(pa.array(["p1", "p2", "p1"]), 4).tolist()
    >>> b[0] == b[2] == bucket_of(pa.array(["p1"]), 4).tolist()[0]
    True
    >>> sorted(set(bucket_of(pa.array(range(1000)), 3).tolist()))
    [0, 1, 2]
    """
    if partitions < 1:
        raise ValueError(f"partitions: expected a positive number of buckets, got {partitions}")
    return (t.hash64(person_ids) % np.uint64(partitions)).astype(np.int64)


def table_buckets(table: pa.Table, partitions: int, id_type: pa.DataType | None = None) -> np.ndarray:
    """The bucket of each row of a table with a ``person_id`` column (cast to ``id_type``)."""
    ids = t.ids(table, "person_id")
    if id_type is not None and ids.type != id_type:
        from ..settle.state import person_ids

        ids = person_ids(table, id_type, "accounts")
    return bucket_of(ids, partitions)
