"""Run-to-run rank stability of latency, one model after another vs interleaved, same session.

    OMP_NUM_THREADS=1 python benchmarks/bench_latency_drift.py [--models 20] [--runs 200]

Measures the first ``--models`` of ``sample:200`` (seed 0) twice with each mode, back to
back, at batch 1 and one thread, and prints per mode the Spearman correlation between the
two passes, the 10th-90th percentile of the per-model ratio second/first, and the spread of
the sample (90th / 10th percentile of the first pass).  Results go to
``benchmarks/results/latency_drift.json``.  ``consecutive`` is the paper's order
(``interleave=1``); ``interleaved`` times all models in turns of one group
(``interleave=--models``).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from scipy import stats

from blox_gym.latency.measure import Settings, measure_turns
from blox_gym.modelspec import parse_models


def one_pass(ids: list[int], settings: Settings) -> np.ndarray:
    """Mean ms per model, ``settings.interleave`` models at a time."""
    return np.array([summary.mean_ms for _, summary in measure_turns(ids, settings)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=["onnxruntime", "eager"])
    parser.add_argument("--out", default="benchmarks/results/latency_drift.json")
    args = parser.parse_args()

    ids = parse_models("sample:200", seed=0)[:args.models].tolist()
    result: dict = {"models": len(ids), "runs": args.runs, "warmup": args.warmup, "rows": {}}
    for backend in args.backends:
        for mode, interleave in (("interleaved", len(ids)), ("consecutive", 1)):
            settings = Settings(backend=backend, runs=args.runs, warmup=args.warmup,
                                interleave=interleave)
            load = [os.getloadavg()[0]]
            first, second = one_pass(ids, settings), one_pass(ids, settings)
            load.append(os.getloadavg()[0])
            row = {"spearman": float(stats.spearmanr(first, second)[0]),
                   "ratio_p10_p90": np.percentile(second / first, [10, 90]).round(3).tolist(),
                   "spread_p90_p10": float(np.percentile(first, 90) / np.percentile(first, 10)),
                   "loadavg_1min": load}
            result["rows"][f"{backend}/{mode}"] = row
            print(backend, mode, json.dumps(row), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
