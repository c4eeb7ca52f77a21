"""Syne Tune's schedulers against blox-gym's agents on the default table, in simulated time.

    PYTHONPATH=. python benchmarks/bench_syne_tune.py [--seeds 10] [--trainings 100] [--jobs 2]

Every search gets the same simulated wall-clock budget: ``--trainings`` times the table's
mean full training time.  Syne Tune's schedulers run with ``--workers`` asynchronous
workers (so they train about that many times more models in that time); blox-gym's agents
train one model at a time (their wall clock is their summed training time).  Writes the
anytime figures (against simulated time and against models) and the summary into
``benchmarks/results/syne_tune/`` and prints the wall-clock cost of one Syne Tune run with
the share spent in blox-gym's lookups (the blackbox and the search core).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from pathlib import Path

import numpy as np

from agents import report
from agents.runner import agent_label, run_experiment
from blox_gym.core import Budget, SearchCore
from blox_gym.integrations import syne_tune
from blox_gym.table import open_table

RESULTS = Path(__file__).parent / "results" / "syne_tune"
SYNE = ("RandomSearch", "ASHA", "BOHB", "REA")
OURS = ("random", "rea", "hyperband")


def lookup_share(table, seconds: float, workers: int) -> tuple[float, float]:
    """Wall-clock seconds of one ASHA run and the fraction spent in blox-gym's code."""
    spent = [0.0]

    def timed(fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        return wrapper

    originals = (syne_tune.BloxBlackbox.objective_table, SearchCore.evaluate)
    syne_tune.BloxBlackbox.objective_table = timed(originals[0])
    SearchCore.evaluate = timed(originals[1])
    try:
        start = time.perf_counter()
        syne_tune.run_syne_tune("ASHA", SearchCore(table), seed=0, n_workers=workers,
                                max_wallclock=seconds)
        total = time.perf_counter() - start
    finally:
        syne_tune.BloxBlackbox.objective_table, SearchCore.evaluate = originals
    return total, spent[0] / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trainings", type=float, default=100,
                        help="budget: this many mean full trainings of simulated time")
    parser.add_argument("--workers", type=int, default=4, help="Syne Tune's workers (4)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", default=str(Path.home() / ".cache" / "blox-gym-bench-syne"),
                        help="scratch folder for the rows (emptied first)")
    args = parser.parse_args()

    table = open_table()
    seconds = args.trainings * float(np.nanmean(table.column("train_time_s")))
    runs = Path(args.runs)
    shutil.rmtree(runs, ignore_errors=True)
    load, timings = [os.getloadavg()[0]], {}
    agents = {f"syne:{s}": {"n_workers": args.workers, "wallclock_budget": True} for s in SYNE}
    agents.update({a: {} for a in OURS})
    for agent, settings in agents.items():
        start = time.perf_counter()
        run_experiment(agent, table.path, seconds, "seconds", args.seeds, args.jobs,
                       out_dir=runs, settings=settings)
        timings[agent] = time.perf_counter() - start
        load.append(os.getloadavg()[0])
    one_run, share = lookup_share(table, seconds, args.workers)

    RESULTS.mkdir(parents=True, exist_ok=True)
    by_time = report.write_report([runs], RESULTS / "anytime_wallclock.png", unit="wallclock")
    report.write_report([runs], RESULTS / "anytime_models.png", unit="models")
    lines = [
        f"Table: {table.label}; {args.seeds} seeds; budget {args.trainings:g} mean full "
        f"trainings of simulated time ({seconds:,.0f} s); Syne Tune with {args.workers} "
        f"workers, blox-gym agents with one; --jobs {args.jobs}; {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {min(load):.1f}-{max(load):.1f}", "",
        "| agent | wall-clock, all seeds (s) |", "|---|---|",
        *[f"| {agent_label(a)} | {t:.0f} |" for a, t in timings.items()], "",
        f"One Syne Tune ASHA run: {one_run:.1f} s wall-clock, {100 * share:.1f} % of it in "
        f"blox-gym's lookups (blackbox curves and the search core).", "", by_time,
    ]
    (RESULTS / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
