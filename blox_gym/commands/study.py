"""``blox-gym study NAME [--seeds K] --out DIR``: run one of the paper's blockwise studies."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from agents.studies import SEEDS, STUDIES

    parser.add_argument("name", choices=list(STUDIES), help="the study (docs/blockwise.md)")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"search seeds per curve (default: {SEEDS})")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--data", help="table path or URL (default: the synthetic default)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once (1)")
    parser.add_argument("--budget", type=float, default=100.0, help="units per run (100)")
    parser.add_argument("--agents", type=lambda text: [a for a in text.split(",") if a],
                        help="run only these agents' curves, comma-separated (e.g. brp_nas)")
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: write the results of the seeds finished so far")
    return parser


def run(args) -> int:
    from agents.studies import collect, run_study
    from blox_gym.table import open_table

    if args.collect:
        collect(args.name, args.out, open_table(args.data))
    else:
        run_study(args.name, args.out, args.seeds, args.data, args.jobs, args.budget,
                  only=args.agents)
    print(f"{args.out}/results.csv, {args.out}/summary.md, {args.out}/{args.name}.png")
    return 0
