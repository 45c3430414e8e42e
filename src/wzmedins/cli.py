"""The ``wzmedins`` command line (also ``python -m wzmedins``); see ``docs/cli.md``.

Every command has ``--help``. A problem that stops a command (a bad file, a bad policy, a
missing column) is one line on stderr and exit status 1; bad usage is exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import stat
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import WzmedinsError
from .tables import fen_to_yuan

PROG = "wzmedins"
log = logging.getLogger("wzmedins")
EXIT_TOO_MANY_REJECTED = 3  # --max-rejected exceeded (1: an error, 2: bad usage)

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


def _check_input(path: str, what: str) -> None:
    """An input is a regular file or a dataset folder: a device would be read forever, a FIFO
    would hang."""
    if not os.path.exists(path):
        raise CommandError(f"{what} file not found: {path}")
    mode = os.stat(path).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise CommandError(f"{what} {path}: not a regular file or a folder of Parquet files")


def _dataset(path: str, what: str):
    """A Parquet file or dataset folder; an unreadable one is a one-line error naming it."""
    import pyarrow.dataset as ds

    _check_input(path, what)
    try:
        return ds.dataset(path, format="parquet")
    except (pa.ArrowException, OSError) as e:
        raise CommandError(f"{what} {path}: not a readable Parquet file or dataset ({_first_line(e)})") from None


def _guarded(batches: Iterable[pa.RecordBatch], path: str, what: str) -> Iterator[pa.RecordBatch]:
    """The record batches read from ``path``; a corrupt part found while reading is named."""
    try:
        yield from batches
    except (pa.ArrowException, OSError) as e:
        raise CommandError(f"{what} {path}: cannot be read ({_first_line(e)})") from None


def _read_table(path: str | None, what: str) -> pa.Table | None:
    if path is None:
        return None
    dataset = _dataset(path, what)
    try:
        return dataset.to_table()
    except (pa.ArrowException, OSError) as e:
        raise CommandError(f"{what} {path}: cannot be read ({_first_line(e)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(inputs: dict[str, str | None], outputs: dict[str, str | None]) -> None:
    """Refuse, before anything is written, an output that is an input, lies inside an input
    folder, or is another output."""
    given_in = [(k, v) for k, v in inputs.items() if v]
    given_out = [(k, v) for k, v in outputs.items() if v]
    for i, (name, path) in enumerate(given_out):
        for other, source in given_in:
            inside = os.path.isdir(source) and os.path.realpath(path).startswith(os.path.realpath(source) + os.sep)
            if _same_file(path, source) or inside:
                raise CommandError(f"{name} {path} is the same file as {other} {source} (or inside it): refused")
        for other, target in given_out[:i]:
            if _same_file(path, target):
                raise CommandError(f"{name} {path} is the same file as {other} {target}: refused")


def _policy(specs: Sequence[str]):
    """Load the profiles given with --policy (several: each in force over its dates)."""
    import wzmedins as wz

    return wz.load_policy(*specs)


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
    """Running totals of a settlement, printed at the end (as text or JSON).

    Besides the payers it sums the *input* total cost of the accepted claims (a reversal's
    bill is its original's, negated), so the payer lines are checked against the input, not
    against themselves; and it counts accounts rows whose person had no claim.
    """

    def __init__(self, accounts: pa.Table | None = None) -> None:
        self.batches = self.claims = self.accepted = self.rejected = 0
        self.totals = dict.fromkeys(PAYER_LABELS, 0)
        self.input_total = 0
        self.reasons: dict[str, int] = {}
        self.started = time.perf_counter()
        self.accounts = accounts
        self.matched = None if accounts is None else np.zeros(accounts.num_rows, dtype=bool)

    def add(self, result, batch: pa.Table | pa.RecordBatch | None = None) -> None:
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
        if batch is not None:
            self.input_total += input_total(batch, result)
            self._match_accounts(batch)
        log.info(
            "batch %d: %d claims, %d accepted, %d rejected",
            self.batches, settled.num_rows + rejected.num_rows, settled.num_rows, rejected.num_rows,
        )  # fmt: skip

    def _match_accounts(self, batch) -> None:
        if self.matched is None or "person_id" not in batch.schema.names:
            return
        import pyarrow.compute as pc

        persons = pc.unique(batch.column("person_id"))
        if pa.types.is_dictionary(persons.type):
            persons = persons.cast(persons.type.value_type)
        try:
            ids = self.accounts["person_id"].cast(persons.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return  # another id type: wz.settle refuses it
        self.matched |= pc.is_in(ids, value_set=persons).to_numpy(zero_copy_only=False)

    @property
    def unmatched_accounts(self) -> int | None:
        return None if self.matched is None else int((~self.matched).sum())

    def finish(self) -> None:
        """Log the slips found: accounts rows for nobody, payers that do not add up."""
        unmatched, rows = self.unmatched_accounts, 0 if self.matched is None else len(self.matched)
        if unmatched and unmatched * 2 > rows:  # most of them: ids in another form, not insured without claims
            log.warning("%d of %d accounts rows matched no claimant (check the ids)", unmatched, rows)
        elif unmatched:  # insured persons without a claim in the input are normal
            log.info("%d accounts row(s) matched no claimant", unmatched)
        if self.batches and self.input_total != sum(self.totals.values()):
            raise CommandError(
                f"the payers add up to {fen_to_yuan(sum(self.totals.values()))} yuan but the accepted claims "
                f"total {fen_to_yuan(self.input_total)}: please report this"
            )

    def as_dict(self, policy=None) -> dict:
        seconds = time.perf_counter() - self.started
        out = {
            "claims": self.claims,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.reasons.items())),
            "paid_fen": dict(self.totals),
            "input_total_fen": self.input_total,
            "accounts_unmatched": self.unmatched_accounts,
            "seconds": round(seconds, 3),
        }
        if policy is not None:
            out = {"policy": policy.name, "fingerprint": policy.fingerprint, **out}
        return out

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
        out.append(f"  {'total cost (accepted claims)':<{width}} {fen_to_yuan(self.input_total):>18}")
        if self.unmatched_accounts is not None:
            out.append(f"accounts rows matching no claimant: {self.unmatched_accounts:,}")
        out.append(f"time {seconds:.1f} s ({rate:,.0f} claims/s)")
        return out


def input_total(batch, result) -> int:
    """Input total cost in fen of a batch's accepted claims; a reversal's is its original's,
    negated (its payers, as the kernel gives exactly the negatives)."""
    import pyarrow.compute as pc

    from . import tables as t

    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    n = table.num_rows
    reason = np.full(n, t.NO_REASON)
    fen = t.money(table, "total_cost", reason, is_required=False)
    accepted = np.ones(n, dtype=bool)
    accepted[result.rejected["row"].to_numpy() - getattr(result, "row_offset", 0)] = False
    if "reverses" in table.column_names:
        accepted &= t.null_mask(t.column(table, "reverses", t.ID_EXPECTED))
    total = int(fen[accepted].sum())
    settled = result.settled
    if "reverses" in settled.column_names and settled["reverses"].null_count < settled.num_rows:
        rev = settled.filter(pc.is_valid(settled["reverses"]))
        total += sum(int(pc.sum(rev[c]).as_py() or 0) for c in PAYER_LABELS)
    return total


def settle_to_files(
    batches: Iterator[pa.RecordBatch] | str,
    policy,
    *,
    out: str | None,
    rejected_out: str | None = None,
    state: pa.Table | None = None,
    accounts: pa.Table | None = None,
    total_rows: int | None = None,
    progress: bool = True,
    batch_size: int = 1 << 20,
    carry: Sequence[str] = (),
) -> tuple[Summary, Any]:
    """Settle a Parquet path or a stream of batches through one store, writing settled and
    rejected rows as they come (``wzmedins.settle.files``), with progress.

    ``rejected.row`` is the row in the whole input, not in its batch. Returns the summary and
    the store (``.state()`` is the carried state after the last batch: built only when asked
    for, since a city's persons make a large table).
    """
    from .settle.files import settle_to_files as settle_files

    summary = Summary(accounts)
    with _progress(progress) as bar:
        task = bar.add_task("settle", total=total_rows)

        def on_batch(result, batch) -> None:
            summary.add(result, batch)
            bar.update(task, completed=summary.claims)

        done = settle_files(batches, policy, out=out, rejected_out=rejected_out, state=state, accounts=accounts,
                            batch_size=batch_size, carry=carry, on_batch=on_batch)  # fmt: skip
    return summary, done.settler


LEDGER_REFUSED = {
    "accounts": ("--accounts", "load opening balances once with `wzmedins ledger load-accounts`"),
    "state_in": ("--state-in", "the ledger holds the state"),
    "batch_size": ("--batch-size", "a ledger batch is settled whole, in one transaction"),
    "carry": ("--carry", "the ledger stores the settled columns it knows"),
}


def _cmd_settle(args: argparse.Namespace) -> int:
    import wzmedins as wz

    if args.scheduler:  # on a Dask cluster: wzmedins.distributed (checks its own options)
        from .distributed.cli import settle_on_cluster

        return settle_on_cluster(args)
    _check_input(args.claims, "claims")
    policy_files = {f"--policy {p}": p for p in args.policy if os.path.exists(p)}
    inputs = {"CLAIMS": args.claims, "--state-in": args.state_in, "--accounts": args.accounts, **policy_files}
    outputs = {"--out": args.out, "--rejected": args.rejected, "--state-out": args.state_out}
    if args.ledger:
        for attr, (option, why) in LEDGER_REFUSED.items():
            if getattr(args, attr):
                raise CommandError(f"{option} does not work with --ledger ({why})")
        if not args.batch_id:
            raise CommandError("settle --ledger needs --batch-id")
        if "://" not in args.ledger:
            outputs = {"--ledger": args.ledger, **outputs}
    elif not args.out:
        raise CommandError("settle needs --out (or --ledger and --batch-id)")
    check_outputs(inputs, outputs)
    policy = _policy(args.policy)
    if args.ledger:
        summary, state = _settle_into_ledger(args, policy)
    else:
        summary, state = _settle_files(args, policy, wz)
    if args.state_out:
        pq.write_table(state, args.state_out)
    summary.finish()
    if args.json:
        print(json.dumps(summary.as_dict(policy), ensure_ascii=False))
    else:
        if args.ledger:
            counts = f"{summary.claims} claims, {summary.accepted} settled, {summary.rejected} rejected"
            print(f"batch {args.batch_id}: {counts}")
        print(f"policy {policy.name} (fingerprint {policy.fingerprint})")
        print("\n".join(summary.lines()))
    return _threshold(summary, args.max_rejected)


def _settle_files(args, policy, wz):
    state = _read_table(args.state_in, "state")
    accounts = _read_table(args.accounts, "accounts")
    from .settle.files import read_batches

    dataset = _dataset(args.claims, "claims")  # an unreadable file is a one-line error naming it
    source, _ = read_batches(args.claims, batch_size=args.batch_size or DEFAULT_BATCH)  # enums as dictionaries
    summary, settler = settle_to_files(
        _guarded(source, args.claims, "claims"),
        policy,
        out=args.out,
        rejected_out=args.rejected,
        state=state,
        accounts=accounts,
        total_rows=dataset.count_rows(),
        progress=not args.quiet,
        carry=args.carry or (),
    )
    if summary.batches == 0:  # an empty input still gives (empty) outputs with their schemas
        result = wz.settle(dataset.schema.empty_table(), policy, state=state, accounts=accounts, carry=args.carry or ())
        pq.write_table(result.settled, args.out)
        if args.rejected:
            pq.write_table(result.rejected, args.rejected)
        return summary, result.state
    return summary, settler.state() if args.state_out else None


def _settle_into_ledger(args: argparse.Namespace, policy):
    """``settle --ledger``: the ledger's daily batch, exactly once (``wzmedins.ledger``)."""
    from .ledger import Ledger

    table = _read_table(args.claims, "claims")
    summary = Summary()
    with Ledger(args.ledger, policy=policy) as ledger:
        result = ledger.settle(table, batch_id=args.batch_id)
    if args.out:
        pq.write_table(result.settled, args.out)
    if args.rejected:
        pq.write_table(result.rejected, args.rejected)
    summary.add(result, table)
    return summary, result.state


def _max_rejected(text: str) -> tuple[float, bool]:
    """``--max-rejected``: a count (``100``) or a share of the claims (``0.5%``)."""
    try:
        if text.endswith("%"):
            value, share = float(text[:-1]), True
        else:
            value, share = float(_count(text)), False
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected a count or a percentage, got {text!r}") from None
    if value < 0 or (share and value > 100):
        raise argparse.ArgumentTypeError(f"expected a count >= 0 or a percentage 0..100%, got {text!r}")
    return value, share


def _threshold(summary: Summary, limit) -> int:
    if limit is None:
        return 0
    value, share = limit
    allowed = summary.claims * value / 100 if share else value
    if summary.rejected > allowed:
        shown = f"{value:g}%" if share else f"{value:g}"
        print(f"{PROG}: {summary.rejected:,} rejected rows, more than --max-rejected {shown}", file=sys.stderr)
        return EXIT_TOO_MANY_REJECTED
    return 0


# ------------------------------------------------------------------ policy


def _cmd_policy_show(args: argparse.Namespace) -> int:

    policy = _policy(args.policy)
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
    from .policy.profile import builtin_profiles

    for spec in args.file:
        if spec not in builtin_profiles() and not os.path.exists(spec):
            known = ", ".join(builtin_profiles())
            raise CommandError(f"policy file not found: {spec} (nor a built-in profile: {known})")
    policy = _policy(args.file)
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
    summary.finish()
    print("\n".join(summary.lines()))
    return 0


# ------------------------------------------------------------------ parser


DEFAULT_BATCH = 1 << 20  # Parquet's usual row group: batches do not straddle row groups


def _positive(text: str) -> int:
    value = _count(text)
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
    st.add_argument(
        "--policy",
        required=True,
        action="append",
        metavar="NAME|FILE",
        help="built-in profile or TOML file; repeat for dated profiles in force one after another",
    )
    st.add_argument("--out", help="settled claims Parquet file to write (required without --ledger)")
    st.add_argument("--rejected", help="rejected rows Parquet file to write")
    st.add_argument("--state-in", help="state Parquet from an earlier run, to carry on")
    st.add_argument("--state-out", help="write the state after the last claim here")
    st.add_argument("--accounts", help="opening account balances Parquet")
    st.add_argument(
        "--batch-size",
        type=_positive,
        default=None,
        help="rows per batch (default 2^20 = 1,048,576, the usual Parquet row group)",
    )
    st.add_argument("--carry", action="append", metavar="COLUMN", help="copy this input column into --out (repeat)")
    st.add_argument("--json", action="store_true", help="print the summary as one JSON object (amounts in fen)")
    st.add_argument(
        "--max-rejected",
        type=_max_rejected,
        metavar="N|P%",
        help="exit with status 3 when more rows than this (a count, or a share like 0.5%%) are rejected",
    )
    st.add_argument("--quiet", action="store_true", help="no progress bar")
    st.add_argument("--ledger", metavar="PATH_OR_URL", help="settle into this ledger instead")
    st.add_argument("--batch-id", help="the ledger batch id (with --ledger)")
    st.add_argument("--scheduler", help="settle on a Dask cluster: 'local' or tcp://HOST:PORT (--out is a folder)")
    st.add_argument("--partitions", type=_positive, help="person buckets on the cluster (default 4 per worker)")
    st.add_argument("-v", "--verbose", action="store_true", help="log each batch (counts only) on stderr")
    st.set_defaults(func=_cmd_settle)

    po = commands.add_parser("policy", help="show or check a policy profile")
    po_commands = po.add_subparsers(dest="what", metavar="WHAT", required=True)
    ps = po_commands.add_parser("show", help="print every parameter with its source label")
    ps.add_argument("policy", metavar="NAME|FILE", nargs="+", help="built-in profile names or TOML files")
    ps.set_defaults(func=_cmd_policy_show)
    pc_ = po_commands.add_parser("check", help="load profiles (built-in or files): OK or the error")
    pc_.add_argument("file", metavar="NAME|FILE", nargs="+", help="built-in profile names or TOML files")
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
    _log_to_stderr(verbose=getattr(args, "verbose", False))
    from .process import tune

    tune()  # allocator settings for streaming (the results do not depend on them)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # the library's warnings as log lines, not source lines
            return int(args.func(args) or 0)
    except (WzmedinsError, OSError, ValueError, KeyError, pa.ArrowException) as exc:
        if isinstance(exc, BrokenPipeError):
            return _broken_pipe()
        print(f"{PROG}: error: {_first_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a database driver's own errors (duckdb.Error, ADBC) are one line too
        if type(exc).__module__.split(".")[0] not in DRIVER_MODULES:
            raise
        print(f"{PROG}: error: {type(exc).__name__}: {_first_line(exc)}", file=sys.stderr)
        return 1


DRIVER_MODULES = ("duckdb", "_duckdb", "adbc_driver_manager", "adbc_driver_postgresql")


def _broken_pipe() -> int:
    """The reader went away (``| head``): stop quietly, as other Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141  # 128 + SIGPIPE


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library warning (a unit slip, ids that match nothing) as one log line naming its kind."""
    log.warning("%s: %s", category.__name__, message)


def _log_to_stderr(*, verbose: bool) -> None:
    """Warnings (and with -v each batch's counts) on stderr through ``logging``, once."""
    if not any(getattr(h, "_wzmedins_cli", False) for h in log.handlers):
        handler = logging.StreamHandler()
        handler._wzmedins_cli = True
        handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
        log.addHandler(handler)
    for handler in log.handlers:
        if getattr(handler, "_wzmedins_cli", False):
            handler.stream = sys.stderr  # the current stderr (tests capture it)
            handler.setLevel(logging.INFO if verbose else logging.WARNING)
    log.setLevel(logging.INFO)
