"""The ``wzmedins ledger`` command group.

``register(subparsers)`` adds it to the main ``wzmedins`` parser; each command sets
``func(args) -> int`` (the exit code). Errors print one line to stderr and exit 1.
``python -m wzmedins.ledger.cli ...`` runs the group on its own.

``wzmedins settle CLAIMS --ledger PATH_OR_URL --batch-id ID --policy NAME`` should call
:func:`settle_into_ledger` (same summary as ``wzmedins ledger settle``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import WzmedinsError

LEDGER_HELP = "DuckDB file, or postgresql://user:pass@host/db[#schema]"


def _ledger(args, **kwargs):
    from .core import Ledger

    return Ledger(args.ledger, lock_timeout=args.lock_timeout, **kwargs)


def _existing(args, **kwargs):
    """A ledger that must exist already: a mistyped path is an error, not an empty ledger."""
    return _ledger(args, create=False, **kwargs)


def _yuan(fen: int) -> str:
    from ..tables import fen_to_yuan

    return fen_to_yuan(fen)


def settle_into_ledger(claims, ledger: str, *, batch_id: str, policy: str, lock_timeout: float = 30.0,
                       out: str | None = None, rejected: str | None = None, stream=None) -> int:  # fmt: skip
    """Settle ``claims`` (a Parquet path) as batch ``batch_id`` into ``ledger``, optionally
    writing the settled and rejected rows to Parquet, and print a summary. Returns 0.

    Examples
    --------
    >>> import datetime as dt, pathlib, tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> pq.write_table(pa.table({"claim_id": ["c1"], "person_id": ["p1"],
    ...     "settle_date": [dt.date(2022, 3, 1)], "scheme": ["resident"], "category": ["adult"],
    ...     "visit_type": ["inpatient"], "facility_level": ["tertiary"],
    ...     "total_cost": [5_000_000]}), tmp / "day.parquet")
    >>> settle_into_ledger(str(tmp / "day.parquet"), str(tmp / "l.duckdb"), batch_id="d1",
    ...                    policy="wenzhou-2022")
    batch d1: 1 claims, 1 settled, 0 rejected
      total_cost 50000.00
      account_current 0.00
      fund 34440.00
      critical_illness 0.00
      medical_assistance 0.00
      account_hist 0.00
      cash 15560.00
    0
    """
    import pyarrow.parquet as pq

    from ..cli import _read_table, input_total
    from .core import Ledger

    stream = sys.stdout if stream is None else stream
    table = _read_table(claims, "claims") if isinstance(claims, (str, Path)) else claims
    with Ledger(ledger, policy=policy, lock_timeout=lock_timeout) as book:
        result = book.settle(table, batch_id=batch_id)
    if out:
        pq.write_table(result.settled, out)
    if rejected:
        pq.write_table(result.rejected, rejected)
    n_settled, n_rejected = result.settled.num_rows, result.rejected.num_rows
    print(
        f"batch {batch_id}: {n_settled + n_rejected} claims, {n_settled} settled, {n_rejected} rejected",
        file=stream,
    )
    totals = result.totals()
    totals["total_cost"] = input_total(table, result)  # the input, checked against the payers below
    for name in (
        "total_cost",
        "account_current",
        "fund",
        "critical_illness",
        "medical_assistance",
        "account_hist",
        "cash",
    ):
        print(f"  {name} {_yuan(totals[name])}", file=stream)
    return 0


def _settle(args) -> int:
    from ..cli import check_outputs

    ledger_file = {"--ledger": args.ledger} if "://" not in args.ledger else {}
    check_outputs({"BATCH": args.batch, "--policy": args.policy if Path(args.policy).exists() else None},
                  {**ledger_file, "--out": args.out, "--rejected": args.rejected})  # fmt: skip
    return settle_into_ledger(args.batch, args.ledger, batch_id=args.batch_id, policy=args.policy,
                              lock_timeout=args.lock_timeout, out=args.out, rejected=args.rejected)  # fmt: skip


def _export(args) -> int:
    manifest = _existing(args).export(args.directory)
    rows = ", ".join(f"{name} {entry['rows']}" for name, entry in manifest["tables"].items() if name != "meta")
    print(f"exported to {args.directory}: {rows}")
    return 0


def _rebuild(args) -> int:
    from .core import Ledger

    ledger = Ledger.rebuild(args.directory, args.ledger, lock_timeout=args.lock_timeout)
    print(f"rebuilt {ledger.store.display} from {args.directory}: {ledger.batches().num_rows} batches")
    return 0


def _close_year(args) -> int:
    n = _existing(args).close_year(args.year)
    print(f"closed {args.year}: {n} persons' balances rolled into {args.year + 1}")
    return 0


def _void(args) -> int:
    n = _existing(args).void(args.batch_id, note=args.note)
    print(f"voided batch {args.batch_id}: {n} settled claims taken out (restore with `ledger restore`)")
    return 0


def _restore(args) -> int:
    n = _existing(args).restore(args.batch_id)
    print(f"restored batch {args.batch_id}: {n} settled claims back")
    return 0


def _load_accounts(args) -> int:
    from ..cli import _read_table

    n = _ledger(args).load_accounts(_read_table(args.accounts, "accounts"))
    print(f"loaded {n} opening balances")
    return 0


def _statement(args) -> int:
    st = _existing(args).statement(args.person_id, args.year)
    if args.format == "parquet":
        import pyarrow.parquet as pq

        if not args.out:
            raise WzmedinsError("--format parquet needs --out FILE")
        pq.write_table(st.table, args.out)
        return 0
    text = st.to_html() if args.format == "html" else st.to_text()
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``ledger`` command group to ``subparsers`` (from ``add_subparsers``)."""
    group = subparsers.add_parser("ledger", help="settle into a ledger, export, rebuild, close a year, statements",
                                  description="The settlement ledger: daily batches, exactly once.")  # fmt: skip
    commands = group.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")

    def command(name, func, help):
        p = commands.add_parser(name, help=help, description=help)
        p.add_argument("--ledger", required=True, metavar="PATH_OR_URL", help=LEDGER_HELP)
        p.add_argument("--lock-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="how long to wait for another writer (default 30)")  # fmt: skip
        p.set_defaults(func=func)
        return p

    p = command("settle", _settle, "settle a batch of claims into the ledger (again: the stored result)")
    p.add_argument("batch", metavar="BATCH", help="claims, Parquet file or dataset")
    p.add_argument("--batch-id", required=True, help="the batch's name, e.g. the settlement day")
    p.add_argument("--policy", required=True, metavar="NAME|FILE", help="policy profile")
    p.add_argument("--out", metavar="SETTLED.parquet", help="also write the settled rows")
    p.add_argument("--rejected", metavar="R.parquet", help="also write the rejected rows")
    p = command("export", _export, "export every table to Parquet with a checksum manifest")
    p.add_argument("directory", metavar="DIR")
    p = command("rebuild", _rebuild, "build a new ledger from an export, after checking its checksums")
    p.add_argument("directory", metavar="DIR")
    p = command(
        "close-year",
        _close_year,
        "roll unused account balances into next year's historical account",
    )
    p.add_argument("year", type=int, metavar="YEAR")
    p = command(
        "load-accounts",
        _load_accounts,
        "load opening balances (person_id, year, current_balance[, hist_balance])",
    )
    p.add_argument("accounts", metavar="ACCOUNTS", help="Parquet file")
    p = command("void", _void, "void a committed batch (its rows kept aside, its persons' state put back)")
    p.add_argument("batch_id", metavar="BATCH_ID")
    p.add_argument("--note", help="why, recorded with the void")
    p = command("restore", _restore, "undo a void")
    p.add_argument("batch_id", metavar="BATCH_ID")
    p = command("statement", _statement, "explanation of benefits for one person and year")
    p.add_argument("person_id", metavar="PERSON_ID")
    p.add_argument("year", type=int, metavar="YEAR")
    p.add_argument("--format", choices=("text", "html", "parquet"), default="text")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    return group


def run(args) -> int:
    """Call ``args.func``, turning an expected failure into one line on stderr and exit 1."""
    try:
        return args.func(args)
    except (WzmedinsError, OSError, ValueError) as e:
        print(f"wzmedins ledger: error: {e}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ledger commands alone: ``python -m wzmedins.ledger.cli settle ...``."""
    parser = argparse.ArgumentParser(prog="wzmedins")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ledger", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
