"""Zero-cost proxies: cost per model on this CPU and rank correlations on a model sample.

    python benchmarks/bench_proxies.py [--models 1000] [--jobs 1] [--alone 10] [--stop-after T]
    python benchmarks/bench_proxies.py --models 1000 --report-only

Scores the seeded sample ``np.random.default_rng(0).choice(91125, models)``, in that order,
with all five proxies in one call (``proxies.score``: the batch proxies share one forward
pass), and times the first ``--alone`` models of the sample also one proxy at a time, as a
user computing a single proxy pays it; both must give the same values.  Costs are CPU
seconds of the scoring process with one torch thread (what an idle core would take; wall
time on a shared machine says more about the other users).  ``--jobs N`` scores whole models
in N worker processes; this process alone writes ``benchmarks/results/proxies/values.json``
(atomically, after each model), so an interrupted run resumes where it stopped.

The report (``--report-only`` prints it without scoring): models scored, the median seconds
per model per proxy alone and of all five together, projections for all 91,125 models on
one node and on a cluster, and the Spearman rank correlations between proxies and with params
and MACs over every scored model.  On the synthetic table correlations with accuracy mean
nothing (the accuracies are generated, the proxies measured), so none are reported.

Rows of values.json: ``{"values": {proxy: value}, "seconds": {"all five": s, proxy: s}, "load":
1-min load average when the model finished}``, the per-proxy seconds only on models timed
alone.  Rows of the first run (``{proxy: [value, seconds alone]}``, before the shared pass)
are read as ``{"values": ..., "seconds before": ...}``: same values, older timings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "proxies"
ALL = "all five"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000, help="sample size")
    parser.add_argument("--alone", type=int, default=10,
                        help="the first ALONE models of the sample are also timed per proxy")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--cores", type=int, default=os.cpu_count(),
                        help="cores of one node, for the projection")
    parser.add_argument("--cluster-cores", type=int, default=1000)
    parser.add_argument("--stop-after", type=float, default=0,
                        help="Unix time after which no new model is started (0 = never)")
    parser.add_argument("--report-only", action="store_true",
                        help="print the report of the saved values, score nothing")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")

    from blox_gym import space

    path = RESULTS / "values.json"
    settings = {"batch_size": args.batch_size, "seed": 0, "threads": args.threads}
    rows = load(path, settings)
    sample = np.random.default_rng(0).choice(space.N_MODELS, size=args.models, replace=False)
    if not args.report_only:
        todo = [(m, i < args.alone) for i, m in enumerate(sample.tolist()) if str(m) not in rows]
        done = len(sample) - len(todo)
        for model, row in scored(todo, args):
            rows[str(model)] = row
            save(path, settings, rows)
            done += 1
            print(f"{done}/{len(sample)} model {model}: "
                  + ", ".join(f"{n} {s:.2f} s" for n, s in row["seconds"].items()), flush=True)
    report(rows, sample, args)
    return 0


def load(path: Path, settings: dict) -> dict:
    """The saved rows (upgraded from the first run's format), or {} when there are none."""
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    if saved["settings"] != settings:
        raise SystemExit(f"{path} holds other settings {saved['settings']} than {settings}; "
                         "use those or move the file away")
    return {model: row if "values" in row else
            {"values": {n: v for n, (v, _) in row.items()},
             "seconds before": {n: s for n, (_, s) in row.items()}}
            for model, row in saved["rows"].items()}


def save(path: Path, settings: dict, rows: dict) -> None:
    """values.json with one row per line, written atomically."""
    from blox_gym.paths import atomic_write

    lines = ",\n".join(f"{json.dumps(m)}: {json.dumps(row)}" for m, row in rows.items())
    text = f'{{"settings": {json.dumps(settings)},\n"rows": {{\n{lines}\n}}}}\n'
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def scored(todo: list[tuple[int, bool]], args: argparse.Namespace):
    """``(model, row)`` for the ``(model, alone)`` of ``todo``, in the order they finish; no
    model is started after ``args.stop_after``."""
    def more() -> bool:
        return not args.stop_after or time.time() <= args.stop_after

    if args.jobs == 1:  # in this process: one PID to pause with SIGSTOP
        start(args.batch_size, args.threads)
        for task in todo:
            if not more():
                return
            yield measure(*task)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    tasks = iter(todo)
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=start, initargs=(args.batch_size, args.threads)) as pool:
        running: set = set()
        while True:
            while len(running) < args.jobs and more() and (task := next(tasks, None)):
                running.add(pool.submit(measure, *task))
            if not running:
                return
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()


