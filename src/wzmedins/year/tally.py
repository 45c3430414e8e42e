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
- the claims, costs and payers' amounts per scheme, visit type and area (the ``payers`` table);
- the inpatient rows, for the DRG cases (a few percent of the claims);
- the signed persons' claims of the capitation's visit types, for ``wz.capitation.settle``.

Memory follows the persons enrolled and the rows kept, not the year's claims. A test holds
the tally equal, to the fen, to one call of ``wz.fund.expenditure`` on all the claims.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from .._jit import kernel
from ..contract import PAYERS
from ..drg.from_settled import CARRIED as DRG_CARRIED
from ..drg.from_settled import NOT_FUND
from ..settle.ids import IdIndex
from ..vocab import AREAS, SCHEMES, VISIT_TYPES
from .inputs import first_rows
from .spill import Spill, compact

MONTHS = 12
KINDS = (True, False)  # inpatient, other: the kind axis of the tally
CAPITATION_COLUMNS = ("claim_id", "person_id", "year", "fund", "visit_type", "community_id", "settle_date", "reverses")
# what ``wz.drg.cases_from_settled`` reads of the inpatient rows (the settled rows carry the
# claims' inputs, so they serve as both its arguments); the other settled columns are not kept
INPATIENT_COLUMNS = tuple(dict.fromkeys((
    *("claim_id", "person_id", "year", "visit_type", "reverses", "scheme", "hospital_id", "drg_code"),
    *("settle_date", "discharge_date", "admit_date", "total_cost", "fund", *NOT_FUND, *DRG_CARRIED),
)))  # fmt: skip
# what ``wz.fund.expenditure`` reads of the rows the fold could not place
UNPLACED_COLUMNS = ("claim_id", "person_id", "year", "fund", "settle_date", "visit_type")


@kernel
def add_money(cell, money, totals):
    """``totals[cell[i], 0] += 1`` and ``totals[cell[i], 1 + k] += money[k][i]`` for each row
    (int64 fen; ``money`` is a 2-D array, one row per column summed)."""
    for i in range(cell.shape[0]):
        c = cell[i]
        totals[c, 0] += 1
        for k in range(money.shape[0]):
            totals[c, 1 + k] += money[k, i]


@kernel
def add_fund(cell, fund, totals, rows):
    """``totals[cell[i]] += fund[i]`` and ``rows[cell[i]] += 1`` for every row with
    ``cell[i] >= 0`` (int64 fen)."""
    for i in range(cell.shape[0]):
        if cell[i] >= 0:
            totals[cell[i]] += fund[i]
            rows[cell[i]] += 1


def _one(arr) -> pa.Array:
    """A column as one Arrow array, without copying when it has one chunk."""
    if isinstance(arr, pa.ChunkedArray):
        return arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    return arr


def _strings(arr) -> pa.Array:
    """Ids as one plain Arrow array (string or integer), without copying when already so."""
    arr = _one(arr)
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_integer(arr.type) or pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    return arr.cast(pa.string())


def _codes(arr, vocab) -> np.ndarray:
    """Index of each value in ``vocab``; -1 for a null or a value outside it."""
    arr = _one(arr)
    if pa.types.is_dictionary(arr.type):
        per_value = pc.index_in(arr.dictionary.cast(pa.string()), value_set=pa.array(vocab)).fill_null(-1)
        codes = per_value.to_numpy(zero_copy_only=False).astype(np.int64)[arr.indices.fill_null(0).to_numpy()]
        return np.where(arr.indices.is_valid().to_numpy(zero_copy_only=False), codes, -1)
    found = pc.index_in(arr.cast(pa.string()), value_set=pa.array(list(vocab)))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _numbers(column) -> np.ndarray:
    """An integer column as int64 numpy (nulls as 0: ``fund`` and ``year`` of settled rows have none)."""
    arr = _one(column)
    if arr.null_count:
        arr = arr.fill_null(0)
    return arr.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _months(dates) -> np.ndarray:
    """Month 1-12 of each date32 (0 for a null), by numpy's calendar."""
    arr = _one(dates)
    valid = None if arr.null_count == 0 else arr.is_valid().to_numpy(zero_copy_only=False)
    arr = arr if arr.type == pa.date32() else arr.cast(pa.date32())
    days = np.frombuffer(arr.buffers()[1], np.int32, len(arr), arr.offset * 4)  # nulls masked below
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return month if valid is None else np.where(valid, month, 0)


