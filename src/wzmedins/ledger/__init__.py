"""The settlement ledger (结算台账): daily batches settled against stored state, exactly once.

``Ledger(path_or_url)`` keeps settled claims, rejected rows, each person's state and the
batch records in a DuckDB file (embedded, the default) or in PostgreSQL. See
``docs/ledger.md``.
"""

from __future__ import annotations

from .core import BatchConflictError, Ledger
from .store import LedgerBusyError, LedgerError

__all__ = ["Ledger", "LedgerError", "LedgerBusyError", "BatchConflictError"]
