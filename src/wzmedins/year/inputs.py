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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from .._jit import kernel
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


def year_mix():
    """The claims mix of a synthetic year (illustrative): the claims generator's default with
    fewer and cheaper stays and visits, so that the fund's spending per insured is of the order
    of its contributions (about 1 700 yuan a resident against 1 500 of funding) — a year that
    nearly balances, not the stress test of the generator's default (docs/year.md).

    Examples
    --------
    >>> year_mix().visit_share_plain[-1]
    0.01
    """
    from dataclasses import replace as _replace

    from ..synth.claims import Mix

    return _replace(
        Mix(),
        special_share=0.01,
        visit_share_plain=(0.99, 0.0, 0.0, 0.01),
        visit_share_chronic=(0.58, 0.40, 0.0, 0.02),
        visit_share_special=(0.40, 0.05, 0.50, 0.05),
        cost_median=((60.0, 120.0, 200.0), (200.0, 300.0, 400.0), (1000.0, 1500.0, 2000.0), (3000.0, 6000.0, 12000.0)),
        catastrophic_share=(0.0, 0.0, 0.001, 0.002),
    )


def synthetic(scale: int, *, seed: int = 0, year: int = 2022, batch_size: int = 1_000_000) -> YearInputs:
    """A synthetic year of ``scale`` claims (ten claims a person, as ``wz.synth``).

    Examples
    --------
    >>> inp = synthetic(2_000, seed=1)
    >>> inp.year, sorted(inp.tables)[:3], inp.sources["claims"]
    (2022, ['communities', 'counties', 'drg_catalog'], 'synthetic')
    """
    from .. import synth
    from ..synth.claims import default_persons
    from ..synth.signings import WENZHOU
    from ..synth.stays import add_stays

    scale = int(scale)
    if scale < 1:
        raise SchemaError("scale", "a number of claims >= 1", str(scale))
    n_persons = default_persons(scale)
    mix = year_mix()
    enrol = synth.enrolment.generate(n_persons, seed=seed, year=year, mix=mix)
    # capitation pays per head for signed residents (居民): the signings of the enrolled residents
    signed = synth.signings(n_persons, seed=seed, year=year, layout=WENZHOU, mix=mix)
    signed = signed.filter(pc.is_in(signed["person_id"], value_set=enrol["residents"]["person_id"]))
    world = synth.drg.generate(1, seed=seed, year=year, n_hospitals=hospitals_for(scale))
    hospitals = world["hospitals"]
    n_h = hospitals.num_rows
    counties = WENZHOU.counties
    hospitals = hospitals.append_column("county", pa.array([counties[i % len(counties)] for i in range(n_h)]))
    ids = WENZHOU.community_ids()
    communities = pa.table({"community_id": ids, "county": [c.rsplit("-", 1)[0] for c in ids]})
    tables = {
        "workers": enrol["workers"],
        "employers": enrol["employers"],
        "residents": enrol["residents"],
        "counties": enrol["counties"],
        "signings": signed,
        "communities": communities,
        "hospitals": hospitals,
        "drg_catalog": world["catalog"],
        "drg_coefficients": world["coefficients"],
    }
    catalog = world["catalog"]

    def claims() -> Iterator[pa.RecordBatch]:
        for batch in synth.claim_batches(
            scale, n_persons=n_persons, seed=seed, year=year, batch_size=batch_size, communities=WENZHOU, mix=mix
        ):
            yield from add_stays(batch, hospitals, catalog, seed=seed).to_batches()

    sources = {name: "synthetic" for name in INPUTS}
    return YearInputs(year, claims, tables, Economy(), sources, n_claims=scale)


def hospitals_for(scale: int) -> int:
    """Hospitals in a synthetic year of ``scale`` claims: one per 20 000 claims, 12 to 300.

    Examples
    --------
    >>> hospitals_for(10_000), hospitals_for(10**6), hospitals_for(10**8)
    (12, 50, 300)
    """
    return int(min(300, max(12, scale // 20_000)))


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
    """``person_id``, ``year``, ``county``, ``scheme`` of everyone enrolled in the year: the
    workers, then the residents, the first row of each person-year kept (ids read as strings,
    ``scheme`` dictionary-encoded).

    The person-years are told apart by the compiled id index of settlement
    (``settle.ids.IdIndex``, ids hashed from the Arrow buffers) and one compiled pass
    (:func:`first_rows`), not a sort of the strings.

    Examples
    --------
    >>> inp = synthetic(2_000, seed=1)
    >>> w = pa.table({"person_id": ["a", "b", "a"], "year": [2022] * 3, "county": ["lucheng"] * 3})
    >>> r = pa.table({"person_id": ["b", "c"], "year": [2022, 2022], "county": ["ruian", "ouhai"]})
    >>> t = person_counties(replace(inp, tables={**inp.tables, "workers": w, "residents": r}))
    >>> t.column("person_id").to_pylist(), t.column("scheme").to_pylist()
    (['a', 'b', 'c'], ['employee', 'employee', 'resident'])
    """
    from ..settle.ids import IdIndex, plain

    parts = [(inputs[name], scheme) for name, scheme in (("workers", "employee"), ("residents", "resident"))]
    person = pa.concat_arrays([plain(t.column("person_id")).cast(pa.string()) for t, _ in parts])
    year = pa.concat_arrays([plain(t.column("year")).cast(pa.int32()) for t, _ in parts])
    county = pa.concat_arrays([plain(t.column("county")).cast(pa.string()) for t, _ in parts])
    scheme = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(len(parts), dtype=np.int32), [t.num_rows for t, _ in parts])),
        pa.array([s for _, s in parts]),
    )
    slot = IdIndex("person_id").slots(person, add=True)
    slot[slot < 0] = slot.max(initial=-1) + 1  # null ids: one more person, as polars' unique has it
    # the year as a small code (a null year one more value), then the first row of each pair
    values, code = np.unique(year.fill_null(0).to_numpy(zero_copy_only=False), return_inverse=True)
    code = np.where(year.is_valid().to_numpy(zero_copy_only=False), code, len(values)).astype(np.int64)
    rows = first_rows(slot * (len(values) + 1) + code, (int(slot.max(initial=0)) + 1) * (len(values) + 1))
    take = pa.array(rows, pa.int64())
    return pa.table({"person_id": person.take(take), "year": year.take(take), "county": county.take(take),
                     "scheme": scheme.take(take)})  # fmt: skip


@kernel
def _first_rows(key, n_keys, keep):
    seen = np.zeros(n_keys, np.bool_)
    for i in range(key.shape[0]):
        if not seen[key[i]]:
            seen[key[i]] = True
            keep[i] = True


def first_rows(key, n_keys: int):
    """Rows holding the first occurrence of each value of ``key`` (int64 in ``[0, n_keys)``), in order.

    Examples
    --------
    >>> first_rows(np.array([3, 1, 3, 0, 1]), 4).tolist()
    [0, 1, 3]
    """
    import numpy as np

    keep = np.zeros(len(key), bool)
    _first_rows(np.ascontiguousarray(key, dtype=np.int64), n_keys, keep)
    return np.flatnonzero(keep)
