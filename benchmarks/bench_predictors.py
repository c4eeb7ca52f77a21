"""Speed and quality of the predictor zoo (issue "predictors").

    python benchmarks/bench_predictors.py timing    [--data PATH] [--threads N]
    python benchmarks/bench_predictors.py baselines [--data PATH] [--trials N] [--jobs N]
    python benchmarks/bench_predictors.py protocol  [--data PATH] [--trials N] [--jobs N] --out DIR

Targets: the GCN (4 x 600, BRP-NAS settings) fits 1,000 models within 120 s on 2 CPU
cores; it predicts all 91,125 models within 5 s; every learned predictor beats the FLOPs
and params baselines in Kendall tau from 100 training models on.  ``timing`` reports wall
and process CPU seconds: on a shared machine the CPU time is the fairer figure.

Without ``--data`` the benchmarks use the default table when this checkout can build it
(``blox_gym.synthetic`` exists), else :func:`structured_table`, a synthetic table built
here once (into the cache folder) whose accuracies have the structure described there.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from blox_gym import costs, paths, space, store
from blox_gym.table import Table, open_table

STRUCTURED = "blox-structured-bench-v1.zarr"
OP_QUALITY = {"mbconv": 0.45, "conv": 0.25, "bconv": -0.3}
STAGE_WEIGHTS = (0.8, 1.0, 1.2)
LEARNED = ("gcn", "brp", "gin", "mlp", "additive", "linear_signatures", "ensemble")
ENSEMBLE = {"members": ["mlp", "additive"]}


def structured_table(path: Path) -> str:
    """Write a synthetic full-size table with learnable, realistic structure to ``path``.

    Per stage ``s`` and block ``k``, a block value ``v[s, k]`` = the mean quality of its ops
    (mbconv 0.45, conv 0.25, bconv -0.3) + 0.15 per op beyond the first + an effect of its
    connection type (N(0, 0.25) per type) + an idiosyncratic N(0, 0.3).  Final accuracy =
    74 + sum_s w_s v[s, k_s] (w = 0.8, 1.0, 1.2) + 0.3 v[1, k_1] v[2, k_2] + N(0, 0.15),
    quantised like the release.  Block signatures (one distillation setting) are
    ``-v + N(0, 0.1)`` (lower is better).
    """
    rng = np.random.default_rng(2024)
    types = sorted({block.type for block in space.BLOCKS})
    topology = dict(zip(types, rng.normal(0, 0.25, len(types))))
    value = np.array([[np.mean([OP_QUALITY[op] for op in b.ops]) + 0.15 * (len(b.ops) - 1)
                       + topology[b.type] for b in space.BLOCKS]] * space.N_STAGES)
    value += rng.normal(0, 0.3, value.shape)
    ids = np.arange(space.N_MODELS)
    v = [value[s, (ids // space.N_BLOCKS**s) % space.N_BLOCKS] for s in range(space.N_STAGES)]
    final = 74 + sum(w * vs for w, vs in zip(STAGE_WEIGHTS, v)) + 0.3 * v[1] * v[2]
    final = final + rng.normal(0, 0.15, space.N_MODELS)
    arrays = {
        "val_top1": (np.round(np.stack([final - 1.0, final], axis=1) * 50) / 50)[None],
        "test_top1": (np.round((final + rng.normal(0, 0.1, space.N_MODELS)) * 100) / 100)[None],
        "train_time_s": np.round(costs.model_costs()[:, 2] / 1e5)[None].astype(float),
        "signatures": (-value + rng.normal(0, 0.1, value.shape))[:, :, None],
    }
    attrs = {"name": "blox-structured-bench", "seeds": [0], "licence": "none",
             "signature_epochs": [10],
             "source": {"kind": "synthetic", "generator": "benchmarks/bench_predictors.py"}}
    return store.write_store(path, arrays, attrs, progress=False)


def benchmark_table(data: str | None) -> Table:
    """``data``, else the default table when it can be built, else the structured table."""
    if data is not None or importlib.util.find_spec("blox_gym.synthetic") is not None:
        return open_table(data)
    path = paths.cache_dir() / STRUCTURED
    if not path.exists():
        print(f"building the structured benchmark table at {path} (once)", file=sys.stderr)
        structured_table(path)
    return Table(path)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cmd_timing(args) -> dict:
    import torch

    import predictors

    if args.threads:
        torch.set_num_threads(args.threads)
    table = benchmark_table(args.data)
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

    table = benchmark_table(args.data)
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

    from predictors.protocol import add_bench_arguments, run_bench

    table = benchmark_table(args.data)
    argv = ["--data", table.path, "--trials", str(args.trials), "--jobs", str(args.jobs),
            "--out", args.out, "--predictors", *_chosen(table),
            "--kwargs", json.dumps({"ensemble": ENSEMBLE})]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    bench = add_bench_arguments(argparse.ArgumentParser()).parse_args(argv)
    start = time.perf_counter()
    run_bench(bench)
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
