"""Pareto reports over runner folders: accuracy against a cost, per seed.

For every finished seed the models it evaluated are scored with their **test** top-1 under
the protocol they were evaluated with (trained from scratch: the test top-1 with the
training seed it saw; fine-tuned: the fine-tuned test top-1), as the anytime reports score
the reported model (the search itself saw validation accuracy only).  Per seed:

* the front of the evaluated models (non-dominated in test top-1 up, cost down);
* its hypervolume against the reference point of the table (worst test top-1, highest
  cost over the table's models, :func:`blox_gym.pareto.true_front`) and its ratio to
  the hypervolume of the table's true front (models trained from scratch with the run's
  training seed; fine-tuned students can lie beyond it, so the ratio can exceed 1).

:func:`write_pareto_report` writes ``<stem>-pareto.csv`` (one row per seed, columns in
:data:`SEED_COLUMNS`), ``<stem>-fronts.csv`` (the front points of every seed and the true
front, :data:`POINT_COLUMNS`), ``<stem>-pareto.md`` (mean +- standard error per agent) and
``<stem>-pareto.png`` (each seed's front against the true front, one panel per agent).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from agents.report import Runs, load_runs, mean_se, settings_label
from blox_gym import pareto
from blox_gym.core import SCRATCH, SearchCore
from blox_gym.paths import atomic_write
from blox_gym.table import Table, open_table

SEED_COLUMNS = ("agent", "seed", "cost", "evaluated", "front_size", "hypervolume",
                "true_hypervolume", "hypervolume_ratio", "reference_test", "reference_cost")
POINT_COLUMNS = ("agent", "seed", "model_id", "protocol", "test_top1", "cost")
TRUE_FRONT = "true front"  # the agent name of the table's own front in the points file


def _training_seed(config: dict) -> int | str:
    """The training seed the run saw for test accuracies (the mean over seeds if random)."""
    return "mean" if config["train_seed"] == "random" else config["train_seed"]


def scored_points(rows: pd.DataFrame, table: Table, cost: str, train_seed: int | str
                  ) -> pd.DataFrame:
    """The evaluations of one seed (its runner rows) with ``test_top1`` and ``cost``; each
    (model, protocol) once."""
    rows = rows.drop_duplicates(["model_id", "protocol"])
    rows = rows[rows["model_id"] >= 0]
    ids = rows["model_id"].to_numpy(np.int64)
    test = np.full(len(rows), np.nan)
    protocol = rows["protocol"].to_numpy().astype(str)
    seeds = rows["train_seed"].to_numpy(np.int64)
    core = SearchCore(table, seed=train_seed if train_seed != "mean" else "random")
    for name in np.unique(protocol).tolist():
        mask = protocol == name
        if name != SCRATCH:
            test[mask] = core.finetuned_test(name, ids[mask])
            continue
        for s in np.unique(seeds[mask]).tolist():
            part = mask & (seeds == s)
            test[part] = table.test_acc(ids[part], seed=int(s))
    return pd.DataFrame({"model_id": ids, "protocol": protocol, "test_top1": test,
                         "cost": pareto.cost_values(table, cost, ids)})


def pareto_tables(runs: Runs, cost: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per seed (:data:`SEED_COLUMNS`) and front points (:data:`POINT_COLUMNS`, the true
    fronts included as agent ``"true front"``, seed -1)."""
    tables: dict[str, Table] = {}
    per_seed, points = [], []
    truths: dict[tuple[str, str], pareto.TrueFront] = {}
    for agent, rows in runs.rows.groupby("agent", sort=False):
        config = runs.configs[agent]
        path = config["table"]["path"]
        table = tables.setdefault(path, open_table(path))
        seed = _training_seed(config)
        key = (path, str(seed))
        if key not in truths:
            truths[key] = truth = pareto.true_front(table, cost, seed)
            points.append(pd.DataFrame({"agent": TRUE_FRONT, "seed": -1,
                                        "model_id": truth.model_id, "protocol": SCRATCH,
                                        "test_top1": truth.accuracy, "cost": truth.cost}))
        truth = truths[key]
        for run_seed, part in rows.groupby("seed"):
            scored = scored_points(part, table, cost, seed)
            scored = scored[~scored["test_top1"].isna() & ~scored["cost"].isna()]
            acc, cst = scored["test_top1"].to_numpy(), scored["cost"].to_numpy()
            on = pareto.front(acc, cst)
            volume = pareto.hypervolume(acc, cst, truth.reference)
            per_seed.append({"agent": agent, "seed": int(run_seed), "cost": cost,
                             "evaluated": len(scored), "front_size": len(on),
                             "hypervolume": volume, "true_hypervolume": truth.hypervolume,
                             "hypervolume_ratio": volume / truth.hypervolume,
                             "reference_test": truth.reference[0],
                             "reference_cost": truth.reference[1]})
            points.append(scored.iloc[on].assign(agent=agent, seed=int(run_seed)))
    fronts = pd.concat(points, ignore_index=True)[list(POINT_COLUMNS)]
    return pd.DataFrame(per_seed, columns=list(SEED_COLUMNS)), fronts


