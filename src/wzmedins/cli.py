"""The ``wzmedins`` command line (also ``python -m wzmedins``); see ``docs/cli.md``.

Every command has ``--help``. A problem that stops a command (a bad file, a bad policy, a
missing column) is one line on stderr and exit status 1; bad usage is exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import WzmedinsError
from .tables import fen_to_yuan

PROG = "wzmedins"

# how the summary names the payer columns of the settled table (``wzmedins.contract.PAYERS``)
PAYER_LABELS = {
    "account_current": "current-year account (当年账户)",
    "fund": "pooled fund (统筹基金)",
    "critical_illness": "critical illness (大病保险)",
    "medical_assistance": "medical assistance (医疗救助)",
    "account_hist": "historical account (历年账户)",
    "cash": "cash (现金)",
}


class CommandError(WzmedinsError):
    """A command that cannot run: the message is shown as it is."""


# ------------------------------------------------------------------ synth


def _cmd_synth_claims(args: argparse.Namespace) -> int:
    from .synth import accounts, claim_batches
    from .synth.claims import CLAIMS_SCHEMA, default_persons

    n_persons = args.persons or default_persons(args.n)
    batches = claim_batches(
        args.n,
        n_persons=n_persons,
        seed=args.seed,
        year=args.year,
        batch_size=args.batch_size,
        daily=not args.no_daily,
    )
    rows = _write_batches(args.out, CLAIMS_SCHEMA, batches)
    print(f"wrote {rows:,} claims of {n_persons:,} persons to {args.out}")
    if args.accounts:
        table = accounts(n_persons, seed=args.seed, year=args.year)
        pq.write_table(table, args.accounts)
        print(f"wrote {table.num_rows:,} opening accounts to {args.accounts}")
    return 0


def _cmd_synth_drg(args: argparse.Namespace) -> int:
    from .synth import drg

    if drg is None:
        raise CommandError("the DRG generator (wzmedins.synth.drg) is not installed")
    tables = drg.generate(args.n, seed=args.seed, n_hospitals=args.hospitals, year=args.year)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, out / f"{name}.parquet")
        print(f"wrote {table.num_rows:,} rows to {out / f'{name}.parquet'}")
    return 0


def _write_batches(path: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


# ------------------------------------------------------------------ settle


def _read_table(path: str | None, what: str) -> pa.Table | None:
    if path is None:
        return None
    if not os.path.exists(path):
        raise CommandError(f"{what} file not found: {path}")
    import pyarrow.dataset as ds

    return ds.dataset(path, format="parquet").to_table()


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("settling"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=True,
    )


class Summary:
    """Running totals of a settlement, printed at the end."""

    def __init__(self) -> None:
        self.batches = self.claims = self.accepted = self.rejected = 0
        self.totals = dict.fromkeys(PAYER_LABELS, 0)
        self.reasons: dict[str, int] = {}
        self.started = time.perf_counter()

    def add(self, result) -> None:
        settled, rejected = result.settled, result.rejected
        self.batches += 1
        self.accepted += settled.num_rows
        self.rejected += rejected.num_rows
        self.claims += settled.num_rows + rejected.num_rows
        totals = result.totals()
        for name in self.totals:
            self.totals[name] += totals[name]
        if rejected.num_rows:
            for row in rejected.group_by("reason").aggregate([("row", "count")]).to_pylist():
                self.reasons[row["reason"]] = self.reasons.get(row["reason"], 0) + row["row_count"]

    def lines(self) -> list[str]:
        seconds = time.perf_counter() - self.started
        rate = self.claims / seconds if seconds > 0 else 0.0
        out = [
            f"claims    {self.claims:>14,}",
            f"accepted  {self.accepted:>14,}",
            f"rejected  {self.rejected:>14,}",
        ]
        out += [f"  {reason}: {count:,}" for reason, count in sorted(self.reasons.items())]
        out.append("paid by (yuan):")
        width = max(len(label) for label in PAYER_LABELS.values())
        for name, label in PAYER_LABELS.items():
            out.append(f"  {label:<{width}} {fen_to_yuan(self.totals[name]):>18}")
        out.append(f"  {'total cost':<{width}} {fen_to_yuan(sum(self.totals.values())):>18}")
        out.append(f"time {seconds:.1f} s ({rate:,.0f} claims/s)")
        return out


def settle_to_files(
    batches: Iterator[pa.RecordBatch],
    policy,
    *,
    out: str | None,
    rejected_out: str | None = None,
    state: pa.Table | None = None,
    accounts: pa.Table | None = None,
    total_rows: int | None = None,
    progress: bool = True,
) -> tuple[Summary, pa.Table | None]:
    """Settle a stream of batches, writing settled and rejected rows as they come.

    Returns the summary and the carried state after the last batch.
    """
    import wzmedins as wz

    summary = Summary()
    writers: dict[str, pq.ParquetWriter] = {}

    def write(path: str | None, table: pa.Table) -> None:
        if path is None:
            return
        if path not in writers:
            writers[path] = pq.ParquetWriter(path, table.schema)
        writers[path].write_table(table)

    try:
        with _progress(progress) as bar:
            task = bar.add_task("settle", total=total_rows)
            for result in wz.settle_stream(batches, policy, state=state, accounts=accounts):
                write(out, result.settled)
                write(rejected_out, result.rejected)
                summary.add(result)
                state = result.state
                bar.update(task, completed=summary.claims)
    finally:
        for writer in writers.values():
            writer.close()
    return summary, state


def _cmd_settle(args: argparse.Namespace) -> int:
    import pyarrow.dataset as ds

    import wzmedins as wz

    if not os.path.exists(args.claims):
        raise CommandError(f"claims file not found: {args.claims}")
    if args.ledger:
        return _settle_into_ledger(args)
    if not args.out:
        raise CommandError("settle needs --out (or --ledger and --batch-id)")
    policy = wz.load_policy(args.policy)
    state = _read_table(args.state_in, "state")
    accounts = _read_table(args.accounts, "accounts")
    dataset = ds.dataset(args.claims, format="parquet")
    batches = dataset.to_batches(batch_size=args.batch_size)
    summary, state = settle_to_files(
        batches,
        policy,
        out=args.out,
        rejected_out=args.rejected,
        state=state,
        accounts=accounts,
        total_rows=dataset.count_rows(),
        progress=not args.quiet,
    )
    if summary.batches == 0:  # an empty input still gives (empty) outputs with their schemas
        result = wz.settle(dataset.schema.empty_table(), policy, state=state, accounts=accounts)
        pq.write_table(result.settled, args.out)
        if args.rejected:
            pq.write_table(result.rejected, args.rejected)
        state = result.state
    if args.state_out:
        pq.write_table(state, args.state_out)
    print(f"policy {policy.name} (fingerprint {policy.fingerprint})")
    print("\n".join(summary.lines()))
    return 0


def _settle_into_ledger(args: argparse.Namespace) -> int:
    """``settle --ledger``: the ledger's daily batch, exactly once (``wzmedins.ledger``)."""
    if not args.batch_id:
        raise CommandError("settle --ledger needs --batch-id")
    from .ledger.cli import settle_into_ledger

    return settle_into_ledger(
        args.claims,
        args.ledger,
        batch_id=args.batch_id,
        policy=args.policy,
        out=args.out,
        rejected=args.rejected,
    )


