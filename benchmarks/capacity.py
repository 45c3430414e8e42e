"""Capacity report: how long does a city's year of claims take on this machine?

One run measures, at sizes from 10^5 to 10^7 claims (``--max-size``):

- ``wzmedins``: ``wz.settle`` end to end (checks, ordering, kernel, Arrow outputs);
- ``wzmedins kernel``: only the compiled loop, one thread (``wz.Settler(...).kernel_seconds``);
- ``wzmedins part``: end to end under the policy restricted to what the peers cover;
- ``reference``: the pure-Python twin (small sizes only, ``--reference-max``);
- ``polars``, ``duckdb``: the peers of ``benchmarks/peers`` (steps 0, 1, 3, 4 only);
- ``stream``: ``wz.settle_stream`` over generated batches at a fixed number of persons, as
  claims grow: peak memory should stay flat.

Every measurement runs in a fresh subprocess, which reports its wall time around the
settlement call and its peak resident set size (``getrusage`` ``ru_maxrss``: the whole
process, input table and interpreter included), plus its RSS just before the timed call, so
that the difference is the engine's working memory. The inputs are read from Parquet written
once per size (not timed); each engine is warmed up on 1 000 rows first (numba loads its
cache, polars and DuckDB plan once).

Writes ``docs/performance.md``, ``docs/performance.png`` and ``docs/performance.json``.

    python benchmarks/capacity.py                   # 1e5, 1e6, 1e7 (a few minutes)
    python benchmarks/capacity.py --max-size 1e6
    python benchmarks/capacity.py --quick --out-dir /tmp/report   # seconds, for the tests
    python benchmarks/capacity.py --huge            # adds 1e8 claims, streamed (long)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITY_YEAR = 100_000_000
PROVINCE_YEAR = 700_000_000
SEED = 2022
WARM_ROWS = 1_000

ENGINES = ("wzmedins", "wzmedins kernel", "wzmedins part", "reference", "polars", "duckdb")
SCOPE = {
    "wzmedins": "all rules",
    "wzmedins kernel": "all rules, compiled loop only",
    "wzmedins part": "peers' part",
    "reference": "all rules",
    "polars": "peers' part",
    "duckdb": "peers' part",
}


# ------------------------------------------------------------------ in the child


def _rss_now() -> int:
    """Resident set size of this process now, in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    """Peak resident set size of this process, in bytes (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _settle_fn(engine: str):
    """The call timed for ``engine`` (imports only what it needs)."""
    import wzmedins as wz

    policy = wz.load_policy("wenzhou-2022")
    if engine == "wzmedins":
        return lambda t: wz.settle(t, policy)
    if engine == "wzmedins kernel":
        return lambda t: wz.Settler(policy, threads=1)  # the timed part is its kernel, see _measure_table
    if engine == "reference":
        return lambda t: wz.reference.settle(t, policy)
    if engine == "wzmedins part":
        from benchmarks.peers import restricted

        part = restricted(policy)
        return lambda t: wz.settle(t, part)
    if engine == "polars":
        from benchmarks.peers import polars_peer

        return lambda t: polars_peer.settle(t, policy)
    if engine == "duckdb":
        from benchmarks.peers import duckdb_peer

        return lambda t: duckdb_peer.settle(t, policy)
    raise ValueError(engine)


def _measure_table(spec: dict) -> dict:
    import pyarrow.parquet as pq

    engine = spec["engine"]
    table = pq.read_table(spec["data"])
    fn = _settle_fn(engine)
    warm = fn(table.slice(0, WARM_ROWS))
    kernel_only = engine == "wzmedins kernel"
    if kernel_only:
        warm.settle(table.slice(0, WARM_ROWS))
    rss_before = _rss_now()
    times = []
    for _ in range(spec.get("repeat", 1)):
        if kernel_only:  # a fresh store each time; only the compiled loop is counted
            store = fn(table)
            store.settle(table)
            times.append(store.kernel_seconds)
            store = None
            continue
        else:
            start = time.perf_counter()
            fn(table)
        times.append(time.perf_counter() - start)
    seconds = min(times)
    return {"seconds": seconds, "rss_before": rss_before, "peak_rss": _peak_rss()}


def _measure_stream(spec: dict) -> dict:
    import wzmedins as wz
    from wzmedins import synth

    policy = wz.load_policy("wenzhou-2022")
    n, persons, batch_size = spec["size"], spec["persons"], spec["batch_size"]
    list(wz.settle_stream(synth.claim_batches(WARM_ROWS, n_persons=10, seed=1), policy))
    accounts = synth.accounts(persons, seed=SEED)
    generating = 0.0

    def batches():
        nonlocal generating
        source = synth.claim_batches(n, n_persons=persons, seed=SEED, batch_size=batch_size)
        while True:
            start = time.perf_counter()
            batch = next(source, None)
            generating += time.perf_counter() - start
            if batch is None:
                return
            yield batch

    rss_before = _rss_now()
    start = time.perf_counter()
    settled = 0
    for result in wz.settle_stream(batches(), policy, accounts=accounts):
        settled += result.settled.num_rows + result.rejected.num_rows
    seconds = time.perf_counter() - start - generating
    assert settled == n, (settled, n)
    return {
        "seconds": seconds,
        "generating": generating,
        "rss_before": rss_before,
        "peak_rss": _peak_rss(),
        "state_rows": result.state.num_rows,
    }


def _child(spec: dict) -> None:
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    result = _measure_stream(spec) if spec["engine"] == "stream" else _measure_table(spec)
    print(json.dumps({**spec, **result}))


# ------------------------------------------------------------------ in the parent


def run_child(spec: dict, timeout: float) -> dict:
    """Run one measurement in a fresh interpreter and return what it reports."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, __file__, "--measure", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**spec, "error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_claims(path: Path, n: int) -> None:
    """Claims for the table measurements: 10 a person, string ids, in no order at all."""
    import pyarrow.parquet as pq

    from wzmedins import synth
    from wzmedins.synth.claims import CLAIMS_SCHEMA

    with pq.ParquetWriter(path, CLAIMS_SCHEMA) as writer:
        for batch in synth.claim_batches(n, seed=SEED, daily=False):
            writer.write_batch(batch)


