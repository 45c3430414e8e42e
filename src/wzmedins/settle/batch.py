"""A batch laid out for the kernel, in parts of persons.

Claims of different persons never interact (settlement.md §3), so a large batch is split by
a hash of ``person_id`` into parts of about ``PART_ROWS`` claims. Each part's person
dictionary, sort and kernel state then stay small enough for the caches: on a virtual
machine, random access over gigabytes — not arithmetic — is what costs.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables as t
from ..policy import Policy
from ..vocab import FACILITY_LEVELS, VISIT_POOL, VISIT_TYPES
from . import _kernel as k
from .columns import ClaimColumns
from .reversals import IN_BATCH
from .state import ACCOUNT_FIELDS, STATE_FIELDS, KeyedRows, carried_state, person_ids, state_table

PART_ROWS = 1 << 20  # claims per part; a tuning knob, not a rule


def _bits(span: int) -> int:
    return max(int(span).bit_length(), 1)


def order_by_person(
    person_codes: np.ndarray, year: np.ndarray, date: np.ndarray, seq: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Rows sorted by (person, year, settle_date, seq, input position), as settlement.md §3
    says; the year only matters for a reversal, which counts in its original's year.

    (year, date, seq) are packed into one int64 key when their ranges allow, and the rows are
    ordered by a counting sort on the (dense) person codes, then by key within each person
    (``_kernel.person_order``, stable, linear in practice); otherwise by ``np.lexsort``.

    Examples
    --------
    >>> rows = np.arange(4)
    >>> order_by_person(np.array([1, 0, 1, 0]), np.full(4, 2022), np.array([5, 9, 5, 1]),
    ...                 np.array([0, 0, -1, 0]), rows).tolist()
    [3, 1, 2, 0]
    """
    if len(rows) == 0:
        return rows
    p = person_codes[rows]
    d = date[rows].astype(np.int64)
    y = year[rows].astype(np.int64)
    q = seq[rows]
    d0, y0, q0 = d.min(), y.min(), q.min()
    yd = (y - y0) * (int(d.max() - d0) + 1) + (d - d0)
    bq, byd = _bits(q.max() - q0), _bits(yd.max())
    if bq + byd <= 62 and p.min() >= 0:
        key = (yd << bq) | (q - q0)
        return rows[k.person_order(p, key, int(p.max()) + 1)]
    return rows[np.lexsort((q, yd, p))]


