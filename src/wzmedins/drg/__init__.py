"""DRG point payment (DRGs点数法): calibrate, score, clear, scenarios (drg.md).

Examples
--------
>>> import wzmedins.drg as drg
>>> drg.load_profile("wenzhou-2022").reference_cost
1035055
"""

from __future__ import annotations

from .profile import DrgProfile, builtin_profiles, load_profile
from .score import Scored, score

__all__ = ["DrgProfile", "Scored", "builtin_profiles", "load_profile", "score"]
