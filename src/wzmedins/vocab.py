"""The closed vocabularies of docs/rules/settlement.md §2, and their integer codes.

The codes index the dense tables that a policy compiles to (``wzmedins.policy.compile``);
they are part of the rule structure, not policy numbers.
"""

from __future__ import annotations

SCHEMES: tuple[str, ...] = ("employee", "resident")
# Category codes are global; CATEGORY_SCHEME says which scheme each belongs to.
CATEGORIES: tuple[str, ...] = ("in_service", "retired", "adult", "minor", "student", "elderly")
CATEGORY_SCHEME: tuple[int, ...] = (0, 0, 1, 1, 1, 1)
SCHEME_CATEGORIES: dict[str, tuple[str, ...]] = {
    "employee": ("in_service", "retired"),
    "resident": ("adult", "minor", "student", "elderly"),
}
ASSISTANCE: tuple[str, ...] = ("none", "tekun", "dibao", "dibian", "zhichu")
VISIT_TYPES: tuple[str, ...] = ("outpatient", "chronic", "special", "inpatient")
FACILITY_LEVELS: tuple[str, ...] = ("primary", "secondary", "tertiary")
AREAS: tuple[str, ...] = ("local", "province", "national_registered", "national_unregistered")

OUTPATIENT, CHRONIC, SPECIAL, INPATIENT = range(4)

# Deductible pool of each visit type (docs/rules/settlement.md §4 step 1): 0 none, 1 outpatient, 2 inpatient.
POOL_NONE, POOL_OUTPATIENT, POOL_INPATIENT = 0, 1, 2
VISIT_POOL: tuple[int, ...] = (POOL_OUTPATIENT, POOL_OUTPATIENT, POOL_NONE, POOL_INPATIENT)

ENUMS: dict[str, tuple[str, ...]] = {
    "scheme": SCHEMES,
    "category": CATEGORIES,
    "assistance": ASSISTANCE,
    "visit_type": VISIT_TYPES,
    "facility_level": FACILITY_LEVELS,
    "area": AREAS,
}
