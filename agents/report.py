"""Reports over runner folders: anytime curves (mean +- standard error) and a summary.

At cost ``x`` a seed's value is that of its last evaluation with cost <= x (a step
function; undefined before its first evaluation); curves average the seeds defined there
and end at the agent's last cost (the largest over its seeds), so runs with a smaller
budget stop early.  The standard error is ``std(ddof=1) / sqrt(n)`` over ``n`` seeds.

The figure shows the reported test top-1 with the table's top-1 % and top-0.1 % levels as
reference lines, and the fraction of runs whose reported model is in the top 1 % / 0.1 %.
The summary gives each agent's settings (the paper's or which changed), seeds (and whether
they all gave the same run), budget, final reported test top-1 and regret, and the cost at
which the reported model first reaches the top 1 % / 0.1 % of the table's models by test
top-1 (averaged over the seeds that reach it, with how many did).

Seeds and random streams: seed ``s`` starts every agent from ``numpy.random.default_rng(s)``,
so agents that begin with uniformly random models (``rea``, ``brp_nas``, ``donna``...) draw
the same first models for a seed.  This is deliberate (common random numbers): differences
between agents at a seed come from their search, not from luckier starts.
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
    found = [json.loads((f / "config.json").read_text())["config"] for f in folders]
    names = [display_name(config) for config in found]
    frames, configs = [], {}
    for folder, name, config in zip(folders, names, found):
        key = name if names.count(name) == 1 else f"{name} ({folder})"
        configs[key] = config
        for path in sorted(folder.glob("seed-*.parquet")):
            frame = load_seed(folder, int(path.stem.split("-")[1]))
            if "cost_wallclock" not in frame:  # written before the column: one model at a time
                frame = frame.assign(cost_wallclock=frame["cost_seconds"])
            frames.append(frame.assign(agent=key))
    if not frames:
        raise FileNotFoundError(f"no finished seeds in {', '.join(map(str, folders))}")
    return Runs(pd.concat(frames, ignore_index=True), configs)


def display_name(config: dict) -> str:
    """An agent's name in reports; a procedure wrapping a searcher (``blockwise``,
    ``iterative``) names it too: ``blockwise(donna)``."""
    searcher = (config.get("settings") or {}).get("searcher")
    return f"{config['agent']}({searcher})" if searcher else config["agent"]


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


def cost_grid(rows: pd.DataFrame, x: str, log: bool, points: int = 400) -> np.ndarray:
    """Grid of costs from the first positive cost (log) or 0 (linear) to the largest."""
    top = float(rows[x].max())
    if log:
        low = float(rows.loc[rows[x] > 0, x].min())
        return np.geomspace(low, top, points) if top > low else np.array([top])
    return np.linspace(0, top, points + 1)[1:]


def anytime(rows: pd.DataFrame, metric: str = "regret", unit: str = "models",
            grid: np.ndarray | None = None, log: bool = False) -> pd.DataFrame:
    """Per agent and grid point: ``mean``, ``se`` and ``n`` of ``metric`` against cost,
    NaN beyond the agent's last cost."""
    x = _cost_column(unit)
    grid = cost_grid(rows, x, log) if grid is None else np.asarray(grid, dtype=np.float64)
    out = []
    for agent, runs in rows.groupby("agent", sort=False):
        per_seed = np.stack([step_values(r[x].to_numpy(), r[metric].to_numpy(), grid)
                             for _, r in runs.groupby("seed")])
        per_seed[:, grid > runs[x].max()] = np.nan
        mean, se, n = mean_se(per_seed)
        out.append(pd.DataFrame({"agent": agent, "cost": grid, "mean": mean, "se": se, "n": n}))
    return pd.concat(out, ignore_index=True)


