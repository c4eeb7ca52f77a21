"""Build time, peak memory and size on disk of the synthetic default table.

Usage: ``PYTHONPATH=. python benchmarks/bench_synthetic.py [--seed N]``.  The one-time model
hash computation (cached in ``blox_gym.paths.cache_dir()``) is timed separately; the build
is ``synthetic.generate`` + ``store.write_store``, exactly what ``synthetic.build`` does.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from blox_gym import space, store, synthetic


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def size_on_disk(path: Path) -> int:
    """Bytes of all files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    start = time.perf_counter()
    space.model_hashes()
    print(f"model hashes (once, then cached): {time.perf_counter() - start:6.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "blox-synthetic.zarr"
        start, cpu = time.perf_counter(), cpu_seconds()
        arrays, attrs = synthetic.generate(args.seed, progress=False)
        generated = time.perf_counter()
        store.write_store(path, arrays, attrs, progress=False)
        done, cpu = time.perf_counter(), cpu_seconds() - cpu
        size = size_on_disk(path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"generate:   {generated - start:6.1f} s")
    print(f"write:      {done - generated:6.1f} s")
    print(f"build:      {done - start:6.1f} s (generate + write); CPU time {cpu:.1f} s")
    print(f"store size: {size / 1e6:6.1f} MB on disk")
    print(f"peak RSS:   {peak:6.2f} GiB")


if __name__ == "__main__":
    main()
