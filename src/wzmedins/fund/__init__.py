"""The fund (筹资与基金统收统支): contributions, resident funding and its transition, balances from
before pooling, the city fund's year end, the budget and the risk warning (docs/fund.md).

Every entry point takes Arrow tables, polars frames or Parquet paths and returns
``pyarrow.Table`` (money int64 fen) with every input row and a ``reason`` column; the twin
is ``wzmedins.reference.fund``. The rules are in docs/rules/fund.md.

Examples
--------
>>> import wzmedins as wz
>>> fp = wz.fund.load_profile("wenzhou-2022")
>>> fp.employer_rate_bp, fp.sources["employer_rate_bp"][:2]
(950, 'ND')
"""

from __future__ import annotations

from .contributions import FUND_CATEGORIES, accounts, employee_contributions, employer_contributions
from .expenditure import Expenditure, expenditure
from .legacy import legacy
from .profile import FundProfile, builtin_profiles, load_profile
from .residents import city_standard, resident_contributions, resident_standards
from .revenue import revenue
from .warning import level_of, months_payable, warning
from .year_end import YearEnd, budget, year_end

__all__ = [
    "FUND_CATEGORIES",
    "Expenditure",
    "FundProfile",
    "YearEnd",
    "accounts",
    "budget",
    "builtin_profiles",
    "city_standard",
    "employee_contributions",
    "employer_contributions",
    "expenditure",
    "legacy",
    "level_of",
    "load_profile",
    "months_payable",
    "resident_contributions",
    "resident_standards",
    "revenue",
    "warning",
    "year_end",
]
