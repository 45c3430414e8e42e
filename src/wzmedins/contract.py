"""The neutral contract of settlement: column names, Arrow types, units and reason codes.

This is the only thing the settlement wrapper (``wzmedins.settle``) and its pure-Python twin
(``wzmedins.reference.settle``) share (docs/architecture.md, "The reference twin"). It holds
names and types, never logic: how a column is checked, coded or carried is each side's own
business, so a differential test between the two can catch a bug on either side.

Tables are those of docs/rules/settlement.md and docs/settlement.md: ``claims`` (input),
``settled``, ``rejected``, ``state`` and ``accounts``.

Examples
--------
>>> from wzmedins import contract as c
>>> c.PAYERS
('account_current', 'fund', 'critical_illness', 'medical_assistance', 'account_hist', 'cash')
>>> [f.name for f in c.state_schema(pa.string())][:3]
['person_id', 'year', 'outpatient_deductible_used']
>>> c.BP, c.MONEY_UNIT
(10000, 'fen')
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from .reasons import CODE, MAX_AMOUNT_FEN, REASONS

# --------------------------------------------------------------------------- units

MONEY_UNIT = "fen"  # int64 fen (分, 0.01 yuan) everywhere inside and in every output
FEN_PER_YUAN = 100
RATIO_UNIT = "bp"  # basis points: 1% = 100 bp
BP = 10_000  # 100% in basis points
MONEY_TYPE = pa.int64()
RATIO_TYPE = pa.int32()
YEAR_TYPE = pa.int32()
DATE_TYPE = pa.date32()
SEQ_TYPE = pa.int64()
COUNT_TYPE = pa.int32()  # admissions per facility level
# what a money input may be (docs/settlement.md "Money"): int64 fen, decimal128 yuan with
# scale <= 2, or float64 yuan holding a whole number of fen (else AMOUNT_NOT_IN_FEN)
MONEY_INPUT = "int64 fen, decimal128 yuan (scale <= 2) or float64 yuan"
MAX_DECIMAL_SCALE = 2
ID_INPUT = "string or int64"  # claim_id, person_id, reverses (dictionary strings allowed)
# values no claim can hold (VALUE_OUT_OF_RANGE), and the reasons that come before every other
MAX_ID_BYTES = 256  # UTF-8 bytes of a string id
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)  # settle_date
MIN_SEQ, MAX_SEQ = -(2**31), 2**31 - 1
IMPOSSIBLE_VALUE_REASONS = ("NOT_A_NUMBER", "VALUE_OUT_OF_RANGE")

# --------------------------------------------------------------------------- claims (input)

# required columns of a claims table, in the order a null is looked for (MISSING_VALUE)
CLAIM_REQUIRED = (
    "claim_id", "person_id", "settle_date", "scheme", "category", "visit_type", "facility_level", "total_cost",
)  # fmt: skip
# a reversal row (``reverses`` set) needs only these: its amounts and enums are its original's
REVERSAL_REQUIRED = ("claim_id", "person_id", "settle_date")
# optional columns and the value a null or an absent column takes
CLAIM_DEFAULTS = {"seq": 0, "assistance": "none", "area": "local", "self_pay": 0, "class_b_self_pay": 0}
CLAIM_AMOUNTS = ("total_cost", "self_pay", "class_b_self_pay")
CLAIM_ENUMS = ("scheme", "category", "visit_type", "facility_level", "area", "assistance")
# canonical Arrow types of a claims table (inputs may also use the forms above)
CLAIM_TYPES = {
    "claim_id": "id", "person_id": "id", "settle_date": DATE_TYPE, "seq": SEQ_TYPE,
    "scheme": pa.string(), "category": pa.string(), "visit_type": pa.string(), "facility_level": pa.string(),
    "assistance": pa.string(), "area": pa.string(),
    "total_cost": MONEY_TYPE, "self_pay": MONEY_TYPE, "class_b_self_pay": MONEY_TYPE,
    "reverses": "id",
}  # fmt: skip
CLAIM_COLUMNS = tuple(CLAIM_TYPES)

# --------------------------------------------------------------------------- settled (output)

# who pays a claim's total cost (total_cost = sum of these, docs/rules/settlement.md §4)
PAYERS = ("account_current", "fund", "critical_illness", "medical_assistance", "account_hist", "cash")
# every money column of a settled row, in the order of the steps
MONEY_OUT = (
    "eligible", "account_current", "deductible", "fund", "coinsurance", "over_cap",
    "critical_illness", "medical_assistance", "account_hist", "cash",
)  # fmt: skip
# the per-claim numbers a settlement produces, in output order: money, the ratio applied, and
# what the claim added to the cumulative bases (so a reversal can give exactly that back)
OUTPUT_FIELDS = (*MONEY_OUT, "ratio_bp", "ci_base_added", "ma_base_added")
LATE_COLUMN = "late"  # bool: settled although back-dated (late_claims = "settle"); always false under "reject"


def settled_schema(id_type: pa.DataType, person_type: pa.DataType) -> pa.Schema:
    """The settled table's columns and types (``visit_type``, ``facility_level`` may be
    dictionary-encoded strings in a result; compare values, not encodings)."""
    fields = [("claim_id", id_type), ("person_id", person_type), ("year", YEAR_TYPE)]
    fields += [(f, RATIO_TYPE if f == "ratio_bp" else MONEY_TYPE) for f in OUTPUT_FIELDS]
    fields += [("visit_type", pa.string()), ("facility_level", pa.string()), ("reverses", id_type)]
    fields.append((LATE_COLUMN, pa.bool_()))
    return pa.schema(fields)


SETTLED_COLUMNS = tuple(settled_schema(pa.string(), pa.string()).names)

# --------------------------------------------------------------------------- rejected (output)

REJECTED_SCHEMA = pa.schema(
    [("row", pa.int64()), ("claim_id", pa.string()), ("reason", pa.string()), ("message", pa.string())]
)

# --------------------------------------------------------------------------- state and accounts

STATE_KEY = ("person_id", "year")
# accumulators of a person-year (docs/rules/settlement.md §5); admissions_* are counts
STATE_ACCUMULATORS = (
    "outpatient_deductible_used", "inpatient_deductible_used",
    "admissions_primary", "admissions_secondary", "admissions_tertiary",
    "fund_paid", "ci_base", "ci_paid", "ma_base", "ma_paid", "current_balance", "hist_balance",
)  # fmt: skip
# the order rule (docs/settlement.md "The order rule"): the greatest (settle_date, seq) of the ordinary
# claims settled into a person-year (null: none yet; reversals are outside the rule)
STATE_ORDER = ("last_date", "last_seq")
STATE_FIELDS = (*STATE_ACCUMULATORS, *STATE_ORDER)
ADMISSIONS = {"primary": "admissions_primary", "secondary": "admissions_secondary", "tertiary": "admissions_tertiary"}


def state_type(field: str) -> pa.DataType:
    """The Arrow type of a state field."""
    if field.startswith("admissions"):
        return COUNT_TYPE
    return {"year": YEAR_TYPE, "last_date": DATE_TYPE, "last_seq": SEQ_TYPE}.get(field, MONEY_TYPE)


def state_schema(person_type: pa.DataType, *, order: bool = True) -> pa.Schema:
    """The state table's columns; ``order=False`` leaves out ``last_date``/``last_seq``."""
    fields = STATE_FIELDS if order else STATE_ACCUMULATORS
    return pa.schema([("person_id", person_type), ("year", YEAR_TYPE), *((f, state_type(f)) for f in fields)])