def labels(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.Array:
    """int8 codes as dictionary-encoded strings."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(vocab))


class Part:
    """The accepted claims of some persons (``rows``: input rows, increasing) with their
    state and accounts, in settlement order."""

    def __init__(
        self, cols: ClaimColumns, rows: np.ndarray, state: pa.Table | None, accounts: pa.Table | None, out: np.ndarray
    ):
        self.rows = rows
        take = pa.array(rows)
        encoded = pc.dictionary_encode(cols.person_id.take(take))
        self.persons = encoded.dictionary
        code = encoded.indices.to_numpy().astype(np.int64)
        # gather the part's columns in input order first (a streaming read), then permute
        local = [cols.year[rows], cols.date[rows], cols.seq[rows]]
        m = len(rows)
        self.local_order = order_by_person(code, *local, np.arange(m))
        columns = (cols.profile, cols.scheme, cols.category, cols.visit, cols.level, cols.area,
                   cols.assistance, cols.total, cols.self_pay, cols.class_b, cols.rev_kind)  # fmt: skip
        self.sorted = [code[self.local_order], local[0][self.local_order]]
        self.sorted += [a[rows][self.local_order] for a in columns]
        rev_index = cols.rev_index[rows][self.local_order]
        in_batch = self.sorted[-1] == IN_BATCH
        if in_batch.any():  # the original's row -> its position in this part's order
            position = np.empty(m, dtype=np.int64)
            position[self.local_order] = np.arange(m)
            rev_index[in_batch] = position[np.searchsorted(rows, rev_index[in_batch])]
        self.sorted.append(rev_index)
        self.state = KeyedRows(state, STATE_FIELDS, self.persons, "state")
        self.accounts = KeyedRows(accounts, ACCOUNT_FIELDS, self.persons, "accounts")
        self.out = out[:, :m]  # shared by the parts, which run one after another
        codes, years = self.sorted[0], self.sorted[1]
        n_person_years = int(np.count_nonzero((codes[1:] != codes[:-1]) | (years[1:] != years[:-1])) + 1) if m else 0
        self.st_person = np.zeros(n_person_years, dtype=np.int64)
        self.st_year = np.zeros(n_person_years, dtype=np.int64)
        self.st_vals = np.zeros((n_person_years, k.N_STATE), dtype=np.int64)
        self.st_used = np.zeros(len(self.state.years), dtype=np.bool_)
        self.n_state = 0

    def run(self, originals: np.ndarray, policy: Policy) -> None:
        if len(self.rows) == 0:
            return
        self.n_state = k.settle_kernel(
            *self.sorted, originals, policy.compiled, np.asarray(VISIT_POOL, dtype=np.int64),
            self.state.ptr, self.state.years, self.state.values,
            self.accounts.ptr, self.accounts.years, self.accounts.values,
            self.out, self.st_person, self.st_year, self.st_vals, self.st_used,
        )  # fmt: skip

    def new_state(self) -> pa.Table:
        n = self.n_state
        return state_table(self.persons, self.st_person[:n], self.st_year[:n], self.st_vals[:n])


def _split(table: pa.Table | None, n_parts: int, person_type, what: str):
    """Rows of a (person_id, year)-keyed table per part, by the same person hash as claims."""
    if table is None or n_parts == 1:
        return [(table, None)] * n_parts
    bucket = (t.hash64(person_ids(table, person_type, what)) % np.uint64(n_parts)).astype(np.int64)
    idx = [np.flatnonzero(bucket == b) for b in range(n_parts)]
    return [(table.take(pa.array(i)), i) for i in idx]


class Prepared:
    """A batch ready for the kernel: ``run()`` executes only the compiled loops (for timing),
    ``result()`` builds the Arrow tables."""

    def __init__(self, cols: ClaimColumns, policy: Policy, state: pa.Table | None, accounts: pa.Table | None):
        self.cols = cols
        self.policy = policy
        self.state_in = state
        accepted = cols.accepted
        n_parts = max(1, -(-len(accepted) // PART_ROWS))
        if n_parts == 1:
            groups = [accepted]
        else:
            bucket = (t.hash64(cols.person_id.take(pa.array(accepted))) % np.uint64(n_parts)).astype(np.int16)
            by_bucket = np.argsort(bucket, kind="stable")  # radix sort; rows stay increasing per part
            groups = np.split(accepted[by_bucket], np.cumsum(np.bincount(bucket, minlength=n_parts))[:-1])
        person_type = cols.person_id.type
        states = _split(state, n_parts, person_type, "state")
        accounts_ = _split(accounts, n_parts, person_type, "accounts")
        out = np.empty((k.N_OUT, max(len(g) for g in groups)), dtype=np.int64)
        self.parts = [Part(cols, rows, s[0], a[0], out) for rows, s, a in zip(groups, states, accounts_, strict=True)]
        self.state_rows = [s[1] for s in states]  # each part's rows of the input state

    def run(self, collect=None) -> None:
        """Run the kernel over every part (``collect(part)`` after each, while its outputs are
        in the shared buffer)."""
        for part in self.parts:
            part.run(self.cols.originals.values, self.policy)
            if collect is not None:
                collect(part)

    def result(self, carry: tuple[str, ...] = ()) -> pa.Table:
        from . import SettleResult, metadata

        c = self.cols
        accepted = c.accepted
        rank = np.empty(len(c.reason), dtype=np.int64)
        rank[accepted] = np.arange(len(accepted))
        out = np.empty((k.N_OUT, len(accepted)), dtype=np.int64)

        def collect(part: Part) -> None:
            back = np.empty(len(part.rows), dtype=np.int64)
            back[part.local_order] = np.arange(len(part.rows))
            into = rank[part.rows]  # increasing: the writes stream
            for j in range(k.N_OUT):
                out[j][into] = part.out[j][back]

        self.run(collect)
        take = pa.array(accepted)
        columns = {
            "claim_id": c.claim_id.take(take),
            "person_id": c.person_id.take(take),
            "year": pa.array(c.year[accepted]),
        }
        for j, name in enumerate(k.OUTPUT_FIELDS):
            columns[name] = pa.array(out[j].astype(np.int32) if name == "ratio_bp" else out[j])
        columns["visit_type"] = labels(c.visit[accepted], VISIT_TYPES)
        columns["facility_level"] = labels(c.level[accepted], FACILITY_LEVELS)
        columns["reverses"] = c.reverses.take(take)
        for name in carry:
            columns[name] = t.required(c.table, name, "a column to carry").take(take)
        meta = metadata(self.policy)
        settled = pa.table(columns).replace_schema_metadata(meta)
        used = []
        for part, state_rows in zip(self.parts, self.state_rows, strict=True):
            rows = part.state.rows[part.st_used]
            used.append(rows if state_rows is None else state_rows[rows])
        new_state = [p.new_state() for p in self.parts]
        new = pa.concat_tables(new_state) if new_state else None
        state = carried_state(self.state_in, np.concatenate(used) if used else np.zeros(0, np.int64), new)
        return SettleResult(settled, c.rejected(), state.replace_schema_metadata(meta))
