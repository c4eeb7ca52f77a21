"""The predictor evaluation protocol of NASLib ("How Powerful are Performance Predictors in
Neural Architecture Search?", White et al., 2021) on Blox.

Per trial ``t``, a permutation of the 91,125 model ids (all unique: isomorphic encodings
share one id; only the models with a target when some are NaN, e.g. a latency device measured
in part) drawn from ``seed`` and ``t`` gives a training pool (its first
``max(sizes)`` models) and a test set (the next ``test_size`` models, or all the rest).
For each training size ``n`` every predictor is fitted on the first ``n`` pool models
(training sets are nested) with seed ``seed + t`` and scored on the test set with
:func:`predictors.metrics.evaluate`.

``blox-gym predictors bench`` (:mod:`blox_gym.commands.predictors_bench`) runs it from the
command line.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Sequence

import numpy as np
import pandas as pd

from blox_gym import space
from predictors.base import REGISTRY, available, make, register
from predictors.metrics import evaluate

SIZES = (5, 8, 14, 24, 42, 71, 121, 205, 347, 589, 1000)
TEST_SIZE = 200
TRIALS = 10
METRICS = ("kendall_tau", "spearman", "pearson", "mae", "rmse", "precision_at_10",
           "precision_at_20")
QUICK_SIZES = (5, 24, 71, 205)  # ``--quick``: about 100 s of work over 2 trials
QUICK_TRIALS = 2

# Seconds to fit and score one predictor at each of ``SIZES`` in one trial, mean of 10 trials
# with one torch thread on the 2-core development machine (benchmarks/results/predictors,
# whole protocol 2,562 s with 2 workers).  The lightweight predictors take well under 0.1 s.
REFERENCE_S = {
    "brp": (2.52, 3.09, 4.34, 2.08, 2.42, 3.90, 5.44, 9.22, 23.50, 49.22, 74.99),
    "gcn": (2.40, 2.99, 4.22, 1.29, 1.96, 3.10, 5.69, 12.00, 26.83, 54.74, 95.39),
    "gin": (1.59, 2.01, 2.87, 1.01, 1.28, 2.73, 3.77, 7.33, 13.99, 28.73, 47.75),
    "mlp": (0.23, 0.25, 0.28, 0.09, 0.12, 0.12, 0.23, 0.36, 0.56, 0.87, 1.46),
    # a later run at load average 10, scaled by the mlp's slowdown in that run (about 10x)
    "sklearn": (0.12, 0.09, 0.10, 0.12, 0.13, 0.10, 0.16, 0.27, 0.32, 0.36, 0.41),
}
LIGHT = ("additive", "flops", "params", "linear_signatures")


def default_predictors() -> list[str]:
    """Every registered predictor except ``"ensemble"`` (which needs members chosen)."""
    return [name for name in available() if name != "ensemble"]


def estimate_seconds(predictors: Sequence[str], sizes: Sequence[int] = SIZES,
                     trials: int = TRIALS, jobs: int = 1) -> tuple[float, list[str]]:
    """About how long :func:`run_protocol` takes here: wall seconds from ``REFERENCE_S``
    (interpolated between sizes, linear beyond 1,000), and the predictors with no reference
    (not counted)."""
    total, unknown = 0.0, []
    for name in predictors:
        if name in LIGHT:
            continue
        if name not in REFERENCE_S:
            unknown.append(name)
            continue
        ref = REFERENCE_S[name]
        per_model = ref[-1] / SIZES[-1]
        total += sum(float(np.interp(n, SIZES, ref)) if n <= SIZES[-1] else per_model * n
                     for n in sizes)
    tasks = len(predictors) * trials
    return total * trials / max(1, min(jobs, tasks)), unknown


def split(trial: int, sizes: Sequence[int], test_size: int | None, seed: int = 0,
          candidates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Training pool ``(max(sizes),)`` and test ids of one trial; ``test_size=None`` = the rest.

    ``candidates``: the model ids to draw from (default all; e.g. the measured ones of a
    latency device)."""
    rng = np.random.default_rng([seed, trial])
    order = rng.permutation(space.N_MODELS if candidates is None else candidates)
    n_pool = max(sizes)
    end = None if test_size is None else n_pool + test_size
    return order[:n_pool], order[n_pool:end]


