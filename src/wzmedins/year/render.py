"""The year's report from a :class:`~wzmedins.year.pipeline.YearResult` (and, for a what-if, a
second one): sections with figures and tables, each naming the Parquet table it came from."""

from __future__ import annotations

import html
import os
from pathlib import Path

import polars as pl
import pyarrow as pa

from ..tables import fen_to_yuan
from .report import Report, Section, new_report

SCHEME_LABEL = {"employee": "职工 employee", "resident": "居民 resident"}
PAYER_LABEL = {
    "fund": "统筹基金 fund",
    "critical_illness": "大病保险 critical illness",
    "medical_assistance": "医疗救助 assistance",
    "account_current": "个人账户(当年) account",
    "account_hist": "个人账户(历年) account (past years)",
    "cash": "个人现金 cash",
}
# figures carry English labels: matplotlib's default fonts have no Chinese glyphs
FIG_PAYER = {
    "fund": "pooled fund",
    "critical_illness": "critical illness",
    "medical_assistance": "medical assistance",
    "account_current": "account (this year)",
    "account_hist": "account (past years)",
    "cash": "cash",
}
LEVEL_COLOR = {"red": "#d62728", "orange": "#ff7f0e", "green": "#2ca02c", "blue": "#1f77b4"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _yuan_millions(fen) -> float:
    return float(fen) / 1e8  # for plotting only: the tables carry the exact fen


def render(result, out: str | os.PathLike | None = None, *, whatif=None) -> Path:
    """Write ``report.html`` (with PNG figures and Parquet tables beside it); returns its path.

    With ``whatif`` (a second result of the same inputs under another bundle) the report puts
    the two side by side: the fund's position and who gains or loses.
    """
    folder = Path(out) if out is not None else result.out
    if folder is None:
        raise ValueError("render needs out= or a result run with out=")
    title = f"温州市医保 {result.year} — one city-year under {result.bundle.name}"
    if whatif is not None:
        title += f" vs {whatif.bundle.name}"
    rep = new_report(folder, title)
    for name in result.tables:
        parked = getattr(result.tables, "parked", lambda _: None)(name)
        if parked is not None and parked.resolve() == (folder / parked.name).resolve():
            rep.written[name] = parked  # already beside the report: not read back
        else:
            rep.table(name, result.tables[name])
    rep.sections.append(_summary(result, rep))
    rep.sections.append(_money_in(result, rep))
    rep.sections.append(_money_out(result, rep))
    rep.sections.append(_drg(result, rep))
    rep.sections.append(_capitation(result, rep))
    rep.sections.append(_fund(result, rep))
    if whatif is not None:
        rep.sections.append(_compare(result, whatif, rep))
    rep.sections.append(_checks(result, whatif))
    return rep.render()


def _figure(rep: Report, name: str, draw, caption: str, source: str, section: Section) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    draw(ax)
    section.figures.append((rep.figure(name, fig), caption, source))


def _summary(r, rep) -> Section:
    s = Section("概览 Summary", element_id="summary")
    funds = pl.from_arrow(r.tables["fund_city"])
    rows = [
        ("persons enrolled (workers + residents)", f"{r.counts.get('workers', 0) + r.counts.get('residents', 0):,}"),
        ("claims read / settled / rejected",
         f"{r.counts['claims']:,} / {r.counts['settled']:,} / {r.counts['rejected']:,}"),
        ("DRG cases", f"{r.counts.get('drg_cases', 0):,}"),
        ("signed persons (family doctor)", f"{r.counts.get('signed', 0):,}"),
    ]  # fmt: skip
    for f in funds.to_dicts():
        rows.append((f"{SCHEME_LABEL[f['scheme']]}: revenue − expenditure (yuan)", fen_to_yuan(f["delta"])))
        rows.append((f"{SCHEME_LABEL[f['scheme']]}: balance / reserve at year end (yuan)",
                     f"{fen_to_yuan(f['balance'])} / {fen_to_yuan(f['reserve'])}"))  # fmt: skip
    s.tables.append(("Key figures", pa.table({"figure": [a for a, _ in rows], "value": [b for _, b in rows]}),
                     "fund_city.parquet, payers.parquet"))  # fmt: skip
    timing = pa.table({"stage": list(r.timings), "seconds": [f"{v:.2f}" for v in r.timings.values()],
                       "CPU seconds (all threads)": [f"{r.cpu_seconds.get(k, 0):.2f}" for k in r.timings],
                       "peak RSS so far (MB)": [str(r.peak_rss_mb.get(k, "")) for k in r.timings]})  # fmt: skip
    s.tables.append(("Stage timings", timing, "measured in this run"))
    s.paragraphs.append(
        f"Bundle <b>{html.escape(r.bundle.name)}</b>; profiles: "
        + ", ".join(f"{k} {html.escape(v)}" for k, v in r.bundle.fingerprints().items() if v)
        + ". Every built-in profile is illustrative: the official Wenzhou numbers are not public."
    )
    return s


def _money_in(r, rep) -> Section:
    s = Section("筹资 Money in, by scheme and county", element_id="money-in")
    rev = pl.from_arrow(r.tables["revenue"]).sort("scheme", "county")
    s.tables.append(("Revenue collected (R) and due (T) per county", rev.to_arrow(), "revenue.parquet"))

    def draw(ax):
        for i, scheme in enumerate(("employee", "resident")):
            d = rev.filter(pl.col("scheme") == scheme)
            xs = [x + 0.4 * i for x in range(d.height)]
            ax.bar(xs, [_yuan_millions(v) for v in d["revenue"]], width=0.4, label=scheme)
            ax.set_xticks([x + 0.2 for x in range(d.height)], d["county"].to_list(), rotation=45, ha="right")
        ax.set_ylabel("million yuan")
        ax.legend()

    _figure(rep, "revenue_by_county", draw, "Revenue collected per county and scheme", "revenue.parquet", s)
    tr = pl.from_arrow(r.tables["resident_transition"]).filter(pl.col("reason").is_null()).sort("county", "year")

    def transition(ax):
        for county in tr["county"].unique(maintain_order=True).to_list():
            d = tr.filter(pl.col("county") == county)
            ax.plot(d["year"].to_list(), [v / 100 for v in d["total"]], marker="o", label=county)
        city = tr.group_by("year").agg(pl.col("city_total").first()).sort("year")
        ax.plot(city["year"].to_list(), [v / 100 for v in city["city_total"]], color="black", linewidth=3,
                label="city standard")  # fmt: skip
        ax.set_xticks(sorted(set(tr["year"].to_list())))
        ax.set_ylabel("yuan per resident a year")
        ax.legend(fontsize=7, ncol=2)

    _figure(rep, "resident_transition", transition,
            "Resident funding per person: each county converging to the city standard (过渡期)",
            "resident_transition.parquet", s)  # fmt: skip
    std = pl.from_arrow(r.tables["resident_standards"]).filter(pl.col("reason").is_null())
    cols = [
        c for c in ("county", "year", "share_bp", "base_total", "total", "city_total", "individual") if c in std.columns
    ]
    s.tables.append(("Resident funding: the transition of each county to the city standard (过渡期)",
                     std.select(cols).to_arrow(), "resident_standards.parquet"))  # fmt: skip
    return s


def _money_out(r, rep) -> Section:
    s = Section("支出 Money out: who pays", element_id="money-out")
    p = pl.from_arrow(r.tables["payers"])
    by_scheme = (
        p.group_by("scheme")
        .agg(pl.col("n_claims").sum(), pl.col("total_cost").sum(), *[pl.col(c).sum() for c in PAYER_LABEL])
        .sort("scheme")
    )
    s.tables.append(("Payers' shares per scheme (fen shown as yuan)", by_scheme.to_arrow(), "payers.parquet"))

    def draw(ax):
        bottom = [0.0] * by_scheme.height
        labels = by_scheme["scheme"].to_list()
        for c, lab in FIG_PAYER.items():
            vals = [_yuan_millions(v) for v in by_scheme[c]]
            ax.bar(labels, vals, bottom=bottom, label=lab)
            bottom = [a + b for a, b in zip(bottom, vals, strict=True)]
        ax.set_ylabel("million yuan")
        ax.legend(fontsize=7)

    _figure(rep, "payers", draw, "Who paid the year's claims", "payers.parquet", s)
    monthly = (
        pl.from_arrow(r.tables["expenditure"])
        .group_by("scheme", "month")
        .agg(*[pl.col(c).sum() for c in ("claims", "drg", "capitation")])
        .sort("scheme", "month")
    )

    def by_month(ax):
        for scheme, style in (("employee", "-"), ("resident", "--")):
            d = monthly.filter(pl.col("scheme") == scheme)
            for col in ("claims", "drg", "capitation"):
                ax.plot(d["month"].to_list(), [_yuan_millions(v) for v in d[col]], style, marker=".",
                        label=f"{scheme}: {col}")  # fmt: skip
        ax.set_xlabel("month")
        ax.set_ylabel("million yuan")
        ax.legend(fontsize=7, ncol=2)

    _figure(rep, "expenditure_by_month", by_month,
            "What the fund paid by month: claims item by item, DRG (prepaid monthly, balance in December), "
            "capitation (year end)", "expenditure.parquet", s)  # fmt: skip
    e = (
        pl.from_arrow(r.tables["expenditure"])
        .group_by("county", "scheme")
        .agg(*[pl.col(c).sum() for c in ("claims", "drg", "capitation", "expenditure")])
        .sort("county", "scheme")
    )
    s.tables.append(("Expenditure per county (claims item by item, DRG, capitation)", e.to_arrow(),
                     "expenditure.parquet"))  # fmt: skip
    return s


def _drg(r, rep) -> Section:
    s = Section("DRG 点数法: point values, hospitals' gains and losses", element_id="drg")
    funds = pl.from_arrow(r.tables["drg_funds"])
    s.tables.append(("Budget and point value per fund", funds.to_arrow(), "drg_funds.parquet"))
    h = pl.from_arrow(r.tables["drg_hospitals"])
    bal = h.group_by("hospital_id").agg(pl.col("balance").sum()).sort("balance")

    def draw(ax):
        vals = [_yuan_millions(v) for v in bal["balance"]]
        ax.bar(
            bal["hospital_id"].cast(pl.Utf8).to_list(), vals, color=["#d62728" if v < 0 else "#2ca02c" for v in vals]
        )
        ax.tick_params(axis="x", rotation=90, labelsize=6)
        ax.set_ylabel("million yuan (balance at clearing)")

    _figure(
        rep, "drg_hospitals", draw, "Hospitals' year-end balance (清算) under DRG points", "drg_hospitals.parquet", s
    )
    return s


def _capitation(r, rep) -> Section:
    s = Section("按人头付费 Communities: surpluses and overspends", element_id="capitation")
    c = pl.from_arrow(r.tables["capitation_communities"])
    s.tables.append(("Per community", c.to_arrow(), "capitation_communities.parquet"))

    def draw(ax):
        vals = [_yuan_millions(v) for v in c["surplus"]]
        ax.bar(c["community_id"].cast(pl.Utf8).to_list(), vals, color=["#d62728" if v < 0 else "#2ca02c" for v in vals])
        ax.tick_params(axis="x", rotation=90, labelsize=7)
        ax.set_ylabel("million yuan (budget − charges)")

    _figure(
        rep, "capitation", draw, "Communities' surplus (结余) or overspend (超支)", "capitation_communities.parquet", s
    )
    return s


def _fund(r, rep) -> Section:
    s = Section("基金 The fund: balance, reserve, warning, gap shares", element_id="fund")
    s.tables.append(("The city fund's year end per scheme", r.tables["fund_city"], "fund_city.parquet"))
    cols = ["scheme", "county", "revenue", "target", "expenditure", "budget", "shortfall", "overspend",
            "responsibility", "reward", "gap_share"]  # fmt: skip
    fc = pl.from_arrow(r.tables["fund_counties"])
    s.tables.append(("What each county covers of a gap (缺口分担) or earns (奖励)",
                     fc.select([c for c in cols if c in fc.columns]).to_arrow(), "fund_counties.parquet"))  # fmt: skip
    w = pl.from_arrow(r.tables["warning"]).filter(pl.col("county").is_null()).sort("scheme", "month")
    bands = r.bundle.fund.warning_bands if hasattr(r.bundle.fund, "warning_bands") else (30, 60, 150)

    def draw(ax):
        for scheme in ("employee", "resident"):
            d = w.filter(pl.col("scheme") == scheme)
            ax.plot(d["month"].to_list(), [None if v is None else v / 10 for v in d["months_e1"]], marker="o",
                    label=scheme)  # fmt: skip
        lo = 0.0
        for upper, level in zip(list(bands) + [None], ("red", "orange", "green", "blue"), strict=True):
            hi = upper / 10 if upper is not None else max(lo + 5, ax.get_ylim()[1])
            ax.axhspan(lo, hi, color=LEVEL_COLOR[level], alpha=0.08)
            lo = hi
        ax.set_xlabel("month")
        ax.set_ylabel("months payable")
        ax.legend()

    _figure(rep, "warning", draw, "The city fund's months payable by month, with the warning bands",
            "warning.parquet", s)  # fmt: skip
    s.tables.append(("Warning level by month (city)", w.select("scheme", "month", "balance", "months_e1", "level")
                     .to_arrow(), "warning.parquet"))  # fmt: skip
    return s


def _compare(a, b, rep) -> Section:
    s = Section(f"What-if: {a.bundle.name} → {b.bundle.name}", element_id="whatif")
    fa, fb = pl.from_arrow(a.tables["fund_city"]), pl.from_arrow(b.tables["fund_city"])
    cols = ["scheme", "delta", "balance", "reserve"]
    side = fa.select(cols).join(fb.select(cols), on="scheme", suffix="_whatif")
    s.tables.append(("The fund's position, side by side", side.to_arrow(), "fund_city.parquet (both runs)"))
    ca, cb = pl.from_arrow(a.tables["fund_counties"]), pl.from_arrow(b.tables["fund_counties"])
    k = ["scheme", "county"]
    vals = ["responsibility", "reward", "gap_share"]
    cc = (
        ca.select(k + vals)
        .join(cb.select(k + vals), on=k, suffix="_whatif")
        .with_columns([(pl.col(f"{v}_whatif") - pl.col(v)).alias(f"{v}_change") for v in vals])
    )
    s.tables.append(("Counties: who gains or loses", cc.to_arrow(), "fund_counties.parquet (both runs)"))
    ha = pl.from_arrow(a.tables["drg_hospitals"]).group_by("hospital_id").agg(pl.col("balance").sum())
    hb = pl.from_arrow(b.tables["drg_hospitals"]).group_by("hospital_id").agg(pl.col("balance").sum())
    hh = (
        ha.join(hb, on="hospital_id", suffix="_whatif")
        .with_columns(change=pl.col("balance_whatif") - pl.col("balance"))
        .sort("change")
    )
    s.tables.append(("Hospitals: DRG balance, side by side", hh.to_arrow(), "drg_hospitals.parquet (both runs)"))
    pa_, pb_ = pl.from_arrow(a.tables["payers"]), pl.from_arrow(b.tables["payers"])
    payers = list(PAYER_LABEL)
    sa = pa_.group_by("scheme").agg([pl.col(c).sum() for c in payers])
    sb = pb_.group_by("scheme").agg([pl.col(c).sum() for c in payers])
    sp = sa.join(sb, on="scheme", suffix="_whatif").sort("scheme")
    s.tables.append(("Payers, side by side", sp.to_arrow(), "payers.parquet (both runs)"))
    return s


def _checks(a, b=None) -> Section:
    s = Section("核对 Consistency checks", element_id="checks")
    for r in (a, b):
        if r is None:
            continue
        marks = ["ok" if c["ok"] else "FAILED" for c in r.checks]
        s.tables.append((f"Checks of the run under {r.bundle.name}", pa.table({
            "check": [c["name"] for c in r.checks], "result": marks,
            "expected": [fen_to_yuan(c["expected"]) for c in r.checks],
            "got": [fen_to_yuan(c["got"]) for c in r.checks]}), "recomputed in wzmedins.year.checks"))  # fmt: skip
        verdict = "every check held" if r.ok else "SOME CHECKS FAILED"
        s.paragraphs.append(f'<span class="{"ok" if r.ok else "fail"}">{html.escape(r.bundle.name)}: {verdict}</span>')
    return s
