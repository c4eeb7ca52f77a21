"""``blox-gym demo``: a few queries, then three NAS agents search the default table briefly.

Runs regularized evolution, BRP-NAS and MaskablePPO (each skipped with a note when its
dependencies are missing) for 100 models and 3 seeds, prints their summary and writes the
figure, the summary and the per-evaluation rows into ``args.out``.  A second run resumes
from the finished seeds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

BUDGET = 100  # models
N_SEEDS = 3
DEMO_AGENTS = {
    "rea": {},
    "brp_nas": {"pool": 10_000},  # ranks 10,000 random models per round, not all (faster)
    "sb3:MaskablePPO": {"algo_kwargs": {"n_steps": 32, "batch_size": 32}},
}


def missing(agent: str) -> str | None:
    """Why ``agent`` cannot run here, or ``None``."""
    import agents
    from importlib.util import find_spec

    if agent == "brp_nas" and find_spec("predictors.base") is None:
        return "the predictor zoo (predictors/) is not installed"
    if agent.startswith("sb3:") and not agents.has_sb3():
        return "agents/sb3.py or stable-baselines3 is not installed"
    return None


def tour(table) -> None:
    """A few queries: one architecture in every spelling the table takes, and the top 5."""
    import numpy as np

    from blox_gym import costs, space
    from blox_gym.cli import print_rows

    arch = [[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]]
    mid = space.model_id(arch)
    early = table.epochs // 4
    print(f"\nthe Blox README's example {arch}\n  is model #{mid}, hash "
          f"{table.model_hash(mid)}, {costs.count_params(arch):,} params, "
          f"{costs.count_flops(arch):,} MACs;")
    print(f"  best val top-1 {table.val_acc(arch):.2f} % (epoch {early}: "
          f"{table.val_acc(arch, epoch=early):.2f} %), test top-1 {table.test_acc(mid):.2f} % "
          f"(mean over seeds {table.test_acc(mid, seed='mean'):.2f} %), "
          f"{table.train_time(mid):,.0f} s to train")
    test = table.test_acc(np.arange(space.N_MODELS))
    print(f"all {space.N_MODELS:,} models: test top-1 from {np.nanmin(test):.2f} to "
          f"{np.nanmax(test):.2f} %; the 5 best by validation:")
    print_rows([[int(i), table.val_acc(int(i)), table.test_acc(int(i)), table.params(int(i))]
                for i in table.top(5)], ["model", "best val %", "test %", "params"])


def main(args) -> int:
    from agents import report
    from agents.runner import run_experiment
    from blox_gym.table import open_table

    table = open_table(args.data)
    print(f"table: {table.label}")
    if table.is_synthetic:
        print("NOTE: a SYNTHETIC table: results describe the surrogate, not measured training.")
    tour(table)
    out = Path(args.out)
    seeds = list(range(args.seed, args.seed + N_SEEDS))
    jobs = max(1, min(N_SEEDS, os.cpu_count() or 1))
    print(f"\nsearching: {BUDGET} models per run, seeds {seeds}, {jobs} at a time; the "
          f"reported model is the best by validation, scored by its test top-1")
    for agent, settings in DEMO_AGENTS.items():
        reason = missing(agent)
        if reason:
            print(f"  {agent}: skipped ({reason})")
            continue
        start = time.perf_counter()
        run_experiment(agent, table.path, BUDGET, "models", seeds, jobs,
                       out_dir=out / "runs", settings=settings)
        print(f"  {agent}: done in {time.perf_counter() - start:.0f} s")
    figure = out / "anytime.png"
    print()
    print(report.write_report([out / "runs"], figure))
    print(f"wrote {figure} and the summary ({figure.with_suffix('.md')}, "
          f"{figure.with_suffix('.csv')}); rows in {out / 'runs'}")
    print("next: blox-gym search --agent NAME --out DIR, then blox-gym report DIR --out FIG")
    return 0
