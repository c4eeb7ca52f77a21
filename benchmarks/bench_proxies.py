"""Zero-cost proxies: cost per model and proxy on this CPU, and rank correlations.

    python benchmarks/bench_proxies.py [--models 200] [--batch-size 64] [--threads 1]

Scores a seeded sample of models, each proxy timed on its own (as a user computing one proxy
pays it) in CPU seconds of this process (with one torch thread, the wall time on an idle
core; wall time on a shared machine says more about the other users), and keeps the values in ``benchmarks/results/proxies/values.json`` so an
interrupted run resumes.  Reports the median seconds per model per proxy, projections for
all 91,125 models on one node and a cluster, and Spearman rank correlations between proxies
and with params and MACs.  On the synthetic table correlations with accuracy mean nothing
(the accuracies are generated, the proxies measured), so none are reported.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200, help="sample size")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--cores", type=int, default=os.cpu_count(),
                        help="cores of one node, for the projection")
    parser.add_argument("--cluster-cores", type=int, default=1000)
    parser.add_argument("--stop-after", type=float, default=0,
                        help="Unix time after which no new model is started (0 = never)")
    args = parser.parse_args()

    import torch
    from scipy.stats import spearmanr

    from blox_gym import costs, proxies, space

    torch.set_num_threads(args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "values.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    settings = {"batch_size": args.batch_size, "seed": 0, "threads": args.threads}
    if saved.get("settings", settings) != settings:
        raise SystemExit(f"{path} holds other settings {saved['settings']}; move it away")
    rows: dict = saved.get("rows", {})
    sample = np.random.default_rng(0).choice(space.N_MODELS, size=args.models, replace=False)
    batch = proxies.minibatch(args.batch_size, 0)
    for i, model in enumerate(sample.tolist()):
        if str(model) in rows:
            continue
        row = {}
        for name in proxies.PROXIES:
            start = time.process_time()  # CPU seconds: what an idle core would take
            value = proxies.score(model, [name], batch, 0)[name]
            row[name] = [value, time.process_time() - start]
        rows[str(model)] = row
        text = json.dumps({"settings": settings, "rows": rows}, indent=0)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
        print(f"{i + 1}/{len(sample)} model {model}: "
              + ", ".join(f"{n} {v[1]:.2f} s" for n, v in row.items()), flush=True)
        if args.stop_after and time.time() > args.stop_after:
            break

    ids = np.array([int(m) for m in rows])
    load = open("/proc/loadavg").read().split()[:3]
    print(f"\n{len(ids)} models, batch {args.batch_size}, {args.threads} torch thread(s), CPU s, "
          f"load average {' '.join(load)}")
    total = 0.0
    for name in proxies.PROXIES:
        seconds = statistics.median(rows[str(m)][name][1] for m in ids)
        total += seconds
        print(f"{name:>10}: {seconds:6.2f} s/model -> all 91,125: "
              f"{seconds * space.N_MODELS / args.cores / 3600:7.1f} h on {args.cores} cores, "
              f"{seconds * space.N_MODELS / args.cluster_cores / 3600:6.2f} h on "
              f"{args.cluster_cores} cores")
    print(f"{'all five':>10}: {total:6.2f} s/model -> all 91,125: "
          f"{total * space.N_MODELS / args.cores / 3600:7.1f} h on {args.cores} cores, "
          f"{total * space.N_MODELS / args.cluster_cores / 3600:6.2f} h on "
          f"{args.cluster_cores} cores")
    columns = {n: np.array([rows[str(m)][n][0] for m in ids]) for n in proxies.PROXIES}
    columns["params"] = costs.release_column("params")[ids].astype(float)
    columns["flops"] = costs.release_column("flops")[ids].astype(float)
    names = list(columns)
    print("\nSpearman rank correlation\n" + " " * 10 + "".join(f"{n:>10}" for n in names))
    for a in names:
        print(f"{a:>10}" + "".join(f"{spearmanr(columns[a], columns[b])[0]:10.2f}"
                                   for b in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
