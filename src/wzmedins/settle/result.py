"""The result of a batch: settled, rejected and state tables, and the policy metadata they carry."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ..policy import Policy
from ._kernel import OUTPUT_FIELDS

# settled table: the kernel's output fields, in its order (interfaces.md "settled")
OUTPUT_COLUMNS = {name: j for j, name in enumerate(OUTPUT_FIELDS)}
PAYERS = ("account_current", "fund", "critical_illness", "medical_assistance", "account_hist", "cash")


@dataclass
class SettleResult:
    """What a batch came to: ``settled`` (accepted claims, input order), ``rejected`` (row,
    claim_id, reason, message) and ``state`` (one row per person and year, to carry on)."""

    settled: pa.Table
    rejected: pa.Table
    state: pa.Table

    def totals(self) -> dict[str, int]:
        """Sum in fen of each payer column and of total cost.

        Examples
        --------
        >>> import datetime as dt, pyarrow as pa, wzmedins as wz
        >>> claims = pa.table({"claim_id": [1, 2], "person_id": [7, 7],
        ...     "settle_date": [dt.date(2022, 5, 1)] * 2, "scheme": ["resident"] * 2,
        ...     "category": ["student"] * 2, "visit_type": ["outpatient"] * 2,
        ...     "facility_level": ["primary"] * 2, "total_cost": [500.0, 100.0]})
        >>> totals = wz.settle(claims, wz.load_policy("wenzhou-2022")).totals()
        >>> totals["fund"], totals["cash"], totals["total_cost"]
        (18000, 42000, 60000)
        """
        sums = {c: int(pc.sum(self.settled[c]).as_py() or 0) for c in ("eligible", *PAYERS)}
        sums["total_cost"] = sum(sums[c] for c in PAYERS)
        return sums

    def to_polars(self) -> tuple:
        """``(settled, rejected, state)`` as polars DataFrames."""
        import polars as pl

        return pl.from_arrow(self.settled), pl.from_arrow(self.rejected), pl.from_arrow(self.state)


def metadata(policy: Policy) -> dict[bytes, bytes]:
    return {b"wzmedins.policy": policy.name.encode(), b"wzmedins.fingerprint": policy.fingerprint.encode()}
