"""``blox-gym report``: anytime curves and a summary of search results."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agents.report import AXES

    parser.add_argument("dirs", nargs="+", metavar="DIR",
                        help="runner output folders (an agent's folder or its parent)")
    parser.add_argument("--out", required=True, metavar="FIG",
                        help="figure path (.png, .pdf, .svg); the summary goes next to it")
    parser.add_argument("--unit", choices=AXES, default="models", help="cost axis (models)")
    parser.add_argument("--log-x", action=argparse.BooleanOptionalAction, default=None,
                        help="log cost axis (default: on for models, off otherwise)")
    parser.add_argument("--pareto", metavar="COST", default=None,
                        help="also a Pareto report of test top-1 against COST "
                             "(latency:<device> or macs): <out>-pareto.png/.csv/.md, "
                             "<out>-fronts.csv")


def run(args: argparse.Namespace) -> int:
    from agents.report import write_report

    print(write_report(args.dirs, args.out, args.unit, args.log_x))
    out = Path(args.out)
    print(f"wrote {out}, {out.with_suffix('.csv')}, {out.with_suffix('.md')}")
    if args.pareto is not None:
        from agents.pareto_report import write_pareto_report

        print(write_pareto_report(args.dirs, args.out, args.pareto))
        stem = out.with_suffix("")
        print(f"wrote {stem}-pareto.png, {stem}-pareto.csv, {stem}-fronts.csv, "
              f"{stem}-pareto.md")
    return 0
