"""DRG point payment (DRGs点数法): calibrate, score, clear, scenarios (docs/drg.md).

Examples
--------
>>> import wzmedins.drg as drg
>>> drg.load_profile("wenzhou-2022").reference_cost
1035055
"""

from __future__ import annotations

from .calibrate import Calibration, calibrate
from .checks import DrgWarning
from .clear import Clearing, clear, clear_from_sums, clearing_cases, provisional
from .explain import Explanation, explain
from .from_settled import FromSettled, cases_from_settled
from .plots import plot_balances, plot_point_value
from .profile import DrgProfile, builtin_profiles, load_profile
from .reports import cmi_table, drg_table, export, hospital_drg_table
from .scenarios import budget_sweep, scenarios
from .score import Scored, score
from .sums import ClearingSums, clearing_sums

__all__ = [
    "Calibration",
    "Clearing",
    "DrgWarning",
    "Explanation",
    "explain",
    "export",
    "drg_table",
    "hospital_drg_table",
    "cmi_table",
    "plot_balances",
    "plot_point_value",
    "calibrate",
    "cases_from_settled",
    "FromSettled",
    "DrgProfile",
    "Scored",
    "builtin_profiles",
    "clear",
    "clear_from_sums",
    "clearing_cases",
    "clearing_sums",
    "ClearingSums",
    "load_profile",
    "provisional",
    "score",
    "budget_sweep",
    "scenarios",
]
