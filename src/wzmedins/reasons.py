"""Stable reason codes for rejected rows (settlement.md §7, drg.md §3).

A rejected row carries one code, the first that applies in the order of ``REASONS``.
The integer value of each code is its index here; codes are appended, never renumbered.
"""

from __future__ import annotations

REASONS: tuple[str, ...] = (
    "MISSING_VALUE",
    "NEGATIVE_AMOUNT",
    "SPLIT_EXCEEDS_TOTAL",
    "AMOUNT_NOT_IN_FEN",
    "AMOUNT_TOO_LARGE",
    "UNKNOWN_SCHEME",
    "UNKNOWN_CATEGORY",
    "UNKNOWN_VISIT_TYPE",
    "UNKNOWN_FACILITY_LEVEL",
    "UNKNOWN_AREA",
    "UNKNOWN_ASSISTANCE",
    "DUPLICATE_CLAIM_ID",
    "POLICY_NOT_IN_FORCE",
    "UNKNOWN_ORIGINAL",
    "ALREADY_REVERSED",
    "REVERSAL_PERSON_MISMATCH",
    "UNKNOWN_DRG",
)
CODE: dict[str, int] = {name: i for i, name in enumerate(REASONS)}
OK = -1  # a row that passed every check

# Largest amount accepted, in fen (settlement.md §7, AMOUNT_TOO_LARGE).
MAX_AMOUNT_FEN = 10**12
