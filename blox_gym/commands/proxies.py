"""``blox-gym proxies``: compute zero-cost proxies of models into a store."""

from __future__ import annotations

import argparse

from blox_gym.modelspec import SYNTAX, parse_models


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from blox_gym.proxies import PROXIES
    from blox_gym.proxy_store import BACKENDS

    parser.add_argument("--proxy", default=",".join(PROXIES),
                        help=f"comma-separated proxies (default: all of {', '.join(PROXIES)})")
    parser.add_argument("--models", required=True, help=f"models to score: {SYNTAX}")
    parser.add_argument("--data", help="table path or URL (default: the synthetic default)")
    parser.add_argument("--out", help="store that receives proxies/<name> (default: the "
                                      "table's own store, so Table.proxy sees them)")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="images in the fixed random mini-batch (default 64)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="local worker processes, one torch thread each (default 1)")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local: this machine (--jobs processes); ray: one task per "
                             "--chunk models on a Ray cluster (default local)")
    parser.add_argument("--ray-address", default=None,
                        help="Ray cluster to join with --backend ray (default: a running "
                             "cluster, else a new local instance)")
    parser.add_argument("--chunk", type=int, default=16,
                        help="models per Ray task (default 16)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the network initialisation, the batch and sample:N")
    return parser


def run(args: argparse.Namespace) -> int:
    from blox_gym import proxies, proxy_store
    from blox_gym.table import open_table

    names = proxies.check_names([n.strip() for n in args.proxy.split(",") if n.strip()])
    models = parse_models(args.models, seed=args.seed)
    out = args.out or open_table(args.data).path
    counts = proxy_store.compute(out, models, names, batch_size=args.batch_size, seed=args.seed,
                                 jobs=args.jobs, backend=args.backend,
                                 ray_address=args.ray_address, chunk=args.chunk)
    done = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    print(f"{len(models):,} model(s) in {out}/proxies; computed now: {done} "
          f"(the rest were there already)")
    return 0
