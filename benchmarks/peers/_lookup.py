"""What both peers share: the part of the rules they cover and the policy as join tables.

A user writing settlement in a dataframe library or in SQL would turn the parameter file
into small lookup tables and join them to the claims; that is what :func:`lookup_tables`
does, from ``policy.params`` (so the numbers still come from the profile, not from code).
"""

from __future__ import annotations

import pyarrow as pa

from wzmedins.vocab import AREAS, FACILITY_LEVELS, SCHEME_CATEGORIES, VISIT_TYPES

COVERS = (
    "settlement.md §4 steps 0, 1, 3 and 4 for one profile and a single run with no carried "
    "state: the eligible split; the ratio lookup by benefit group, visit type, facility level "
    "and area (chronic bonus, clamp); the annual outpatient deductible shared by outpatient "
    "and chronic visits (cumulative sum); the inpatient deductible in mode "
    "annual_highest_level, top-ups included (a running maximum of the level and a running "
    "minimum of deductible minus cumulative eligible amount); the annual fund cap per scheme "
    "(cumulative sum), with coinsurance and over-cap. Not covered: personal accounts "
    "(steps 2, 7), critical illness (step 5), medical assistance (step 6), the per_admission "
    "mode, carried state and accounts tables, reversals, rejected rows (input must be clean), "
    "several profiles."
)

# columns of the settled table that the peers produce (interfaces.md "settled")
OUTPUT_COLUMNS = (
    "claim_id",
    "person_id",
    "year",
    "eligible",
    "deductible",
    "fund",
    "coinsurance",
    "over_cap",
    "cash",
    "ratio_bp",
)

# the parameter changes that make wzmedins settle exactly the covered part
RESTRICT = {
    "account.schemes": [],
    "critical_illness.schemes": [],
    "medical_assistance.visit_types": [],
}


def restricted(policy):
    """``policy`` without the steps the peers do not cover (accounts, critical illness,
    medical assistance); raises ValueError if its inpatient deductible mode is not covered."""
    check(policy)
    return policy.with_changes(RESTRICT)


def check(policy) -> dict:
    """The single profile's parameters, after checking the peers can settle under them."""
    params = policy.params
    mode = params["inpatient_deductible"]["mode"]
    if mode != "annual_highest_level":
        raise ValueError(f"the peers implement the annual_highest_level deductible, not {mode}")
    return params


def lookup_tables(policy) -> dict[str, pa.Table]:
    """The parameters the peers use, as Arrow tables to join on.

    ``benefit``: (scheme, category, visit_type, facility_level) -> level code, ratio before
    area, pool (``out``, ``in`` or ``none``), outpatient deductible, inpatient deductible at
    each level (``ded_in_0..2``), fund cap. ``area``: area -> adjustment in bp.
    """
    p = check(policy)
    rows: dict[str, list] = {
        k: []
        for k in (
            "scheme", "category", "visit_type", "facility_level", "level", "ratio", "pool",
            "ded_out", "ded_in_0", "ded_in_1", "ded_in_2", "fund_cap",
        )
    }  # fmt: skip
    for scheme, categories in SCHEME_CATEGORIES.items():
        for category in categories:
            group = p["groups"][scheme][category]
            ded_in = p["deductible_inpatient"][group]
            for visit in VISIT_TYPES:
                for lv, level in enumerate(FACILITY_LEVELS):
                    if visit in ("outpatient", "chronic"):
                        ratio = p["ratio_outpatient"][group][lv]
                        ratio += p["chronic_bonus"] if visit == "chronic" else 0
                    else:
                        ratio = p["ratio_inpatient"][group][lv]
                    pool = {"outpatient": "out", "chronic": "out", "inpatient": "in"}.get(visit, "none")
                    for key, value in (
                        ("scheme", scheme), ("category", category), ("visit_type", visit),
                        ("facility_level", level), ("level", lv), ("ratio", ratio), ("pool", pool),
                        ("ded_out", p["deductible_outpatient"][group]), ("ded_in_0", ded_in[0]),
                        ("ded_in_1", ded_in[1]), ("ded_in_2", ded_in[2]),
                        ("fund_cap", p["fund_cap"][scheme]),
                    ):  # fmt: skip
                        rows[key].append(value)
    area = {"area": list(AREAS), "area_adjust": [p["area_adjust"][a] for a in AREAS]}
    return {"benefit": pa.table(rows), "area": pa.table(area)}
