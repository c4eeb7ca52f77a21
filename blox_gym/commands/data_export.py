"""``blox-gym data export``: write a table in the official release formats."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?",
                        help="table path or URL (default: the default table)")
    parser.add_argument("--format", required=True, choices=["blox", "pickle", "csv", "parquet"],
                        help="official release files, or one Parquet file of per-model rows")
    parser.add_argument("--out", default="release",
                        help="output folder (a file for parquet, default blox-table.parquet)")


def run(args: argparse.Namespace) -> int:
    if args.format == "parquet":
        from blox_gym.parquet import export_parquet
        from blox_gym.table import open_table

        out = args.out if args.out != "release" else "blox-table.parquet"
        print(f"wrote {export_parquet(open_table(args.path), out)}")
        return 0
    from blox_gym.formats.exporter import export_store
    from blox_gym.table import open_table

    files = export_store(open_table(args.path).path, args.format, args.out)
    print(f"wrote {len(files)} file(s) to {args.out}:")
    for f in files:
        print(f"  {f}")
    return 0
