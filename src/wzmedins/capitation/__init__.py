"""Total budget and family-doctor capitation (总额预算, 门诊按人头付费; docs/capitation.md).

The budget is split into payment pools (the ``drg`` pool feeds :func:`wzmedins.drg.clear`);
signed residents are weighted by age band and chronic status; a per-capita amount (given, or
derived from the capitation pool) gives each medical community (医共体) its budget; settled
outpatient and chronic claims are charged to the community of the person's family doctor
(own or outside); the year end shares surplus and overspend. The twin is
``wzmedins.reference.capitation``.
"""

from __future__ import annotations

from .budget import split_budget
from .carry import carry_claim_columns
from .outputs import CapitationResult
from .profile import CapitationProfile, builtin_profiles, load_profile
from .scenarios import per_capita_sweep, plot_scenarios, scenarios
from .settlement import prepare, provisional, run, settle
from .signed import budgets, per_capita, weights
from .yearend import year_end

__all__ = [
    "CapitationProfile",
    "CapitationResult",
    "budgets",
    "builtin_profiles",
    "carry_claim_columns",
    "load_profile",
    "per_capita",
    "per_capita_sweep",
    "plot_scenarios",
    "prepare",
    "provisional",
    "run",
    "scenarios",
    "settle",
    "split_budget",
    "weights",
    "year_end",
]
