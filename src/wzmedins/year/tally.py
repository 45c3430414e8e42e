"""What the later stages of a year need from its claims, gathered as the claims are settled.

The ``claims`` stage hands each settled batch to a :class:`YearTally` once, and never reads
the claims again:

- the fund's item-based payments per year, county, scheme, month and kind (inpatient or
  not), placed as ``wz.fund.expenditure`` places them (docs/rules/fund.md §4: the county of
  the person's enrolment, the month of the ``settle_date``), summed in int64 fen into a
  dense array: the person's county comes from one index of the enrolment built once
  (``settle.ids.IdIndex``: ids hashed from the Arrow buffers, collisions told apart byte by
  byte). Rows it cannot place (no enrolment for the person-year, a county outside the fund
  profile, no month) are kept and given to ``wz.fund.expenditure`` at the end, so the
  reasons of ``claims_unplaced`` are the library's;
- the inpatient rows, for the DRG cases (a few percent of the claims);
- the signed persons' claims of the capitation's visit types, for ``wz.capitation.settle``.

Memory follows the persons enrolled and the rows kept, not the year's claims. A test holds
the tally equal, to the fen, to one call of ``wz.fund.expenditure`` on all the claims.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from .._jit import kernel
from ..settle.ids import IdIndex
from ..vocab import SCHEMES, VISIT_TYPES

MONTHS = 12
KINDS = (True, False)  # inpatient, other: the kind axis of the tally
CAPITATION_COLUMNS = ("claim_id", "person_id", "year", "fund", "visit_type", "community_id", "settle_date", "reverses")


@kernel
def add_fund(cell, fund, totals, rows):
    """``totals[cell[i]] += fund[i]`` and ``rows[cell[i]] += 1`` for every row with
    ``cell[i] >= 0`` (int64 fen)."""
    for i in range(cell.shape[0]):
        if cell[i] >= 0:
            totals[cell[i]] += fund[i]
            rows[cell[i]] += 1


def _strings(arr) -> pa.Array:
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_integer(arr.type) or pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    return arr.cast(pa.string())


def _codes(arr, vocab) -> np.ndarray:
    """Index of each value in ``vocab``; -1 for a null or a value outside it."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_dictionary(arr.type):
        per_value = pc.index_in(arr.dictionary.cast(pa.string()), value_set=pa.array(vocab)).fill_null(-1)
        codes = per_value.to_numpy(zero_copy_only=False).astype(np.int64)[arr.indices.fill_null(0).to_numpy()]
        return np.where(arr.indices.is_valid().to_numpy(zero_copy_only=False), codes, -1)
    found = pc.index_in(arr.cast(pa.string()), value_set=pa.array(list(vocab)))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


