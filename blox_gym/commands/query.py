"""``blox-gym query``: look models up by id, hash or architecture."""

from __future__ import annotations

import argparse
import json

from blox_gym import space
from blox_gym.commands._text import parse_arch, print_rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("arch", nargs="+",
                        help="#<model id>, a 32-hex hash, 15 comma-separated ints, or nested form")
    parser.add_argument("--data", help="table path or URL")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from blox_gym.table import open_table

    table = open_table(args.data)
    ids = [int(table.ids(parse_arch(a))[0][0]) for a in args.arch]
    infos = [table.full_info(i, seed=args.seed) for i in ids]
    if args.json:
        print(json.dumps([{"model": i, **info} for i, info in zip(ids, infos)], indent=1))
        return 0
    print(f"table: {table.label}")
    rows = [[i, info["model_hash"], table.val_acc(i, seed=args.seed), info["test_top1"],
             info["train_time_s"], info["info"]["params"], info["info"]["flops"],
             ",".join(map(str, space.to_flat(info["info"]["arch_vec"])))]
            for i, info in zip(ids, infos)]
    print_rows(rows, ["model", "hash", "best val %", "test %", "train s", "params",
                      "flops", "canonical arch"])
    if str(args.seed) in table.attrs.get("env_per_model", []):  # who trained where
        for i, info in zip(ids, infos):
            print(f"env of #{i}, seed {args.seed}: "
                  + (", ".join(f"{k}={v}" for k, v in info["env"].items()) or "no env row"))
    return 0
