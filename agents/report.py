"""Reports over runner folders: anytime curves (mean +- standard error) and a summary.

At cost ``x`` a seed's value is that of its last evaluation with cost <= x (a step
function; undefined before its first evaluation); curves average the seeds defined there.
The standard error is ``std(ddof=1) / sqrt(n)`` over ``n`` seeds.  The summary gives each
agent's final reported test top-1 and regret, and the cost at which the reported model
first reaches the top 1 % / 0.1 % of the table's models by test top-1 (averaged over the
seeds that reach it, with how many did).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from blox_gym.core import UNITS

AXES = (*UNITS, "wallclock")  # cost units, and simulated wall-clock seconds
from blox_gym.paths import atomic_write

METRICS = {"reported_test": "reported test top-1 (%)", "regret": "regret (pp test top-1)"}


@dataclasses.dataclass
class Runs:
    """Rows of every seed (an ``agent`` column names the run) and each run's config."""

    rows: pd.DataFrame
    configs: dict[str, dict]

    @property
    def title(self) -> str:
        labels = sorted({c["table"]["label"] for c in self.configs.values()})
        return "; ".join(labels)


def find_folders(dirs) -> list[Path]:
    """Runner folders (holding ``config.json``) in or directly under each of ``dirs``."""
    found = []
    for d in map(Path, dirs):
        if (d / "config.json").exists():
            found.append(d)
        else:
            found += sorted(p.parent for p in d.glob("*/config.json"))
    if not found:
        raise FileNotFoundError(f"no runner output (a folder with config.json) in "
                                f"{', '.join(map(str, dirs))}")
    return found


def load_runs(dirs) -> Runs:
    """Every finished seed of the runner folders in ``dirs``."""
    from agents.runner import load_seed

    folders = find_folders(dirs)
    names = [json.loads((f / "config.json").read_text())["config"]["agent"] for f in folders]
    frames, configs = [], {}
    for folder, name in zip(folders, names):
        key = name if names.count(name) == 1 else f"{name} ({folder})"
        configs[key] = json.loads((folder / "config.json").read_text())["config"]
        for path in sorted(folder.glob("seed-*.parquet")):
            frame = load_seed(folder, int(path.stem.split("-")[1]))
            if "cost_wallclock" not in frame:  # written before the column: one model at a time
                frame = frame.assign(cost_wallclock=frame["cost_seconds"])
            frames.append(frame.assign(agent=key))
    if not frames:
        raise FileNotFoundError(f"no finished seeds in {', '.join(map(str, folders))}")
    return Runs(pd.concat(frames, ignore_index=True), configs)