class Enrolled:
    """Each enrolled person-year's county and scheme, looked up by person id in O(batch).

    Examples
    --------
    >>> enrolment = pa.table({"person_id": ["a", "b", "a"], "year": [2022, 2022, 2022],
    ...     "county": ["ruian", "lucheng", "ouhai"], "scheme": ["employee", "resident", "resident"]})
    >>> e = Enrolled(enrolment, counties=("lucheng", "ruian", "ouhai"))
    >>> county, scheme = e.lookup(pa.array(["b", "a", "x"]), np.array([2022, 2022, 2022]))
    >>> county.tolist(), scheme.tolist()          # the first row of a person-year counts; -1: none
    ([0, 1, -1], [1, 0, -1])
    """

    def __init__(self, enrolment: pa.Table, *, counties: tuple[str, ...]):
        self.counties = tuple(counties)
        self.by_year: dict[int, tuple[IdIndex, np.ndarray, np.ndarray]] = {}
        years = enrolment.column("year").cast(pa.int64()).to_numpy(zero_copy_only=False)
        ids = _strings(enrolment.column("person_id"))
        county = _codes(enrolment.column("county"), self.counties)
        scheme = _codes(enrolment.column("scheme"), SCHEMES)
        for y in np.unique(years):
            rows = np.flatnonzero(years == y)
            index = IdIndex("person_id")
            slots = index.slots(ids.take(pa.array(rows)), add=True)
            _, first = np.unique(slots, return_index=True)  # the first row of each person-year
            c = np.full(index.n, -1, np.int64)
            s = np.full(index.n, -1, np.int64)
            c[slots[first]] = county[rows[first]]
            s[slots[first]] = scheme[rows[first]]
            self.by_year[int(y)] = (index, c, s)

    def lookup(self, person_id, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """County code (into ``counties``) and scheme code (into ``vocab.SCHEMES``) of each
        row's person-year; -1 where there is none."""
        ids = _strings(person_id)
        county = np.full(len(ids), -1, np.int64)
        scheme = np.full(len(ids), -1, np.int64)
        for y, (index, c, s) in self.by_year.items():
            rows = np.flatnonzero(year == y)
            if len(rows) == 0:
                continue
            slot = index.slots(ids, rows=rows)[rows]
            known = slot >= 0
            county[rows[known]] = c[slot[known]]
            scheme[rows[known]] = s[slot[known]]
        return county, scheme


class YearTally:
    """The year's claims folded batch by batch into what the later stages need (module doc)."""

    def __init__(self, enrolment: pa.Table, *, counties: tuple[str, ...], signed_persons: pa.Array,
                 capitation_visits: tuple[str, ...]):  # fmt: skip
        self.enrolled = Enrolled(enrolment, counties=counties)
        self.counties = self.enrolled.counties
        self.totals: dict[int, np.ndarray] = {}  # year -> [county, scheme, month, kind] fen
        self.rows: dict[int, np.ndarray] = {}  # year -> claims in each cell
        self.unplaced: list[pa.Table] = []
        self.inpatient: list[pa.Table] = []
        self.capitation: list[pa.Table] = []
        self.signed = IdIndex("person_id")
        self.signed.slots(_strings(signed_persons).unique(), add=True)
        self.capitation_visits = tuple(capitation_visits)

    def add(self, settled: pa.Table) -> None:
        """Fold one batch of settled claims (``person_id``, ``year``, ``fund``, ``settle_date``,
        ``visit_type`` and the carried columns)."""
        n = settled.num_rows
        if n == 0:
            return
        year = settled.column("year").cast(pa.int64()).to_numpy(zero_copy_only=False)
        fund = settled.column("fund").cast(pa.int64()).to_numpy(zero_copy_only=False)
        visit = _codes(settled.column("visit_type"), VISIT_TYPES)
        inpatient = visit == VISIT_TYPES.index("inpatient")
        month = pc.month(settled.column("settle_date")).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        county, scheme = self.enrolled.lookup(settled.column("person_id"), year)
        placed = (county >= 0) & (scheme >= 0) & (month >= 1) & (month <= MONTHS)
        kind = np.where(inpatient, 0, 1)
        cell = ((county * len(SCHEMES) + scheme) * MONTHS + (month - 1)) * len(KINDS) + kind
        size = len(self.counties) * len(SCHEMES) * MONTHS * len(KINDS)
        for y in np.unique(year):
            at = placed & (year == y)
            totals = self.totals.setdefault(int(y), np.zeros(size, np.int64))
            add_fund(np.where(at, cell, -1), fund, totals, self.rows.setdefault(int(y), np.zeros(size, np.int64)))
        if not placed.all():
            self.unplaced.append(settled.filter(pa.array(~placed)))
        if inpatient.any():
            self.inpatient.append(settled.filter(pa.array(inpatient)))
        in_scope = np.isin(visit, [VISIT_TYPES.index(v) for v in self.capitation_visits if v in VISIT_TYPES])
        if in_scope.any():
            rows = np.flatnonzero(in_scope)
            rows = rows[self.signed.slots(_strings(settled.column("person_id")), rows=rows)[rows] >= 0]
            if len(rows):
                cols = [c for c in CAPITATION_COLUMNS if c in settled.column_names]
                self.capitation.append(settled.select(cols).take(pa.array(rows)))

    def spending(self) -> pl.DataFrame:
        """``county``, ``scheme``, ``year``, ``month``, ``claims``, ``drg``, ``capitation``,
        ``expenditure``, ``inpatient``: the columns of ``wz.fund.expenditure``'s ``monthly``
        (drg and capitation 0) per kind, cells without claims left out."""
        frames = []
        for y, totals in sorted(self.totals.items()):
            shape = (len(self.counties), len(SCHEMES), MONTHS, len(KINDS))
            cube = totals.reshape(shape)
            c, s, m, k = np.nonzero(self.rows[y].reshape(shape))
            frames.append(pl.DataFrame({
                "county": pl.Series([self.counties[i] for i in c], dtype=pl.Utf8),
                "scheme": pl.Series([SCHEMES[i] for i in s], dtype=pl.Utf8),
                "year": pl.Series(np.full(len(c), y), dtype=pl.Int32),
                "month": pl.Series(m + 1, dtype=pl.Int32),
                "claims": pl.Series(cube[c, s, m, k], dtype=pl.Int64),
                "inpatient": pl.Series(np.asarray(KINDS)[k], dtype=pl.Boolean),
            }))  # fmt: skip
        df = pl.concat(frames) if frames else pl.DataFrame(
            schema={"county": pl.Utf8, "scheme": pl.Utf8, "year": pl.Int32, "month": pl.Int32, "claims": pl.Int64,
                    "inpatient": pl.Boolean})  # fmt: skip
        zero = pl.lit(0, pl.Int64)
        return df.select("county", "scheme", "year", "month", "claims", zero.alias("drg"), zero.alias("capitation"),
                         pl.col("claims").alias("expenditure"), "inpatient").sort(
                             "county", "scheme", "year", "month", "inpatient")  # fmt: skip

    def kept(self, name: str) -> pa.Table | None:
        """The rows kept for a later stage (``inpatient``, ``capitation`` or ``unplaced``), as
        one table, or None when there were none."""
        parts = getattr(self, name)
        if not parts:
            return None
        return pa.concat_tables(parts, promote_options="permissive").unify_dictionaries().combine_chunks()