_BATCH: list = []


def start(batch_size: int, threads: int) -> None:
    """Set up a scoring process: torch threads and the fixed batch."""
    import torch

    from blox_gym import proxies

    torch.set_num_threads(threads)
    _BATCH[:] = [proxies.minibatch(batch_size, 0)]


def measure(model: int, alone: bool) -> tuple[int, dict]:
    """All five proxies of ``model`` in one call, timed; with ``alone`` also each in its own
    call, timed, and checked to give the same value."""
    from blox_gym import proxies

    seconds = {}
    clock = time.process_time()  # CPU seconds: what an idle core would take
    values = proxies.score(model, proxies.PROXIES, _BATCH[0], 0)
    seconds[ALL] = time.process_time() - clock
    for name in proxies.PROXIES if alone else ():
        clock = time.process_time()
        value = proxies.score(model, [name], _BATCH[0], 0)[name]
        seconds[name] = time.process_time() - clock
        if value != values[name]:
            raise SystemExit(f"model {model}: {name} alone {value!r} != {values[name]!r} "
                             "with the others")
    load_now = float(open("/proc/loadavg").read().split()[0])
    return model, {"values": values, "seconds": seconds, "load": load_now}


def report(rows: dict, sample: np.ndarray, args: argparse.Namespace) -> None:
    from scipy.stats import spearmanr

    from blox_gym import costs, proxies, space

    in_sample = sum(str(m) in rows for m in sample.tolist())
    loads = [row["load"] for row in rows.values() if "load" in row]
    now = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"\n{len(rows)} models scored ({in_sample} of the {len(sample)}-model sample), batch "
          f"{args.batch_size}, {args.threads} torch thread(s), CPU s per model; 1-min load "
          + (f"average at each model: median {statistics.median(loads):.1f}, range "
             f"{min(loads):.1f}-{max(loads):.1f}; " if loads else "")
          + f"now {now}")

    def line(label: str, seconds: list[float], count: str) -> float:
        median = statistics.median(seconds) if seconds else float("nan")
        print(f"{label:>37}: {median:6.2f} s ({count:>12}) -> all 91,125: "
              f"{median * space.N_MODELS / args.cores / 3600:6.1f} h on {args.cores} cores, "
              f"{median * space.N_MODELS / args.cluster_cores / 60:5.1f} min on "
              f"{args.cluster_cores} cores")
        return median

    for timing, label in (("seconds", "alone"), ("seconds before", "alone, before sharing")):
        total = 0.0
        for name in proxies.PROXIES:
            seconds = [row[timing][name] for row in rows.values() if name in row.get(timing, {})]
            total += line(f"{name} {label}", seconds, f"median of {len(seconds)}")
        line(f"sum of the five {label}", [total], "of medians")
    seconds = [row["seconds"][ALL] for row in rows.values() if ALL in row.get("seconds", {})]
    line("all five in one call", seconds, f"median of {len(seconds)}")
    both = [row["seconds"] for row in rows.values() if len(row.get("seconds", {})) > 1]
    if both:
        alone = statistics.median(sum(s[n] for n in proxies.PROXIES) for s in both)
        together = statistics.median(s[ALL] for s in both)
        print(f"on the {len(both)} models timed both ways: the five alone {alone:.2f} s, in one "
              f"call {together:.2f} s (medians): {alone / together:.2f}x")

    ids = np.array([int(m) for m in rows])
    columns = {n: np.array([rows[str(m)]["values"][n] for m in ids]) for n in proxies.PROXIES}
    columns["params"] = costs.release_column("params")[ids].astype(float)
    columns["flops"] = costs.release_column("flops")[ids].astype(float)
    names = list(columns)
    print(f"\nSpearman rank correlation over the {len(ids)} models\n" + " " * 10
          + "".join(f"{n:>10}" for n in names))
    for a in names:
        print(f"{a:>10}" + "".join(f"{spearmanr(columns[a], columns[b])[0]:10.2f}"
                                   for b in names))


if __name__ == "__main__":
    sys.exit(main())