def step_values(cost: np.ndarray, value: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Value of the last evaluation with cost <= each grid point (NaN before the first)."""
    index = np.searchsorted(cost, grid, side="right") - 1
    return np.where(index >= 0, value[np.maximum(index, 0)], np.nan)


def mean_se(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard error and count over axis 0, ignoring NaN (SE is NaN for n < 2)."""
    n = np.sum(~np.isnan(values), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(values, axis=0) / n
        sq = np.nansum((values - mean) ** 2, axis=0)
        se = np.sqrt(sq / (n - 1)) / np.sqrt(n)
    return np.where(n > 0, mean, np.nan), np.where(n > 1, se, np.nan), n


def anytime(rows: pd.DataFrame, metric: str = "regret", unit: str = "models",
            grid: np.ndarray | None = None) -> pd.DataFrame:
    """Per agent and grid point: ``mean``, ``se`` and ``n`` of ``metric`` against cost."""
    x = _cost_column(unit)
    if grid is None:
        grid = np.linspace(0, rows[x].max(), 201)[1:]
    out = []
    for agent, runs in rows.groupby("agent", sort=False):
        per_seed = np.stack([step_values(r[x].to_numpy(), r[metric].to_numpy(), grid)
                             for _, r in runs.groupby("seed")])
        mean, se, n = mean_se(per_seed)
        out.append(pd.DataFrame({"agent": agent, "cost": grid, "mean": mean, "se": se, "n": n}))
    return pd.concat(out, ignore_index=True)


def summarise(runs: Runs, unit: str = "models") -> pd.DataFrame:
    """One row per agent: final test and regret, cost to reach the top 1 % / 0.1 %."""
    x = _cost_column(unit)
    table = []
    for agent, rows in runs.rows.groupby("agent", sort=False):
        info = runs.configs[agent]["table"]
        last = rows.groupby("seed").tail(1)
        row = {"agent": agent, "seeds": len(last)}
        for metric in METRICS:
            mean, se, _ = mean_se(last[metric].to_numpy()[:, None])
            row[f"final_{metric}"], row[f"final_{metric}_se"] = float(mean[0]), float(se[0])
        for key in ("top1%", "top0.1%"):
            reach = np.array([_first_cost(r, x, info[f"{key}_test"])
                              for _, r in rows.groupby("seed")])
            mean, se, n = mean_se(reach[:, None])
            row[f"cost_{key}"], row[f"cost_{key}_se"] = float(mean[0]), float(se[0])
            row[f"reached_{key}"] = int(n[0])
        table.append(row)
    return pd.DataFrame(table)


def _first_cost(rows: pd.DataFrame, x: str, threshold: float) -> float:
    hit = np.flatnonzero(rows["reported_test"].to_numpy() >= threshold)
    return float(rows[x].to_numpy()[hit[0]]) if len(hit) else np.nan


def _cost_column(unit: str) -> str:
    if unit not in AXES:
        raise ValueError(f"cost unit {unit!r} is not one of {', '.join(AXES)}")
    return f"cost_{unit}"


def to_markdown(summary: pd.DataFrame, unit: str = "models") -> str:
    """The summary as a markdown table (mean +- SE)."""
    def pm(mean, se, digits=2):
        if np.isnan(mean):
            return "-"
        return f"{mean:.{digits}f}" + ("" if np.isnan(se) else f" ± {se:.{digits}f}")

    lines = [f"| agent | seeds | final test top-1 (%) | final regret (pp) | {unit} to top 1 % "
             f"| reached | {unit} to top 0.1 % | reached |", "|---" * 8 + "|"]
    for r in summary.to_dict("records"):
        n = r["seeds"]
        lines.append(" | ".join([
            f"| {r['agent']}", str(n), pm(r["final_reported_test"], r["final_reported_test_se"]),
            pm(r["final_regret"], r["final_regret_se"]),
            pm(r["cost_top1%"], r["cost_top1%_se"], 1), f"{r['reached_top1%']}/{n}",
            pm(r["cost_top0.1%"], r["cost_top0.1%_se"], 1), f"{r['reached_top0.1%']}/{n}"])
            + " |")
    return "\n".join(lines)


def plot(runs: Runs, out: str | os.PathLike, unit: str = "models") -> Path:
    """Anytime reported test top-1 and regret against cost, one line per agent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, (metric, label) in zip(axes, METRICS.items()):
        curves = anytime(runs.rows, metric, unit)
        for agent, c in curves.groupby("agent", sort=False):
            line, = ax.plot(c["cost"], c["mean"], label=agent, lw=1.5, drawstyle="steps-post")
            se = c["se"].fillna(0)
            ax.fill_between(c["cost"], c["mean"] - se, c["mean"] + se, step="post",
                            color=line.get_color(), alpha=0.2, lw=0)
        ax.set_xlabel(f"cost ({unit})")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    seeds = runs.rows.groupby("agent")["seed"].nunique()
    fig.suptitle(f"{runs.title}\nmean ± standard error over {seeds.min()}"
                 f"{'' if seeds.min() == seeds.max() else f'-{seeds.max()}'} seeds", fontsize=10)
    out = Path(out)
    image_format = out.suffix.lstrip(".") or "png"  # the temporary file has no useful suffix
    atomic_write(out, lambda tmp: fig.savefig(tmp, dpi=130, format=image_format))
    plt.close(fig)
    return out


def write_report(dirs, out: str | os.PathLike, unit: str = "models") -> str:
    """Figure at ``out``, the summary next to it as ``.csv`` and ``.md``; returns the
    markdown (title and table)."""
    runs = load_runs(dirs)
    out = plot(runs, out, unit)
    summary = summarise(runs, unit)
    atomic_write(out.with_suffix(".csv"), lambda tmp: summary.to_csv(tmp, index=False))
    text = f"{runs.title}\n\n{to_markdown(summary, unit)}\n"
    atomic_write(out.with_suffix(".md"), lambda tmp: Path(tmp).write_text(text))
    return text


def __getattr__(name: str):  # the command-line functions that moved to blox_gym.commands
    from blox_gym.commands.legacy import moved

    return moved(__name__, name)
