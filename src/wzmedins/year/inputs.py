"""What a year runs on: enrolment, the year's claims, hospitals and communities, the economy.

:func:`synthetic` makes every input from a seed (``wz.synth``: enrolment, signings, claims, DRG
catalog); :func:`from_paths` reads a bureau's own tables from Parquet, one path per input, and
fills what is not given from the synthetic year of the same size (say which in ``sources``).

The economy (last year's social average wage, disposable income, the policy funding amounts and
the collection rate) is data about the year, not policy: it is an input here, with illustrative
synthetic values in :class:`Economy` (docs/year.md says where each comes from).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from ..errors import SchemaError
from ..tables import to_table

INPUTS = (
    "claims",  # the year's claims (interfaces: claims), with community_id, hospital_id, drg_code
    "workers",  # employee enrolment: person_id, year, county, category, wage_prev, months
    "employers",  # employer_id, county, year, month, payroll
    "residents",  # person_id, year, county, assistance
    "counties",  # county, urban, base_total, base_individual
    "signings",  # person_id, community_id, age_band, chronic, months
    "hospitals",  # hospital_id, level, county
    "communities",  # community_id, county
    "drg_catalog",  # drg_code, base_points, stable, basic, daily_points
    "drg_coefficients",  # hospital_id, drg_code, coefficient
)


@dataclass(frozen=True)
class Economy:
    """Facts about the year that are not policy (illustrative in the synthetic year).

    Money in fen. ``collection_bp``: the share of the contributions due that is collected in the
    year (the rest is arrears); a county's target T is what is due, its revenue R what came in.
    ``fund_balance`` and ``fund_reserve``: the city fund at the start of the year, per scheme.

    Examples
    --------
    >>> Economy().social_avg_wage_prev > 0
    True
    """

    social_avg_wage_prev: int = 700_000  # fen a month (A of docs/rules/fund.md §1)
    income_prev: int = 6_070_000  # fen a year (Y of docs/rules/fund.md §2)
    policy_total: int = 135_000  # F_policy, fen a year
    policy_individual: int = 45_000  # I_policy, fen a year
    collection_bp: Mapping[str, int] = field(default_factory=lambda: {"employee": 9_900, "resident": 9_800})
    fund_balance: Mapping[str, int] = field(default_factory=lambda: {"employee": 0, "resident": 0})
    fund_reserve: Mapping[str, int] = field(default_factory=lambda: {"employee": 0, "resident": 0})


@dataclass(frozen=True)
class YearInputs:
    """Every input of a year. ``claims`` is a callable returning an iterator of record batches
    (so the year's claims are streamed, never held at once); the other inputs are tables."""

    year: int
    claims: Callable[[], Iterator[pa.RecordBatch]]
    tables: dict[str, pa.Table]
    economy: Economy = Economy()
    sources: dict[str, str] = field(default_factory=dict)  # input -> "synthetic" or its path
    n_claims: int | None = None

    def __getitem__(self, name: str) -> pa.Table:
        return self.tables[name]

    def with_economy(self, **changes: Any) -> YearInputs:
        """The same inputs with some economy values changed."""
        return replace(self, economy=replace(self.economy, **changes))


def synthetic(scale: int, *, seed: int = 0, year: int = 2022, batch_size: int = 1_000_000) -> YearInputs:
    """A synthetic year of ``scale`` claims (ten claims a person, as ``wz.synth``).

    Examples
    --------
    >>> inp = synthetic(2_000, seed=1)
    >>> inp.year, sorted(inp.tables)[:3], inp.sources["claims"]
    (2022, ['communities', 'counties', 'drg_catalog'], 'synthetic')
    """
    from .. import synth

    scale = int(scale)
    if scale < 1:
        raise SchemaError("scale", "a number of claims >= 1", str(scale))
    n_persons = synth.claims_mod.default_persons(scale)
    tabs = synth.enrolment.generate(n_persons, seed=seed, year=year)
    places = synth.signings.generate(n_persons, seed=seed, year=year)
    drg = synth.drg.catalog_for_claims(seed=seed)
    tables = {
        "workers": tabs["workers"],
        "employers": tabs["employers"],
        "residents": tabs["residents"],
        "counties": tabs["counties"],
        "signings": places["signings"],
        "communities": places["communities"],
        "hospitals": places["hospitals"],
        "drg_catalog": drg["catalog"],
        "drg_coefficients": drg["coefficients"],
    }

    def claims() -> Iterator[pa.RecordBatch]:
        return synth.claim_batches(scale, n_persons=n_persons, seed=seed, year=year, batch_size=batch_size)

    sources = {name: "synthetic" for name in INPUTS}
    return YearInputs(year, claims, tables, Economy(), sources, n_claims=scale)


def from_paths(
    paths: Mapping[str, str | os.PathLike], *, year: int, fill: YearInputs | None = None, batch_size: int = 1_000_000
) -> YearInputs:
    """Inputs read from Parquet (``{input name: path}``); names not given come from ``fill``.

    Examples
    --------
    >>> from_paths({"claimz": "x.parquet"}, year=2022)
    Traceback (most recent call last):
    ...
    wzmedins.errors.SchemaError: column 'claimz': expected an input of the year (claims, workers, ...), got claimz
    """
    unknown = sorted(set(paths) - set(INPUTS))
    if unknown:
        raise SchemaError(unknown[0], f"an input of the year ({', '.join(INPUTS[:2])}, ...)", unknown[0])
    missing = sorted(set(INPUTS) - set(paths))
    if missing and fill is None:
        raise SchemaError(missing[0], "a path for every input, or fill= (e.g. synthetic(...))", "not given")
    tables = dict(fill.tables) if fill is not None else {}
    sources = dict(fill.sources) if fill is not None else {}
    for name, path in paths.items():
        if name == "claims":
            continue
        if not os.path.exists(path):
            raise SchemaError(name, "an existing Parquet file or dataset", os.fspath(path))
        tables[name] = to_table(os.fspath(path))
        sources[name] = os.fspath(path)
    claims = fill.claims if fill is not None else None
    n_claims = fill.n_claims if fill is not None else None
    if "claims" in paths:
        claims_path = os.fspath(paths["claims"])
        if not os.path.exists(claims_path):
            raise SchemaError("claims", "an existing Parquet file or dataset", claims_path)
        dataset = ds.dataset(claims_path, format="parquet")
        n_claims = dataset.count_rows()
        sources["claims"] = claims_path

        def claims() -> Iterator[pa.RecordBatch]:
            return dataset.to_batches(batch_size=batch_size)

    economy = fill.economy if fill is not None else Economy()
    return YearInputs(year, claims, tables, economy, sources, n_claims=n_claims)


def person_counties(inputs: YearInputs) -> pa.Table:
    """``person_id``, ``year``, ``county``, ``scheme`` of everyone enrolled in the year."""
    import polars as pl

    w = pl.from_arrow(inputs["workers"]).select("person_id", "year", "county").with_columns(scheme=pl.lit("employee"))
    r = pl.from_arrow(inputs["residents"]).select("person_id", "year", "county").with_columns(scheme=pl.lit("resident"))
    both = pl.concat([w.with_columns(pl.col("person_id").cast(pl.Utf8), pl.col("county").cast(pl.Utf8),
                                     pl.col("year").cast(pl.Int32)),
                      r.with_columns(pl.col("person_id").cast(pl.Utf8), pl.col("county").cast(pl.Utf8),
                                     pl.col("year").cast(pl.Int32))])  # fmt: skip
    return both.unique(subset=["person_id", "year"], keep="first", maintain_order=True).to_arrow()
