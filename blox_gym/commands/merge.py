"""``blox-gym data merge RUNS... --into STORE``: put finished run records into a table."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("runs", nargs="+", help="run record files or folders of them")
    parser.add_argument("--into", required=True, help="store path (created if missing)")
    parser.add_argument("--name", help="table name (default: blox-<dataset>)")
    return parser


def run(args) -> int:
    from blox_gym.pipeline.merge import merge_runs

    summary = merge_runs(args.runs, args.into, name=args.name)
    print(f"{summary['records']} record(s): {summary['added']} added, {summary['skipped']} "
          f"already in {args.into} (seeds {summary['seeds']})")
    return 0