def machine() -> dict:
    """What the numbers were measured on."""
    import duckdb
    import numba
    import numpy
    import polars
    import pyarrow

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {
            "numpy": numpy.__version__,
            "numba": numba.__version__,
            "pyarrow": pyarrow.__version__,
            "polars": polars.__version__,
            "duckdb": duckdb.__version__,
        },
        "polars_threads": polars.thread_pool_size(),
        "commit": commit or "unknown",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def plan(args: argparse.Namespace) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Table sizes, and stream runs as (claims, persons, batch size).

    The stream runs are claims growing at a fixed number of persons (memory should stay
    flat), then one city-shaped run of ten claims a person (a city-year is about 10^8 claims
    of 10^7 insured), and with ``--huge`` 10^8 claims of 10^7 persons.
    """
    if args.quick:
        return [20_000], [(10_000, 1_000, 5_000), (40_000, 1_000, 5_000), (40_000, 4_000, 5_000)]
    sizes = [n for n in (100_000, 1_000_000, 10_000_000) if n <= args.max_size] or [args.max_size]
    top = max(max(sizes), 1_000_000)
    fixed = sorted({top // 4, top // 2, top})
    persons = max(10_000, fixed[0] // 10)
    runs = [(n, persons, 250_000) for n in fixed]
    if top // 10 != persons:
        runs.append((top, top // 10, 250_000))
    if args.huge:
        runs.append((CITY_YEAR, CITY_YEAR // 10, 1_000_000))
    return sizes, runs


def collect(args: argparse.Namespace, workdir: Path) -> tuple[list[dict], list[dict]]:
    sizes, stream_plan = plan(args)
    table_runs: list[dict] = []
    for n in sizes:
        data = workdir / f"claims-{n}.parquet"
        if not data.exists():
            write_claims(data, n)
        for engine in ENGINES:
            if engine == "reference" and n > args.reference_max:
                continue
            if engine in ("polars", "duckdb") and n > args.peers_max:
                continue
            repeat = 1 if n >= 10_000_000 or engine == "reference" else args.repeat
            spec = {"engine": engine, "size": n, "data": str(data), "repeat": repeat}
            result = run_child(spec, args.timeout)
            table_runs.append(result)
            _log(result)
    stream_runs = []
    for n, persons, batch_size in stream_plan:
        spec = {"engine": "stream", "size": n, "persons": persons, "batch_size": batch_size}
        result = run_child(spec, args.timeout * max(1, n // 10_000_000))
        stream_runs.append(result)
        _log(result)
    return table_runs, stream_runs


def _log(r: dict) -> None:
    if "error" in r:
        print(f"  {r['engine']:<16} {r['size']:>12,}  ERROR {r['error']}", file=sys.stderr)
    else:
        rate = r["size"] / r["seconds"]
        print(
            f"  {r['engine']:<16} {r['size']:>12,}  {r['seconds']:8.2f} s  {rate:>12,.0f}/s  "
            f"peak {r['peak_rss'] / 2**20:8.0f} MiB",
            file=sys.stderr,
        )


# ------------------------------------------------------------------ the report


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"


BEGIN, END = "<!-- capacity.py: generated from here -->", "<!-- capacity.py: generated up to here -->"


def write_generated(path: Path, text: str) -> None:
    r"""Put ``text`` between the markers of ``path`` (the sections written by hand around them
    are kept); a new file is the markers and the text.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "performance.md"
    >>> write_generated(p, "old")
    >>> _ = p.write_text(p.read_text() + "## by hand\n")
    >>> write_generated(p, "new")
    >>> "new" in p.read_text() and "old" not in p.read_text() and p.read_text().endswith("## by hand\n")
    True
    """
    block = f"{BEGIN}\n{text.rstrip()}\n{END}\n"
    if not path.exists():
        path.write_text(block, encoding="utf-8")
        return
    old = path.read_text(encoding="utf-8")
    if BEGIN not in old or END not in old:
        raise SystemExit(f"{path}: no {BEGIN!r} ... {END!r} markers; add them around the generated part")
    head, rest = old.split(BEGIN, 1)
    tail = rest.split(END, 1)[1].lstrip("\n")
    path.write_text(head + block + "\n" + tail, encoding="utf-8")


def report(table_runs: list[dict], stream_runs: list[dict], info: dict, out_dir: Path, quick: bool) -> str:
    from benchmarks.peers import COVERS

    ok = [r for r in table_runs if "error" not in r]
    base = {r["size"]: r for r in ok if r["engine"] == "wzmedins"}
    # the wzmedins end-to-end run of the same size and scope as a row
    same_scope = {(r["size"], r["engine"]): r for r in ok if r["engine"] in ("wzmedins", "wzmedins part")}

    def baseline(r: dict) -> dict | None:
        part = SCOPE[r["engine"]] == "peers' part"
        return same_scope.get((r["size"], "wzmedins part" if part else "wzmedins"))

    lines = [
        "# Performance and capacity",
        "",
        "Generated by `benchmarks/capacity.py`"
        + (" `--quick` (tiny sizes: a smoke test, not a measurement)" if quick else "")
        + f" on {info['date']}, commit `{info['commit']}`. Re-run with `make bench`.",
        "",
        *summary(ok, stream_runs),
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores available to the process (shared with other work while measured)",
        f"- Memory: {info['memory']}; OS: {info['os']}",
        f"- Python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()),
        f"- Threads: the wzmedins kernel runs on one thread; polars used {info['polars_threads']}"
        " threads and DuckDB its default (all cores).",
        "",
        "## What is measured",
        "",
        "Each row is one fresh subprocess. **Time** is wall time around the settlement call only,",
        "the best of 3 calls below 10^7 claims (of 1 at 10^7 and for the reference): the input is",
        "read from Parquet before (synthetic claims, seeded, 10 a person, string ids, in no",
        "order) and each engine is warmed up on 1 000 rows first. `wzmedins kernel` times only",
        "the compiled loop on one thread (`Settler.kernel_seconds`), a fresh store for each call. **Peak RSS** is the",
        "process's peak resident memory (`getrusage`), input table and interpreter included;",
        "**working** is peak minus the RSS just before the call, i.e. what settling added",
        "(for the kernel row, preparing included).",
        "**vs wzmedins** is the time of the wzmedins end-to-end run of the same size and scope",
        "(`wzmedins` for all rules, `wzmedins part` for the peers' part) divided by this row's",
        "time: above 1, faster than wzmedins. Ratios are within this one run.",
        "",
        "- *all rules*: every step of settlement.md §4 under `wenzhou-2022`.",
        "- *peers' part*: " + COVERS,
        "",
        "`wzmedins part` is wzmedins under `wenzhou-2022` with accounts, critical illness and",
        "medical assistance switched off (`benchmarks.peers.restricted`): the same work as the",
        "peers, whose results agree with it to the fen (`tests/test_peers.py`).",
        "",
        "## Batch settlement",
        "",
        "| engine | scope | claims | time (s) | claims/s | vs wzmedins | peak RSS (MiB) | working (MiB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table_runs:
        if "error" in r:
            failed = f"failed: {r['error']}"
            lines.append(f"| {r['engine']} | {SCOPE[r['engine']]} | {r['size']:,} | {failed} | | | | |")
            continue
        ref = baseline(r)
        ratio = f"{ref['seconds'] / r['seconds']:.2f}" if ref else "n/a"
        lines.append(
            f"| {r['engine']} | {SCOPE[r['engine']]} | {r['size']:,} | {r['seconds']:.2f} | "
            f"{r['size'] / r['seconds']:,.0f} | {ratio} | {_mib(r['peak_rss'])} | "
            f"{_mib(max(r['peak_rss'] - r['rss_before'], 0))} |"
        )
    stream_ok = [r for r in stream_runs if "error" not in r]
    lines += [
        "",
        "## Streaming",
        "",
        "`wz.settle_stream` over batches generated on the fly (daily-feed order), opening accounts",
        "loaded, the state carried from batch to batch. Time excludes generating the batches.",
        "First claims grow at a fixed number of persons; the last rows have ten claims a person,",
        "the shape of a city-year (about 10^8 claims of 10^7 insured), so the carried state is",
        "as large relative to the claims as it will be in production.",
        "",
        "| claims | persons | batch | time (s) | claims/s | peak RSS (MiB) | state rows |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in stream_runs:
        if "error" in r:
            failed = f"failed: {r['error']}"
            lines.append(f"| {r['size']:,} | {r['persons']:,} | {r['batch_size']:,} | {failed} | | | |")
            continue
        lines.append(
            f"| {r['size']:,} | {r['persons']:,} | {r['batch_size']:,} | {r['seconds']:.1f} | "
            f"{r['size'] / r['seconds']:,.0f} | {_mib(r['peak_rss'])} | {r['state_rows']:,} |"
        )
    same_persons = [r for r in stream_ok if r["persons"] == (stream_ok[0]["persons"] if stream_ok else 0)]
    if len(same_persons) >= 2:
        lo, hi = same_persons[0], same_persons[-1]
        lines += [
            "",
            f"From {lo['size']:,} to {hi['size']:,} claims ({hi['size'] / lo['size']:.0f}×) at "
            f"{lo['persons']:,} persons, peak RSS went from {_mib(lo['peak_rss'])} to "
            f"{_mib(hi['peak_rss'])} MiB ({hi['peak_rss'] / lo['peak_rss']:.2f}×): memory follows "
            "the batch size and the number of persons, not the number of claims.",
        ]
    lines += ["", "## A city-year and a province-year", ""]
    largest = max(base.values(), key=lambda r: r["size"]) if base else None
    # the most city-like stream: most persons, then most claims
    stream_best = max(stream_ok, key=lambda r: (r["persons"], r["size"])) if stream_ok else None
    if largest or stream_best:
        lines += [
            "Linear extrapolation from the largest run of each kind (generation and Parquet",
            "reading not included). Only the streamed row is a way to run a year: one batch needs",
            "memory in proportion to its claims (peak RSS above), so 10^8 claims in one batch",
            "would not fit on this machine.",
            "",
            "| from | claims/s | city-year (100M claims) | province-year (700M) |",
            "|---|---:|---:|---:|",
        ]
        rows = []
        if stream_best:
            label = f"streamed, {stream_best['size']:,} claims of {stream_best['persons']:,} persons"
            rows.append((label, stream_best["size"] / stream_best["seconds"]))
        if largest:
            rows.append(
                (
                    f"wzmedins end to end, {largest['size']:,} claims",
                    largest["size"] / largest["seconds"],
                )
            )
            kernel = [r for r in ok if r["engine"] == "wzmedins kernel" and r["size"] == largest["size"]]
            if kernel:
                rows.append(
                    (
                        f"kernel only, {largest['size']:,} claims",
                        largest["size"] / kernel[0]["seconds"],
                    )
                )
        for label, rate in rows:
            city, province = _duration(CITY_YEAR / rate), _duration(PROVINCE_YEAR / rate)
            lines.append(f"| {label} | {rate:,.0f} | {city} | {province} |")
    by_persons = sorted(stream_ok, key=lambda r: (r["persons"], r["size"]))
    if len(by_persons) >= 2 and by_persons[-1]["persons"] > by_persons[0]["persons"]:
        few, many = by_persons[0], by_persons[-1]
        few_rate, many_rate = few["size"] / few["seconds"], many["size"] / many["seconds"]
        if many_rate < few_rate:
            lines += [
                "",
                f"The streamed rate falls as the population grows ({few_rate:,.0f} claims/s at "
                f"{few['persons']:,} persons, {many_rate:,.0f} at {many['persons']:,}): each batch "
                "also handles the whole carried state and the accounts table, so its cost grows "
                "with the persons, not only with its claims. A province (some 7×10^7 insured) "
                "settled as one stream would be slower than the linear figure; settled as separate "
                "streams partitioned by person (settlement.md §3 allows any partition by person), "
                "one per city, it is about the linear figure (seven city-years in turn), or less "
                "on more cores.",
            ]
    lines += ["", "![claims per second and peak memory](performance.png)", ""]
    text = "\n".join(lines)
    write_generated(out_dir / "performance.md", text)
    (out_dir / "performance.json").write_text(
        json.dumps({"machine": info, "table": table_runs, "stream": stream_runs}, indent=1),
        encoding="utf-8",
    )
    plot(ok, stream_ok, out_dir / "performance.png")
    return text


def summary(ok: list[dict], stream_runs: list[dict]) -> list[str]:
    """A few sentences with the main ratios, from the largest size measured."""
    if not ok:
        return []
    top = max(r["size"] for r in ok)
    at = {r["engine"]: r for r in ok if r["size"] == top}
    out = ["## In short", ""]
    if "wzmedins" in at:
        w = at["wzmedins"]["seconds"]
        out.append(
            f"- At {top:,} claims in one batch, wzmedins settles {top / w:,.0f} claims/s end to end (all rules)."
        )
        if "wzmedins kernel" in at:
            speedup = w / at["wzmedins kernel"]["seconds"]
            out.append(
                f"- The compiled kernel alone is {speedup:.0f}× faster than end to end: "
                "the rest is the wrapper around it (checks, ordering, Arrow output tables)."
            )
    if "wzmedins part" in at:
        part = at["wzmedins part"]["seconds"]
        for peer in ("polars", "duckdb"):
            if peer in at:
                theirs = at[peer]["seconds"]
                out.append(
                    f"- On the part of the rules the peers implement, wzmedins is "
                    f"{theirs / part:.1f}× as fast as the {peer} peer ({part:.1f} s against "
                    f"{theirs:.1f} s)."
                )
    refs = [r for r in ok if r["engine"] == "reference"]
    if refs:
        r = max(refs, key=lambda r: r["size"])
        w = next((x for x in ok if x["engine"] == "wzmedins" and x["size"] == r["size"]), None)
        if w:
            slower = r["seconds"] / w["seconds"]
            out.append(f"- The pure-Python reference is {slower:.0f}× slower than wzmedins at {r['size']:,} claims.")
    city = [r for r in stream_runs if "error" not in r and r["size"] >= CITY_YEAR]
    if city:
        c = city[-1]
        out.append(
            f"- A city-year, {c['size']:,} claims of {c['persons']:,} persons streamed in "
            f"batches of {c['batch_size']:,}, took {_duration(c['seconds'])} with a peak of "
            f"{_mib(c['peak_rss'])} MiB."
        )
    return [*out, ""]


def plot(table_runs: list[dict], stream_runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for engine in ENGINES:
        runs = sorted((r for r in table_runs if r["engine"] == engine), key=lambda r: r["size"])
        if runs:
            left.plot(
                [r["size"] for r in runs],
                [r["size"] / r["seconds"] for r in runs],
                marker="o",
                label=engine,
            )
    left.set(
        xscale="log",
        yscale="log",
        xlabel="claims",
        ylabel="claims per second",
        title="Batch settlement",
    )
    left.grid(True, which="both", alpha=0.3)
    if table_runs:  # room below the lowest point for the legend
        left.set_ylim(bottom=min(r["size"] / r["seconds"] for r in table_runs) / 30)
    left.legend(fontsize=8, loc="lower right")
    for persons in sorted({r["persons"] for r in stream_runs}):
        runs = [r for r in stream_runs if r["persons"] == persons]
        right.plot(
            [r["size"] for r in runs],
            [r["peak_rss"] / 2**20 for r in runs],
            marker="o",
            label=f"peak RSS, {persons:,} persons",
        )
    if stream_runs:
        right.set_ylim(0, 1.25 * max(r["peak_rss"] for r in stream_runs) / 2**20)
    right.set(xscale="log", xlabel="claims", ylabel="MiB", title="Streaming: peak memory")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _size(text: str) -> int:
    return int(float(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-size", type=_size, default=10_000_000, help="largest batch size (1e7)")
    parser.add_argument("--reference-max", type=_size, default=100_000, help="largest reference run")
    parser.add_argument("--peers-max", type=_size, default=10_000_000, help="largest peer run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds: a smoke test")
    parser.add_argument("--huge", action="store_true", help="also stream 1e8 claims (long)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs", help="where the report goes")
    parser.add_argument("--work-dir", type=Path, help="keep the generated Parquet here")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per measurement below 1e7 (best kept)")
    parser.add_argument("--render", type=Path, help="rewrite the report from a performance.json")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        _child(json.loads(args.measure))
        return 0
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.render:  # e.g. after changing the wording, without measuring again
        raw = json.loads(args.render.read_text(encoding="utf-8"))
        report(raw["table"], raw["stream"], raw["machine"], args.out_dir, args.quick)
        print(f"wrote {args.out_dir / 'performance.md'}")
        return 0
    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.work_dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        table_runs, stream_runs = collect(args, workdir)
    report(table_runs, stream_runs, info, args.out_dir, args.quick)
    print(f"wrote {args.out_dir / 'performance.md'}")
    failed = [r for r in table_runs + stream_runs if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
