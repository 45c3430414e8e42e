"""Stable reason codes for rejected rows (docs/rules/settlement.md §7, docs/rules/drg.md §3).

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
    # settlement order and hardening (docs/settlement.md)
    "OUT_OF_ORDER",
    "NOT_A_NUMBER",
    # contributions, enrolment and signings (docs/fund.md, docs/capitation.md)
    "MONTH_OUT_OF_RANGE",
    "UNKNOWN_COUNTY",
    "NO_BASE_STANDARD",
    "DUPLICATE_ENROLMENT",
    "DUPLICATE_SIGNING",
    "UNKNOWN_AGE_BAND",
    "VALUE_OUT_OF_RANGE",
    # the national platform's code lists (docs/platform.md)
    "UNMAPPED_CODE",
)
CODE: dict[str, int] = {name: i for i, name in enumerate(REASONS)}
OK = -1  # a row that passed every check

# Largest amount accepted, in fen (docs/rules/settlement.md §7, AMOUNT_TOO_LARGE).
MAX_AMOUNT_FEN = 10**12