def found_fraction(runs: "Runs", key: str = "top1%", unit: str = "models",
                   grid: np.ndarray | None = None, log: bool = False) -> pd.DataFrame:
    """Per agent and grid point: the fraction (``mean``) of its seeds whose reported model
    is in the table's ``key`` (``"top1%"`` or ``"top0.1%"``) by test top-1, NaN beyond the
    agent's last cost; a seed counts as not yet found before its first evaluation."""
    x = _cost_column(unit)
    rows = runs.rows
    grid = cost_grid(rows, x, log) if grid is None else np.asarray(grid, dtype=np.float64)
    out = []
    for agent, part in rows.groupby("agent", sort=False):
        level = runs.configs[agent]["table"][f"{key}_test"]
        found = np.stack([np.nan_to_num(step_values(
            r[x].to_numpy(), (r["reported_test"].to_numpy() >= level).astype(float), grid))
            for _, r in part.groupby("seed")])
        mean = found.mean(axis=0)
        mean[grid > part[x].max()] = np.nan
        out.append(pd.DataFrame({"agent": agent, "cost": grid, "mean": mean,
                                 "n": len(found)}))
    return pd.concat(out, ignore_index=True)


def summarise(runs: Runs, unit: str = "models") -> pd.DataFrame:
    """One row per agent: settings, seeds, budget, final test and regret, cost to reach
    the top 1 % / 0.1 %."""
    x = _cost_column(unit)
    table = []
    for agent, rows in runs.rows.groupby("agent", sort=False):
        config = runs.configs[agent]
        info = config["table"]
        last = rows.groupby("seed").tail(1)
        row = {"agent": agent, "settings": settings_label(config), "seeds": len(last),
               "distinct_runs": distinct_runs(rows),
               "budget": f"{config['budget']:g} {config['unit']}" if "budget" in config else "",
               "last_cost": float(last[x].mean())}
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


def settings_label(config: dict) -> str:
    """``"paper"``, ``"changed: refit=20"`` (settings the paper states and the run changed),
    or ``"not in the paper"`` for agents without paper settings (e.g. SB3); extensions
    beyond the paper that are on follow (``"paper; beyond the paper: secondary='macs'"``)."""
    check = config.get("paper")
    if check is None:
        return "unrecorded"
    if not check["in_paper"]:
        label = "not in the paper"
    elif check["changed"]:
        label = "changed: " + ", ".join(f"{k}={v['now']!r}" for k, v in check["changed"].items())
    else:
        label = "paper"
    if check.get("extensions"):
        label += "; beyond the paper: " + ", ".join(
            f"{k}={v!r}" for k, v in check["extensions"].items())
    return label


def distinct_runs(rows: pd.DataFrame) -> int:
    """How many different runs (sequences of evaluated models and fidelities) the seeds gave."""
    return len({r[["model_id", "fidelity"]].to_numpy().tobytes()
                for _, r in rows.groupby("seed")})


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

    lines = [f"| agent | settings | seeds | budget | final test top-1 (%) | final regret (pp) "
             f"| {unit} to top 1 % | seeds reaching top 1 % | {unit} to top 0.1 % "
             f"| seeds reaching top 0.1 % |", "|---" * 10 + "|"]
    for r in summary.to_dict("records"):
        n = r["seeds"]
        seeds = f"{n} (all identical)" if n > 1 and r["distinct_runs"] == 1 else str(n)
        lines.append(" | ".join([
            f"| {r['agent']}", r["settings"], seeds, r["budget"],
            pm(r["final_reported_test"], r["final_reported_test_se"]),
            pm(r["final_regret"], r["final_regret_se"]),
            pm(r["cost_top1%"], r["cost_top1%_se"], 1), f"{r['reached_top1%']}/{n}",
            pm(r["cost_top0.1%"], r["cost_top0.1%_se"], 1), f"{r['reached_top0.1%']}/{n}"])
            + " |")
    return "\n".join(lines)


