"""``wzmedins serve`` (the settlement service) and ``wzmedins service key`` (API keys).

``register(subparsers)`` adds the commands to the main parser; each sets ``func``.
"""

from __future__ import annotations

import argparse
import logging


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import ServiceConfig, create_app

    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(asctime)s %(levelname)s %(message)s")
    config = ServiceConfig(
        ledger=args.ledger, policy=args.policy, keys=args.keys, codes=args.codes, max_body=args.max_body,
        rate=args.rate, burst=args.burst, max_group=args.max_group, timeout=args.timeout,
    )  # fmt: skip
    app = create_app(config)
    # one process, one writer: uvicorn's access log is off because a path may hold a person's id
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=False, log_level=args.log_level,
                proxy_headers=args.proxy_headers, forwarded_allow_ips=args.forwarded_allow_ips)  # fmt: skip
    return 0


def _key_add(args: argparse.Namespace) -> int:
    from .auth import add_key

    if bool(args.institution) == bool(args.person):
        raise SystemExit("wzmedins: error: give --institution CODE or --person PSN_NO")
    key = add_key(args.keys, code=args.institution, psn_no=args.person, name=args.name or "", hosp_lv=args.hosp_lv,
                  role=args.role, replace=args.replace)  # fmt: skip
    who = f"institution {args.institution}" if args.institution else f"person {args.person}"
    print(f"new key for {who} (shown once; only its hash is stored in {args.keys}):")
    print(key)
    return 0


def register(subparsers) -> None:
    """Add ``serve`` and ``service`` to the ``wzmedins`` parser."""
    sv = subparsers.add_parser("serve", help="run the real-time settlement service (HTTP/JSON, docs/service.md)")
    sv.add_argument("--ledger", required=True, metavar="PATH_OR_URL", help="DuckDB file or postgresql:// URL")
    sv.add_argument("--policy", required=True, help="built-in profile name or TOML file")
    sv.add_argument("--keys", required=True, help="keys file (wzmedins service key add ...); re-read when it changes")
    sv.add_argument("--codes", help="platform code lists TOML (default: the built-in national-2022)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8207, help="port (default 8207)")
    sv.add_argument("--max-body", type=int, default=16_384, help="largest request body in bytes (default 16384)")
    sv.add_argument("--rate", type=float, default=500.0, help="calls a second per institution (default 500)")
    sv.add_argument("--burst", type=int, default=1000, help="burst of calls per institution (default 1000)")
    sv.add_argument("--max-group", type=int, default=256, help="claims committed together at most (default 256)")
    sv.add_argument("--timeout", type=float, default=10.0, help="seconds a call waits for its settlement")
    sv.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sv.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from --forwarded-allow-ips")
    sv.add_argument("--forwarded-allow-ips", default="127.0.0.1", help="the reverse proxy's address")
    sv.set_defaults(func=_serve)

    sg = subparsers.add_parser("service", help="the settlement service's API keys")
    sg_commands = sg.add_subparsers(dest="what", metavar="WHAT", required=True)
    key = sg_commands.add_parser("key", help="API keys and person credentials")
    key_commands = key.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = key_commands.add_parser("add", help="make a key, store its hash, print it once")
    add.add_argument("--keys", required=True, help="keys file (created if missing)")
    add.add_argument("--institution", metavar="CODE", help="fixmedins_code of the institution")
    add.add_argument("--person", metavar="PSN_NO", help="a person's credential (for their own statement)")
    add.add_argument("--name", help="the institution's name")
    add.add_argument("--hosp-lv", help="the institution's level code (医院等级), e.g. 02")
    add.add_argument("--role", default="institution", choices=["institution", "agency"])
    add.add_argument("--replace", action="store_true", help="drop the entry's older keys (end of a rotation)")
    add.set_defaults(func=_key_add)
