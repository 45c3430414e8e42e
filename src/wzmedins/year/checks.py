"""The year's consistency checks (docs/year.md, "Checks"): each recomputes a total another way.

1. every fen of claims accounted for: the payers of each settled claim add up to its cost, and
   settled + rejected = the claims read;
2. the DRG money equals the ``drg`` pool of each scheme;
3. the capitation charges equal the signed persons' in-scope fund payments (recomputed here
   from the settled claims, independently of ``wz.capitation``);
4. the pools add up to each scheme's budget;
5. the fund's identities of docs/rules/fund.md §4, per scheme;
6. expenditure = claims paid item by item + DRG + capitation, per scheme.

A check is a dict ``{name, ok, expected, got, detail}``; amounts in fen.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ..contract import PAYERS

BP = 10_000


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
    """Σ charges = Σ over the signed persons' in-scope claims of own fund + rnd(fund·outside_bp)."""
    cp = result.bundle.capitation
    scope = list(cp.visit_types)
    signings = pl.from_arrow(inputs["signings"]).select(
        pl.col("person_id").cast(pl.Utf8), pl.col("community_id").cast(pl.Utf8).alias("home")
    )
    parts = _scope_parts(result.scope_claims)
    if parts is None:
        return _check("capitation charges = signed persons' in-scope fund payments", 0, 0, "no claims kept")
    own = outside = 0
    for part in parts:  # part by part (as kept while settling): memory of one part, not the year's
        c = (
            pl.from_arrow(part.select(["person_id", "community_id", "visit_type", "fund"]))
            .filter(pl.col("visit_type").cast(pl.Utf8).is_in(scope))
            .with_columns(pl.col("person_id").cast(pl.Utf8), pl.col("community_id").cast(pl.Utf8))
        )
        j = c.join(signings, on="person_id", how="inner")
        own += int(j.filter(pl.col("community_id") == pl.col("home"))["fund"].sum())
        elsewhere = j.filter((pl.col("community_id") != pl.col("home")) | pl.col("community_id").is_null())["fund"]
        # half up, claim by claim: (2n + d) // 2d with n = fund · outside_bp (docs/rules/settlement.md §1)
        outside += int(((2 * elsewhere.cast(pl.Int64) * cp.outside_charge_bp + BP) // (2 * BP)).sum())
    charged = int(t["capitation_communities"]["charges"].sum())
    return _check("capitation charges = signed persons' in-scope fund payments", own + outside, charged)


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


def _scope_parts(kept):
    """The signed persons' in-scope rows kept while settling, part by part (a table, or the
    parts of a :class:`~wzmedins.year.spill.Spill`), or None when none were kept."""
    if kept is None:
        return None
    if isinstance(kept, pa.Table):
        return [kept]
    if not kept:
        return None
    return (pq.read_table(p) if isinstance(p, Path) else p for p in kept.parts)
