"""``blox-gym data import``: read the official release files into a table."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src_dir", help="folder holding the release files (blox-base-<seed>, "
                        "blox-info, ... as .blox, .pickle or .csv)")
    parser.add_argument("--out", default="blox-official.zarr",
                        help="store path to write (default blox-official.zarr)")
    parser.add_argument("--prefer", default="blox,pickle,csv",
                        help="per file, the first available encoding in this order")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing store at --out")


def run(args: argparse.Namespace) -> int:
    from blox_gym.formats.importer import import_release, summary_lines
    from blox_gym.table import open_table

    prefer = tuple(p.strip().lstrip(".") for p in args.prefer.split(","))
    path = import_release(args.src_dir, args.out, prefer=prefer, overwrite=args.overwrite)
    print(f"imported {args.src_dir} into {path}")
    for line in summary_lines(open_table(path).source):
        print(f"  {line}")
    return 0
