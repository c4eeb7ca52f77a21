"""The Blox paper's blockwise studies (supplementary D.2-D.4) as runnable experiments.

:data:`STUDIES` names each study's settings and agents; :func:`run_study` runs every
(setting, agent) with the runner (seeds in parallel, resumable) and writes into ``out``:

* ``results.csv``: one row per evaluation with ``setting``, ``agent``, ``seed``, ``cost``
  (units: 200-epoch trainings, distillation included), ``reported_test`` (test top-1 of
  the best-validation model so far, percent), ``val_top1``, ``best_val``, ``model_id``,
  ``protocol``;
* ``summary.md``: mean +- standard error of the reported test top-1 at a few costs;
* ``<study>.png``: anytime curves (mean +- standard error over seeds), titled with the
  table's label (which says when it is synthetic);
* for ``iterative``, ``table5.md``: the shape of the paper's Table 5 for every seed.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from agents import report
from agents.runner import run_experiment
from blox_gym.paths import atomic_write
from blox_gym.table import Table, default_path, open_table

BUDGET = 100.0  # units, the x-axis of Figures 17-20
SUMMARY_COSTS = (20.0, 50.0, 100.0)
DONNA = {}  # DONNA's own defaults (initial 20, batch 20, population 64, sample 16)
LANA = {"refit": 0}  # signatures only, as the paper's LANA


@dataclasses.dataclass(frozen=True)
class Run:
    """One curve of a study: ``setting`` and ``agent`` label it; ``name`` and
    ``settings`` make the agent (``agents.make``)."""

    setting: str
    agent: str
    name: str
    settings: dict


def _blockwise(setting: str, agent: str, **settings) -> Run:
    inner = {"donna": DONNA, "lana": LANA}.get(agent, {})
    return Run(setting, agent, "blockwise", {"searcher": agent, "settings": inner, **settings})


def _plain(setting: str, agent: str) -> Run:
    return Run(setting, agent, agent, {"lana": LANA}.get(agent, {}))


STUDIES: dict[str, tuple[Run, ...]] = {
    # Figure 17: teacher M1, D10; fine-tuning for 10, 50 or 200 epochs
    "finetune-epochs": tuple(_blockwise(f"FT{ft}", agent, finetune_epochs=ft)
                             for ft in (10, 50, 200) for agent in ("donna", "lana")),
    # Figure 18: teacher M1, FT200; distillation for 1 or 10 epochs
    "distill-epochs": tuple(_blockwise(f"D{d}", agent, distill_epochs=d)
                            for d in (1, 10) for agent in ("donna", "lana")),
    # Figure 19: everything distilled and fine-tuned (FT50) from M1; blockwise methods switch
    # to FT200 after a plateau of 6 units
    "with-finetune": tuple(
        [_blockwise("FT50", agent, finetune_epochs=50) for agent in ("random", "rea", "brp_nas")]
        + [_blockwise("FT50+switch", agent, finetune_epochs=50, plateau=6.0)
           for agent in ("donna", "lana", "donna_gcn")]),
    # Figure 20: models trained normally; only the signatures (D10) guide DONNA and LANA
    "without-finetune": tuple(
        [_plain("train", agent) for agent in ("random", "rea", "brp_nas")]
        + [_blockwise("train", agent, finetune_epochs=None) for agent in ("donna", "lana")]),
    # Table 5: blockwise search with a mediocre teacher, then iterate
    "iterative": (Run("mediocre teacher", "iterative", "iterative",
                      {"searcher": "donna", "settings": DONNA}),),
}
SEEDS = {"finetune-epochs": 10, "distill-epochs": 10, "with-finetune": 10,
         "without-finetune": 10, "iterative": 10}


def run_study(name: str, out: str | os.PathLike, seeds: int | None = None,
              table_path: str | None = None, jobs: int = 1, budget: float = BUDGET,
              progress: bool | None = None, only: str | Sequence[str] | None = None
              ) -> pd.DataFrame:
    """Run study ``name`` (``seeds`` per curve, default :data:`SEEDS`) into ``out``;
    returns the rows of ``results.csv`` (every curve's finished seeds).  ``only``: run just
    the curves of this agent or these agents (``"brp_nas"``, ``["donna", "lana"]``); the
    others keep what they have."""
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; available: {', '.join(STUDIES)}")
    runs = STUDIES[name]
    if only is not None:
        only = [only] if isinstance(only, str) else list(only)
        agents_here = study_agents(name)
        unknown = [a for a in only if a not in agents_here]
        if unknown or not only:
            raise ValueError(f"study {name!r} has no curve of agent "
                             f"{unknown[0] if unknown else '(none given)'!r}; "
                             f"its agents: {', '.join(agents_here)}")
        runs = tuple(run for run in runs if run.agent in only)
    seeds = SEEDS[name] if seeds is None else seeds
    out = Path(out)
    table = open_table(table_path)
    path = str(table_path) if table_path is not None else str(default_path())
    out.mkdir(parents=True, exist_ok=True)
    for run in runs:
        run_experiment(run.name, path, budget, "models", seeds, jobs,
                       out_dir=run_folder(out, run).parent,
                       settings=run.settings, progress=progress)
    return collect(name, out, table)


def study_agents(name: str) -> list[str]:
    """The agents of study ``name``'s curves, in order, each once."""
    return list(dict.fromkeys(run.agent for run in STUDIES[name]))


def run_folder(out: str | os.PathLike, run: Run) -> Path:
    """Where the finished seeds of ``run`` live under a study's output folder ``out``."""
    from agents.runner import agent_label

    return Path(out) / "runs" / _slug(run.setting) / run.agent / agent_label(run.name)


def collect(name: str, out: str | os.PathLike, table: Table) -> pd.DataFrame:
    """Write ``results.csv``, ``summary.md`` and the figure of study ``name`` from the seeds
    finished so far under ``out/runs`` (all of them after :func:`run_study`)."""
    from agents.runner import load_seed

    out = Path(out)
    frames = []
    for run in STUDIES[name]:
        folder = run_folder(out, run)
        for file in sorted(folder.glob("seed-*.parquet")):
            rows = load_seed(folder, int(file.stem.split("-")[1]))
            rows = rows.rename(columns={"cost_models": "cost"})
            rows.insert(0, "setting", run.setting)
            rows["agent"] = run.agent
            frames.append(rows[["setting", "agent", "seed", "step", "cost", "reported_test",
                                "val_top1", "best_val", "model_id", "protocol"]])
    if not frames:
        raise FileNotFoundError(f"no finished runs of study {name!r} under {out / 'runs'}")
    results = pd.concat(frames, ignore_index=True)
    atomic_write(out / "results.csv", lambda f: results.to_csv(f, index=False))
    summary = summarise(results)
    text = f"# Study {name} on {table.label}\n\n" + _markdown(summary) + "\n"
    if name == "iterative":
        text += "\n" + iterative_tables(results, table)
    atomic_write(out / "summary.md", lambda f: Path(f).write_text(text))
    plot(results, out / f"{name}.png", f"{name}: {table.label}")
    return results


def _markdown(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)


def summarise(results: pd.DataFrame, costs=SUMMARY_COSTS) -> pd.DataFrame:
    """Per (setting, agent): reported test top-1 at each cost (mean +- se, seeds)."""
    table = []
    for (setting, agent), rows in results.groupby(["setting", "agent"], sort=False):
        per_seed = np.stack([report.step_values(r["cost"].to_numpy(),
                                                r["reported_test"].to_numpy(), np.array(costs))
                             for _, r in rows.groupby("seed")])
        mean, se, n = report.mean_se(per_seed)
        entry = {"setting": setting, "agent": agent, "seeds": int(per_seed.shape[0]),
                 "first cost": round(float(rows.groupby("seed")["cost"].min().mean()), 2)}
        for c, m, s, k in zip(costs, mean, se, n):
            entry[f"test at {c:g}"] = "-" if k == 0 else f"{m:.2f} +- {0 if np.isnan(s) else s:.2f}"
        table.append(entry)
    return pd.DataFrame(table)


def plot(results: pd.DataFrame, out: Path, title: str) -> Path:
    """Anytime reported test top-1 per (setting, agent): mean +- standard error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results.assign(agent=results["setting"] + " " + results["agent"]).rename(
        columns={"cost": "cost_models"})
    grid = np.linspace(0, float(results["cost"].max()), 401)[1:]
    curves = report.anytime(rows, "reported_test", "models",
                            grid).rename(columns={"cost": "x"})
    fig, ax = plt.subplots(figsize=(7.5, 4.5), constrained_layout=True)
    for label, curve in curves.groupby("agent", sort=False):
        line, = ax.plot(curve["x"], curve["mean"], label=label, lw=1.4)
        ax.fill_between(curve["x"], curve["mean"] - curve["se"].fillna(0),
                        curve["mean"] + curve["se"].fillna(0), color=line.get_color(), alpha=0.2)
    ax.set_xlabel("cost (units: 200-epoch trainings; distillation included)")
    ax.set_ylabel("reported test top-1 (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    atomic_write(out, lambda f: fig.savefig(f, dpi=120, format="png"))
    plt.close(fig)
    return out


def iterative_tables(results: pd.DataFrame, table: Table) -> str:
    """Table 5's shape for every seed: searched model (val), trained from scratch (test),
    fine-tuning iterations (test, with the teacher of each)."""
    from blox_gym.core import SCRATCH

    out = []
    for seed, rows in results[results["agent"] == "iterative"].groupby("seed"):
        scratch = rows[rows["protocol"] == SCRATCH]
        top = scratch["model_id"].to_numpy()
        search = rows[rows["protocol"].str.contains(":mediocre:")]
        searched = search.groupby("model_id")["val_top1"].max()
        lines = [f"Seed {seed}:", "", "| | " + " | ".join(f"m{i + 1}" for i in range(len(top)))
                 + " |", "|---" * (len(top) + 1) + "|",
                 _row("searched model (val)", searched.reindex(top).to_numpy()),
                 _row("trained from scratch (test)", table.test_acc(top, seed=table.seeds[0]))]
        tuned = rows[rows["protocol"].str.startswith("finetune:") & ~rows.index.isin(search.index)]
        for i, (protocol, group) in enumerate(tuned.groupby("protocol", sort=False)):
            _, teacher, d, ft = protocol.split(":")
            quality = table.test_acc(int(teacher), seed=table.seeds[0])
            values = table.finetuned(group["model_id"].to_numpy(), quality, int(d[1:]),
                                     int(ft[2:]), split="test")
            name = f"m{list(top).index(int(teacher)) + 1}"
            lines.append(_row(f"fine-tuning, iteration {i + 1} (teacher {name})", values))
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _row(label: str, values) -> str:
    return f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |"
