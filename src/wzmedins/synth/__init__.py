"""Seeded synthetic data: claims (:mod:`.claims`), DRG cases (:mod:`.drg`), signings (:mod:`.signings`).

Examples
--------
>>> from wzmedins import synth
>>> synth.claims(10, seed=1).num_rows
10
"""

from __future__ import annotations

from . import enrolment
from .claims import CLAIMS_SCHEMA, Mix, accounts, claim_batches, claims, persons
from .signings import WENZHOU, Layout, signings

try:  # written separately; the claims generator works without it
    from . import drg
except ImportError:  # pragma: no cover
    drg = None

__all__ = [
    "CLAIMS_SCHEMA",
    "WENZHOU",
    "Layout",
    "Mix",
    "accounts",
    "claim_batches",
    "claims",
    "drg",
    "enrolment",
    "persons",
    "signings",
]