ACCOUNT_FIELDS = ("current_balance", "hist_balance")


def accounts_schema(person_type: pa.DataType) -> pa.Schema:
    """Opening balances, one row per (person, year)."""
    return pa.schema([("person_id", person_type), ("year", YEAR_TYPE), *((f, MONEY_TYPE) for f in ACCOUNT_FIELDS)])


# --------------------------------------------------------------------------- policy keys read by both

LATE_CLAIMS_KEY = "late_claims"  # "reject" (OUT_OF_ORDER) or "settle" (in arrival order, flagged)
LATE_CLAIMS_VALUES = ("reject", "settle")
LATE_CLAIMS_DEFAULT = "reject"

# schema metadata keys of every output table
META_POLICY = b"wzmedins.policy"
META_FINGERPRINT = b"wzmedins.fingerprint"

__all__ = [
    "ACCOUNT_FIELDS", "ADMISSIONS", "BP", "CLAIM_AMOUNTS", "CLAIM_COLUMNS", "CLAIM_DEFAULTS", "CLAIM_ENUMS",
    "CLAIM_REQUIRED", "CLAIM_TYPES", "CODE", "COUNT_TYPE", "DATE_TYPE", "FEN_PER_YUAN", "FIRST_DATE", "ID_INPUT",
    "IMPOSSIBLE_VALUE_REASONS", "LAST_DATE", "MAX_ID_BYTES", "MAX_SEQ", "MIN_SEQ",
    "LATE_CLAIMS_DEFAULT", "LATE_CLAIMS_KEY", "LATE_CLAIMS_VALUES", "LATE_COLUMN", "MAX_AMOUNT_FEN",
    "MAX_DECIMAL_SCALE", "META_FINGERPRINT", "META_POLICY", "MONEY_INPUT", "MONEY_OUT", "MONEY_TYPE",
    "MONEY_UNIT", "OUTPUT_FIELDS", "PAYERS", "RATIO_TYPE", "RATIO_UNIT", "REASONS", "REJECTED_SCHEMA",
    "REVERSAL_REQUIRED", "SEQ_TYPE", "SETTLED_COLUMNS", "STATE_ACCUMULATORS", "STATE_FIELDS", "STATE_KEY",
    "STATE_ORDER", "YEAR_TYPE", "accounts_schema", "settled_schema", "state_schema", "state_type",
]  # fmt: skip
