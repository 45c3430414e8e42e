"""Speak the national platform's language (国家医保信息平台): 2207/2304 settlement records in,
``setlinfo``/``setldetail`` answers out, through editable code lists. See ``docs/platform.md``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables as t
from ..policy import Policy
from ..settle import settle as settle_claims
from .codes import CodeListError, CodeLists, load_codes
from .inbound import PlatformClaims, from_platform, records_table
from .outbound import PlatformAnswer, dumps, to_platform, write_answer
from .proc_info import proc_info


@dataclass
class PlatformResult:
    """A batch of platform records settled: the answer (``setlinfo``, ``setldetail``), every
    record that was not settled (``rejected``, rows numbered as in the records, mapping and
    settlement reasons together), the ``settled`` table and the carried ``state``."""

    setlinfo: pa.Table
    setldetail: pa.Table
    rejected: pa.Table
    settled: pa.Table
    state: pa.Table

    @property
    def answer(self) -> PlatformAnswer:
        return PlatformAnswer(self.setlinfo, self.setldetail)

    def to_polars(self):
        """``setlinfo`` as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.setlinfo)


def settle(
    records: Any,
    policy: Policy,
    *,
    state: Any = None,
    accounts: Any = None,
    codes: CodeLists | str | os.PathLike | None = None,
    hosp_lv: str | None = None,
    settle_date: dt.date | None = None,
) -> PlatformResult:
    """Settle platform records: :func:`from_platform`, :func:`wzmedins.settle`, :func:`to_platform`.

    Examples
    --------
    >>> import wzmedins as wz
    >>> out = wz.platform.settle([
    ...     {"psn_no": "P1", "mdtrt_id": "M1", "insutype": "390", "psn_type": "21", "med_type": "21",
    ...      "setl_time": "2022-03-01", "medfee_sumamt": "50000.00"},
    ...     {"psn_no": "P1", "mdtrt_id": "M2", "insutype": "390", "psn_type": "21", "med_type": "99",
    ...      "setl_time": "2022-03-02", "medfee_sumamt": "100.00"}],
    ...     wz.load_policy("wenzhou-2022"), hosp_lv="02")
    >>> [str(x) for x in out.setlinfo["hifp_pay"].to_pylist()], out.rejected["reason"].to_pylist()
    (['34440.00'], ['UNMAPPED_CODE'])
    """
    codes = codes if isinstance(codes, CodeLists) else load_codes(codes)
    mapped = from_platform(records, codes=codes, hosp_lv=hosp_lv, settle_date=settle_date)
    state = None if state is None else t.to_table(state)
    accounts = None if accounts is None else t.to_table(accounts)
    out = settle_claims(mapped.claims, policy, state=state, accounts=accounts)
    # settlement's rejected rows are numbered within the mapped claims: back to record positions
    positions = mapped.claims["row"].to_numpy()
    rejected = out.rejected
    if rejected.num_rows:
        rejected = rejected.set_column(0, "row", pa.array(positions[rejected["row"].to_numpy()], pa.int64()))
    rejected = pa.concat_tables([mapped.rejected, rejected.cast(mapped.rejected.schema)])
    rejected = rejected.take(pa.array(np.argsort(rejected["row"].to_numpy(), kind="stable")))
    accepted = np.ones(mapped.claims.num_rows, dtype=bool)
    accepted[out.rejected["row"].to_numpy()] = False
    claims = mapped.claims.filter(pa.array(accepted))
    answer = to_platform(
        out.settled, claims, codes=codes, state=out.state,
        explanations=proc_info(out.settled, claims, policy=policy, state_before=state, accounts=accounts),
    )  # fmt: skip
    return PlatformResult(answer.setlinfo, answer.setldetail, rejected, out.settled, out.state)


__all__ = [
    "CodeListError",
    "CodeLists",
    "PlatformAnswer",
    "PlatformClaims",
    "PlatformResult",
    "dumps",
    "from_platform",
    "load_codes",
    "proc_info",
    "records_table",
    "settle",
    "to_platform",
    "write_answer",
]
