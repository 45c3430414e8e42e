"""What the later stages of a year need from its claims, gathered as the claims are settled.

The ``claims`` stage hands each settled batch to a :class:`YearTally` once, and never reads
the claims again:

- the fund's item-based payments per year, county, scheme, month and kind (inpatient or
  not), placed as ``wz.fund.expenditure`` places them (docs/rules/fund.md §4: the county of
  the person's enrolment, the month of the ``settle_date``), summed in int64 fen into a
  dense array by one compiled pass a batch (:func:`fold`): the person's county comes from one
  index of the enrolment built once (:class:`~wzmedins.year.persons.PersonIndex`: ids hashed
  from the Arrow buffers, compared word by word, so two ids are never merged). Rows it
  cannot place (no enrolment for the person-year, a county outside the fund profile, no
  month) are kept and given to ``wz.fund.expenditure`` at the end, so the reasons of
  ``claims_unplaced`` are the library's;
- the claims, costs and payers' amounts per scheme, visit type and area (the ``payers`` table);
- the inpatient rows, for the DRG cases (a few percent of the claims);
- the signed persons' claims of the capitation's visit types, for ``wz.capitation.settle``,
  and the two sums of the year's check of its charges (own community, outside).

Memory follows the persons enrolled and the rows kept, not the year's claims. A test holds
the tally equal, to the fen, to one call of ``wz.fund.expenditure`` on all the claims.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from .._jit import kernel, step
from ..contract import PAYERS
from ..drg.from_settled import CARRIED as DRG_CARRIED
from ..drg.from_settled import NOT_FUND
from ..errors import SchemaError
from ..vocab import AREAS, SCHEMES, VISIT_TYPES
from .inputs import first_rows
from .persons import PersonIndex, id_kind
from .spill import Spill, compact

MONTHS = 12
N_SCHEMES = len(SCHEMES)
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
    (int64 fen; ``money`` a tuple of columns, read where they are)."""
    for i in range(cell.shape[0]):
        c = cell[i]
        totals[c, 0] += 1
        for k in range(len(money)):
            totals[c, 1 + k] += money[k][i]


@step
def _month(day):
    """Month 1-12 of a day number (days since 1970-01-01), proleptic Gregorian."""
    z = day + 719_468
    era = (z if z >= 0 else z - 146_096) // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    return mp + 3 if mp < 10 else mp - 9


UNPLACED, INPATIENT, CAPITATION = 1, 2, 4  # bits of a row's ``keep`` flag


