"""A claims batch as the ledger sees it: its content hash, its persons and ids, and the
claim inputs of its accepted rows (kept next to the outputs for statements)."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..errors import SchemaError

DEFAULTS = {"area": "local", "assistance": "none"}
INPUT_COLUMNS = ("settle_date", "seq", "scheme", "category", "visit_type", "facility_level", "area", "assistance",
                 "total_cost", "self_pay", "class_b_self_pay", "reverses")  # fmt: skip


def _canonical(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    typ = arr.type
    if pa.types.is_dictionary(typ):
        arr, typ = arr.cast(typ.value_type), typ.value_type
    if pa.types.is_large_string(typ) or str(typ) == "string_view":
        arr = arr.cast(pa.string())
    elif pa.types.is_large_binary(typ) or str(typ) == "binary_view":
        arr = arr.cast(pa.binary())
    return arr


def content_hash(table: pa.Table) -> str:
    """SHA-256 of the batch's data: columns in name order, string and dictionary encodings
    unified, chunking and schema metadata ignored.

    Examples
    --------
    >>> a = pa.table({"x": [1, 2], "y": ["a", "b"]})
    >>> b = pa.table({"y": pa.array(["a", "b"]).dictionary_encode(), "x": [1, 2]})
    >>> content_hash(a) == content_hash(b), content_hash(a) == content_hash(a.slice(1))
    (True, False)
    """
    names = sorted(table.column_names)
    twice = [a for a, b in zip(names, names[1:], strict=False) if a == b]
    if twice:
        raise SchemaError(twice[0], "one column of that name", f"{names.count(twice[0])} columns")
    cols = [_canonical(table.column(n)) for n in names]
    canon = pa.Table.from_arrays(cols, names=names).combine_chunks()
    sink = _HashSink()  # the IPC stream's bytes go straight into the hash: no copy of the batch
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), canon.schema) as writer:
        writer.write_table(canon)
    return sink.sha.hexdigest()


class _HashSink:
    """A write-only file that feeds SHA-256 (the digest of the bytes written, as a buffer would hold them)."""

    closed = False

    def __init__(self):
        self.sha = hashlib.sha256()

    def write(self, data) -> int:
        self.sha.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def id_text(arr: pa.Array | pa.ChunkedArray | None) -> pa.Array:
    """Identifiers as text, as the ledger stores them."""
    if arr is None:
        return pa.array([], pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return pc.cast(arr, pa.string())


def id_kind(arr: pa.Array | None) -> str | None:
    """'int64' or 'string' for an id column (None when absent or all null)."""
    if arr is None or pa.types.is_null(arr.type):
        return None
    typ = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    return "int64" if pa.types.is_integer(typ) else "string"


def unique_text(arr: pa.Array | None) -> pa.Table:
    """The distinct non-null values of an id column, as a one-column text table ``id``.

    Ids that name nobody (empty, blank, holding NUL: ``MISSING_VALUE`` rows) are left out:
    they match nothing stored, and PostgreSQL cannot hold NUL in text.
    """
    if arr is None:
        return pa.table({"id": pa.array([], pa.string())})
    return usable_text(pc.unique(id_text(arr).drop_null()))


def usable_text(arr: pa.Array | None) -> pa.Table:
    """The non-null ids of ``arr`` that name someone, as a one-column text table ``id``, in
    order, repeats kept (for a semi-join, or a column already distinct): no hash table built.

    Examples
    --------
    >>> usable_text(pa.array(["a", None, "", "b", "a"]))["id"].to_pylist()
    ['a', 'b', 'a']
    """
    if arr is None:
        return pa.table({"id": pa.array([], pa.string())})
    values = id_text(arr).drop_null()
    missing, _ = t.unusable_ids(values)
    return pa.table({"id": values.filter(pa.array(~missing)) if missing.any() else values})


def storable_text(table: pa.Table, names) -> pa.Table:
    r"""Text columns with NUL written as the four characters ``\x00``: both backends then
    store the same text (PostgreSQL refuses NUL in text).

    Examples
    --------
    >>> storable_text(pa.table({"id": ["a" + chr(0)]}), ["id"])["id"].to_pylist()
    ['a\\x00']
    """
    for name in names:
        i = table.schema.get_field_index(name)
        col = table.column(i)
        if pa.types.is_string(col.type):
            table = table.set_column(i, name, pc.replace_substring(col, "\x00", "\\x00"))
    return table


def duplicate_keys(person: pa.Array, year: pa.Array) -> tuple[int, int] | None:
    """The rows of the first (person, year) key that appears twice, or None.

    Examples
    --------
    >>> duplicate_keys(pa.array(["a", "b", "a"]), pa.array([1, 1, 1]))
    (0, 2)
    """
    keys = pa.table({"p": person, "y": year}).append_column("i", pa.array(np.arange(len(person))))
    counts = keys.group_by(["p", "y"]).aggregate([("i", "min"), ("i", "max"), ("i", "count")])
    twice = counts.filter(pc.greater(counts["i_count"], 1))
    if twice.num_rows == 0:
        return None
    first = int(pc.min(twice["i_min"]).as_py())
    row = twice.filter(pc.equal(twice["i_min"], first)).to_pylist()[0]
    later = keys.filter(pc.and_(pc.equal(keys["p"], keys["p"][first]), pc.equal(keys["y"], keys["y"][first])))
    return first, int(later["i"][1].as_py()) if later.num_rows > 1 else int(row["i_max"])


def accepted_rows(n_rows: int, rejected: pa.Table) -> np.ndarray:
    """Input positions of the accepted rows, in input order."""
    keep = np.ones(n_rows, dtype=bool)
    keep[rejected["row"].to_numpy()] = False
    return np.flatnonzero(keep)


def claim_inputs(table: pa.Table, rows: np.ndarray) -> dict[str, pa.Array]:
    """The inputs of the accepted ``rows`` that a statement shows: dates, enums, amounts in fen."""
    used = [c for c in INPUT_COLUMNS if c in table.column_names]  # only the columns read here are taken
    sub = table.select(used)
    if len(rows) != table.num_rows:  # some rows were rejected (rows: increasing positions)
        sub = sub.take(pa.array(rows, pa.int64()))
    reason = np.full(sub.num_rows, t.NO_REASON)
    out: dict[str, pa.Array] = {
        "settle_date": pa.array(t.dates(sub, "settle_date", reason), pa.int32()).cast(pa.date32()),
        "seq": pa.array(t.integers(sub, "seq", 0)),
    }
    for name in ("scheme", "category", "visit_type", "facility_level", "area", "assistance"):
        col = t.column(sub, name, "an enum string")
        if col is None:
            out[name] = pa.array([DEFAULTS.get(name)] * sub.num_rows, pa.string())  # a reversal: filled later
            continue
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        col = pc.cast(col, pa.string())
        out[name] = col.fill_null(DEFAULTS[name]) if name in DEFAULTS else col
    for name in ("total_cost", "self_pay", "class_b_self_pay"):
        out[name] = pa.array(t.money(sub, name, reason, is_required=False))
    reverses = t.column(sub, "reverses", "a claim id")
    out["reverses"] = id_text(reverses) if reverses is not None else pa.nulls(sub.num_rows, pa.string())
    return out


ORIGINAL_FIELDS = ("scheme", "category", "area", "assistance")
NEGATED_FIELDS = ("total_cost", "self_pay", "class_b_self_pay")


def fill_reversals(rows: dict[str, pa.Array], originals: pa.Table) -> dict[str, pa.Array]:
    """Reversal rows take their original's enums and the negatives of its amounts (a
    reversal row need not carry them). ``originals`` holds stored settled rows, ids as text;
    the batch's own accepted rows are looked up too."""
    reverses = rows["reverses"]
    if reverses.null_count == len(reverses):
        return rows
    fields = ("claim_id", *ORIGINAL_FIELDS, *NEGATED_FIELDS)
    own = pa.table({f: rows[f] for f in fields})
    pool = pa.concat_tables([originals.select(list(fields)).cast(own.schema), own]) if originals.num_rows else own
    j = pc.index_in(reverses, value_set=pool["claim_id"])
    is_rev = pc.is_valid(reverses)
    out = dict(rows)
    for f in ORIGINAL_FIELDS:
        out[f] = pc.if_else(is_rev, pool[f].take(j), rows[f])
    for f in NEGATED_FIELDS:
        out[f] = pc.if_else(is_rev, pc.negate(pool[f].take(j)), rows[f])
    return out
