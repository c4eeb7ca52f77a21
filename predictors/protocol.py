"""The predictor evaluation protocol of NASLib ("How Powerful are Performance Predictors in
Neural Architecture Search?", White et al., 2021) on Blox.

Per trial ``t``, a permutation of the 91,125 model ids (all unique: isomorphic encodings
share one id; only the models with a target when some are NaN, e.g. a latency device measured
in part) drawn from ``seed`` and ``t`` gives a training pool (its first
``max(sizes)`` models) and a test set (the next ``test_size`` models, or all the rest).
For each training size ``n`` every predictor is fitted on the first ``n`` pool models
(training sets are nested) with seed ``seed + t`` and scored on the test set with
:func:`predictors.metrics.evaluate`.

``blox-gym predictors bench`` runs it from the command line: :func:`add_bench_arguments`
and :func:`run_bench` (or :func:`bench_main`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from blox_gym import space
from blox_gym.paths import atomic_write
from predictors.base import available, make
from predictors.metrics import evaluate

SIZES = (5, 8, 14, 24, 42, 71, 121, 205, 347, 589, 1000)
TEST_SIZE = 200
TRIALS = 10
METRICS = ("kendall_tau", "spearman", "pearson", "mae", "rmse", "precision_at_10",
           "precision_at_20")
VERSIONED = ("numpy", "scipy", "pandas", "pyarrow", "torch", "torch-geometric", "matplotlib",
             "blox-gym")


def default_predictors() -> list[str]:
    """Every registered predictor except ``"ensemble"`` (which needs members chosen)."""
    return [name for name in available() if name != "ensemble"]


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
             threads: int | None = None) -> list[dict[str, Any]]:
    """Fit and score one predictor at every size of one trial; one row per size."""
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
    threads (default: the CPU count divided by ``jobs``; with one job, unchanged).  ``progress``: a tqdm bar
    (``None`` = only on a terminal).
    """
    from tqdm.auto import tqdm

    targets = np.asarray(targets, dtype=np.float64)
    _check_protocol(targets, predictors, sizes, trials, test_size, jobs)
    if threads is None and jobs > 1:
        threads = max(1, (os.cpu_count() or 1) // jobs)
    tasks = [(name, kwargs, trial, tuple(sizes), test_size, seed, targets, threads)
             for trial in range(trials) for name, kwargs in predictors.items()]
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(tasks), disable=None if progress is None else not progress,
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


def versions() -> dict[str, str]:
    """Python and the package versions behind a run."""
    found = {"python": platform.python_version()}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = _module_version(package)
    return found


def _module_version(package: str) -> str:
    module = {"blox-gym": "blox_gym", "torch-geometric": "torch_geometric"}.get(package, package)
    try:
        return str(__import__(module).__version__)
    except (ImportError, AttributeError):
        return "not installed"


# ------------------------------------------------------------------ command line

def add_bench_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``predictors bench`` options to ``parser``."""
    parser.add_argument("--predictors", nargs="+", metavar="NAME",
                        help=f"predictors to evaluate (default: all but ensemble; "
                             f"available: {', '.join(available())})")
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), metavar="N",
                        help="training-set sizes (default: NASLib's 11 sizes, 5..1000)")
    parser.add_argument("--trials", type=int, default=TRIALS, help="trials (default 10)")
    parser.add_argument("--test-size", default=str(TEST_SIZE),
                        help="test models per trial, or 'all' for all remaining (default 200)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--threads", type=int,
                        help="torch threads per worker (default: CPUs / jobs)")
    parser.add_argument("--data", help="table path or URL (default: the default table)")
    parser.add_argument("--target", default="val_top1",
                        help="training metric to predict, best over epochs (default val_top1), "
                             "or latency/<device> (only the measured models are drawn)")
    parser.add_argument("--seed", type=int, default=0, help="protocol seed (default 0)")
    parser.add_argument("--kwargs", default="{}", metavar="JSON",
                        help='constructor arguments per predictor, e.g. \'{"gcn": {"epochs": 50}}\'')
    parser.add_argument("--out", required=True, help="output folder")
    return parser


def _predictor_kwargs(args, table) -> dict[str, dict[str, Any]]:
    try:
        extra = json.loads(args.kwargs)
    except json.JSONDecodeError as err:
        raise ValueError(f"--kwargs is not valid JSON ({err}): {args.kwargs!r}") from None
    if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
        raise ValueError(f"--kwargs must map predictor names to objects, got {args.kwargs!r}")
    names = args.predictors or default_predictors()
    unknown = [n for n in list(names) + list(extra) if n not in available()]
    if unknown:
        raise ValueError(f"unknown predictor(s) {unknown}; available: {', '.join(available())}")
    chosen = {name: dict(extra.get(name, {})) for name in names}
    if "linear_signatures" in chosen and "signatures" not in chosen["linear_signatures"]:
        if table.signature_epochs:
            chosen["linear_signatures"]["signatures"] = table.signatures().tolist()
        elif args.predictors:
            raise ValueError("linear_signatures needs block signatures and this table has "
                             "none; pass them with --kwargs or choose other predictors")
        else:
            print("note: the table has no block signatures; skipping linear_signatures",
                  file=sys.stderr)
            del chosen["linear_signatures"]
    return chosen


def run_bench(args: argparse.Namespace) -> int:
    """Run the protocol as ``args`` say and write results, summary, sidecar and plot."""
    from blox_gym.table import open_table

    table = open_table(args.data)
    chosen = _predictor_kwargs(args, table)
    test_size = None if args.test_size == "all" else _int(args.test_size, "--test-size")
    targets = table.column(args.target)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    results = run_protocol(targets, chosen, args.sizes, args.trials, test_size, args.seed,
                           args.jobs, args.threads)
    finished = datetime.now(timezone.utc)
    atomic_write(out / "results.csv", lambda tmp: results.to_csv(tmp, index=False))
    atomic_write(out / "results.parquet", lambda tmp: results.to_parquet(tmp, index=False))
    atomic_write(out / "summary.csv", lambda tmp: summarise(results).to_csv(tmp, index=False))
    config = {"predictors": chosen, "sizes": list(args.sizes), "trials": args.trials,
              "test_size": args.test_size, "seed": args.seed, "jobs": args.jobs,
              "threads": args.threads, "target": args.target,
              "table": {"path": table.path, "label": table.label, "source": table.source}}
    sidecar = {"config": config, "versions": versions(), "cpus": os.cpu_count(),
               "platform": platform.platform(), "started": started.isoformat(),
               "finished": finished.isoformat(),
               "wall_s": (finished - started).total_seconds(), "command": sys.argv}
    atomic_write(out / "results.json",
                 lambda tmp: Path(tmp).write_text(json.dumps(sidecar, indent=1) + "\n"))
    title = f"Kendall tau of {args.target} predictions: {table.label}"
    atomic_write(out / "kendall_tau.png", lambda tmp: plot(results, title, tmp))
    print(f"wrote results.csv, results.parquet, summary.csv, results.json and "
          f"kendall_tau.png to {out}")
    return 0


def _int(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{option} must be an int or 'all', got {text!r}") from None


def bench_main(argv: Sequence[str] | None = None) -> int:
    """``blox-gym predictors bench`` as a standalone entry point."""
    parser = add_bench_arguments(argparse.ArgumentParser(
        prog="blox-gym predictors bench", description="Evaluate predictors with NASLib's protocol."))
    args = parser.parse_args(argv)
    try:
        return run_bench(args)
    except ValueError as err:
        print(f"blox-gym: error: {err}", file=sys.stderr)
        return 2
