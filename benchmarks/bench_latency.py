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
from blox_gym.latency.measure import Settings, create_latency_table, measure_into, measure_models
from blox_gym.modelspec import parse_models
from blox_gym.table import open_table

BACKENDS = ("eager", "onnxruntime")


def blank_table(path: Path) -> str:
    """The latency-only table at ``path``, created on the first run."""
    return str(path) if path.exists() else create_latency_table(path, "latency-bench")


def measure(path: str, ids: np.ndarray, settings: Settings, walls: Path) -> None:
    """Measure ``ids`` into ``path``; the wall seconds per model are appended to ``walls``."""
    def timed(model_ids: list[int], s: Settings):
        start = time.perf_counter()
        result = measure_models(model_ids, s)
        seconds = (time.perf_counter() - start) / len(model_ids)
        with open(walls, "a") as f:
            f.writelines(f"{model_id} {seconds}\n" for model_id in model_ids)
        return result

    measure_into(path, ids, settings, measure=timed)


def correlations(a: np.ndarray, b: np.ndarray) -> dict:
    return {"spearman": float(stats.spearmanr(a, b)[0]), "kendall": float(stats.kendalltau(a, b)[0])}


def report(work: Path, ids: np.ndarray, repeat: int, nodes: list[int]) -> dict:
    """Figures from whatever the work folder holds (models measured so far)."""
    macs, params = costs.release_column("flops"), costs.release_column("params")
    first, second = open_table(work / "first.zarr"), open_table(work / "second.zarr")
    result: dict = {}
    for backend in BACKENDS:
        settings = Settings(backend=backend)
        name = settings.name
        if name not in first.devices:
            continue
        ms_all = first.latency(ids, name)
        done = ids[np.isfinite(ms_all)]
        ms = ms_all[np.isfinite(ms_all)]
        if len(ms) < 3:
            continue
        entry: dict = {"measured": len(done), "ms": {
            "min": float(ms.min()), "p10": float(np.percentile(ms, 10)),
            "median": float(np.median(ms)), "p90": float(np.percentile(ms, 90)),
            "max": float(ms.max())},
            "vs_macs": correlations(ms, macs[done]), "vs_params": correlations(ms, params[done])}
        if name in second.devices:
            again = ids[:repeat]
            both = np.isfinite(first.latency(again, name)) & np.isfinite(second.latency(again, name))
            if both.sum() >= 3:
                entry["run_to_run"] = {"models": int(both.sum()), **correlations(
                    first.latency(again[both], name), second.latency(again[both], name))}
        walls_file = work / f"walls-{backend}.txt"
        if walls_file.exists():
            walls = np.loadtxt(walls_file, ndmin=2)[:, 1]
            entry["wall_s_per_model"] = float(walls.mean())
        # all 91,125 models at the paper's 1,000 runs + 50 warm-up (+1 preparation run),
        # preparation (build, export) excluded
        per_model_s = 1051 * float(np.median(ms)) / 1e3
        entry["projected_hours_all_models"] = {
            str(n): space.N_MODELS * per_model_s / n / 3600 for n in nodes}
        cache = work / f"blocks-{backend}.npz"
        if cache.exists():
            saved = np.load(cache)
            predicted = additive.BlockTable(float(saved["fixed_ms"]), saved["cells_ms"]).predict(done)
            entry["additive"] = {**correlations(predicted, ms),
                                 "mape_percent": float(np.mean(np.abs(predicted - ms) / ms) * 100),
                                 "seconds": float(saved["seconds"])}
        result[backend] = entry
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--interleave", type=int, default=1,
                        help="models timed in turns (Settings.interleave; default 1, the paper's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--additive", nargs="*", default=["onnxruntime"], choices=BACKENDS,
                        help="backends to time the additive block table with")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing; report what the work folder holds")
    parser.add_argument("--work", default="latency-bench-work")
    parser.add_argument("--out", default="benchmarks/results/latency.json")
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(exist_ok=True)
    ids = parse_models(f"sample:{args.models}", seed=args.seed)
    load = {"start": open("/proc/loadavg").read().split()[:3]}
    if not args.report_only:
        first, second = blank_table(work / "first.zarr"), blank_table(work / "second.zarr")
        for backend in BACKENDS:
            settings = Settings(backend=backend, runs=args.runs, warmup=args.warmup,
                                interleave=args.interleave)
            measure(first, ids, settings, work / f"walls-{backend}.txt")
            measure(second, ids[:args.repeat], settings, work / "walls-repeat.txt")
            cache = work / f"blocks-{backend}.npz"
            if backend in args.additive and not cache.exists():
                start = time.perf_counter()
                table = additive.measure_table(settings)
                np.savez(cache, fixed_ms=table.fixed_ms, cells_ms=table.cells_ms,
                         seconds=time.perf_counter() - start)
    load["end"] = open("/proc/loadavg").read().split()[:3]
    result = {"models": len(ids), "runs": args.runs, "warmup": args.warmup, "batch": 1,
              "threads": 1, "loadavg": load,
              "cpu": os.popen("grep -m1 'model name' /proc/cpuinfo").read().split(":")[-1].strip(),
              "backends": report(work, ids, args.repeat, args.nodes)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
