"""One synthetic city-year of 10^4 persons through every stage: the identities hold, each total
is recomputed here another way, and real tables given as Parquet give the same year."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wzmedins as wz
from wzmedins import year
from wzmedins.contract import PAYERS
from wzmedins.rounding import half_up


def test_every_check_holds(small_year):
    result, _ = small_year
    assert [c["name"] for c in result.checks if not c["ok"]] == []
    assert len(result.checks) >= 9
    assert result.counts["claims"] == 100_000
    assert result.counts["settled"] + result.counts["rejected"] == 100_000


def test_claims_are_settled_as_by_wz_settle(small_year):
    """The year's payer totals equal settling the same claims in one call of wz.settle."""
    result, _ = small_year
    inputs = year.synthetic(100_000, seed=3)
    claims = pa.Table.from_batches(list(inputs.claims()))
    accounts = result.tables["accounts"]
    direct = wz.settle(claims, wz.load_policy("wenzhou-2022"), accounts=accounts).totals()
    payers = pl.from_arrow(result.tables["payers"])
    assert {c: int(payers[c].sum()) for c in PAYERS} == {c: direct[c] for c in PAYERS}


def test_expenditure_is_items_plus_drg_plus_capitation(small_year):
    result, _ = small_year
    exp = pl.from_arrow(result.tables["expenditure"])
    hospitals = pl.from_arrow(result.tables["drg_hospitals"])
    communities = pl.from_arrow(result.tables["capitation_communities"])
    items = result.spending.filter(~pl.col("inpatient"))
    drg_paid = int((hospitals["prepaid"] + hospitals["balance"]).sum())
    assert int(exp["drg"].sum()) == drg_paid
    assert int(exp["capitation"].sum()) == int(communities["settlement"].sum())
    assert int(exp["claims"].sum()) == int(items["expenditure"].sum())
    assert int(exp["expenditure"].sum()) == int(exp["claims"].sum()) + drg_paid + int(communities["settlement"].sum())


def test_budgets_follow_the_fund_rule(small_year):
    """B = rnd(E·(1 + growth)) per county unless Σ exceeds revenue less the reserve rate."""
    result, _ = small_year
    fp = result.bundle.fund
    bud = pl.from_arrow(result.tables["budgets"])
    rev = pl.from_arrow(result.tables["revenue"])
    spent = result.spending.group_by("county", "scheme").agg(pl.col("expenditure").sum())
    for scheme in ("employee", "resident"):
        cap = half_up(int(rev.filter(pl.col("scheme") == scheme)["revenue"].sum()) * (10_000 - fp.reserve_rate_bp),
                      10_000)  # fmt: skip
        grown = {r["county"]: half_up(r["expenditure"] * (10_000 + fp.growth_bp), 10_000)
                 for r in spent.filter(pl.col("scheme") == scheme).to_dicts()}  # fmt: skip
        got = {r["county"]: r["budget"] for r in bud.filter(pl.col("scheme") == scheme).to_dicts()}
        total = sum(grown.values())
        want = {c: (g * cap // total if total > cap else g) for c, g in grown.items()}
        assert got == want


def test_warning_months_payable_of_the_city(small_year):
    """The city's warning in its last month placed, recomputed from the monthly rows (fund §6).

    December may be rejected (NEGATIVE_AMOUNT) when the DRG balance and the capitation year end,
    both paid in December, recover more than the month's claims: then November is the last."""
    result, _ = small_year
    w = pl.from_arrow(result.tables["warning"]).filter(pl.col("county").is_null()).sort("scheme", "month")
    for scheme in ("employee", "resident"):
        d = w.filter((pl.col("scheme") == scheme) & pl.col("reason").is_null())
        assert d.height >= 11
        balance = int(d["balance"][-1])
        spent = [int(v) for v in d["expenditure"]]
        want = 0 if balance <= 0 else half_up(balance * 10 * len(spent), sum(spent))
        assert int(d["months_e1"][-1]) == want


def test_a_what_if_moves_the_fund_the_expected_way(tmp_path):
    """Richer outpatient ratios for residents: the residents' item-based spending rises, so
    their year ends worse; the employees' year is untouched."""
    inputs = year.synthetic(20_000, seed=5)
    base = year.run(inputs)
    ratios = base.bundle.policy.params if hasattr(base.bundle.policy, "params") else None
    del ratios
    bundle = tmp_path / "richer.toml"
    bundle.write_text(
        '[bundle]\nname = "richer-outpatient"\npolicy = "wenzhou-2022"\n'
        '[changes.policy]\n"ratio_outpatient.resident" = [7000, 6000, 5000]\n',
        encoding="utf-8",
    )
    richer = year.run(inputs, bundle=bundle)
    assert richer.ok and base.ok

    def city(r, scheme):
        return pl.from_arrow(r.tables["fund_city"]).filter(pl.col("scheme") == scheme).to_dicts()[0]

    assert city(richer, "resident")["expenditure"] > city(base, "resident")["expenditure"]
    assert city(richer, "employee") == city(base, "employee")
    path = year.render(base, tmp_path / "cmp", whatif=richer)
    page = path.read_text(encoding="utf-8")
    assert 'id="whatif"' in page and "richer-outpatient" in page


def test_real_tables_from_parquet_give_the_same_year(tmp_path):
    """A bureau's own tables: the synthetic year written as Parquet and read back."""
    synthetic = year.synthetic(20_000, seed=7)
    paths = {}
    for name, table in synthetic.tables.items():
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(table, paths[name])
    paths["claims"] = tmp_path / "claims.parquet"
    pq.write_table(pa.Table.from_batches(list(synthetic.claims())), paths["claims"])
    own = year.from_paths(paths, year=2022)
    a, b = year.run(synthetic), year.run(own)
    for name in ("payers", "fund_city", "fund_counties", "drg_hospitals", "capitation_communities"):
        assert pl.from_arrow(a.tables[name]).equals(pl.from_arrow(b.tables[name])), name
    assert b.ok


def test_inputs_are_checked_by_name(tmp_path):
    with pytest.raises(wz.SchemaError, match="claimz"):
        year.from_paths({"claimz": tmp_path / "x.parquet"}, year=2022)
    with pytest.raises(wz.SchemaError, match="signings"):
        year.from_paths({"signings": tmp_path / "missing.parquet"}, year=2022, fill=year.synthetic(100))


def test_bundle_files_are_validated(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[bundle]\nname = "x"\npolicyy = "wenzhou-2022"\n', encoding="utf-8")
    with pytest.raises(wz.PolicyError, match="policyy"):
        year.load_bundle(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[bundle]\nname = "x"\n[changes.benefits]\n"a" = 1\n', encoding="utf-8")
    with pytest.raises(wz.PolicyError, match="benefits"):
        year.load_bundle(wrong)


def test_command_line_writes_the_report(tmp_path, capsys):
    from wzmedins.cli import main

    out = tmp_path / "y"
    assert main(["year", "--scale", "2e4", "--seed", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "checks: all held" in printed and "report:" in printed
    assert (out / "report.html").exists() and (out / "fund_city.parquet").exists()
    assert len(list(out.glob("*.png"))) >= 6
    assert main(["year", "--scale", "2e4", "--input", "claimz=x.parquet", "--out", str(out)]) == 1
    assert "claimz" in capsys.readouterr().err
