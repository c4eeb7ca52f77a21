"""``blox-gym top``: the best models of a table."""

from __future__ import annotations

import argparse
import json

from blox_gym import space
from blox_gym.commands._text import add_seed_argument, check_seed, print_rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=10, help="how many models (default 10)")
    parser.add_argument("--by", choices=["val", "test"], default="val",
                        help="rank by best validation top-1 (default) or by test top-1")
    parser.add_argument("--data", help="table path or URL (default: the default table)")
    add_seed_argument(parser)
    parser.add_argument("--json", action="store_true",
                        help="print JSON (table name, source and one object per model)")


def run(args: argparse.Namespace) -> int:
    from blox_gym.table import open_table

    table = open_table(args.data)
    check_seed(table, args.seed)
    ids = table.top(args.k, by=args.by, seed=args.seed)
    rows = [{"model": int(i), "val_top1": table.val_acc(int(i), seed=args.seed),
             "test_top1": table.test_acc(int(i), seed=args.seed), "params": table.params(int(i)),
             "flops": table.flops(int(i)), "arch": space.to_flat(table.arch_vec(int(i))).tolist()}
            for i in ids]
    if args.json:
        print(json.dumps({"table": table.name, "source": table.source, "models": rows}, indent=1))
        return 0
    print(f"table: {table.label}; top {args.k} by best {args.by} top-1, seed {args.seed}")
    print_rows([[r["model"], r["val_top1"], r["test_top1"], r["params"], r["flops"],
                 ",".join(map(str, r["arch"]))] for r in rows],
               ["model", "best val %", "test %", "params", "flops", "arch"])
    return 0
