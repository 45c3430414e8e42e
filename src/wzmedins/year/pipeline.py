"""One city-year, stage by stage (docs/year.md): enrolment and contributions → accounts → the
year's claims streamed through the state store → budget and pools → DRG clearing → capitation →
expenditure per county and month → the fund's year end and the monthly warning.

Each stage calls the library's public entry points (``wz.fund``, ``wz.Settler``, ``wz.drg``,
``wz.capitation``); this module only wires them together and keeps the stage timings. Nothing
here settles, scores or clears by itself.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..rounding import half_up
from .bundle import Bundle, load_bundle
from .inputs import YearInputs, person_counties, synthetic
from .spill import Tables, compact
from .stream import CARRY, settle_claims  # noqa: F401  (CARRY: the columns carried, public here too)
from .tally import YearTally

BP = 10_000
SCHEMES = ("employee", "resident")


@dataclass
class YearResult:
    """Everything a year produced: named tables (each written as Parquet beside the report),
    stage timings in seconds, the consistency checks and the bundle it ran under."""

    year: int
    bundle: Bundle
    tables: Tables = field(default_factory=Tables)  # with out=, the per-person ones live on disk
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, int] = field(default_factory=dict)  # the process's peak so far, after each stage
    claims_timings: dict[str, float] = field(default_factory=dict)  # the claims stage by step, seconds
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # CPU time of the process per stage, all threads
    checks: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    out: Path | None = None
    capitation_check: tuple[int, int] = (0, 0)  # own, outside: summed by the fold (year.tally)
    spending: pl.DataFrame | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> pa.Table:
        return self.tables[name]

    def to_polars(self) -> dict[str, pl.DataFrame]:
        """Every table as a polars DataFrame, by name."""
        return {k: pl.from_arrow(v) for k, v in self.tables.items()}

    @property
    def ok(self) -> bool:
        """True when every consistency check held."""
        return all(c["ok"] for c in self.checks)


@contextmanager
def _stage(result: YearResult, name: str, progress=None):
    start, cpu = time.perf_counter(), time.process_time()
    if progress is not None:
        progress(f"{name} …")
    yield
    result.timings[name] = round(time.perf_counter() - start, 3)
    result.cpu_seconds[name] = round(time.process_time() - cpu, 3)
    result.peak_rss_mb[name] = peak_rss_mb()


def peak_rss_mb() -> int:
    """The peak resident memory of this process so far, in MB (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024 if sys.platform != "darwin" else peak // (1024 * 1024))


def run(
    inputs: YearInputs | int | float,
    *,
    bundle: str | os.PathLike | Bundle = "wenzhou-2022",
    seed: int = 0,
    year: int = 2022,
    out: str | os.PathLike | None = None,
    progress=None,
    remember_claims: bool = False,
    settled: bool = False,
) -> YearResult:
    """Run one city-year under ``bundle``.

    Parameters
    ----------
    inputs
        :class:`~wzmedins.year.inputs.YearInputs` (from ``synthetic`` or ``from_paths``), or a
        number of claims for a synthetic year of that size (ten claims a person).
    bundle
        The four profiles (:func:`~wzmedins.year.bundle.load_bundle`).
    seed, year
        For a synthetic year.
    out
        A folder: every result table is written there as Parquet, the per-person tables as
        soon as they are made (docs/year.md, "Scale").
    progress
        A callable taking a line of text, told when each stage starts.
    settled
        Also write every settled claim to ``out/settled/`` (Parquet, one part a batch): about
        40 bytes and half a CPU-microsecond a claim. Off by default: the report's figures are
        drawn from the tables written beside it, not from the claims (docs/year.md, "What is
        written").
    remember_claims
        Keep every settled claim's id in the state store, so an id repeated in a later batch is
        ``DUPLICATE_CLAIM_ID`` and a reversal finds its original in an earlier batch (about 150
        bytes a claim: 15 GB for a city-year). Off by default, as for ``wzmedins settle`` on
        files: within a batch both are always checked.

    Examples
    --------
    >>> from wzmedins import year
    >>> res = year.run(2_000, seed=1)
    >>> res.ok, sorted(res.timings)[:3]
    (True, ['budget', 'capitation', 'checks'])
    """
    b = load_bundle(bundle)
    if not isinstance(inputs, YearInputs):
        inputs = synthetic(int(inputs), seed=seed, year=year)
    result = YearResult(inputs.year, b)
    if out is not None:
        result.out = Path(out)
        result.out.mkdir(parents=True, exist_ok=True)
        result.tables = Tables(result.out)
    with _stage(result, "contributions", progress):
        _contributions(inputs, b, result)
    with _stage(result, "claims", progress):
        tally = settle_claims(inputs, b, result, remember_claims=remember_claims, write_settled=settled)
    # the capitation's claims are read back and coded (wz.capitation.prepare: no pool needed
    # yet) on a second thread while budget and DRG run on this one
    with ThreadPoolExecutor(1) as beside:
        prepared = beside.submit(_prepare_capitation, inputs, b, tally)
        with _stage(result, "budget", progress):
            _budget(inputs, b, result, tally)
        with _stage(result, "drg", progress):
            _drg(inputs, b, result, tally)
        with _stage(result, "capitation", progress):
            _capitation(inputs, b, result, prepared.result())
    with _stage(result, "expenditure", progress):
        _expenditure(inputs, b, result)
    with _stage(result, "fund", progress):
        _fund_year_end(inputs, b, result)
    from .checks import run_checks

    with _stage(result, "checks", progress):
        result.checks = run_checks(result, inputs)
    if result.out is not None:
        result.tables.wait()
        for name in result.tables:
            if result.tables.parked(name) is None:
                pq.write_table(result.tables[name], result.out / f"{name}.parquet")
    return result


# --------------------------------------------------------------------------- stages


def _contributions(inputs: YearInputs, b: Bundle, result: YearResult) -> None:
    import wzmedins as wz

    y, econ, fp = inputs.year, inputs.economy, b.fund
    emp = wz.fund.employee_contributions(inputs["workers"], fp, social_avg_wage={y - 1: econ.social_avg_wage_prev})
    er = wz.fund.employer_contributions(inputs["employers"], fp)
    std = wz.fund.resident_standards(
        inputs["counties"],
        fp,
        income_prev={y - 1: econ.income_prev},
        policy_amounts={y: (econ.policy_total, econ.policy_individual)},
    )
    res = wz.fund.resident_contributions(inputs["residents"], std, fp)
    # the transition (过渡期) ahead: the same economy carried over the years to the end of it
    ahead = range(y, max(y, *fp.transition_share_bp) + 1)
    transition = wz.fund.resident_standards(
        inputs["counties"], fp, income_prev={t - 1: econ.income_prev for t in ahead},
        policy_amounts={t: (econ.policy_total, econ.policy_individual) for t in ahead},
    )  # fmt: skip
    due = pl.from_arrow(wz.fund.revenue(employees=emp, employers=er, residents=res))
    collected = due.with_columns(
        target=pl.col("revenue"),
        revenue=pl.struct("scheme", "revenue").map_elements(
            lambda r: half_up(r["revenue"] * econ.collection_bp[r["scheme"]], BP), return_dtype=pl.Int64
        ),
    )
    result.tables.update(resident_standards=std, resident_transition=transition, revenue=collected.to_arrow())
    # the per-person tables: on disk as soon as made (with out=), read back by column later
    result.tables.park("accounts", wz.fund.accounts(emp, fp))
    for name, table in (("employee_contributions", emp), ("employer_contributions", er),
                        ("resident_contributions", res)):  # fmt: skip
        result.tables.park(name, compact(table))
    del emp, er, res
    result.tables.park("enrolment", compact(person_counties(inputs)))
    result.counts["workers"] = inputs["workers"].num_rows
    result.counts["residents"] = inputs["residents"].num_rows


def _budget(inputs: YearInputs, b: Bundle, result: YearResult, tally: YearTally) -> None:
    """Budgets per county (docs/rules/fund.md §5: last year's expenditure grown, capped by the
    revenue less the reserve rate) and the pools of each scheme (docs/rules/capitation.md §1).

    Last year's expenditure is the ``expenditure_prev`` input when given; in a synthetic year it
    is this year's claims paid item by item (the year replayed at last year's prices)."""
    import wzmedins as wz

    spent = _claims_spending(inputs, b, result, tally)
    prev = inputs.tables.get("expenditure_prev")
    prev = (pl.from_arrow(prev) if prev is not None else
            spent.group_by("county", "scheme").agg(expenditure=pl.col("expenditure").sum()))  # fmt: skip
    rev = pl.from_arrow(result.tables["revenue"])
    budgets, pools = [], []
    for scheme in SCHEMES:
        e = prev.filter(pl.col("scheme") == scheme).select("county", "expenditure").sort("county")
        r = rev.filter(pl.col("scheme") == scheme).select("county", "revenue")
        nb = pl.from_arrow(wz.fund.budget(e.to_arrow(), b.fund, revenue_forecast=int(r["revenue"].sum())))
        budgets.append(nb.select("county", pl.lit(scheme).alias("scheme"), pl.lit(inputs.year).alias("year"),
                                 pl.col("budget_next").alias("budget")))  # fmt: skip
        total = int(nb["budget_next"].sum())
        x = _out_of_area_fund(result, scheme)
        split = wz.capitation.split_budget(total, min(x, total), b.capitation)
        pools += [{"scheme": scheme, "pool": k, "amount": int(v)} for k, v in split.items()]
        pools.append({"scheme": scheme, "pool": "total", "amount": total})
    result.tables["budgets"] = pl.concat(budgets).to_arrow()
    result.tables["pools"] = pa.Table.from_pylist(pools)


def _claims_spending(inputs: YearInputs, b: Bundle, result: YearResult, tally: YearTally) -> pl.DataFrame:
    """The fund's item-based payments per county, scheme, month and kind (inpatient or not):
    the tally made while settling, and ``wz.fund.expenditure`` on the rows it could not place
    (their reasons, and anything the library places after all)."""
    import wzmedins as wz

    frames, rejected = [tally.spending()], []
    unplaced = tally.kept("unplaced")
    read = {}

    def enrolment() -> pa.Table:  # read back once, only if some rows were not placed
        if "t" not in read:
            read["t"] = result.tables.columns("enrolment", ["person_id", "year", "county", "scheme"])
        return read["t"]

    if unplaced is not None:
        cols = [c for c in ("claim_id", "person_id", "year", "fund", "settle_date") if c in unplaced.column_names]
        inpatient = pc.equal(unplaced.column("visit_type").cast(pa.string()), "inpatient").fill_null(False)
        for kind, rows in ((True, inpatient), (False, pc.invert(inpatient))):
            part = unplaced.filter(rows).select(cols)
            if part.num_rows == 0:
                continue
            e = wz.fund.expenditure(part, enrolment(), b.fund, year=inputs.year)
            frames.append(pl.from_arrow(e.monthly).with_columns(inpatient=pl.lit(kind)))
            rejected.append(pl.from_arrow(e.rejected))
    keys = ["county", "scheme", "year", "month", "inpatient"]
    spent = pl.concat(frames, how="vertical_relaxed").group_by(keys).sum().sort(keys)
    result.spending = spent
    result.tables["claims_unplaced"] = (
        pl.concat(rejected, how="vertical_relaxed").to_arrow()
        if rejected
        else pa.table({"source": pa.array([], pa.string())})
    )
    return spent


def _out_of_area_fund(result: YearResult, scheme: str) -> int:
    """What the pooled fund paid item by item for care out of area (异地就医), for a scheme."""
    p = pl.from_arrow(result.tables["payers"])
    if p.is_empty():
        return 0
    return int(p.filter((pl.col("scheme") == scheme) & (pl.col("area") != "local"))["fund"].sum())


def _pool(result: YearResult, scheme: str, pool: str) -> int:
    t = pl.from_arrow(result.tables["pools"])
    return int(t.filter((pl.col("scheme") == scheme) & (pl.col("pool") == pool))["amount"].sum())


def _drg(inputs: YearInputs, b: Bundle, result: YearResult, tally: YearTally) -> None:
    """DRG cases from the settled inpatient claims, scored and cleared against the drg pools."""
    import wzmedins as wz

    inpatient = tally.kept("inpatient")
    if inpatient is None:
        inpatient = pa.table({"claim_id": pa.array([], pa.string())})
    # the settled rows carry the claims' inputs (scheme, hospital, DRG code, dates): they serve as both
    cases = wz.drg.cases_from_settled(inpatient, inpatient).cases
    scored = wz.drg.score(cases, inputs["drg_catalog"], inputs["drg_coefficients"], b.drg)
    budgets = {scheme: _pool(result, scheme, "drg") for scheme in SCHEMES}
    clearing = wz.drg.clear(scored, budgets, b.drg, year=inputs.year)
    result.tables.update(drg_cases=cases, drg_scored=scored.scored, drg_rejected=scored.rejected,
                         drg_hospitals=clearing.hospitals, drg_funds=clearing.funds)  # fmt: skip
    result.counts["drg_cases"] = cases.num_rows


def _prepare_capitation(inputs: YearInputs, b: Bundle, tally: YearTally):
    """The signings and the signed persons' in-scope claims (kept while settling) coded once
    (``wz.capitation.prepare``)."""
    import wzmedins as wz

    claims = tally.kept("capitation")
    if claims is None:
        claims = pa.table({"person_id": pa.array([], pa.string()), "year": pa.array([], pa.int32()),
                           "fund": pa.array([], pa.int64()), "visit_type": pa.array([], pa.string()),
                           "community_id": pa.array([], pa.string())})  # fmt: skip
    return wz.capitation.prepare(inputs["signings"], claims, year=inputs.year)


def _capitation(inputs: YearInputs, b: Bundle, result: YearResult, prepared) -> None:
    """The signed persons' in-scope claims charged to their communities, the per-capita amount
    derived from the resident scheme's capitation pool (``wz.capitation.run``)."""
    import wzmedins as wz

    res = wz.capitation.run(prepared, b.capitation, pool=_pool(result, "resident", "capitation"))
    result.tables.update(capitation_communities=res.communities, capitation_persons=res.persons,
                         capitation_rejected=res.rejected)  # fmt: skip
    result.counts["signed"] = res.persons.num_rows


def _expenditure(inputs: YearInputs, b: Bundle, result: YearResult) -> None:
    """Per county, scheme and month: claims paid item by item (inpatient care is paid by DRG
    points instead), the DRG clearing and the capitation year end (``wz.fund.expenditure``)."""
    import wzmedins as wz

    items = result.spending.filter(~pl.col("inpatient")).drop("inpatient")
    empty = pa.table({"person_id": pa.array([], pa.string()), "year": pa.array([], pa.int32()),
                      "month": pa.array([], pa.int64()), "fund": pa.array([], pa.int64()),
                      "visit_type": pa.array([], pa.string())})  # fmt: skip
    nobody = pa.table({"person_id": pa.array([], pa.string()), "year": pa.array([], pa.int32()),
                       "county": pa.array([], pa.string()), "scheme": pa.array([], pa.string())})  # fmt: skip
    paid = wz.fund.expenditure(  # the claims were placed by the fold: no enrolment needed here
        empty, nobody, b.fund, year=inputs.year,
        drg=result.tables["drg_hospitals"], hospital_county=inputs["hospitals"].select(["hospital_id", "county"]),
        capitation=result.tables["capitation_communities"],
        community_county=inputs["communities"].select(["community_id", "county"]),
    )  # fmt: skip
    keys = ["county", "scheme", "year", "month"]
    m = pl.concat([items, pl.from_arrow(paid.monthly)], how="vertical_relaxed").group_by(keys).sum().sort(keys)
    result.tables["expenditure"] = m.to_arrow()
    result.tables["expenditure_rejected"] = paid.rejected


def _fund_year_end(inputs: YearInputs, b: Bundle, result: YearResult) -> None:
    """The city fund's year end per scheme, then the monthly warning of the city and counties."""
    import wzmedins as wz

    econ = inputs.economy
    exp = pl.from_arrow(result.tables["expenditure"])
    rev = pl.from_arrow(result.tables["revenue"])
    bud = pl.from_arrow(result.tables["budgets"])
    counties, city, warnings = [], [], []
    for scheme in SCHEMES:
        e = exp.filter(pl.col("scheme") == scheme).group_by("county").agg(expenditure=pl.col("expenditure").sum())
        cy = (
            rev.filter(pl.col("scheme") == scheme).select("county", "revenue", "target")
            .join(bud.filter(pl.col("scheme") == scheme).select("county", "budget"), on="county", how="full",
                  coalesce=True)
            .join(e, on="county", how="full", coalesce=True)
            .fill_null(0).sort("county")
        )  # fmt: skip
        ye = wz.fund.year_end(cy.to_arrow(), b.fund, balance=econ.fund_balance[scheme],
                              reserve=econ.fund_reserve[scheme])  # fmt: skip
        counties.append(pl.from_arrow(ye.counties).with_columns(scheme=pl.lit(scheme)))
        city.append(pl.from_arrow(ye.city).with_columns(scheme=pl.lit(scheme)))
        rows = _monthly_rows(cy, exp.filter(pl.col("scheme") == scheme), inputs.year)
        w = wz.fund.warning(rows.to_arrow(), b.fund, opening={None: econ.fund_balance[scheme]})
        warnings.append(pl.from_arrow(w).with_columns(scheme=pl.lit(scheme)))
    result.tables["fund_counties"] = pl.concat(counties, how="vertical_relaxed").to_arrow()
    result.tables["fund_city"] = pl.concat(city, how="vertical_relaxed").to_arrow()
    result.tables["warning"] = pl.concat(warnings, how="vertical_relaxed").to_arrow()


def spread_over_months(amount: int, months: int = 12) -> list[int]:
    """An amount in fen spread evenly over the months; the first months take the leftover fen.

    Examples
    --------
    >>> spread_over_months(1_000, 12)
    [84, 84, 84, 84, 83, 83, 83, 83, 83, 83, 83, 83]
    >>> sum(spread_over_months(-7, 12))
    -7
    """
    base, extra = divmod(int(amount), months)
    return [base + (1 if m < extra else 0) for m in range(months)]


def _monthly_rows(cy: pl.DataFrame, exp: pl.DataFrame, year: int) -> pl.DataFrame:
    """Revenue (spread evenly) and expenditure per month, for the city (county null) and each county."""
    rows = []
    by = {(r["county"], r["month"]): r["expenditure"] for r in
          exp.group_by("county", "month").agg(pl.col("expenditure").sum()).to_dicts()}  # fmt: skip
    total_rev = [0] * 12
    for r in cy.to_dicts():
        spread = spread_over_months(r["revenue"])
        for m in range(12):
            total_rev[m] += spread[m]
            rows.append({"county": r["county"], "year": year, "month": m + 1, "revenue": spread[m],
                         "expenditure": by.get((r["county"], m + 1), 0)})  # fmt: skip
    for m in range(12):
        spent = sum(v for (c, mm), v in by.items() if mm == m + 1)
        rows.append({"county": None, "year": year, "month": m + 1, "revenue": total_rev[m], "expenditure": spent})
    return pl.DataFrame(rows, schema={"county": pl.Utf8, "year": pl.Int32, "month": pl.Int64, "revenue": pl.Int64,
                                      "expenditure": pl.Int64})  # fmt: skip


def batches_of(table: pa.Table, size: int) -> Iterator[pa.RecordBatch]:
    """A table as record batches of ``size`` rows."""
    yield from table.to_batches(max_chunksize=size)
