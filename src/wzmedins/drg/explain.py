"""``explain``: one case, step by step — coefficient and its source, standard cost, the
thresholds of its case type, points before readmission, the stay that halved it, bonus."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import tables
from ..errors import SchemaError
from ..rounding import half_up as rnd
from ..tables import fen_to_yuan
from .checks import catalog_reference_cost, with_catalog_reference_cost
from .labels import CASE_TYPE_ZH
from .profile import load_profile
from .score import score


@dataclasses.dataclass(frozen=True)
class Explanation:
    """Everything that decided one case's points (money in fen, points and coefficients in e4)."""

    case_id: Any
    hospital_id: Any
    drg_code: str
    total_cost: int
    case_type: str
    base_points: int | None
    coefficient: int | None
    coefficient_source: str | None
    reference_cost: int
    reference_cost_source: str
    standard_cost: int | None
    low_threshold: int | None  # fen: low below this cost (L·S)
    partial_threshold: int | None  # fen: partial up to this cost (P_u·S), None when the band is off
    high_threshold: int | None  # fen: high above this cost (H(B)·S)
    high_multiple: int | None
    points_before_readmission: int
    readmission: bool
    readmitted_by: Any  # case_id of the later stay that halved this one
    bonus_points: int
    points: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_polars(self):
        """One row as a polars DataFrame."""
        import polars as pl

        return pl.DataFrame([self.to_dict()])

    def lines(self, labels: str | None = None) -> list[str]:
        """The explanation as text lines (``labels="zh"`` adds the Chinese case type)."""

        def pts(e4):
            return "—" if e4 is None else str(Decimal(e4).scaleb(-4).quantize(Decimal("0.0001")))

        def yuan(fen):
            return "—" if fen is None else f"{fen_to_yuan(fen)} yuan"

        kind = self.case_type + (f" ({CASE_TYPE_ZH[self.case_type]})" if labels == "zh" else "")
        out = [
            f"case {self.case_id}: hospital {self.hospital_id}, DRG {self.drg_code}, cost {yuan(self.total_cost)}",
            f"  reference cost M     {yuan(self.reference_cost)} ({self.reference_cost_source})",
            f"  base points B        {pts(self.base_points)}",
            f"  coefficient c        {pts(self.coefficient)} ({self.coefficient_source or '—'})",
            f"  standard cost S      {yuan(self.standard_cost)}",
            f"  low below            {yuan(self.low_threshold)}",
            f"  partial up to        {yuan(self.partial_threshold)}",
            f"  high above           {yuan(self.high_threshold)}"
            + ("" if self.high_multiple is None else f" (H = {pts(self.high_multiple)})"),
            f"  case type            {kind}",
            f"  points               {pts(self.points_before_readmission)}",
        ]
        if self.readmission:
            out.append(f"  readmission          halved: stay {self.readmitted_by} followed within the window")
        if self.bonus_points:
            out.append(f"  bonus                + {pts(self.bonus_points)}")
        out.append(f"  final points         {pts(self.points)}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def explain(
    case_id: Any, cases: Any, catalog: Any, coefficients: Any = None, params: Any = "wenzhou-2022"
) -> Explanation:
    """Explain the points of one case (the same rules and numbers as :func:`score`).

    Parameters
    ----------
    case_id
        The ``case_id`` of the case (an int or a string, as in the table).
    cases, catalog, coefficients, params
        As for :func:`score`. All the cases are scored, so that a later stay of the same
        person can be found (readmission).

    Returns
    -------
    Explanation
        Fields in fen and e4; ``str(explanation)`` is a readable text; ``.to_polars()``.

    Examples
    --------
    >>> import datetime as dt
    >>> d = dt.date(2022, 5, 6)
    >>> cases = pa.table({"case_id": [11, 12], "person_id": ["P"] * 2, "hospital_id": ["H2"] * 2,
    ...     "fund": ["resident"] * 2, "drg_code": ["GB15"] * 2, "total_cost": [1_100_000, 1_050_000],
    ...     "patient_paid": [0, 0], "admit_date": [dt.date(2022, 4, 28), dt.date(2022, 5, 16)],
    ...     "discharge_date": [d, dt.date(2022, 5, 24)]})
    >>> catalog = pa.table({"drg_code": ["GB15"], "base_points": [100.0]})
    >>> e = explain(11, cases, catalog)
    >>> e.case_type, e.standard_cost, e.high_threshold, e.points_before_readmission, e.readmitted_by, e.points
    ('normal', 1035055, 3105165, 1000000, 12, 500000)
    """
    if hasattr(catalog, "catalog") and hasattr(catalog, "coefficients"):
        coefficients = catalog.coefficients if coefficients is None else coefficients
        catalog = catalog.catalog
    catalog = tables.to_table(catalog)
    p = with_catalog_reference_cost(load_profile(params), catalog_reference_cost(catalog))
    t = tables.to_table(cases)
    ids = tables.ids(t, "case_id")
    key = pa.scalar(case_id, ids.type) if not isinstance(case_id, pa.Scalar) else case_id
    hits = np.flatnonzero(pc.equal(ids, key).fill_null(False).to_numpy(zero_copy_only=False))
    if len(hits) != 1:
        raise SchemaError("case_id", "exactly one case with the id to explain", f"{len(hits)} rows with {case_id!r}")
    row = int(hits[0])
    out = score(t, catalog, coefficients, p)
    rej = out.rejected.filter(pc.equal(out.rejected.column("row"), row))
    if rej.num_rows:
        r = rej.to_pylist()[0]
        raise SchemaError(
            "case_id", "a case that score() accepts (docs/drg.md, bad rows)", f"{case_id!r} rejected: {r['reason']}"
        )
    scored = out.scored
    at = int(np.flatnonzero(scored.column("row").to_numpy() == row)[0])
    r = scored.slice(at, 1).to_pylist()[0]
    # the same case alone and without bonus: its points before readmission
    alone = t.slice(row, 1)
    if "bonus_points" in alone.column_names:
        alone = alone.drop_columns(["bonus_points"])
    before = int(score(alone, catalog, coefficients, p).scored.column("points")[0].as_py().scaleb(4))
    bonus = (
        0
        if r["case_type"] == "special"
        else int(r["points"].scaleb(4)) - (rnd(before * p.readmission_bp, 10**4) if r["readmission"] else before)
    )
    by = _next_stay(scored, at) if r["readmission"] else None
    s = r["standard_cost"]
    base = None if r["base_points"] is None else int(r["base_points"].scaleb(4))
    h = p.high_multiple(base) if base is not None else None
    return Explanation(
        case_id=r["case_id"],
        hospital_id=r["hospital_id"],
        drg_code=r["drg_code"],
        total_cost=r["total_cost"],
        case_type=r["case_type"],
        base_points=base,
        coefficient=None if r["coefficient"] is None else int(r["coefficient"].scaleb(4)),
        coefficient_source=r["coefficient_source"],
        reference_cost=p.reference_cost,
        reference_cost_source=p.sources.get("reference_cost", ""),
        standard_cost=s,
        low_threshold=None if s is None else -(-p.low_bp * s // 10**4),
        partial_threshold=None if s is None or not p.partial_enabled else p.partial_upper_bp * s // 10**4,
        high_threshold=None if s is None else h * s // 10**4,
        high_multiple=h,
        points_before_readmission=before,
        readmission=r["readmission"],
        readmitted_by=by,
        bonus_points=bonus,
        points=int(r["points"].scaleb(4)),
    )


def _next_stay(scored: pa.Table, at: int):
    """The case_id of the stay after row ``at`` of the same person, by (admit, discharge, row)."""
    person = scored.column("person_id")[at]
    mine = scored.filter(pc.equal(scored.column("person_id"), person))
    rows = mine.to_pylist()
    rows.sort(key=lambda x: (x["admit_date"], x["discharge_date"], x["row"]))
    me = next(k for k, x in enumerate(rows) if x["row"] == scored.column("row")[at].as_py())
    return rows[me + 1]["case_id"] if me + 1 < len(rows) else None