def run_task(name: str, kwargs: dict[str, Any], trial: int, sizes: Sequence[int],
             test_size: int | None, seed: int, targets: np.ndarray,
             threads: int | None = None, entry_points: dict[str, str] | None = None
             ) -> list[dict[str, Any]]:
    """Fit and score one predictor at every size of one trial; one row per size.
    ``entry_points`` (name -> ``"module:Class"``) are registered first, so a worker process
    knows the plug-ins its parent registered."""
    for other, entry_point in (entry_points or {}).items():
        register(other, entry_point)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    measured = np.isfinite(targets)
    pool, test = split(trial, sizes, test_size, seed,
                       None if measured.all() else np.flatnonzero(measured))
    rows = []
    for n in sorted(sizes):
        predictor = make(name, **{"seed": seed + trial, **kwargs})
        start = time.perf_counter()
        predictor.fit(pool[:n], targets[pool[:n]])
        fitted = time.perf_counter()
        scores = predictor.predict(test)
        done = time.perf_counter()
        rows.append({"predictor": name, "trial": trial, "train_size": n,
                     "test_size": len(test),
                     **evaluate(targets[test], scores, predictor.predicts_values),
                     "fit_s": fitted - start, "predict_s": done - fitted,
                     "epochs": getattr(predictor, "epochs_run", np.nan)})
    return rows


def run_protocol(targets: np.ndarray, predictors: dict[str, dict[str, Any]],
                 sizes: Sequence[int] = SIZES, trials: int = TRIALS,
                 test_size: int | None = TEST_SIZE, seed: int = 0, jobs: int = 1,
                 threads: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Results of every predictor (name -> constructor kwargs), trial and size, one row each.

    ``jobs`` worker processes run (predictor, trial) tasks; each sets ``threads`` torch
    threads (default: the CPU count divided by ``jobs``; with one job, unchanged).  ``progress``: a
    progress bar (:func:`blox_gym.progress.progress_bar`; ``False`` = none).
    """
    from blox_gym.progress import progress_bar

    targets = np.asarray(targets, dtype=np.float64)
    _check_protocol(targets, predictors, sizes, trials, test_size, jobs)
    if threads is None and jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
    entry_points = {name: REGISTRY.entry_point(name) for name in available()}
    tasks = [(name, kwargs, trial, tuple(sizes), test_size, seed, targets, threads,
              entry_points) for trial in range(trials) for name, kwargs in predictors.items()]
    rows: list[dict[str, Any]] = []
    bar = progress_bar(total=len(tasks), enabled=progress,
                       desc="predictor protocol", unit="task")
    if jobs == 1:
        for task in tasks:
            rows += run_task(*task)
            bar.update()
    else:
        import multiprocessing

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for future in as_completed([pool.submit(run_task, *task) for task in tasks]):
                rows += future.result()
                bar.update()
    bar.close()
    frame = pd.DataFrame(rows)
    return frame.sort_values(["predictor", "trial", "train_size"], ignore_index=True)


def _check_protocol(targets, predictors, sizes, trials, test_size, jobs) -> None:
    if targets.shape != (space.N_MODELS,) or np.isinf(targets).any():
        raise ValueError(f"targets must be {space.N_MODELS:,} finite values (or NaN: not "
                         f"measured) indexed by model id, got shape {targets.shape}")
    unknown = [name for name in predictors if name not in available()]
    if unknown or not predictors:
        raise ValueError(f"unknown or no predictors {unknown}; available: {', '.join(available())}")
    if not sizes or any(not isinstance(n, (int, np.integer)) or n < 2 for n in sizes):
        raise ValueError(f"sizes must be ints >= 2, got {list(sizes)}")
    free = int(np.isfinite(targets).sum()) - max(sizes)
    if free < 20:
        raise ValueError(f"only {free + max(sizes):,} models have a target; the largest "
                         f"training size {max(sizes)} plus 20 test models need more")
    if test_size is not None and not 20 <= test_size <= free:
        raise ValueError(f"test_size must be in 20..{free:,} (or None for all remaining), "
                         f"got {test_size}")
    for name, value in (("trials", trials), ("jobs", jobs)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over trials of every metric, per predictor and size."""
    grouped = results.groupby(["predictor", "train_size"])[list(METRICS) + ["fit_s"]]
    summary = grouped.agg(["mean", "std"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    return summary.reset_index()


def plot(results: pd.DataFrame, title: str, path: str | os.PathLike) -> None:
    """Kendall tau (mean and one standard deviation over trials) against training size, as
    a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from blox_gym.plotting import plain_log_axis

    summary = summarise(results)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, part in summary.groupby("predictor"):
        mean, std = part["kendall_tau_mean"], part["kendall_tau_std"].fillna(0)
        ax.plot(part["train_size"], mean, marker="o", ms=3, label=name)
        ax.fill_between(part["train_size"], mean - std, mean + std, alpha=0.15)
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis, summary["train_size"].unique())
    ax.set_xlabel("training models")
    ax.set_ylabel("Kendall tau on the test models")
    trials, tests = results["trial"].nunique(), int(results["test_size"].iloc[0])
    ax.set_title(f"{title}\n{trials} trial(s), {tests:,} test models", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=130, format="png")
    plt.close(fig)


def __getattr__(name: str):  # the command-line functions that moved to blox_gym.commands
    from blox_gym.commands.legacy import moved

    return moved(__name__, name)
