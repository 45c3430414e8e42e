"""Settle and clear beyond one machine, on a Dask cluster (docs/distributed.md).

Persons are split into buckets by a stable hash of ``person_id``; claims of different
persons never interact (settlement.md §3), so each bucket is settled on its own and the
results equal one machine's to the fen. Needs the ``distributed`` extra
(``pip install 'wzmedins[distributed]'``).
"""

from .cluster import connect, local_cluster
from .drg import DrgRun, drg_clear
from .partition import bucket_of
from .settle import DatasetResult, Totals, settle_dataset

__all__ = ["DatasetResult", "DrgRun", "Totals", "bucket_of", "connect", "drg_clear", "local_cluster", "settle_dataset"]
