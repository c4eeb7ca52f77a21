"""RL on Blox, honestly: inside the budget from scratch, and transferred from another world.

    PYTHONPATH=. python benchmarks/bench_rl.py [--seeds 10] [--budget 200] [--jobs 2]
        [--world-b PATH] [--pretrain 2000]

The evaluated world is the default synthetic table (``open_table()``).  Every agent searches
it for ``--budget`` models (charged), ``--seeds`` seeds:

* baselines: random search, regularized evolution;
* in budget, from scratch: the paper's Q-learning and REINFORCE, and ``sb3:PPO`` (relative
  actions, 4 copies of the native vector env sharing the budget), ``sb3:MaskablePPO`` and
  ``sb3:DQN``, all learning inside the budget;
* transferred: the three SB3 agents, Q-learning and REINFORCE first train on another
  synthetic world (``--world-b``, made by ``blox-gym data synth --seed 1``; ``--pretrain``
  models there, not charged; the paper's learners through their ``pretrain`` setting), then
  search the evaluated world inside the budget with that policy, which keeps learning.

No setting was tuned on the evaluated world.  Writes ``benchmarks/results/rl/runs.csv``
(final regret per agent and seed), ``summary.md`` and ``regret.png``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "rl"
ENV = {"action_mode": "relative", "reward": "step", "mask_invalid": True, "mask_revisits": True}
SB3 = {  # algorithm -> (settings of SB3Agent), chosen before any run, never tuned here
    "PPO": {"n_envs": 4, "algo_kwargs": {"n_steps": 16, "batch_size": 32, "n_epochs": 4,
                                         "learning_rate": 1e-3}},
    "MaskablePPO": {"n_envs": 4, "algo_kwargs": {"n_steps": 16, "batch_size": 32,
                                                 "n_epochs": 4, "learning_rate": 1e-3}},
    "DQN": {"n_envs": 4, "algo_kwargs": {"learning_starts": 64, "train_freq": 4,
                                         "target_update_interval": 100, "buffer_size": 20_000,
                                         "exploration_fraction": 0.3, "learning_rate": 1e-3,
                                         "batch_size": 32}},
}
BASELINES = ("random", "rea", "qlearning", "reinforce")
LEARNERS = ("qlearning", "reinforce")  # the paper's learners, also transferred


def tasks(seeds: int) -> list[tuple[str, str, int]]:
    """(agent, setting, seed) of every run."""
    out = [(name, "in budget", s) for name in BASELINES for s in range(seeds)]
    out += [(name, "transferred", s) for name in LEARNERS for s in range(seeds)]
    for algo in SB3:
        out += [(f"sb3:{algo}", setting, s) for setting in ("in budget", "transferred")
                for s in range(seeds)]
    return out


def run_one(task: tuple[str, str, int], budget: float, world_b: str, pretrain: float) -> dict:
    """One search; the final regret (pp) and the reported test top-1 at the budget."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    import agents
    from blox_gym.core import Budget, SearchCore
    from blox_gym.table import open_table

    torch.set_num_threads(1)
    name, setting, seed = task
    table = open_table()
    start = time.process_time()
    if setting == "in budget":
        settings = {"env_kwargs": dict(ENV), **SB3[name[4:]]} if name.startswith("sb3:") else {}
        record = agents.make(name, **settings).run(SearchCore(table), Budget(budget), seed)
    elif name in LEARNERS:
        record = agents.make(name, pretrain=world_b, pretrain_models=pretrain).run(
            SearchCore(table), Budget(budget), seed)
    else:
        record = transferred(name[4:], table, world_b, budget, pretrain, seed)
    return {"agent": name, "setting": setting, "seed": seed,
            "regret": float(record["regret"][-1]), "reported": float(record["reported_test"][-1]),
            "models": float(record["cost_models"][-1]), "cpu_s": time.process_time() - start}


def transferred(algo: str, table, world_b: str, budget: float, pretrain: float, seed: int):
    """Train on ``world_b`` (not charged), then search ``table`` inside ``budget``."""
    from agents._torch import seeded
    from agents.sb3 import StopWhenSpent, blox_env, native_vec_env, nominal_timesteps, train_sb3
    from blox_gym.envs import EDIT_ID

    settings = SB3[algo]
    with seeded(seed):
        model = train_sb3(algo, world_b, (pretrain, "models"), seed, env_kwargs=ENV,
                          algo_kwargs=settings["algo_kwargs"], n_envs=settings["n_envs"])
        env = native_vec_env(EDIT_ID, settings["n_envs"], table=table, budget=(budget, "models"),
                             shared_budget=True, on_budget_end="stop", **ENV)
        env.seed(seed + 10_000)  # a search seed unlike the pretraining's
        model.set_env(env)
        model.learn(10 * nominal_timesteps(env), callback=StopWhenSpent(env),
                    reset_num_timesteps=False)
    return blox_env(env).record()


def summary(rows: list[dict]) -> list[tuple[str, str, float, float, int]]:
    """(agent, setting, mean regret, standard error, n) per agent and setting."""
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["agent"], r["setting"]), []).append(r["regret"])
    return [(a, s, float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1
             else float("nan"), len(v)) for (a, s), v in groups.items()]


def figure(stats, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{a}\n({s})" for a, s, *_ in stats]
    fig, ax = plt.subplots(figsize=(10, 4))
    colours = ["tab:gray" if s == "in budget" and not a.startswith("sb3") else
               "tab:blue" if s == "in budget" else "tab:orange" for a, s, *_ in stats]
    ax.bar(range(len(stats)), [m for _, _, m, _, _ in stats],
           yerr=[e for *_, e, _ in stats], color=colours, capsize=3)
    ax.set_xticks(range(len(stats)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("final regret (test top-1, pp)")
    ax.set_title("Search of the default synthetic world, 200 models: mean ± s.e. over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=float, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--world-b", default=str(Path.home() / ".cache" / "blox-gym" /
                                                 "blox-synthetic-seed1.zarr"),
                        help="the pretraining world (blox-gym data synth --seed 1 --out PATH)")
    parser.add_argument("--pretrain", type=float, default=2000, help="models on world B")
    parser.add_argument("--agents", nargs="*", help="only these agents (default: all)")
    args = parser.parse_args()
    from tqdm import tqdm

    todo = [t for t in tasks(args.seeds) if not args.agents or t[0] in args.agents]
    load, start = [os.getloadavg()[0]], time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, t, args.budget, args.world_b, args.pretrain)
                   for t in todo]
        rows = [f.result() for f in tqdm(futures, desc="runs")]
    load.append(os.getloadavg()[0])
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    stats = summary(rows)
    lines = [f"{len(rows)} runs, budget {args.budget:g} models, {args.seeds} seeds, pretraining "
             f"{args.pretrain:g} models on {Path(args.world_b).name}; {args.jobs} jobs, "
             f"{time.perf_counter() - start:.0f} s wall; {os.cpu_count()} CPUs "
             f"({platform.machine()}), load average {load[0]:.1f} -> {load[1]:.1f}", "",
             "| agent | setting | final regret (pp), mean ± s.e. | seeds |", "|---|---|---|---|"]
    lines += [f"| {a} | {s} | {m:.2f} ± {e:.2f} | {n} |" for a, s, m, e, n in stats]
    (RESULTS / "summary.md").write_text("\n".join(lines) + "\n")
    figure(stats, RESULTS / "regret.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
