"""``blox-gym demo``: a few queries, then three NAS agents search the default table briefly.

Runs regularized evolution, BRP-NAS and MaskablePPO (each skipped with a note when its
dependencies are missing) for 100 models and 3 seeds, prints their summary and writes the
figure, the summary and the per-evaluation rows into ``args.out``.  A second run resumes
from the finished seeds.

The agents' defaults are the paper's (``blox-gym search`` runs them); the demo changes
BRP-NAS to finish in about a minute of CPU per seed instead of several: it ranks a random
pool of 10,000 models per round instead of the whole space, and trains its predictor for at
most 50 epochs instead of 250.  The demo's output, summary ("changed: ...") and figure say so.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

BUDGET = 100  # models
N_SEEDS = 3
DEMO_AGENTS = {
    "rea": {},
    # the paper ranks the whole space and trains the predictor up to 250 epochs per round
    "brp_nas": {"pool": 10_000, "predictor": {"epochs": 50}},
    "sb3:MaskablePPO": {"algo_kwargs": {"n_steps": 32, "batch_size": 32}},
}


def missing(agent: str) -> str | None:
    """Why ``agent`` cannot run here (a package it imports is not installed), or ``None``."""
    import agents

    if agent.startswith(agents.SB3_PREFIX) and not agents.has_sb3():
        return "stable-baselines3 or sb3-contrib is not installed"
    try:
        agents.make(agent, **DEMO_AGENTS.get(agent, {}))
    except ImportError as err:
        return f"{err.name or err} is not installed"
    return None


def tour(table) -> None:
    """A few queries: one architecture in every spelling the table takes, and the top 5."""
    import numpy as np

    from blox_gym import costs, space
    from blox_gym.commands._text import print_rows

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="table path or URL (default: the synthetic default)")
    parser.add_argument("--out", default="blox-gym-demo", help="folder for the demo's outputs")
    parser.add_argument("--seed", type=int, default=0,
                        help="first search seed; the runs use SEED, SEED+1, SEED+2 (default 0)")


def run(args: argparse.Namespace) -> int:
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
        print(f"  {agent}: " + (", ".join(f"{k}={v}" for k, v in settings.items())
                                if settings else "the paper's settings"), flush=True)
        start = time.perf_counter()
        run_experiment(agent, table.path, BUDGET, "models", seeds, jobs,
                       out_dir=out / "runs", settings=settings)
        print(f"  {agent}: done in {time.perf_counter() - start:.0f} s", flush=True)
    figure = out / "anytime.png"
    print()
    print(report.write_report([out / "runs"], figure))
    print(f"wrote {figure} and the summary ({figure.with_suffix('.md')}, "
          f"{figure.with_suffix('.csv')}); rows in {out / 'runs'}")
    print("the demo changes some agents' settings to run in minutes (listed above, in the "
          "summary's settings column and in the figure); blox-gym search uses the paper's")
    print("next: blox-gym search --agent NAME --out DIR, then blox-gym report DIR --out FIG")
    return 0
