"""Speed and quality of the predictor zoo (issue "predictors").

    python benchmarks/bench_predictors.py timing    [--data PATH] [--threads N]
    python benchmarks/bench_predictors.py baselines [--data PATH] [--trials N] [--jobs N]
    python benchmarks/bench_predictors.py protocol  [--data PATH] [--trials N] [--jobs N] --out DIR

Targets: the GCN (4 x 600, BRP-NAS settings) fits 1,000 models within 120 s on 2 CPU
cores; it predicts all 91,125 models within 5 s; every learned predictor beats the FLOPs
and params baselines in Kendall tau from 100 training models on.  ``timing`` reports wall
and process CPU seconds: on a shared machine the CPU time is the fairer figure.

Without ``--data`` the benchmarks use the default (synthetic) table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from blox_gym import space
from blox_gym.table import Table, open_table

LEARNED = ("gcn", "brp", "gin", "mlp", "additive", "linear_signatures", "ensemble")
ENSEMBLE = {"members": ["mlp", "additive"]}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cmd_timing(args) -> dict:
    import torch

    import predictors

    if args.threads:
        torch.set_num_threads(args.threads)
    table = open_table(args.data)
    targets = table.column("val_top1")
    train = np.random.default_rng(0).choice(space.N_MODELS, 1000, replace=False)
    report = {"table": table.label, "torch_threads": torch.get_num_threads(),
              "cpus": os.cpu_count(), "load_before": _load()}
    model = predictors.make("gcn", seed=0)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(train, targets[train])
    report["gcn_fit_1000_s"] = time.perf_counter() - start
    report["gcn_fit_1000_cpu_s"] = time.process_time() - cpu
    report["gcn_epochs"] = model.epochs_run
    everything = np.arange(space.N_MODELS)
    for attempt in ("first", "second"):
        start, cpu = time.perf_counter(), time.process_time()
        scores = model.predict(everything)
        report[f"gcn_predict_all_{attempt}_s"] = time.perf_counter() - start
        report[f"gcn_predict_all_{attempt}_cpu_s"] = time.process_time() - cpu
    rest = np.setdiff1d(everything, train)
    from predictors.metrics import kendall_tau

    report["gcn_kendall_tau_rest"] = kendall_tau(targets[rest], scores[rest])
    report["load_after"] = _load()
    report["passed"] = {"fit_within_120_s": report["gcn_fit_1000_s"] <= 120,
                        "predict_all_within_5_s": report["gcn_predict_all_first_s"] <= 5}
    return report


def _signature_kwargs(table: Table) -> dict:
    return {"signatures": table.signatures().tolist()} if table.signature_epochs else {}


def _chosen(table: Table) -> dict[str, dict]:
    chosen = {name: {} for name in LEARNED + ("flops", "params")}
    chosen["ensemble"] = dict(ENSEMBLE)
    signatures = _signature_kwargs(table)
    if signatures:
        chosen["linear_signatures"] = signatures
    else:
        del chosen["linear_signatures"]
    return chosen


def beats_baselines(summary, min_size: int = 100) -> dict[str, bool]:
    """Per learned predictor: mean Kendall tau above both baselines' at every size >= min_size."""
    rows = summary[summary["train_size"] >= min_size].set_index(["predictor", "train_size"])
    tau = rows["kendall_tau_mean"].unstack("predictor")
    best_baseline = tau[["flops", "params"]].max(axis=1)
    return {name: bool((tau[name] > best_baseline).all())
            for name in tau.columns if name not in ("flops", "params")}


def cmd_baselines(args) -> dict:
    from predictors.protocol import run_protocol, summarise

    table = open_table(args.data)
    start = time.perf_counter()
    results = run_protocol(table.column("val_top1"), _chosen(table), sizes=[100],
                           trials=args.trials, jobs=args.jobs, threads=args.threads)
    summary = summarise(results)
    return {"table": table.label, "trials": args.trials, "train_size": 100,
            "wall_s": time.perf_counter() - start,
            "kendall_tau_mean": dict(zip(summary["predictor"], summary["kendall_tau_mean"])),
            "beats_flops_and_params": beats_baselines(summary)}


def cmd_protocol(args) -> dict:
    import pandas as pd

    from blox_gym.commands import predictors_bench

    table = open_table(args.data)
    argv = ["--data", table.path, "--trials", str(args.trials), "--jobs", str(args.jobs),
            "--out", args.out, "--predictors", *_chosen(table),
            "--kwargs", json.dumps({"ensemble": ENSEMBLE})]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    parser = argparse.ArgumentParser()
    predictors_bench.add_arguments(parser)
    start = time.perf_counter()
    predictors_bench.run(parser.parse_args(argv))
    summary = pd.read_csv(Path(args.out) / "summary.csv")
    return {"table": table.label, "trials": args.trials, "jobs": args.jobs,
            "wall_s": time.perf_counter() - start, "load_after": _load(),
            "beats_flops_and_params_from_100": beats_baselines(summary)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["timing", "baselines", "protocol"])
    parser.add_argument("--data", help="table path or URL (default: see the module docstring)")
    parser.add_argument("--threads", type=int, help="torch threads (per worker)")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/predictors")
    args = parser.parse_args(argv)
    report = {"timing": cmd_timing, "baselines": cmd_baselines,
              "protocol": cmd_protocol}[args.command](args)
    print(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