@kernel
def fold(slot_of, year, years, county_of, scheme_of, signed, home, fund, day, day_valid, visit, inpatient_visit,
         in_scope, community, outside_bp, totals, counts, keep, check):  # fmt: skip
    """One batch of settled claims into the year's dense sums, in one pass.

    Each row's person is ``slot_of[i]`` (-1: not enrolled; :func:`wzmedins.year.persons.find_slots`); the county
    and scheme of his enrolment in the row's ``year`` (``years``: the enrolment's years,
    ``county_of``/``scheme_of`` a row per year, -1 none) and the month of ``day`` place its
    ``fund`` in ``totals[year, cell]`` (``counts``: claims per cell), the cell being
    ``((county · 2 + scheme) · 12 + month − 1) · 2 + kind`` (kind 0 inpatient, 1 other).
    ``keep[i]`` gets the bits ``UNPLACED`` (no cell), ``INPATIENT`` and ``CAPITATION`` (a
    signed person's claim of a visit type ``in_scope``). For the capitation check,
    ``check[0]`` adds the fund of in-scope rows at the person's ``home`` community (code of
    the first signing; ``community`` is the row's: -1 null, -2 a community no one signed with)
    and ``check[1]`` the outside charge ``rnd(fund · outside_bp / 10⁴)`` of the rows elsewhere
    or without a community. Empty ``day_valid``: no nulls.
    """
    n_years = years.shape[0]
    day_nulls = day_valid.shape[0] > 0
    for i in range(fund.shape[0]):
        v = visit[i]
        k = 0
        inpatient = v == inpatient_visit
        if inpatient:
            k |= INPATIENT
        slot = slot_of[i]
        placed = False
        if slot >= 0:
            yi = -1
            for j in range(n_years):
                if years[j] == year[i]:
                    yi = j
                    break
            if yi >= 0 and not (day_nulls and not day_valid[i]):
                c = np.int64(county_of[yi, slot])
                s = np.int64(scheme_of[yi, slot])
                m = _month(np.int64(day[i]))
                if c >= 0 and s >= 0 and 1 <= m <= 12:
                    cell = ((c * N_SCHEMES + s) * MONTHS + m - 1) * 2 + (0 if inpatient else 1)
                    totals[yi, cell] += fund[i]
                    counts[yi, cell] += 1
                    placed = True
            if signed[slot] and v >= 0 and in_scope[v]:
                k |= CAPITATION
                h = home[slot]
                cc = community[i]
                if cc == -1 or (h >= 0 and cc != h):
                    check[1] += (2 * fund[i] * outside_bp + 10_000) // 20_000
                elif h >= 0:
                    check[0] += fund[i]
        if not placed:
            k |= UNPLACED
        keep[i] = k


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
        per_value = pc.index_in(arr.dictionary.cast(pa.string()), value_set=pa.array(list(vocab), pa.string()))
        codes = per_value.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        codes = codes[arr.indices.fill_null(0).to_numpy(zero_copy_only=False)]
        return np.where(arr.indices.is_valid().to_numpy(zero_copy_only=False), codes, -1) if arr.null_count else codes
    found = pc.index_in(arr.cast(pa.string()), value_set=pa.array(list(vocab), pa.string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _numbers(column) -> np.ndarray:
    """An integer column as int64 numpy (nulls as 0: ``fund`` and ``year`` of settled rows have none)."""
    arr = _one(column)
    if arr.null_count:
        arr = arr.fill_null(0)
    return arr.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _days(dates) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of a date column (a view when date32) and its validity (empty: no nulls)."""
    arr = _one(dates)
    arr = arr if arr.type == pa.date32() else arr.cast(pa.date32())
    days = np.frombuffer(arr.buffers()[1], np.int32, len(arr), arr.offset * 4)  # nulls: masked by validity
    valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else np.zeros(0, bool)
    return days, valid


class Enrolled:
    """Each enrolled person-year's county and scheme, whether the person signed with a family
    doctor and the community he signed with, by person id: one compiled index of the persons
    (:class:`~wzmedins.year.persons.PersonIndex`), built once, and small codes a slot (county
    int16, scheme int8 a year; signed, and the first signing's community as int32).

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
                 signed_communities: pa.Array | None = None, hash_bits: int = 64):  # fmt: skip
        self.counties = tuple(counties)
        if len(self.counties) > np.iinfo(np.int16).max:
            raise ValueError("more counties than an int16 code holds")
        person = _one(enrolment.column("person_id"))
        signed = None if signed is None else _one(signed)
        if signed is not None and len(signed) and id_kind(signed.type) != id_kind(person.type):
            raise SchemaError("person_id", "ids of one kind (all strings or all integers) in the enrolment and "
                              "the signings", f"{person.type} and {signed.type}")  # fmt: skip
        self.index = PersonIndex(person, hash_bits=hash_bits)
        signed_slots = np.zeros(0, np.int64) if signed is None else self.index.find(signed)
        if signed is not None and ((signed_slots < 0) & signed.is_valid().to_numpy(zero_copy_only=False)).any():
            # persons signed but not enrolled: indexed too (rare; the index is built again)
            extra = signed.filter(pa.array((signed_slots < 0) & signed.is_valid().to_numpy(zero_copy_only=False)))
            self.index = PersonIndex(pa.concat_arrays([_plain_ids(person), _plain_ids(extra)]), hash_bits=hash_bits)
            signed_slots = self.index.find(signed)
        n = self.index.n
        slots = self.index.row_slots[: len(person)]
        self.index.row_slots = None  # only needed here
        years = _numbers(enrolment.column("year"))
        county = _codes(enrolment.column("county"), self.counties)
        scheme = _codes(enrolment.column("scheme"), SCHEMES)
        self.years = np.unique(years)
        self.county_of = np.full((len(self.years), n), -1, np.int16)  # codes into the profile's counties and
        self.scheme_of = np.full((len(self.years), n), -1, np.int8)  # SCHEMES: 3 bytes a person a year
        for k, y in enumerate(self.years):
            rows = np.flatnonzero((years == y) & (slots >= 0))
            rows = rows[first_rows(slots[rows], n)]  # the first row of each person-year
            self.county_of[k, slots[rows]] = county[rows]
            self.scheme_of[k, slots[rows]] = scheme[rows]
        self.signed = np.zeros(n, bool)
        self.signed[signed_slots[signed_slots >= 0]] = True
        # the community of each signed person's first signing, as a code into ``communities``
        self.home = np.full(n, -1, np.int32)
        self.communities = pa.array([], pa.string())
        if signed_communities is not None and len(signed_slots):
            comm = _one(signed_communities)
            comm = comm.dictionary_decode() if pa.types.is_dictionary(comm.type) else comm
            self.communities = pc.unique(comm.cast(pa.string()).drop_null())
            code = _codes(comm, tuple(self.communities.to_pylist()))
            rows = np.flatnonzero(signed_slots >= 0)
            rows = rows[first_rows(signed_slots[rows], n)]
            self.home[signed_slots[rows]] = code[rows]

    def lookup(self, person_id, year: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """County code (into ``counties``) and scheme code (into ``vocab.SCHEMES``) of each
        row's person-year, -1 where there is none; and whether the person signed."""
        slot = self.index.find(_one(person_id))
        known = slot >= 0
        county = np.full(len(slot), -1, np.int64)
        scheme = np.full(len(slot), -1, np.int64)
        for k, y in enumerate(self.years):
            at = known & (year == y)
            county[at] = self.county_of[k, slot[at]]
            scheme[at] = self.scheme_of[k, slot[at]]
        signed = np.zeros(len(slot), bool)
        signed[known] = self.signed[slot[known]]
        return county, scheme, signed


def _plain_ids(arr) -> pa.Array:
    """Ids as one plain array, large strings as strings (one type to concatenate)."""
    arr = _strings(arr)
    return arr.cast(pa.string()) if pa.types.is_large_string(arr.type) else arr


class YearTally:
    """The year's claims folded batch by batch into what the later stages need (module doc).

    With ``signed_communities`` (the signings' ``community_id``, row for row with
    ``signed_persons``) and ``outside_bp`` (the capitation profile's ``outside_charge_bp``), the
    fold also sums the capitation check's two parts (``capitation_check``: own, outside)."""

    def __init__(self, enrolment: pa.Table, *, counties: tuple[str, ...], signed_persons: pa.Array,
                 capitation_visits: tuple[str, ...], spill: str | Path | None = None,
                 signed_communities: pa.Array | None = None, outside_bp: int = 0):  # fmt: skip
        self.enrolled = Enrolled(enrolment, counties=counties, signed=signed_persons,
                                 signed_communities=signed_communities)  # fmt: skip
        self.counties = self.enrolled.counties
        self.years = self.enrolled.years
        size = len(self.counties) * len(SCHEMES) * MONTHS * len(KINDS)
        self.totals = np.zeros((len(self.years), size), np.int64)  # [year, county, scheme, month, kind] fen
        self.rows = np.zeros((len(self.years), size), np.int64)  # claims in each cell
        self.capitation_check = np.zeros(2, np.int64)  # own, outside (fen)
        self.outside_bp = int(outside_bp)
        # rows kept for later stages, only the columns they read: in memory, or with ``spill``
        # (a folder) one part per batch there (Arrow IPC), read back by the stage that needs them
        folder = (lambda name: None) if spill is None else (lambda name: Path(spill) / name)  # noqa: E731
        self.unplaced = Spill(folder("unplaced"))
        self.inpatient = Spill(folder("inpatient"))
        self.capitation = Spill(folder("capitation"))
        self.capitation_visits = tuple(capitation_visits)
        self.in_scope = np.array([v in self.capitation_visits for v in VISIT_TYPES], np.bool_)
        self.payer_totals = np.zeros((len(SCHEMES) * len(VISIT_TYPES) * len(AREAS), 2 + len(PAYERS)), np.int64)
        self.payer_frames: list[pl.DataFrame] = []  # batches with a value outside the vocabularies

    def add(self, settled: pa.Table) -> None:
        """Fold one batch of settled claims (``person_id``, ``year``, ``fund``, ``settle_date``,
        ``visit_type`` and the carried columns): one compiled pass (:func:`fold`)."""
        n = settled.num_rows
        if n == 0:
            return
        visit = _codes(settled.column("visit_type"), VISIT_TYPES)
        self._payers(settled, visit)
        e = self.enrolled
        person = _one(settled.column("person_id"))
        keep = np.zeros(n, np.int8)
        if id_kind(person.type) != e.index.kind or e.index.n == 0:
            keep[:] = UNPLACED  # ids of another kind than the enrolment's: nobody is found
            keep[visit == VISIT_TYPES.index("inpatient")] |= INPATIENT
        else:
            slot = e.index.find(person)
            days, day_valid = _days(settled.column("settle_date"))
            if "community_id" in settled.column_names:
                community = _codes(settled.column("community_id"), tuple(e.communities.to_pylist()))
                community[(community < 0) & _one(settled.column("community_id")).is_valid().to_numpy(
                    zero_copy_only=False)] = -2  # fmt: skip
            else:
                community = np.full(n, -1, np.int64)
            fold(slot, _numbers(settled.column("year")), e.years, e.county_of,
                 e.scheme_of, e.signed, e.home, _numbers(settled.column("fund")), days, day_valid, visit,
                 VISIT_TYPES.index("inpatient"), self.in_scope, community, self.outside_bp, self.totals, self.rows,
                 keep, self.capitation_check)  # fmt: skip
        for spill, bit, columns in ((self.unplaced, UNPLACED, UNPLACED_COLUMNS),
                                    (self.inpatient, INPATIENT, INPATIENT_COLUMNS),
                                    (self.capitation, CAPITATION, CAPITATION_COLUMNS)):  # fmt: skip
            rows = np.flatnonzero(keep & bit)
            if len(rows):
                spill.append(_keep(settled, columns, rows))

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
        add_money(cell, tuple(_numbers(settled.column(c)) for c in ("total_cost", *PAYERS)), self.payer_totals)

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
        for yi, y in enumerate(self.years):
            shape = (len(self.counties), len(SCHEMES), MONTHS, len(KINDS))
            cube = self.totals[yi].reshape(shape)
            c, s, m, k = np.nonzero(self.rows[yi].reshape(shape))
            if len(c) == 0:
                continue
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
