"""The symptom of a unit slip in a claims batch: amounts a hundred times too small or too large
(docs/settlement.md, "Units"). Judged against the batch's own profile, never a fixed number:
a batch whose typical claim is below a hundredth of the outpatient deductible was most likely
given in yuan as integers (read as fen); one whose typical claim is above the annual fund cap,
in fen as floats (read as yuan)."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from ..errors import UnitWarning
from ..tables import fen_to_yuan

MIN_ROWS = 20  # fewer claims say nothing about a unit: one small pharmacy bill is a real claim
SAMPLE = 10_000  # claims enough for a median


def unit_symptom(total: np.ndarray, compiled, *, float_money: bool) -> str | None:
    """A message when the median ``total`` (fen, accepted ordinary claims) looks like a unit
    slip under the compiled policy, else None.

    Examples
    --------
    >>> import wzmedins as wz
    >>> pol = wz.load_policy("wenzhou-2022").compiled
    >>> unit_symptom(np.arange(200, 250), pol, float_money=False)[:57]
    'the median total_cost of the batch is 2.24 yuan (224 fen)'
    >>> unit_symptom(np.full(50, 35_000), pol, float_money=False) is None
    True
    """
    if len(total) < MIN_ROWS:
        return None
    median = int(np.median(total[:: max(1, len(total) // SAMPLE)]))  # a spread sample: no copy of a big batch
    outpatient = compiled.deductible_outpatient
    low = int(outpatient[outpatient > 0].min()) // 100 if (outpatient > 0).any() else 0
    high = int(compiled.fund_cap.max())
    head = f"the median total_cost of the batch is {fen_to_yuan(median)} yuan ({median} fen)"
    if median < low:
        return (f"{head}, below a hundredth of the outpatient deductible: total_cost is int fen "
                "(a float or decimal column is yuan) — were yuan given as integers?")  # fmt: skip
    if median > high:
        given = "a float column is read as yuan" if float_money else "integers are fen"
        return f"{head}, above the annual fund cap: is total_cost in the right unit ({given})?"
    return None


def warn_units(message: str | None) -> None:
    """Warn (UnitWarning) at the user's call into the library (``wz.settle``, a ``Settler``,
    a stream), whatever the depth inside it."""
    if message is None:
        return
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is the frame that called warn_units
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, UnitWarning, stacklevel=level)
