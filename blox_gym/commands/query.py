"""``blox-gym query``: look models up by id, hash or architecture."""

from __future__ import annotations

import argparse
import json

from blox_gym.commands._text import (ARCH_HELP, add_seed_argument, check_seed, parse_arch,
                                     print_rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("arch", nargs="+", metavar="ARCH", help=f"the models: {ARCH_HELP}")
    parser.add_argument("--data", help="table path or URL (default: the default table)")
    add_seed_argument(parser)
    parser.add_argument("--json", action="store_true",
                        help="print JSON instead of a table: the original full_info layout "
                             "per model (with --seed mean: the summary metrics averaged over "
                             "seeds)")


def summary(table, model: int, seed: int | str) -> dict:
    """One model's summary metrics under ``seed`` (an int or ``"mean"``), hash and costs."""
    from blox_gym import space

    return {"model": model, "seed": seed, "model_hash": table.model_hash(model),
            **{name: float(table.metric(name, model, seed=seed))
               for name in table.summary_metrics()},
            "params": int(table.params(model)), "flops": int(table.flops(model)),
            "arch": space.to_flat(table.arch_vec(model)).tolist()}


def run(args: argparse.Namespace) -> int:
    from blox_gym import space
    from blox_gym.table import open_table

    specs = [parse_arch(a) for a in args.arch]  # bad spellings fail before the table opens
    table = open_table(args.data)
    check_seed(table, args.seed)
    ids = [int(table.ids(spec)[0][0]) for spec in specs]
    if args.json:
        infos = ([{"model": i, **table.full_info(i, seed=args.seed)} for i in ids]
                 if args.seed != "mean" else [summary(table, i, "mean") for i in ids])
        print(json.dumps(infos, indent=1))
        return 0
    print(f"table: {table.label}" + (", mean over seeds " + ", ".join(map(str, table.seeds))
                                     if args.seed == "mean" else ""))
    rows = [[i, table.model_hash(i), table.val_acc(i, seed=args.seed),
             table.test_acc(i, seed=args.seed), round(float(table.train_time(i, seed=args.seed))),
             int(table.params(i)), int(table.flops(i)),
             ",".join(map(str, space.to_flat(table.arch_vec(i))))] for i in ids]
    print_rows(rows, ["model", "hash", "best val %", "test %", "train s", "params",
                      "flops", "canonical arch"])
    if args.seed != "mean" and str(args.seed) in table.attrs.get("env_per_model", []):
        for i in ids:  # who trained where
            env = table.env(args.seed, i)
            print(f"env of #{i}, seed {args.seed}: "
                  + (", ".join(f"{k}={v}" for k, v in env.items()) or "no env row"))
    return 0
