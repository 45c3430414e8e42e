"""The year end of one community (结余留用, 合理超支分担; docs/rules/capitation.md §4).

Per community on Python integers: there are only as many as communities, so nothing can
overflow and no kernel is needed.
"""

from __future__ import annotations

from ..rounding import half_up as rnd
from .profile import ONE, CapitationProfile


def year_end(budget: int, charges: int, quality_bp: int, p: CapitationProfile) -> tuple[int, int, int, int, int]:
    """``(surplus, retained, fund_shares, community_bears, settlement)`` of one community.

    ``s = budget − charges``. A surplus counts up to ``rnd(budget·surplus_cap_bp, 10⁴)`` and the
    community keeps ``rnd(counted·retain_bp·q, 10⁸)``; an overspend ``o = −s`` is shared by the
    fund for ``rnd(min(o, rnd(budget·overspend_band_bp, 10⁴))·overspend_share_bp, 10⁴)`` and the
    community bears the rest. ``settlement`` is paid to the community (> 0) or recovered (< 0).

    Examples
    --------
    Worked example 4 (``a = 400`` yuan): K1 has a surplus of 30 yuan, K2 overspends 240.

    >>> from wzmedins.capitation import load_profile
    >>> p = load_profile("wenzhou-2022")
    >>> year_end(146_000, 143_000, 9_000, p)
    (3000, 2160, 0, 0, 2160)
    >>> year_end(116_000, 140_000, 10_000, p)
    (-24000, 0, 5800, 18200, -18200)
    """
    s = budget - charges
    if s >= 0:
        counted = min(s, rnd(budget * p.surplus_cap_bp, ONE))
        retained = rnd(counted * p.retain_bp * quality_bp, ONE * ONE)
        return s, retained, 0, 0, retained
    overspend = -s
    band = rnd(budget * p.overspend_band_bp, ONE)
    shares = rnd(min(overspend, band) * p.overspend_share_bp, ONE)
    bears = overspend - shares
    return s, 0, shares, bears, -bears
