"""Pure-Python twins of every kernel: obviously correct, slow, for audits and tests.

``wz.reference.settle`` has the contract of ``wz.settle``; ``wz.reference.drg`` mirrors
``wz.drg``.
"""

from __future__ import annotations

from .settle import settle

__all__ = ["settle"]

try:  # the DRG twin lives beside it once wzmedins.drg is installed
    from . import drg  # noqa: F401

    __all__.append("drg")
except ImportError:  # pragma: no cover
    pass
from . import fund  # noqa: E402, F401  (the fund twin, docs/fund.md)

__all__.append("fund")

from . import capitation  # noqa: E402,F401  (the capitation twin)

__all__.append("capitation")
