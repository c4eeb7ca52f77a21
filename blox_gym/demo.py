"""``blox-gym demo``: a short tour of the default table, the search space and the networks."""

from __future__ import annotations

import numpy as np

from blox_gym import costs, space
from blox_gym.cli import print_rows
from blox_gym.table import open_table


def main(args) -> int:
    table = open_table(args.data)
    print(f"table: {table.label}")
    example = [[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]]
    mid = space.model_id(example)
    print(f"\nthe README's example architecture {example}\n  is model #{mid}, hash "
          f"{table.model_hash(mid)}, {costs.count_params(example):,} params, "
          f"{costs.count_flops(example):,} MACs")
    print(f"  best val top-1 {table.val_acc(mid):.2f} %, test top-1 {table.test_acc(mid):.2f} %, "
          f"{table.train_time(mid):,.0f} s to train")
    print("\nthe 5 best models by validation accuracy:")
    ids = table.top(5)
    print_rows([[int(i), table.val_acc(int(i)), table.test_acc(int(i)), table.params(int(i))]
                for i in ids], ["model", "best val %", "test %", "params"])
    rng = np.random.default_rng(args.seed)
    sample = rng.integers(space.N_MODELS, size=200)
    print(f"\nrandom search, 200 models (seed {args.seed}): best val "
          f"{table.val_acc(sample).max():.2f} % -> test "
          f"{table.test_acc(sample[np.argmax(table.val_acc(sample))]):.2f} % "
          f"(table's best test {np.nanmax(table.test_acc(np.arange(space.N_MODELS))):.2f} %)")
    return 0
