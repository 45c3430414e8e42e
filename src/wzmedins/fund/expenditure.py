"""Expenditure per county, scheme and month from what the library computes (docs/rules/fund.md §4).

Three sources, each optional but the first:

- settled claims (``wz.settle``): the pooled ``fund`` amount of each claim, in the county of the
  person's enrolment, in the month of its ``settle_date`` (carry it with ``carry=["settle_date"]``)
  or of a ``month`` column;
- a DRG clearing (``wz.drg.clear``): when given, inpatient claims are paid by points, so their
  item-based amount is left out and each hospital's ``prepaid`` is spread evenly over the
  twelve months (the first months take the leftover fen) and its ``balance`` paid in month 12,
  in the hospital's county: together ``fund_due + reserve_share``;
- capitation results (``wz.capitation.settle``): each community's year-end ``settlement``
  (retained surplus paid, or the community's part of an overspend recovered) in month 12, in
  the community's county, for the resident scheme. Its ``charges`` are claims already counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from ..errors import SchemaError
from ..vocab import SCHEMES
from .columns import table
from .profile import FundProfile, load_profile

MONTHS_IN_YEAR = 12  # the calendar
OUT_COLUMNS = ("county", "scheme", "year", "month", "claims", "drg", "capitation", "expenditure")


@dataclass(frozen=True)
class Expenditure:
    """``monthly`` (county, scheme, year, month, claims, drg, capitation, expenditure; fen) and
    ``rejected`` (source, row, id, reason: input rows that could not be placed)."""

    monthly: pa.Table
    rejected: pa.Table

    def to_polars(self) -> dict:
        """Both tables as polars DataFrames, by name."""
        return {"monthly": pl.from_arrow(self.monthly), "rejected": pl.from_arrow(self.rejected)}

    def county_year(self, scheme: str, year: int) -> pa.Table:
        """``county``, ``expenditure``: the year's total per county for one scheme (for year_end)."""
        df = pl.from_arrow(self.monthly).filter((pl.col("scheme") == scheme) & (pl.col("year") == year))
        return df.group_by("county").agg(pl.col("expenditure").sum()).sort("county").to_arrow()


def _enrolment(enrolment: Any) -> pl.DataFrame:
    """person_id, year, county, scheme: one row per person-year (the first given)."""
    if isinstance(enrolment, dict):
        parts = []
        for scheme, tab in enrolment.items():
            if scheme not in SCHEMES:
                raise SchemaError("enrolment", f"a mapping with keys from {', '.join(SCHEMES)}", repr(scheme))
            df = pl.from_arrow(table(tab))
            if "reason" in df.columns:
                df = df.filter(pl.col("reason").is_null())
            parts.append(df.select("person_id", "year", "county").with_columns(scheme=pl.lit(scheme)))
        df = pl.concat([p.with_columns(pl.col("person_id").cast(pl.Utf8)) for p in parts]) if parts else None
    else:
        df = pl.from_arrow(table(enrolment))
        if "reason" in df.columns:
            df = df.filter(pl.col("reason").is_null())
        missing = [c for c in ("person_id", "year", "county", "scheme") if c not in df.columns]
        if missing:
            raise SchemaError(missing[0], "enrolment with person_id, year, county, scheme", "no such column")
        df = df.select("person_id", "year", "county", "scheme").with_columns(pl.col("person_id").cast(pl.Utf8))
    if df is None:
        raise SchemaError("enrolment", "at least one table", "none")
    return df.with_columns(
        pl.col("year").cast(pl.Int32), pl.col("county").cast(pl.Utf8), pl.col("scheme").cast(pl.Utf8)
    ).unique(["person_id", "year"], keep="first", maintain_order=True)


def _mapping(where: Any, key: str, what: str) -> dict:
    if where is None:
        return {}
    if isinstance(where, dict):
        return {str(k): v for k, v in where.items()}
    t = table(where)
    if key not in t.column_names or "county" not in t.column_names:
        raise SchemaError(key, f"{what}: a dict or a table with {key} and county", "no such column")
    return {str(k): v for k, v in zip(t.column(key).to_pylist(), t.column("county").to_pylist(), strict=True)}


def _rejects(source: str, rows: np.ndarray, ids: list, reasons: list[str]) -> pl.DataFrame:
    data = {
        "source": [source] * len(rows),
        "row": rows.astype(np.int64),
        "id": [None if i is None else str(i) for i in ids],
        "reason": reasons,
    }
    return pl.DataFrame(data, schema={"source": pl.Utf8, "row": pl.Int64, "id": pl.Utf8, "reason": pl.Utf8})


