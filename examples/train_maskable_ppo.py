"""Train MaskablePPO on BloxEdit-v0 as a NAS agent and summarise its anytime record.

The agent moves one component per step with relative actions (every action a real change),
2 edits per episode, on ``--n-envs`` copies of the native vector env that share one search
and one budget (in 200-epoch model trainings).  It sees validation accuracy only.  The
rollout is sized so that the policy updates many times inside the budget; the script prints
how many.  The summary reports, at a few points of the budget, the best validation top-1
found so far, the test top-1 of that model ("reported") and the regret against the table's
best test top-1.

    PYTHONPATH=. python examples/train_maskable_ppo.py --budget 200 --seed 0
"""

from __future__ import annotations

import argparse

import numpy as np

from agents.sb3 import blox_env, train_sb3
from blox_gym.table import open_table


def summary(record: dict, budget: float) -> str:
    lines = ["| cost (models) | evaluations | best val top-1 | reported test top-1 | regret |",
             "|---|---|---|---|---|"]
    for fraction in (0.25, 0.5, 0.75, 1.0):
        i = int(np.searchsorted(record["cost_models"], fraction * budget))
        i = min(i, len(record["cost_models"]) - 1)
        lines.append(f"| {record['cost_models'][i]:.0f} | {i + 1} | {record['best_val'][i]:.2f} | "
                     f"{record['reported_test'][i]:.2f} | {record['regret'][i]:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", help="a table path (default: the default synthetic table)")
    parser.add_argument("--budget", type=float, default=200, help="models (200-epoch trainings)")
    parser.add_argument("--n-envs", type=int, default=4, help="copies sharing the budget")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    table = open_table(args.table)
    print(f"table: {table.label}")
    env_kwargs = dict(action_mode="relative", reward="step", mask_invalid=True,
                      mask_revisits=True)
    # 8 steps x 4 copies per rollout: about 6 rollouts of 4 epochs each in 200 models
    model = train_sb3("MaskablePPO", table, (args.budget, "models"), seed=args.seed,
                      env_kwargs=env_kwargs, n_envs=args.n_envs,
                      algo_kwargs=dict(n_steps=8, batch_size=16, n_epochs=4,
                                       learning_rate=1e-3))
    record = blox_env(model.get_env()).record()
    print(f"MaskablePPO on BloxEdit-v0 (relative actions), {args.n_envs} copies, seed "
          f"{args.seed}, budget {args.budget:g} models: {model.num_timesteps} steps, "
          f"{model._n_updates} gradient updates\n")
    print(summary(record, args.budget))


if __name__ == "__main__":
    main()
