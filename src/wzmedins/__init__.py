"""wzmedins: Wenzhou city-pooled medical-insurance settlement and DRG point payment.

Exact to the fen (int64 fen, basis points, one half-up rounding), fast (numba kernels over
Arrow batches), and auditable (a pure-Python twin of every kernel in ``wzmedins.reference``).
"""

from __future__ import annotations

from . import capitation, drg, fund, platform, reference, year
from .errors import PolicyError, SchemaError, WzmedinsError
from .explain import explain, explain_text
from .ledger import Ledger
from .policy import Policy, load_policy
from .settle import Settler, SettleResult, settle, settle_stream

__all__ = [
    "Ledger",
    "capitation",
    "drg",
    "platform",
    "explain",
    "explain_text",
    "fund",
    "Policy",
    "PolicyError",
    "SchemaError",
    "SettleResult",
    "WzmedinsError",
    "year",
    "load_policy",
    "reference",
    "settle",
    "settle_stream",
    "Settler",
]
__version__ = "0.1.0"