def expenditure(
    settled: Any,
    enrolment: Any,
    fp: FundProfile | str,
    *,
    year: int | None = None,
    drg: Any = None,
    hospital_county: Any = None,
    capitation: Any = None,
    community_county: Any = None,
) -> Expenditure:
    """What the fund paid per county, scheme and month (docs/rules/fund.md §4, "expenditure").

    Parameters
    ----------
    settled
        The ``settled`` table of ``wz.settle`` with ``settle_date`` carried (or a ``month``
        column), ``person_id``, ``year``, ``fund`` and, with ``drg``, ``visit_type``.
    enrolment
        ``person_id``, ``year``, ``county``, ``scheme``; or ``{"employee": workers,
        "resident": residents}`` (the inputs or outputs of the contribution functions).
    fp
        A fund profile (or its name or path): its counties.
    year
        Year of the DRG and capitation results (default: the claims' only year).
    drg
        A ``wz.drg.Clearing`` or its ``hospitals`` table (hospital_id, fund, prepaid, balance).
    hospital_county
        ``{hospital_id: county}`` or a table with ``hospital_id`` and ``county``.
    capitation
        The ``communities`` table of ``wz.capitation.settle`` (community_id, settlement).
    community_county
        ``{community_id: county}`` or a table with ``community_id`` and ``county``.

    Returns
    -------
    Expenditure
        ``monthly`` and ``rejected``: claims whose person-year has no enrolment are
        UNKNOWN_COUNTY, so are hospitals and communities without a known county; a DRG fund
        other than employee or resident is UNKNOWN_SCHEME. Each input row is used or rejected.

    Examples
    --------
    >>> import pyarrow as pa
    >>> settled = pa.table({"person_id": ["a", "b", "x"], "year": [2022] * 3, "month": [1, 12, 3],
    ...     "fund": [10_000, 2_500, 700]})
    >>> enrol = pa.table({"person_id": ["a", "b"], "year": [2022, 2022], "county": ["ruian", "ruian"],
    ...     "scheme": ["employee", "resident"]})
    >>> comm = pa.table({"community_id": ["K1"], "settlement": [-1_000]})
    >>> out = expenditure(settled, enrol, "wenzhou-2022", capitation=comm, community_county={"K1": "ruian"})
    >>> for row in out.monthly.select(["scheme", "month", "claims", "capitation", "expenditure"]).to_pylist():
    ...     print(row)
    {'scheme': 'employee', 'month': 1, 'claims': 10000, 'capitation': 0, 'expenditure': 10000}
    {'scheme': 'resident', 'month': 12, 'claims': 2500, 'capitation': -1000, 'expenditure': 1500}
    >>> out.rejected.to_pylist()
    [{'source': 'claims', 'row': 2, 'id': 'x', 'reason': 'UNKNOWN_COUNTY'}]
    """
    p = load_profile(fp)
    known = set(p.counties)
    s = pl.from_arrow(table(settled)).with_row_index("row")
    for col in ("person_id", "year", "fund"):
        if col not in s.columns:
            raise SchemaError(col, "a column of the settled table", "no such column")
    if "month" in s.columns:
        s = s.with_columns(pl.col("month").cast(pl.Int64))
    elif "settle_date" in s.columns:
        s = s.with_columns(month=pl.col("settle_date").dt.month().cast(pl.Int64))
    else:
        raise SchemaError(
            "settle_date", "settle_date carried into settled (carry=['settle_date']) or month", "no such column"
        )
    s = s.with_columns(pl.col("person_id").cast(pl.Utf8), pl.col("year").cast(pl.Int32), pl.col("fund").cast(pl.Int64))
    if drg is not None:
        if "visit_type" not in s.columns:
            raise SchemaError("visit_type", "visit_type in settled when a DRG clearing is given", "no such column")
        s = s.filter(pl.col("visit_type").cast(pl.Utf8) != "inpatient")  # paid by points instead
    e = _enrolment(enrolment)
    s = s.join(e, on=["person_id", "year"], how="left")
    reason = (
        pl.when(pl.col("month").is_null()).then(pl.lit("MISSING_VALUE"))
        .when((pl.col("month") < 1) | (pl.col("month") > MONTHS_IN_YEAR)).then(pl.lit("MONTH_OUT_OF_RANGE"))
        .when(pl.col("county").is_null() | ~pl.col("county").is_in(list(known))).then(pl.lit("UNKNOWN_COUNTY"))
        .when(~pl.col("scheme").is_in(list(SCHEMES))).then(pl.lit("UNKNOWN_SCHEME"))
        .otherwise(None)
    )  # fmt: skip
    s = s.with_columns(reason=reason)
    id_col = "claim_id" if "claim_id" in s.columns else "person_id"
    bad = s.filter(pl.col("reason").is_not_null()).sort("row")
    rejected = [_rejects("claims", bad["row"].to_numpy(), bad[id_col].cast(pl.Utf8).to_list(), bad["reason"].to_list())]
    good = s.filter(pl.col("reason").is_null())
    parts = [good.group_by("county", "scheme", "year", "month").agg(claims=pl.col("fund").sum())]
    years = good["year"].unique().to_list()
    if (drg is not None or capitation is not None) and year is None:
        if len(years) != 1:
            raise SchemaError("year", "year= for the DRG and capitation results (the claims span several)", str(years))
        year = years[0]
    if drg is not None:
        hosp = getattr(drg, "hospitals", drg)
        d = pl.from_arrow(table(hosp)).with_row_index("row")
        where = _mapping(hospital_county, "hospital_id", "hospital_county")
        rows = []
        bad_rows, bad_ids, bad_reasons = [], [], []
        for r in d.iter_rows(named=True):
            county = where.get(str(r["hospital_id"]))
            fund = r["fund"]
            if county not in known:
                bad_rows.append(r["row"]), bad_ids.append(r["hospital_id"]), bad_reasons.append("UNKNOWN_COUNTY")
                continue
            if fund not in SCHEMES:
                bad_rows.append(r["row"]), bad_ids.append(r["hospital_id"]), bad_reasons.append("UNKNOWN_SCHEME")
                continue
            q, left = divmod(int(r["prepaid"]), MONTHS_IN_YEAR)
            for m in range(1, MONTHS_IN_YEAR + 1):
                amount = q + (1 if m <= left else 0) + (int(r["balance"]) if m == MONTHS_IN_YEAR else 0)
                rows.append((county, fund, year, m, amount))
        rejected.append(_rejects("drg", np.array(bad_rows, dtype=np.int64), bad_ids, bad_reasons))
        if rows:
            parts.append(
                pl.DataFrame(rows, schema=["county", "scheme", "year", "month", "drg"], orient="row")
                .group_by("county", "scheme", "year", "month").agg(pl.col("drg").sum())
            )  # fmt: skip
    if capitation is not None:
        c = pl.from_arrow(table(capitation)).with_row_index("row")
        where = _mapping(community_county, "community_id", "community_county")
        rows, bad_rows, bad_ids = [], [], []
        for r in c.iter_rows(named=True):
            county = where.get(str(r["community_id"]))
            if county not in known or r["settlement"] is None:
                bad_rows.append(r["row"]), bad_ids.append(r["community_id"])
                continue
            rows.append((county, "resident", year, MONTHS_IN_YEAR, int(r["settlement"])))
        reasons = ["UNKNOWN_COUNTY" if where.get(str(i)) not in known else "MISSING_VALUE" for i in bad_ids]
        rejected.append(_rejects("capitation", np.array(bad_rows, dtype=np.int64), bad_ids, reasons))
        if rows:
            parts.append(
                pl.DataFrame(rows, schema=["county", "scheme", "year", "month", "capitation"], orient="row")
                .group_by("county", "scheme", "year", "month").agg(pl.col("capitation").sum())
            )  # fmt: skip
    keys = ["county", "scheme", "year", "month"]
    out = None
    for part in parts:
        part = part.with_columns(pl.col("county").cast(pl.Utf8), pl.col("scheme").cast(pl.Utf8),
                                 pl.col("year").cast(pl.Int32), pl.col("month").cast(pl.Int32))  # fmt: skip
        out = part if out is None else out.join(part, on=keys, how="full", coalesce=True)
    for col in ("claims", "drg", "capitation"):
        if col not in out.columns:
            out = out.with_columns(pl.lit(0, pl.Int64).alias(col))
        out = out.with_columns(pl.col(col).fill_null(0).cast(pl.Int64))
    out = out.with_columns(expenditure=pl.col("claims") + pl.col("drg") + pl.col("capitation"))
    order = {c: i for i, c in enumerate(p.counties)}
    out = (
        out.with_columns(_c=pl.col("county").replace_strict(order, return_dtype=pl.Int32))
        .sort("_c", "scheme", "year", "month")
        .select(OUT_COLUMNS)
    )
    return Expenditure(out.to_arrow(), pl.concat(rejected).to_arrow())