# ------------------------------------------------------------------ policy


def _cmd_policy_show(args: argparse.Namespace) -> int:
    import wzmedins as wz

    policy = wz.load_policy(args.policy)
    print(f"policy {policy.name} (fingerprint {policy.fingerprint})")
    rows = policy.describe()
    key_width = max((len(row[1]) for row in rows), default=0)
    for profile, key, value, source, note in rows:
        line = f"  {profile}  {key:<{key_width}}  {_show(value)}  [{source}]"
        print(line + (f"  {note}" if note else ""))
    return 0


def _show(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _cmd_policy_check(args: argparse.Namespace) -> int:
    import wzmedins as wz

    if not os.path.isfile(args.file):
        raise CommandError(f"policy file not found: {args.file}")
    policy = wz.load_policy(args.file)
    print(f"OK {policy.name} (fingerprint {policy.fingerprint})")
    return 0


# ------------------------------------------------------------------ demo


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.what == "drg":  # DRG point payment on synthetic cases (wzmedins.drg.demo)
        from .drg.demo import run

        return run(args)
    import wzmedins as wz

    from .synth import accounts, claim_batches
    from .synth.claims import default_persons

    n_persons = default_persons(args.claims)
    policy = wz.load_policy("wenzhou-2022")
    print(f"settling {args.claims:,} synthetic claims of {n_persons:,} persons (seed {args.seed}) under {policy.name}")
    batches = claim_batches(args.claims, n_persons=n_persons, seed=args.seed, batch_size=args.batch_size)
    summary, _ = settle_to_files(
        batches,
        policy,
        out=None,
        accounts=accounts(n_persons, seed=args.seed),
        total_rows=args.claims,
        progress=not args.quiet,
    )
    print("\n".join(summary.lines()))
    return 0


# ------------------------------------------------------------------ parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _count(text: str) -> int:
    """A count that may be written 1e6 or 1_000_000."""
    try:
        value = int(float(text)) if any(c in text for c in "eE.") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of rows, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Settle Wenzhou basic medical-insurance claims; DRG point payment."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    synth = commands.add_parser("synth", help="write seeded synthetic data as Parquet")
    synth_commands = synth.add_subparsers(dest="what", metavar="WHAT", required=True)
    sc = synth_commands.add_parser("claims", help="synthetic claims (and opening accounts)")
    sc.add_argument("--n", type=_count, default=1_000_000, help="number of claims (default 1e6)")
    sc.add_argument("--persons", type=_count, default=0, help="insured persons (default n/10)")
    sc.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sc.add_argument("--year", type=int, default=2022, help="insurance year (default 2022)")
    sc.add_argument("--batch-size", type=_positive, default=1_000_000, help="rows per write")
    sc.add_argument("--no-daily", action="store_true", help="dates in no order (default: a daily feed)")
    sc.add_argument("--out", required=True, help="claims Parquet file to write")
    sc.add_argument("--accounts", help="also write the employees' opening accounts here")
    sc.set_defaults(func=_cmd_synth_claims)
    sd = synth_commands.add_parser("drg", help="synthetic DRG cases, catalog and hospitals")
    sd.add_argument("--n", type=_count, default=100_000, help="number of cases (default 1e5)")
    sd.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sd.add_argument("--hospitals", type=_positive, default=30, help="number of hospitals")
    sd.add_argument("--year", type=int, default=2022, help="year (default 2022)")
    sd.add_argument("--out", required=True, help="directory for one Parquet file per table")
    sd.set_defaults(func=_cmd_synth_drg)

    st = commands.add_parser("settle", help="settle a Parquet file or dataset of claims, batch by batch")
    st.add_argument("claims", metavar="CLAIMS", help="claims Parquet file or dataset directory")
    st.add_argument("--policy", required=True, help="built-in profile name or TOML file")
    st.add_argument("--out", help="settled claims Parquet file to write (required without --ledger)")
    st.add_argument("--rejected", help="rejected rows Parquet file to write")
    st.add_argument("--state-in", help="state Parquet from an earlier run, to carry on")
    st.add_argument("--state-out", help="write the state after the last claim here")
    st.add_argument("--accounts", help="opening account balances Parquet")
    st.add_argument("--batch-size", type=_positive, default=1_000_000, help="rows per batch")
    st.add_argument("--quiet", action="store_true", help="no progress bar")
    st.add_argument("--ledger", metavar="PATH_OR_URL", help="settle into this ledger instead")
    st.add_argument("--batch-id", help="the ledger batch id (with --ledger)")
    st.set_defaults(func=_cmd_settle)

    po = commands.add_parser("policy", help="show or check a policy profile")
    po_commands = po.add_subparsers(dest="what", metavar="WHAT", required=True)
    ps = po_commands.add_parser("show", help="print every parameter with its source label")
    ps.add_argument("policy", metavar="NAME|FILE", help="built-in profile name or TOML file")
    ps.set_defaults(func=_cmd_policy_show)
    pc_ = po_commands.add_parser("check", help="load a profile file: OK or the error")
    pc_.add_argument("file", metavar="FILE", help="a profile TOML file")
    pc_.set_defaults(func=_cmd_policy_check)

    de = commands.add_parser("demo", help="generate 1M claims, settle them, print the summary")
    de.add_argument("what", nargs="?", choices=("claims", "drg"), default="claims", help="claims (default) or drg")
    de.add_argument("--claims", type=_count, default=1_000_000, help="number of claims (1e6)")
    de.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    de.add_argument("--batch-size", type=_positive, default=1_000_000, help="rows per batch")
    de.add_argument("--quiet", action="store_true", help="no progress bar")
    de.set_defaults(func=_cmd_demo)

    _register_groups(commands)
    return parser


def _register_groups(commands) -> None:
    """Add the command groups other packages provide (each sets ``func``), when present."""
    import importlib

    for module in COMMAND_GROUPS:
        try:
            group = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a group whose package is not there yet; any other error shows
            if exc.name is None or not module.startswith(exc.name):
                raise
            continue
        group.register(commands)


# each module has register(subparsers): one line here per command group
COMMAND_GROUPS = (
    "wzmedins.drg.cli",
    "wzmedins.ledger.cli",
    "wzmedins.fund.cli",
    "wzmedins.capitation.cli",
    "wzmedins.platform.cli",
    "wzmedins.service.cli",
    "wzmedins.year.cli",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Examples
    --------
    >>> main(["policy", "check", "no-such-file.toml"])
    1
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (WzmedinsError, OSError, ValueError, KeyError, pa.ArrowException) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
