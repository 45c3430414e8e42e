"""Checks that keep analysts from silently wrong numbers: the reference cost a catalog carries,
budgets and their unit, and warnings on the symptoms of a unit slip (docs/drg.md, "Units")."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from .. import tables
from ..errors import PolicyError, SchemaError
from ..tables import fen_to_yuan
from ..vocab import SCHEMES
from .profile import DrgProfile

# fund labels accepted on input besides the contract's names (Chinese: 职工 employee, 居民 resident)
FUND_ALIASES = {"职工": "employee", "居民": "resident"}
EXTREME_SHARE_BP = 5_000  # more than half of the scored cases in one extreme type is a symptom
BUDGET_RANGE_BP = (1_000, 100_000)  # a budget outside 10 %–1 000 % of fee-for-service is a symptom
SOURCE_CATALOG = "calibrated catalog (schema metadata reference_cost)"
SOURCE_USER = "changed by the user"


class DrgWarning(UserWarning):
    """A DRG input that is probably wrong (a unit slip, ids that match nothing), not an error."""


def warn(message: str, stacklevel: int = 4) -> None:
    """Warn from inside a public function, pointing at the user's call (DrgWarning)."""
    warnings.warn(message, DrgWarning, stacklevel=stacklevel)


def catalog_reference_cost(catalog: Any) -> int | None:
    """The reference cost (fen) a calibrated catalog carries in its schema metadata, or None.

    Examples
    --------
    >>> catalog_reference_cost(pa.table({"a": [1]}).replace_schema_metadata({"reference_cost": "2000000"}))
    2000000
    """
    meta = getattr(getattr(catalog, "schema", None), "metadata", None) or {}
    raw = meta.get(b"reference_cost")
    return None if raw is None else int(raw)


def with_catalog_reference_cost(p: DrgProfile, catalog_m: int | None) -> DrgProfile:
    """The profile with the catalog's reference cost, or a PolicyError when an explicit one differs.

    A reference cost is explicit when the user set it (``with_changes``, ``--reference-cost``);
    the profile's own value gives way to the calibrated one.

    Examples
    --------
    >>> from wzmedins.drg import load_profile
    >>> with_catalog_reference_cost(load_profile("wenzhou-2022"), 2_000_000).reference_cost
    2000000
    """
    if catalog_m is None or catalog_m == p.reference_cost:
        return p
    if p.sources.get("reference_cost") == SOURCE_USER:
        raise PolicyError(
            f"reference_cost: the profile's {fen_to_yuan(p.reference_cost)} yuan ({p.reference_cost} fen) differs "
            f"from the catalog's {fen_to_yuan(catalog_m)} yuan ({catalog_m} fen); give one of them"
        )
    values = dict(p.values, reference_cost=catalog_m)
    sources = dict(p.sources, reference_cost=SOURCE_CATALOG)
    return DrgProfile(p.name, p.description, p.valid_from, values, sources)


def fund_name(name: str) -> str:
    return FUND_ALIASES.get(name, name)


def budgets_fen(budgets: Mapping[str, Any] | Any) -> dict[str, int]:
    """Budgets per fund in fen: ``int`` values are fen, ``Decimal`` values are yuan (as in tables:
    int64 is fen, decimal is yuan); or a table with ``fund`` and ``budget`` (money column).

    Examples
    --------
    >>> budgets_fen({"resident": 3_000_000, "职工": Decimal("100.50")})
    {'resident': 3000000, 'employee': 10050}
    """
    if isinstance(budgets, Mapping):
        out = {}
        for f, b in budgets.items():
            f = fund_name(str(f))
            if f not in SCHEMES:
                raise PolicyError(f"budgets: unknown fund {f!r}; expected {', '.join(SCHEMES)} (or 职工, 居民)")
            if isinstance(b, Decimal):
                fen = b * 100
                if fen != fen.to_integral_value() or fen < 0:
                    raise PolicyError(f"budgets[{f!r}]: {b} yuan is not a non-negative whole number of fen")
                b = int(fen)
            elif isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 0:
                raise PolicyError(
                    f"budgets[{f!r}]: {b!r} is not a non-negative integer number of fen (or a Decimal in yuan)"
                )
            out[f] = int(b)
        return out
    t = tables.to_table(budgets)
    reason = np.full(t.num_rows, tables.NO_REASON, dtype=np.int16)
    t = with_fund_aliases(t)
    fund = tables.enum_codes(t, "fund", SCHEMES, reason, "UNKNOWN_SCHEME")
    fen = tables.money(t, "budget", reason, is_required=True)
    if (reason != tables.NO_REASON).any():
        raise SchemaError("budget", "one valid fund and non-negative budget per row")
    return budgets_fen({SCHEMES[f]: int(b) for f, b in zip(fund.tolist(), fen.tolist(), strict=True)})


def with_fund_aliases(t: pa.Table) -> pa.Table:
    """``fund`` with 职工/居民 replaced by employee/resident (only when they occur)."""
    if "fund" not in t.column_names:
        return t
    col = t.column("fund")
    typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        return t
    import pyarrow.compute as pc

    values = col.combine_chunks()
    values = values.dictionary if pa.types.is_dictionary(values.type) else values
    if not pc.any(pc.is_in(values, value_set=pa.array(list(FUND_ALIASES), typ))).as_py():
        return t
    plain = col.cast(pa.string())
    for zh, en in FUND_ALIASES.items():
        plain = pc.replace_substring_regex(plain, f"^{zh}$", en)
    return t.set_column(t.column_names.index("fund"), "fund", plain)


def warn_extreme_types(case_type: np.ndarray, ok: np.ndarray, high: int, low: int, float_money: bool) -> None:
    """Most scored cases in one extreme type (high or low) is the symptom of money in the wrong unit."""
    n = int(ok.sum())
    if n < 2:
        return
    for code, name, hint in ((high, "high", "fen read as yuan"), (low, "low", "yuan read as fen")):
        k = int((case_type[ok] == code).sum())
        if k * 10_000 > EXTREME_SHARE_BP * n:
            extra = " (a float column is read as yuan; integers are fen)" if float_money else ""
            warn(
                f"score: {k * 100 // n}% of the cases are {name}: is total_cost in the right unit "
                f"({hint}?){extra}, or the reference cost?"
            )


def warn_budget_range(fund: str, budget: int, ffs_total: int) -> None:
    """A budget outside 10 %–1 000 % of the fund's fee-for-service total is probably in the wrong unit."""
    if ffs_total <= 0:
        return
    lo, hi = BUDGET_RANGE_BP
    if not lo * ffs_total <= budget * 10_000 <= hi * ffs_total:
        share = budget * 10_000 // ffs_total
        warn(
            f"clear: the budget of fund {fund!r} ({fen_to_yuan(budget)} yuan) is {share // 100}.{share % 100:02d}% "
            f"of the fee-for-service fund total ({fen_to_yuan(ffs_total)} yuan): budgets are in fen in Python "
            "(int; a Decimal is yuan) and in yuan on the command line",
            stacklevel=6,  # range < _warn_budgets < _clear_from_sums < clear or clear_from_sums < user
        )
