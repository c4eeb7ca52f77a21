"""Latency on this machine's CPU: sampled models, two backends, the additive table, projections.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_latency.py --models 200 --runs 1000

Measures ``sample:N`` models at batch 1 and one thread with eager PyTorch and ONNX Runtime
into a scratch table (``--work``; rerunning resumes), measures the first ``--repeat`` of
them again into a second table, times the additive block table, and prints a markdown
summary (distribution, rank correlation with MACs and parameters, run-to-run Spearman,
additive table vs full measurement, projected time for all 91,125 models).  Results go to
``benchmarks/results/latency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from scipy import stats

from blox_gym import costs, space
from blox_gym.latency import additive
from blox_gym.latency.measure import Settings, create_latency_table, measure_into, measure_model
from blox_gym.modelspec import parse_models
from blox_gym.table import open_table

BACKENDS = ("eager", "onnxruntime")


def blank_table(path: Path) -> str:
    """The latency-only table at ``path``, created on the first run."""
    return str(path) if path.exists() else create_latency_table(path, "latency-bench")


def measure(path: str, ids: np.ndarray, settings: Settings, walls: dict) -> np.ndarray:
    """Latency (ms) of ``ids``; per-model wall seconds of newly measured models into ``walls``."""
    def timed(model_id: int, s: Settings):
        start = time.perf_counter()
        result = measure_model(model_id, s)
        walls[str(model_id)] = time.perf_counter() - start
        return result

    name, _ = measure_into(path, ids, settings, measure=timed)
    return open_table(path).latency(ids, name)


def correlations(a: np.ndarray, b: np.ndarray) -> dict:
    return {"spearman": float(stats.spearmanr(a, b)[0]), "kendall": float(stats.kendalltau(a, b)[0])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--work", default="latency-bench-work")
    parser.add_argument("--out", default="benchmarks/results/latency.json")
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(exist_ok=True)
    first, second = blank_table(work / "first.zarr"), blank_table(work / "second.zarr")
    ids = parse_models(f"sample:{args.models}", seed=args.seed)
    again = ids[:args.repeat]
    macs, params = costs.release_column("flops")[ids], costs.release_column("params")[ids]
    load = {"start": open("/proc/loadavg").read().split()[:3]}
    result: dict = {"models": len(ids), "runs": args.runs, "warmup": args.warmup,
                    "batch": 1, "threads": 1, "backends": {}}
    for backend in BACKENDS:
        settings = Settings(backend=backend, runs=args.runs, warmup=args.warmup)
        walls: dict = {}
        ms = measure(first, ids, settings, walls)
        ms_again = measure(second, again, settings, {})
        per_model_s = np.array([walls[str(i)] for i in ids if str(i) in walls])
        # projection at the paper's 1,000 runs + 50 warm-up: preparation + (1,050) runs
        prep_s = per_model_s.mean() - (args.runs + args.warmup) * ms.mean() / 1e3 \
            if len(per_model_s) else float("nan")
        paper_s = prep_s + 1050 * ms.mean() / 1e3
        result["backends"][backend] = {
            "ms": {"min": float(ms.min()), "p10": float(np.percentile(ms, 10)),
                   "median": float(np.median(ms)), "p90": float(np.percentile(ms, 90)),
                   "max": float(ms.max())},
            "vs_macs": correlations(ms, macs), "vs_params": correlations(ms, params),
            "run_to_run": correlations(ms[:args.repeat], ms_again),
            "wall_s_per_model": float(per_model_s.mean()) if len(per_model_s) else None,
            "prepare_s_per_model": float(prep_s),
            "projected_hours_all_models_paper_runs": {
                str(n): float(space.N_MODELS * paper_s / n / 3600) for n in args.nodes},
        }
        if backend == "onnxruntime":
            cache = work / "blocks-onnxruntime.npz"
            if cache.exists():
                saved = np.load(cache)
                table = additive.BlockTable(float(saved["fixed_ms"]), saved["cells_ms"])
            else:
                start = time.perf_counter()
                table = additive.measure_table(settings)
                np.savez(cache, fixed_ms=table.fixed_ms, cells_ms=table.cells_ms,
                         seconds=time.perf_counter() - start)
            predicted = table.predict(ids)
            result["backends"][backend]["additive"] = {
                **correlations(predicted, ms),
                "mape_percent": float(np.mean(np.abs(predicted - ms) / ms) * 100),
                "seconds": float(np.load(cache)["seconds"])}
    load["end"] = open("/proc/loadavg").read().split()[:3]
    result["loadavg"] = load
    result["cpu"] = os.popen("grep -m1 'model name' /proc/cpuinfo").read().split(":")[-1].strip()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