def plot(runs: Runs, out: str | os.PathLike, unit: str = "models",
         log_x: bool | None = None) -> Path:
    """Anytime reported test top-1 (with the table's top-1 % / 0.1 % levels) and the
    fraction of runs whose reported model is in them, against cost, one colour per agent.
    ``log_x``: a log cost axis (default for ``models``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from blox_gym.plotting import duration_axis, one_two_five, plain_log_axis

    log = unit == "models" if log_x is None else log_x
    x = _cost_column(unit)
    grid = cost_grid(runs.rows, x, log)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    colours = {}
    curves = anytime(runs.rows, "reported_test", unit, grid)
    for agent, c in curves.groupby("agent", sort=False):
        line, = left.plot(c["cost"], c["mean"], label=agent, lw=1.5, drawstyle="steps-post")
        colours[agent] = line.get_color()
        se = c["se"].fillna(0)
        left.fill_between(c["cost"], c["mean"] - se, c["mean"] + se, step="post",
                          color=line.get_color(), alpha=0.2, lw=0)
    info = next(iter(runs.configs.values()))["table"]
    for key, style in (("top1%", "--"), ("top0.1%", ":")):
        left.axhline(info[f"{key}_test"], color="0.3", ls=style, lw=1)
        left.annotate(f"top {key[3:-1]} %", (1, info[f"{key}_test"]), xycoords=("axes fraction", "data"),
                      ha="right", va="bottom", fontsize=7, color="0.3")
    left.set_ylabel(METRICS["reported_test"])
    for key, style in (("top1%", "-"), ("top0.1%", ":")):
        found = found_fraction(runs, key, unit, grid)
        for agent, c in found.groupby("agent", sort=False):
            right.plot(c["cost"], c["mean"], color=colours[agent], ls=style, lw=1.4,
                       drawstyle="steps-post")
    right.set_ylabel("fraction of runs whose reported model is\nin the top 1 % (solid) / "
                     "top 0.1 % (dotted)")
    right.set_ylim(-0.02, 1.02)
    for ax in (left, right):
        name = {"seconds": "simulated training time",
                "wallclock": "simulated wall-clock time"}.get(unit, unit)
        ax.set_xlabel(f"cost ({name}{', log scale' if log else ''})")
        ax.grid(alpha=0.3)
        if log:
            ax.set_xscale("log")
        if unit in ("seconds", "wallclock"):
            duration_axis(ax.xaxis, float(grid[0]), float(grid[-1]), log)
        elif log:
            plain_log_axis(ax.xaxis, one_two_five(float(grid[0]), float(grid[-1])))
    left.legend(fontsize=8)
    fig.suptitle(_figure_note(runs, unit), fontsize=9)
    out = Path(out)
    image_format = out.suffix.lstrip(".") or "png"  # the temporary file has no useful suffix
    atomic_write(out, lambda tmp: fig.savefig(tmp, dpi=130, format=image_format))
    plt.close(fig)
    return out


def _figure_note(runs: Runs, unit: str) -> str:
    """The figure's title: table, seeds, budgets (named when they differ), random streams."""
    seeds = runs.rows.groupby("agent")["seed"].nunique()
    count = f"{seeds.min()}" + ("" if seeds.min() == seeds.max() else f"-{seeds.max()}")
    lines = [runs.title, f"mean ± standard error over {count} seeds; seed s gives every agent "
             f"the same random stream (common random numbers)"]
    budgets = {a: f"{c['budget']:g} {c['unit']}" for a, c in runs.configs.items() if "budget" in c}
    if len(set(budgets.values())) > 1:
        lines.append("budgets differ (" + ", ".join(f"{a}: {b}" for a, b in budgets.items())
                     + "); each curve ends at its run's last cost")
    changed = {a: settings_label(c) for a, c in runs.configs.items()}
    changed = {a: label for a, label in changed.items() if label.startswith("changed")}
    if changed:
        lines.append("not the paper's settings: "
                     + "; ".join(f"{a} {label}" for a, label in changed.items()))
    return "\n".join(lines)


def write_report(dirs, out: str | os.PathLike, unit: str = "models",
                 log_x: bool | None = None) -> str:
    """Figure at ``out``, the summary next to it as ``.csv`` and ``.md``; returns the
    markdown (title and table)."""
    runs = load_runs(dirs)
    out = plot(runs, out, unit, log_x)
    summary = summarise(runs, unit)
    atomic_write(out.with_suffix(".csv"), lambda tmp: summary.to_csv(tmp, index=False))
    text = f"{runs.title}\n\n{to_markdown(summary, unit)}\n"
    atomic_write(out.with_suffix(".md"), lambda tmp: Path(tmp).write_text(text))
    return text


def __getattr__(name: str):  # the command-line functions that moved to blox_gym.commands
    from blox_gym.commands.legacy import moved

    return moved(__name__, name)
