"""Speed and memory of the table, against the original's query approach, in one run.

    python benchmarks/bench_table.py [--data PATH] [--json]

The baseline is the original ``blox.Dataset`` path: hash the architecture's minimised
graph (NAS-Bench-101 scheme), then look the hash up in a dict of rows.  Targets (issue
"table"): open + first query <= 0.3 s; one ``val_acc`` >= 500x faster than the baseline;
``val_acc`` of all 91,125 models <= 50 ms; resident memory with the base metrics of all
seeds loaded <= 250 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

COLD = """
import time, sys
t0 = time.perf_counter()
import zarr
import blox_gym.table as T
t1 = time.perf_counter()
table = T.open_table(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None)
value = table.val_acc(24519)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""

RSS = """
import sys
import blox_gym.table as T
table = T.open_table(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None).load("base")
table.val_acc(0)
for line in open("/proc/self/status"):
    if line.startswith("VmRSS"):
        print(int(line.split()[1]) / 1024)
"""


def per_call(fn, n: int) -> float:
    """Median seconds per call over 5 batches of ``n`` calls."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t) / n)
    return float(np.median(times))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="", help="table path (default: the default table)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from blox_gym import space
    from blox_gym.table import open_table

    table = open_table(args.data or None)
    arch = [[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]]
    rows_by_hash = {h: i for i, h in enumerate(space.model_hashes().tolist())}
    best = table.column("val_top1").tolist()

    def original():  # hash the graph, then a dict lookup
        return best[rows_by_hash[space.compute_hash(arch)]]

    assert original() == table.val_acc(arch) == table.val_acc(24519)
    t_base = per_call(original, 200)
    t_id = per_call(lambda: table.val_acc(24519), 20_000)
    t_arch = per_call(lambda: table.val_acc(arch), 2_000)
    everything = np.arange(space.N_MODELS)
    t_all = per_call(lambda: table.val_acc(everything), 20)
    t_all_e = per_call(lambda: table.val_acc(everything, epoch=50, best=False), 5)

    cold = [subprocess.run([sys.executable, "-c", COLD, args.data], capture_output=True,
                           text=True, check=True).stdout.split() for _ in range(3)]
    imports, open_query = np.median(np.array(cold, dtype=float), axis=0)
    rss = float(subprocess.run([sys.executable, "-c", RSS, args.data], capture_output=True,
                               text=True, check=True).stdout)

    results = [
        ("open the store + first val_acc (in process, after imports)", open_query, "s", "<= 0.3 s"),
        ("cold start: import numpy, zarr, blox_gym.table", imports, "s", "(context)"),
        ("baseline: hash + dict lookup, one query", t_base * 1e6, "us", "(baseline)"),
        ("val_acc(model id), one query", t_id * 1e6, "us", f"{t_base / t_id:,.0f}x faster (>= 500x)"),
        ("val_acc(nested arch), one query", t_arch * 1e6, "us", f"{t_base / t_arch:,.0f}x faster"),
        ("val_acc of all 91,125 models, one call", t_all * 1e3, "ms", "<= 50 ms"),
        ("val_acc(epoch=50, best=False) of all models", t_all_e * 1e3, "ms", "(context)"),
        ("resident memory, base metrics of all seeds loaded", rss, "MB", "<= 250 MB"),
    ]
    if args.json:
        print(json.dumps([dict(zip(("what", "value", "unit", "target"), r)) for r in results]))
        return 0
    print(f"table: {table.label}, seeds {table.seeds}\n")
    print("| measurement | value | target / ratio |\n|---|---|---|")
    for what, value, unit, target in results:
        print(f"| {what} | {value:,.3f} {unit} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
