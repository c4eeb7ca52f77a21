"""One-shot ``blox-gym query '#24519'``: whole-process wall time and peak memory.

    python benchmarks/bench_query.py [--data PATH] [--repeats 5] [--json]

Each command runs ``--repeats`` times as a fresh process, interleaved, and the medians (wall,
CPU = user + system, peak memory) are
reported next to ``python -c pass`` measured in the same run (the interpreter's own start).
Targets (issue "new user"): the query <= 0.3 s wall and <= 150 MB peak resident memory, and
``import blox_gym.cli`` loading no torch, Gymnasium or blox_gym.envs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "gymnasium", "blox_gym.envs", "zarr", "pandas")
TABLE_PART = """
import sys, time
import blox_gym.cli
from blox_gym.table import open_table
start = time.perf_counter()
table = open_table(sys.argv[1] if len(sys.argv) > 1 else None)
table.full_info(24519)
table.val_acc(24519)
print(time.perf_counter() - start)
"""


# As a user runs it: bytecode compiled once and reused (pip compiles at install; a
# PYTHONDONTWRITEBYTECODE=1 development shell would recompile blox_gym on every run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak resident MB and CPU seconds (user + system) of one run of
    ``argv``; on a loaded machine the CPU time is what an idle core's wall time would be."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{argv} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="table path (default: the default table)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = ["--data", args.data] if args.data else []
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import numpy": [sys.executable, "-c", "import numpy"],  # the floor of any query
        "import blox_gym.cli": [sys.executable, "-c", "import blox_gym.cli"],
        "blox-gym query '#24519'": [sys.executable, "-m", "blox_gym.cli", "query", "#24519",
                                    *data],
    }
    subprocess.run(commands["blox-gym query '#24519'"], check=True, env=ENV,
                   stdout=subprocess.DEVNULL)  # warm the OS file cache and the bytecode once
    runs: dict[str, list] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, argv in commands.items():
            runs[name].append(measure(argv))
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, blox_gym.cli; print(' '.join(m for m in "
         f"{HEAVY!r} if m in sys.modules))"], capture_output=True, text=True, check=True,
        env=ENV)
    table_argv = [sys.executable, "-c", TABLE_PART, *([args.data] if args.data else [])]
    table_part = [float(subprocess.run(table_argv, capture_output=True, text=True, check=True,
                                       env=ENV).stdout) for _ in range(args.repeats)]
    base = statistics.median(w for w, _, _ in runs["python -c pass"])
    result = {"load_average": open("/proc/loadavg").read().split()[:3],
              "repeats": args.repeats,
              "cli_import_loads": loaded.stdout.split(),
              "table_part_s": round(statistics.median(table_part), 3),
              "commands": {name: {"wall_s": round(statistics.median(w for w, _, _ in r), 3),
                                  "cpu_s": round(statistics.median(c for _, _, c in r), 3),
                                  "peak_mb": round(statistics.median(m for _, m, _ in r), 1),
                                  "wall_over_python": round(
                                      statistics.median(w for w, _, _ in r) / base, 1)}
                           for name, r in runs.items()}}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"load average {' '.join(result['load_average'])}; medians of {args.repeats} runs")
    for name, r in result["commands"].items():
        print(f"{name:>26}: {r['wall_s']:.3f} s ({r['wall_over_python']:.1f}x python), "
              f"{r['cpu_s']:.3f} CPU s, {r['peak_mb']:.0f} MB peak")
    print(f"in-process open_table + full_info + val_acc after the imports: "
          f"{result['table_part_s']:.3f} s")
    print(f"import blox_gym.cli loads: {' '.join(result['cli_import_loads']) or 'none of ' + ', '.join(HEAVY)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