def to_markdown(runs: Runs, per_seed: pd.DataFrame, cost: str) -> str:
    """Per agent: settings, seeds, front size and hypervolume ratio (mean +- SE)."""
    lines = [f"Pareto fronts: test top-1 (%) against {pareto.cost_label(cost)}", "",
             "| agent | settings | seeds | front size | hypervolume ratio to the true front |",
             "|---|---|---|---|---|"]
    for agent, part in per_seed.groupby("agent", sort=False):
        size = part["front_size"].mean()
        mean, se, _ = mean_se(part["hypervolume_ratio"].to_numpy()[:, None])
        ratio = f"{mean[0]:.3f}" + ("" if np.isnan(se[0]) else f" ± {se[0]:.3f}")
        lines.append(f"| {agent} | {settings_label(runs.configs[agent])} | {len(part)} "
                     f"| {size:.1f} | {ratio} |")
    return "\n".join(lines)


def plot_fronts(runs: Runs, per_seed: pd.DataFrame, fronts: pd.DataFrame, cost: str,
                out: str | os.PathLike) -> Path:
    """One panel per agent: each seed's front (steps) against the table's true front."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agents_ = list(per_seed["agent"].unique())
    fig, axes = plt.subplots(1, len(agents_), figsize=(4.6 * len(agents_), 4.4),
                             squeeze=False, sharey=True, constrained_layout=True)
    truth = fronts[fronts["agent"] == TRUE_FRONT]
    for ax, agent in zip(axes[0], agents_):
        for run_seed, part in fronts[fronts["agent"] == agent].groupby("seed"):
            ax.step(part["cost"], part["test_top1"], where="post", lw=1, alpha=0.6,
                    marker=".", ms=3)
        ax.step(truth["cost"], truth["test_top1"], where="post", color="k", lw=1.6,
                label="table's true front")
        ratio = per_seed.loc[per_seed["agent"] == agent, "hypervolume_ratio"]
        ax.set_title(f"{agent}\nhypervolume ratio {ratio.mean():.3f} "
                     f"({len(ratio)} seeds)", fontsize=9)
        ax.set_xlabel(pareto.cost_label(cost))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test top-1 (%) of the evaluated models")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{runs.title}\nfront of each seed's evaluated models (one colour per seed)",
                 fontsize=9)
    out = Path(out)
    atomic_write(out, lambda tmp: fig.savefig(tmp, dpi=130, format="png"))
    plt.close(fig)
    return out


def write_pareto_report(dirs, out: str | os.PathLike, cost: str) -> str:
    """The Pareto report of the runner folders in ``dirs`` next to ``out`` (files named
    ``<stem>-pareto.png``, ``-pareto.csv``, ``-fronts.csv``, ``-pareto.md``); returns the
    markdown."""
    pareto.check_cost(cost)
    runs = load_runs(dirs)
    per_seed, fronts = pareto_tables(runs, cost)
    out = Path(out)
    stem = out.with_suffix("")
    atomic_write(Path(f"{stem}-pareto.csv"), lambda tmp: per_seed.to_csv(tmp, index=False))
    atomic_write(Path(f"{stem}-fronts.csv"), lambda tmp: fronts.to_csv(tmp, index=False))
    plot_fronts(runs, per_seed, fronts, cost, Path(f"{stem}-pareto.png"))
    text = f"{runs.title}\n\n{to_markdown(runs, per_seed, cost)}\n"
    atomic_write(Path(f"{stem}-pareto.md"), lambda tmp: Path(tmp).write_text(text))
    return text
