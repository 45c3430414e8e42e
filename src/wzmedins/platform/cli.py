"""``wzmedins platform``: settle platform records, show the code lists (docs/platform.md)."""

from __future__ import annotations

import argparse


def _settle(args: argparse.Namespace) -> int:
    import os

    import pyarrow.parquet as pq

    import wzmedins as wz

    from ..cli import CommandError

    if not os.path.exists(args.records):
        raise CommandError(f"records file not found: {args.records}")
    state = pq.read_table(args.state_in) if args.state_in else None
    accounts = pq.read_table(args.accounts) if args.accounts else None
    out = wz.platform.settle(args.records, wz.load_policy(args.policy), state=state, accounts=accounts,
                             codes=args.codes, hosp_lv=args.hosp_lv)  # fmt: skip
    written = wz.platform.write_answer(out.answer, args.out)
    if args.rejected:
        pq.write_table(out.rejected, args.rejected)
    if args.state_out:
        pq.write_table(out.state, args.state_out)
    print(f"{out.setlinfo.num_rows} settled, {out.rejected.num_rows} rejected; wrote {', '.join(written)}")
    for row in out.rejected.group_by("reason").aggregate([("row", "count")]).to_pylist():
        print(f"  {row['reason']}: {row['row_count']}")
    return 0


def _codes(args: argparse.Namespace) -> int:
    from .codes import load_codes

    codes = load_codes(args.codes)
    print(f"code lists {codes.name}")
    for lst, code, value, name, source in codes.describe():
        print(f"  {lst:<15} {code:<6} {value:<12} [{source}] {name}")
    for key, value in codes.fund_pay_type.items():
        print(f"  fund_pay_type   {value:<6} {key:<26} {codes.fund_pay_type_name[key]}")
    for label, text in codes.source_labels.items():
        print(f"  {label}: {text}")
    return 0


def register(subparsers) -> None:
    """Add ``platform`` to the ``wzmedins`` parser."""
    pf = subparsers.add_parser("platform", help="national platform records in, setlinfo/setldetail out")
    commands = pf.add_subparsers(dest="what", metavar="WHAT", required=True)
    st = commands.add_parser("settle", help="settle 2207/2304 records (JSON, JSON lines or Parquet)")
    st.add_argument("records", metavar="RECORDS", help="records file: .json, .jsonl or Parquet")
    st.add_argument("--policy", required=True, help="built-in profile name or TOML file")
    st.add_argument("--out", required=True, help="answer file: .json, .parquet or .arrow")
    st.add_argument("--codes", help="code lists TOML (default: the built-in national-2022)")
    st.add_argument("--hosp-lv", help="the institution's level code for records without hosp_lv")
    st.add_argument("--rejected", help="write the rejected rows here (Parquet)")
    st.add_argument("--state-in", help="state Parquet from an earlier run")
    st.add_argument("--state-out", help="write the state after the batch here")
    st.add_argument("--accounts", help="opening account balances Parquet")
    st.set_defaults(func=_settle)
    cd = commands.add_parser("codes", help="print the code lists with their sources")
    cd.add_argument("--codes", help="code lists TOML (default: the built-in national-2022)")
    cd.set_defaults(func=_codes)
