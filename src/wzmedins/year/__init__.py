"""One city-year, end to end (一个统筹年度): enrolment and contributions, the year's claims through
the state store, DRG clearing and capitation from the budget's pools, the fund's year end and the
monthly warning — in one call, with a report (docs/year.md).

Examples
--------
>>> import wzmedins as wz
>>> res = wz.year.run(2_000, seed=1)
>>> res.ok, res.counts["claims"]
(True, 2000)
"""

from __future__ import annotations

from .bundle import Bundle, load_bundle
from .inputs import INPUTS, Economy, YearInputs, from_paths, synthetic
from .pipeline import YearResult, run
from .render import render

__all__ = [
    "INPUTS",
    "Bundle",
    "Economy",
    "YearInputs",
    "YearResult",
    "from_paths",
    "load_bundle",
    "render",
    "run",
    "synthetic",
]