class HashCollision(Exception):
    """Two different ids with one 64-bit hash among the enrolled persons (rare: then the
    persons are indexed by ``settle.ids.IdIndex`` instead)."""


class SortedIds:
    """Dense slots of ids by their sorted 64-bit hashes (``tables.hash64``): 8 bytes a person
    for the hashes and 8 for one row of each, beside the ids themselves, where a hash table
    (``settle.ids.IdIndex``) takes about 120. A hash found is checked against the id it stands
    for byte by byte, so two ids are never merged; two enrolled ids sharing a hash raise
    :class:`HashCollision`.

    Examples
    --------
    >>> ix = SortedIds(pa.array(["b", "a", None, "b"]))
    >>> ix.n, ix.row_slots.tolist()[2], ix.find(pa.array(["a", "x", None, "b"])).tolist()[1:3]
    (2, -1, [-1, -1])
    """

    def __init__(self, ids: pa.Array):
        from ..tables import hash64

        self.ids = ids
        h = hash64(ids)
        rows = np.flatnonzero(ids.is_valid().to_numpy(zero_copy_only=False)) if ids.null_count else None
        order = np.argsort(h) if rows is None else rows[np.argsort(h[rows])]  # any row of a person will do
        sk = h[order]
        new = np.ones(len(order), bool)
        new[1:] = sk[1:] != sk[:-1]
        same = np.flatnonzero(~new)  # a row whose hash the row before it in hash order has
        if len(same) and not pc.all(pc.equal(ids.take(pa.array(order[same])),
                                             ids.take(pa.array(order[same - 1])))).as_py():  # fmt: skip
            raise HashCollision
        self.keys = sk[new]
        self.rep = order[new]  # one row of each person, for the exact check of a hash found
        self.n = len(self.keys)
        self.row_slots = np.full(len(ids), -1, np.int64)
        self.row_slots[order] = np.cumsum(new) - 1

    def find(self, arr: pa.Array) -> np.ndarray:
        """Slot of each id of ``arr``; -1 for a null or an id not indexed."""
        from ..tables import hash64

        out = np.full(len(arr), -1, np.int64)
        if self.n == 0 or len(arr) == 0:
            return out
        h = hash64(arr)
        by_hash = np.argsort(h)  # the hashes asked in order: the search walks the keys once
        pos = np.empty(len(h), np.int64)
        pos[by_hash] = np.minimum(np.searchsorted(self.keys, h[by_hash]), self.n - 1)
        hit = self.keys[pos] == h
        if arr.null_count:
            hit &= arr.is_valid().to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(hit)
        if len(rows):
            same = pc.equal(arr.take(pa.array(rows)), self.ids.take(pa.array(self.rep[pos[rows]])))
            rows = rows[same.fill_null(False).to_numpy(zero_copy_only=False)]
            out[rows] = pos[rows]
        return out


