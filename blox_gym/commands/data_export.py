"""``blox-gym data export``: write a table in the official release formats."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path")
    parser.add_argument("--format", required=True, choices=["blox", "pickle", "csv"])
    parser.add_argument("--out", default="release")


def run(args: argparse.Namespace) -> int:
    from blox_gym.formats.exporter import export_store

    files = export_store(args.path, args.format, args.out)
    print(f"wrote {len(files)} file(s) to {args.out}:")
    for f in files:
        print(f"  {f}")
    return 0
