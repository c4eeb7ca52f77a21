"""Multi-objective blockwise search: DONNA with NSGA-II and LANA's sweep of latency caps
against single-objective DONNA, scored by the hypervolume of the models each evaluated.

Each search spends ``--budget`` units (200-epoch trainings, the signatures' distillation
included) on the default table and sees validation accuracy only; the score uses test
top-1 and the table's true front for (test top-1, latency on ``--device``).

    PYTHONPATH=. python examples/pareto_search.py --budget 40 --device desktop-gpu
"""

from __future__ import annotations

import argparse

import agents
from blox_gym import open_table, pareto
from blox_gym.core import Budget, SearchCore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=40.0, help="units (40)")
    parser.add_argument("--device", default="desktop-gpu", help="a device of the table")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    table = open_table()
    cost = f"latency:{args.device}"
    truth = pareto.true_front(table, cost)
    print(f"{table.label}: the true front of test top-1 against {pareto.cost_label(cost)} "
          f"has {len(truth.model_id)} models")
    searches = {"DONNA, single objective": ("donna", {}),
                "DONNA, NSGA-II": ("donna", {"secondary": cost}),
                "LANA, 8 latency caps": ("lana", {"secondary": cost, "budgets": 8})}
    for label, (name, settings) in searches.items():
        record = agents.make(name, **settings).run(SearchCore(table), Budget(args.budget),
                                                   seed=args.seed)
        ids = record["model_id"]
        accuracy, latency = table.test_acc(ids), pareto.cost_values(table, cost, ids)
        front = pareto.front(accuracy, latency)
        ratio = pareto.hypervolume(accuracy, latency, truth.reference) / truth.hypervolume
        print(f"{label:24s} {len(ids):4d} models, front of {len(front):2d}, "
              f"hypervolume ratio {ratio:.3f}")


if __name__ == "__main__":
    main()
