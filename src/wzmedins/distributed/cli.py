"""``wzmedins settle DATASET --scheduler local|tcp://HOST:PORT --partitions N --out DIR``.

Called by the ``settle`` command when ``--scheduler`` is given: the dataset is settled on the
cluster with :func:`wzmedins.distributed.settle_dataset`, a progress bar per stage, and the
totals printed as the one-machine command prints them.
"""

from __future__ import annotations

import argparse
import os
import time

from ..errors import WzmedinsError


def settle_on_cluster(args: argparse.Namespace) -> int:
    """Run ``settle`` on a Dask cluster (``args.scheduler``); returns the exit status."""
    import wzmedins as wz

    from ..cli import PAYER_LABELS, CommandError
    from ..tables import fen_to_yuan

    if args.ledger or args.state_in or args.state_out or args.rejected:
        raise CommandError("--scheduler writes settled, rejected and state under --out; "
                           "--ledger, --state-in, --state-out and --rejected do not apply")  # fmt: skip
    if not args.out:
        raise CommandError("settle --scheduler needs --out (a folder the workers can write)")
    try:
        from distributed import KilledWorker

        from . import cluster, settle_dataset
    except ImportError as e:  # pragma: no cover - the extra is part of dev
        raise CommandError("--scheduler needs dask: pip install 'wzmedins[distributed]'") from e
    if "://" not in args.claims and not os.path.exists(args.claims):
        raise CommandError(f"claims file not found: {args.claims}")
    policy = wz.load_policy(args.policy)
    started = time.perf_counter()
    try:
        with cluster.connect(args.scheduler) as client:
            run = settle_dataset(
                args.claims, policy, args.out, accounts=args.accounts, client=client,
                partitions=args.partitions, progress=not args.quiet,
            )  # fmt: skip
    except WzmedinsError:
        raise
    except (OSError, TimeoutError, KilledWorker) as e:
        raise CommandError(f"cluster {args.scheduler}: {type(e).__name__}: {e}") from None
    seconds = time.perf_counter() - started
    t = run.totals
    claims = t.settled + t.rejected
    print(f"policy {policy.name} (fingerprint {policy.fingerprint})")
    print(f"claims    {claims:>14,}")
    print(f"accepted  {t.settled:>14,}")
    print(f"rejected  {t.rejected:>14,}")
    for reason, count in t.reasons.items():
        print(f"  {reason}: {count:,}")
    print("paid by (yuan):")
    width = max(len(label) for label in PAYER_LABELS.values())
    for name, label in PAYER_LABELS.items():
        print(f"  {label:<{width}} {fen_to_yuan(t[name]):>18}")
    print(f"  {'total cost':<{width}} {fen_to_yuan(t['total_cost']):>18}")
    print(f"buckets {run.partitions}; settled, rejected and state under {args.out}")
    started_here = " (a local cluster's start included)" if args.scheduler == "local" else ""
    print(f"time {seconds:.1f} s ({claims / seconds if seconds else 0:,.0f} claims/s){started_here}")
    return 0
