"""``blox-gym data synth``: build the synthetic default table."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="store path (default: the default table's location)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the generator: the same seed gives the same table "
                             "(default 0)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing table at the output path")


def run(args: argparse.Namespace) -> int:
    from blox_gym import synthetic
    from blox_gym.table import default_path

    path = synthetic.build(args.out or default_path(), seed=args.seed, overwrite=args.overwrite)
    print(f"wrote the SYNTHETIC table blox-synthetic (seed {args.seed}) to {path}")
    return 0
