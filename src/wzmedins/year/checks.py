"""The year's consistency checks (docs/year.md, "Checks"): each recomputes a total another way.

1. every fen of claims accounted for: the payers of each settled claim add up to its cost, and
   settled + rejected = the claims read;
2. the DRG money equals the ``drg`` pool of each scheme;
3. the capitation charges equal the signed persons' in-scope fund payments (recomputed from
   the settled claims as they were folded, independently of ``wz.capitation``);
4. the pools add up to each scheme's budget;
5. the fund's identities of docs/rules/fund.md §4, per scheme;
6. expenditure = claims paid item by item + DRG + capitation, per scheme.

A check is a dict ``{name, ok, expected, got, detail}``; amounts in fen.
"""

from __future__ import annotations

import polars as pl

from ..contract import PAYERS


def _check(name: str, expected: int, got: int, detail: str = "") -> dict:
    return {"name": name, "ok": int(expected) == int(got), "expected": int(expected), "got": int(got),
            "detail": detail}  # fmt: skip


def run_checks(result, inputs) -> list[dict]:
    """All checks of a :class:`~wzmedins.year.pipeline.YearResult`."""
    needed = ("payers", "pools", "drg_funds", "capitation_communities", "fund_city", "fund_counties")
    t = {k: pl.from_arrow(result.tables[k]) for k in needed}  # only these: enrolment and the like are large
    out = []
    p = t["payers"]
    out.append(_check("claims: payers add up to the costs", p["total_cost"].sum(),
                      sum(int(p[c].sum()) for c in PAYERS)))  # fmt: skip
    out.append(_check("claims: settled + rejected = claims read", result.counts["claims"],
                      int(p["n_claims"].sum()) + result.counts["rejected"]))  # fmt: skip
    pools = t["pools"]
    for scheme in ("employee", "resident"):
        sp = pools.filter(pl.col("scheme") == scheme)
        total = int(sp.filter(pl.col("pool") == "total")["amount"].sum())
        parts = int(sp.filter(pl.col("pool") != "total")["amount"].sum())
        out.append(_check(f"pools add up to the {scheme} budget", total, parts))
        drg_pool = int(sp.filter(pl.col("pool") == "drg")["amount"].sum())
        funds = t["drg_funds"].filter(pl.col("fund") == scheme)
        out.append(_check(f"DRG money = the {scheme} drg pool", drg_pool, int(funds["budget"].sum())))
    out.append(_capitation_check(result, t, inputs))
    for scheme in ("employee", "resident"):
        out += _fund_identities(t, scheme)
    return out


def _capitation_check(result, t, inputs) -> dict:
    """Σ charges = Σ over the signed persons' in-scope claims of own fund + rnd(fund·outside_bp),
    the two sums made by the fold as the claims were settled (``year.tally.fold``: each claim's
    community against the person's first signing's), not by ``wz.capitation``."""
    own, outside = result.capitation_check
    charged = int(t["capitation_communities"]["charges"].sum())
    return _check(
        "capitation charges = signed persons' in-scope fund payments",
        own + outside,
        charged,
        f"own {own}, outside {outside}",
    )


def _fund_identities(t, scheme: str) -> list[dict]:
    city = t["fund_city"].filter(pl.col("scheme") == scheme).to_dicts()[0]
    counties = t["fund_counties"].filter(pl.col("scheme") == scheme)
    delta = city["delta"]
    if delta < 0:
        covered = (int(counties["responsibility"].sum()) + city["from_balance"] + city["from_reserve"]
                   + city["city_part"] + int(counties["gap_share"].sum()))  # fmt: skip
        return [_check(f"fund ({scheme}): the gap is covered, D = Σresp + balance + reserve + city + Σshares",
                       -delta, covered)]  # fmt: skip
    kept = int(counties["reward"].sum()) + city["to_reserve"] + (city["balance"] - city["balance_before"])
    return [_check(f"fund ({scheme}): the surplus is placed, Δ = Σreward + to_reserve + Δbalance", delta, kept)]
