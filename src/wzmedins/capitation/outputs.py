"""The result of capitation: tables per community and per person, rejected rows, counts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from ..reasons import REASONS
from ..tables import NO_REASON

# docs/rules/capitation.md §7: the names other packages read (the fund's expenditure, the year)
COMMUNITY_COLUMNS = (
    "community_id",
    "budget",
    "own",
    "outside",
    "charges",
    "surplus",
    "retained",
    "fund_shares",
    "community_bears",
    "settlement",
    "signed",
    "quality_bp",
)
REJECTED_SCHEMA = pa.schema(
    [
        ("table", pa.string()),
        ("row", pa.int64()),
        ("id", pa.string()),
        ("reason", pa.string()),
        ("message", pa.string()),
    ]
)


@dataclasses.dataclass
class CapitationResult:
    """What :func:`~wzmedins.capitation.settle` and ``provisional`` return.

    ``communities`` and ``persons`` (Arrow, money in fen), ``rejected`` (signing and claim rows
    that could not be used, with reason codes), ``summary`` (counts of what happened to every
    row), the ``per_capita`` amount used, ``year``, ``through_month`` (None at the year end) and
    ``claims`` (per claim row: ``kind`` 0 not charged, 1 own, 2 outside) when asked for.
    """

    communities: pa.Table
    persons: pa.Table
    rejected: pa.Table
    summary: dict[str, int]
    per_capita: int
    year: int | None
    through_month: int | None
    claims: pa.Table | None = None

    def to_polars(self) -> dict:
        """The tables as polars DataFrames, by name (``pl.from_arrow`` on each)."""
        import polars as pl

        out = {"communities": self.communities, "persons": self.persons, "rejected": self.rejected}
        if self.claims is not None:
            out["claims"] = self.claims
        return {name: pl.from_arrow(t) for name, t in out.items()}


def communities_table(rows: list[tuple]) -> pa.Table:
    """One row per community; ``fund_cost = charges + settlement`` is the fund's cost of it."""
    cols = {name: [r[j] for r in rows] for j, name in enumerate(COMMUNITY_COLUMNS)}
    arrays = {name: pa.array(v, pa.string() if name == "community_id" else pa.int64()) for name, v in cols.items()}
    arrays["fund_cost"] = pa.array([r[4] + r[9] for r in rows], pa.int64())
    return pa.table(arrays)


def persons_table(y, acc, budget: np.ndarray, own: np.ndarray, outside: np.ndarray) -> pa.Table:
    """One row per signed person kept, in signing order."""
    take = pa.array(acc.rows, pa.int64())
    return pa.table(
        {
            "person_id": y.sg.person_id.take(take),
            "community_id": y.communities.take(pa.array(acc.community, pa.int64())),
            "weight_bp": pa.array(acc.weight, pa.int64()),
            "budget": pa.array(budget, pa.int64()),
            "charges": pa.array(own + outside, pa.int64()),
            "own": pa.array(own, pa.int64()),
            "outside": pa.array(outside, pa.int64()),
        }
    )


def _part(name: str, reason: np.ndarray, ids: pa.Array | None, messages: dict[str, str]) -> pa.Table:
    rows = np.flatnonzero(reason != NO_REASON)
    codes = [REASONS[r] for r in reason[rows].tolist()]
    id_col = pa.nulls(len(rows), pa.string()) if ids is None else ids.take(pa.array(rows, pa.int64())).cast(pa.string())
    return pa.table(
        [
            pa.array([name] * len(rows), pa.string()),
            pa.array(rows, pa.int64()),
            id_col,
            pa.array(codes, pa.string()),
            pa.array([messages.get(c, c) for c in codes], pa.string()),
        ],
        schema=REJECTED_SCHEMA,
    )


def rejected_table(sg, sg_reason, cl, cl_reason, sg_messages, cl_messages) -> pa.Table:
    """Rejected signings (id: person_id) then rejected claims (id: claim_id)."""
    ids = cl.claim_id
    if ids is not None and pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    return pa.concat_tables(
        [_part("signings", sg_reason, sg.person_id, sg_messages), _part("claims", cl_reason, ids, cl_messages)]
    )
