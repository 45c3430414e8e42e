"""The result of a batch: settled, rejected and state tables, and the policy metadata they carry."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from ..policy import Policy
from ._kernel import OUTPUT_FIELDS

# settled table: the kernel's output fields, in its order (interfaces.md "settled")
OUTPUT_COLUMNS = {name: j for j, name in enumerate(OUTPUT_FIELDS)}
PAYERS = ("account_current", "fund", "critical_illness", "medical_assistance", "account_hist", "cash")


class SettleResult:
    """What a batch came to: ``settled`` (accepted claims, input order), ``rejected`` (row,
    claim_id, reason, message) and ``state`` (one row per person and year, to carry on).

    ``state`` may be given as a function that builds it: it is then built on first use (the
    table is an Arrow copy of the store's rows; a caller that never reads it never pays)."""

    __slots__ = ("settled", "rejected", "_state")

    def __init__(self, settled: pa.Table, rejected: pa.Table, state: pa.Table | Callable[[], pa.Table]):
        self.settled = settled
        self.rejected = rejected
        self._state = state

    @property
    def state(self) -> pa.Table:
        if callable(self._state):
            self._state = self._state()
        return self._state

    @state.setter
    def state(self, value: pa.Table) -> None:
        self._state = value

    def __repr__(self) -> str:
        return f"SettleResult(settled={self.settled.num_rows} rows, rejected={self.rejected.num_rows} rows)"

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
