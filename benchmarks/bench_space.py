"""Benchmark the search-space tables and the costs table (issue: foundation).

Every task is timed in this run (best of ``--repeat``) against its target and against a
baseline, the original benchmark's way of doing the same thing, timed in the same run on a
sample and scaled to the task's size where running it whole would take minutes.

    PYTHONPATH=. python benchmarks/bench_space.py [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable

import numpy as np
import torch

from blox_gym import costs, models, space


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``fn()`` over ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def row(task: str, seconds: float, target: str, ok: bool, baseline: str, base_s: float) -> dict:
    """One result; times in seconds, ``speedup`` = baseline time / time."""
    return {"task": task, "seconds": seconds, "target": target, "meets_target": ok,
            "baseline": baseline, "baseline_seconds": base_s, "speedup": base_s / seconds}


def valid_nested(n: int, rng: np.random.Generator) -> list:
    """``n`` random valid raw vectors in the nested form."""
    raw = space.from_raw_index(rng.choice(space.N_RAW, 3 * n, replace=False))
    return space.to_nested(raw[space.is_valid(raw)][:n])


def bench_raw_to_model(repeat: int, rng: np.random.Generator) -> dict:
    """(a) the raw-vector -> model-id table vs hashing every raw vector."""
    seconds = best(space._build_raw_to_model, repeat)
    sample = space.from_raw_index(rng.choice(space.N_RAW, 500, replace=False))
    per_vector = best(lambda: space.compute_hash(sample), repeat) / len(sample)
    return row("(a) raw -> model table, 373,248 vectors", seconds, "<= 1 s", seconds <= 1.0,
               "hash every raw vector (from 500)", per_vector * space.N_RAW)


def bench_many_ids(repeat: int, rng: np.random.Generator, per_query: float) -> dict:
    """(b) 1,000,000 random raw vectors -> model ids in one call."""
    flat = rng.integers(0, space.RADIX, size=(1_000_000, space.N_COMPONENTS))
    ids = space.model_id(flat)
    assert np.array_equal(ids, space.RAW_TO_MODEL[space.raw_index(flat)])
    seconds = best(lambda: space.model_id(flat), repeat)
    return row("(b) model_id of 1,000,000 raw vectors", seconds, "<= 50 ms", seconds <= 0.05,
               "hash + dict per vector (from (c))", per_query * len(flat))


def bench_one_id(repeat: int, rng: np.random.Generator) -> tuple[dict, float]:
    """(c) one nested architecture -> model id, vs compute_hash + a {hash: id} dict."""
    archs = valid_nested(1000, rng)
    lookup = {h: i for i, h in enumerate(space.model_hashes().tolist())}
    assert [lookup[space.compute_hash(a)] for a in archs] == [space.model_id(a) for a in archs]
    model_id, compute_hash = space.model_id, space.compute_hash

    def fast() -> None:
        for _ in range(100):
            for a in archs:
                model_id(a)

    def original() -> None:
        for a in archs:
            lookup[compute_hash(a)]

    fast_s, base_s = [], []
    for _ in range(repeat):  # interleaved, so that load from elsewhere hits both alike
        fast_s.append(best(fast, 1))
        base_s.append(best(original, 1))
    per_query, base = min(fast_s) / (100 * len(archs)), min(base_s) / len(archs)
    return row("(c) model_id of one nested arch (per query)", per_query, ">= 500x baseline",
               base / per_query >= 500, "compute_hash + dict lookup", base), base


def bench_costs(repeat: int, rng: np.random.Generator) -> dict:
    """(d) the (params, MACs) table of all 91,125 models vs counting built networks."""
    def table() -> None:
        costs.model_costs.cache_clear()
        costs.block_costs.cache_clear()
        costs.model_costs()

    seconds = best(table, repeat)
    torch.set_num_threads(1)  # batch-1 forwards; two threads stall whenever a core is busy
    models.count_module(models.build_model(0))  # warm-up
    per_model = []
    for i in rng.choice(space.N_MODELS, 9, replace=False).tolist():
        start = time.perf_counter()
        counts = models.count_module(models.build_model(i))
        per_model.append(time.perf_counter() - start)
        assert counts == tuple(costs.model_costs()[i].tolist())
    return row("(d) costs table, 91,125 models", seconds, "<= 10 s", seconds <= 10.0,
               "build + hook-count each network, 1 thread (median of 9)",
               float(np.median(per_model)) * space.N_MODELS)


def fmt_time(s: float) -> str:
    """``s`` seconds, in h, s, ms, us or ns with 3 significant digits."""
    if s >= 3600:
        return f"{s / 3600:,.1f} h"
    if s >= 100:
        return f"{s:,.0f} s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:,.3g} {unit}"
    return f"{s * 1e9:,.3g} ns"


def markdown(rows: list[dict], env: dict) -> str:
    lines = [f"Machine: {env['cpus']} CPUs, 1-min load average {env['load']:.2f} at the start; "
             f"Python {env['python']}, numpy {env['numpy']}; best of {env['repeat']}.", "",
             "| task | time | target | met | baseline | baseline time | speed-up |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {fmt_time(r['seconds'])} | {r['target']} | "
                     f"{'yes' if r['meets_target'] else 'NO'} | {r['baseline']} | "
                     f"{fmt_time(r['baseline_seconds'])} | {r['speedup']:,.0f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats (best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    load = os.getloadavg()[0]
    one, per_query = bench_one_id(args.repeat, rng)
    rows = [bench_raw_to_model(args.repeat, rng), bench_many_ids(args.repeat, rng, per_query),
            one, bench_costs(args.repeat, rng)]
    env = {"cpus": os.cpu_count(), "load": load, "python": platform.python_version(),
           "numpy": np.__version__, "repeat": args.repeat}
    print(json.dumps({"env": env, "rows": rows}, indent=2) if args.json else markdown(rows, env))


if __name__ == "__main__":
    main()