class HashedIds:
    """The same interface over ``settle.ids.IdIndex`` (the fallback of :class:`SortedIds`)."""

    def __init__(self, ids: pa.Array):
        self.index = IdIndex("person_id")
        self.row_slots = self.index.slots(ids, add=True)
        self.n = self.index.n

    def find(self, ids: pa.Array) -> np.ndarray:
        """Slots of ``ids`` (-1: unknown), looked up on every core: the index is only read."""
        from concurrent.futures import ThreadPoolExecutor

        from .._jit import threads

        n = len(ids)
        parts = max(1, min(threads(), n // 100_000))
        if parts == 1:
            return self.index.slots(ids)
        bounds = np.linspace(0, n, parts + 1).astype(np.int64)
        with ThreadPoolExecutor(parts) as pool:
            found = list(pool.map(lambda k: self.index.slots(ids.slice(bounds[k], bounds[k + 1] - bounds[k])),
                                  range(parts)))  # fmt: skip
        return np.concatenate(found)


def _plain_ids(arr) -> pa.Array:
    """Ids as one plain array, large strings as strings (one type to compare)."""
    arr = _strings(arr)
    return arr.cast(pa.string()) if pa.types.is_large_string(arr.type) else arr


class Enrolled:
    """Each enrolled person-year's county and scheme, and whether the person signed with a
    family doctor, looked up by person id in O(batch) (one index of the persons, built once:
    :class:`SortedIds`, or ``settle.ids.IdIndex`` when two ids share a hash or the enrolment
    and the signings give ids of two types).

    Examples
    --------
    >>> enrolment = pa.table({"person_id": ["a", "b", "a"], "year": [2022, 2022, 2022],
    ...     "county": ["ruian", "lucheng", "ouhai"], "scheme": ["employee", "resident", "resident"]})
    >>> e = Enrolled(enrolment, counties=("lucheng", "ruian", "ouhai"), signed=pa.array(["b", "s"]))
    >>> county, scheme, signed = e.lookup(pa.array(["b", "a", "x", "s"]), np.array([2022] * 4))
    >>> county.tolist(), scheme.tolist(), signed.tolist()   # the first row of a person-year counts
    ([0, 1, -1, -1], [1, 0, -1, -1], [True, False, False, True])
    """

    def __init__(self, enrolment: pa.Table, *, counties: tuple[str, ...], signed: pa.Array | None = None,
                 hashed: bool = False):  # fmt: skip
        self.counties = tuple(counties)
        if len(self.counties) > np.iinfo(np.int16).max:
            raise ValueError("more counties than an int16 code holds")
        years = enrolment.column("year").cast(pa.int64()).to_numpy(zero_copy_only=False)
        person = _plain_ids(enrolment.column("person_id"))
        signed = None if signed is None else _plain_ids(signed)
        both = person if signed is None or signed.type != person.type else pa.concat_arrays([person, signed])
        try:
            if hashed or (signed is not None and signed.type != person.type):
                raise HashCollision  # asked for, or ids of two types (the IdIndex tells: SchemaError)
            self.index = SortedIds(both)
            row_slots = self.index.row_slots
        except HashCollision:
            self.index = HashedIds(person)
            row_slots = self.index.row_slots
            if signed is not None:
                row_slots = np.concatenate([row_slots, self.index.index.slots(signed, add=True)])
                self.index.n = self.index.index.n
        slots = row_slots[: len(person)]
        signed_slots = row_slots[len(person) :]
        county = _codes(enrolment.column("county"), self.counties)
        scheme = _codes(enrolment.column("scheme"), SCHEMES)
        self.signed = np.zeros(self.index.n, bool)
        self.signed[signed_slots[signed_slots >= 0]] = True
        self.by_year: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for y in np.unique(years):
            rows = np.flatnonzero((years == y) & (slots >= 0))
            rows = rows[first_rows(slots[rows], self.index.n)]  # the first row of each person-year
            c = np.full(self.index.n, -1, np.int16)  # codes into the profile's counties and SCHEMES:
            s = np.full(self.index.n, -1, np.int8)  # 3 bytes a person a year, not 16
            c[slots[rows]] = county[rows]
            s[slots[rows]] = scheme[rows]
            self.by_year[int(y)] = (c, s)

    def lookup(self, person_id, year: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """County code (into ``counties``) and scheme code (into ``vocab.SCHEMES``) of each
        row's person-year, -1 where there is none; and whether the person signed."""
        slot = self.index.find(_plain_ids(person_id))
        known = slot >= 0
        county = np.full(len(slot), -1, np.int64)
        scheme = np.full(len(slot), -1, np.int64)
        for y, (c, s) in self.by_year.items():
            at = known & (year == y)
            county[at] = c[slot[at]]
            scheme[at] = s[slot[at]]
        signed = np.zeros(len(slot), bool)
        signed[known] = self.signed[slot[known]]
        return county, scheme, signed


class YearTally:
    """The year's claims folded batch by batch into what the later stages need (module doc)."""

    def __init__(self, enrolment: pa.Table, *, counties: tuple[str, ...], signed_persons: pa.Array,
                 capitation_visits: tuple[str, ...], spill: str | Path | None = None):  # fmt: skip
        self.enrolled = Enrolled(enrolment, counties=counties, signed=signed_persons)
        self.counties = self.enrolled.counties
        self.totals: dict[int, np.ndarray] = {}  # year -> [county, scheme, month, kind] fen
        self.rows: dict[int, np.ndarray] = {}  # year -> claims in each cell
        # rows kept for later stages, only the columns they read: in memory, or with ``spill``
        # (a folder) one Parquet part per batch there, read back by the stage that needs them
        folder = (lambda name: None) if spill is None else (lambda name: Path(spill) / name)  # noqa: E731
        self.unplaced = Spill(folder("unplaced"))
        self.inpatient = Spill(folder("inpatient"))
        self.capitation = Spill(folder("capitation"))
        self.capitation_visits = tuple(capitation_visits)
        self.payer_totals = np.zeros((len(SCHEMES) * len(VISIT_TYPES) * len(AREAS), 2 + len(PAYERS)), np.int64)
        self.payer_frames: list[pl.DataFrame] = []  # batches with a value outside the vocabularies

    def add(self, settled: pa.Table) -> None:
        """Fold one batch of settled claims (``person_id``, ``year``, ``fund``, ``settle_date``,
        ``visit_type`` and the carried columns)."""
        n = settled.num_rows
        if n == 0:
            return
        year = _numbers(settled.column("year"))
        fund = _numbers(settled.column("fund"))
        visit = _codes(settled.column("visit_type"), VISIT_TYPES)
        inpatient = visit == VISIT_TYPES.index("inpatient")
        month = _months(settled.column("settle_date"))
        self._payers(settled, visit)
        county, scheme, signed = self.enrolled.lookup(settled.column("person_id"), year)
        placed = (county >= 0) & (scheme >= 0) & (month >= 1) & (month <= MONTHS)
        kind = np.where(inpatient, 0, 1)
        cell = ((county * len(SCHEMES) + scheme) * MONTHS + (month - 1)) * len(KINDS) + kind
        size = len(self.counties) * len(SCHEMES) * MONTHS * len(KINDS)
        for y in np.unique(year):
            at = placed & (year == y)
            totals = self.totals.setdefault(int(y), np.zeros(size, np.int64))
            add_fund(np.where(at, cell, -1), fund, totals, self.rows.setdefault(int(y), np.zeros(size, np.int64)))
        if not placed.all():
            self.unplaced.append(_keep(settled, UNPLACED_COLUMNS, np.flatnonzero(~placed)))
        if inpatient.any():
            self.inpatient.append(_keep(settled, INPATIENT_COLUMNS, np.flatnonzero(inpatient)))
        scope = [VISIT_TYPES.index(v) for v in self.capitation_visits if v in VISIT_TYPES]
        rows = np.flatnonzero(signed & np.isin(visit, scope))
        if len(rows):
            self.capitation.append(_keep(settled, CAPITATION_COLUMNS, rows))

    def _payers(self, settled: pa.Table, visit: np.ndarray) -> None:
        scheme = _codes(settled.column("scheme"), SCHEMES)
        area = _codes(settled.column("area"), AREAS)
        if (scheme < 0).any() or (visit < 0).any() or (area < 0).any():  # not the house's words: let polars group
            self.payer_frames.append(
                pl.from_arrow(settled.select(["scheme", "visit_type", "area", "total_cost", *PAYERS]))
                .with_columns(pl.col(c).cast(pl.Utf8) for c in ("scheme", "visit_type", "area"))
                .group_by("scheme", "visit_type", "area")
                .agg(pl.len().cast(pl.Int64).alias("n_claims"), *[pl.col(c).sum() for c in ("total_cost", *PAYERS)])
            )
            return
        cell = (scheme * len(VISIT_TYPES) + visit) * len(AREAS) + area
        money = np.stack([_numbers(settled.column(c)) for c in ("total_cost", *PAYERS)])
        add_money(cell, money, self.payer_totals)

    def payers(self) -> pl.DataFrame:
        """``scheme``, ``visit_type``, ``area``, ``n_claims``, ``total_cost`` and each payer's
        amount (fen), one row per combination met, sorted."""
        cells = np.flatnonzero(self.payer_totals[:, 0])
        s, rest = np.divmod(cells, len(VISIT_TYPES) * len(AREAS))
        v, a = np.divmod(rest, len(AREAS))
        t = self.payer_totals[cells]
        df = pl.DataFrame({
            "scheme": pl.Series([SCHEMES[i] for i in s], dtype=pl.Utf8),
            "visit_type": pl.Series([VISIT_TYPES[i] for i in v], dtype=pl.Utf8),
            "area": pl.Series([AREAS[i] for i in a], dtype=pl.Utf8),
            "n_claims": pl.Series(t[:, 0], dtype=pl.Int64),
            **{c: pl.Series(t[:, 1 + k], dtype=pl.Int64) for k, c in enumerate(("total_cost", *PAYERS))},
        })  # fmt: skip
        keys = ["scheme", "visit_type", "area"]
        return pl.concat([df, *self.payer_frames]).group_by(keys).sum().sort(keys)

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
        return getattr(self, name).table()


def _keep(settled: pa.Table, columns: tuple[str, ...], rows: np.ndarray) -> pa.Table:
    """Rows ``rows`` of ``settled``, only ``columns`` (those it has), enum columns as dictionaries."""
    kept = settled.select([c for c in columns if c in settled.column_names]).take(pa.array(rows))
    return compact(kept, enums=("visit_type", "community_id"))
