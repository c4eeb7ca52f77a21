"""Zero-cost proxies: all five in one call, this checkout against an older revision.

    python benchmarks/bench_proxies_revision.py --before 4f46f61 [--models 6]

Loads ``blox_gym/proxies.py`` as it was at git revision ``--before`` next to the current
one and times ``score(model)`` (all five proxies in one call) with each, alternately on the
same models (the first ``--models`` of the seeded sample of ``bench_proxies.py``), in CPU
seconds with one torch thread; the values must be identical.  Prints the medians, their
ratio and the load average.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import torch

    from blox_gym import proxies, space

    torch.set_num_threads(1)
    source = subprocess.run(["git", "show", f"{args.before}:blox_gym/proxies.py"], check=True,
                            capture_output=True, text=True, cwd=Path(__file__).parent).stdout
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "proxies_before.py"
        file.write_text(source)
        spec = importlib.util.spec_from_file_location("proxies_before", file)
        before = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(before)
    batch = proxies.minibatch(args.batch_size, 0)
    sample = np.random.default_rng(0).choice(space.N_MODELS, size=1000, replace=False)
    seconds: dict[str, list[float]] = {"before": [], "now": []}
    load_start = open("/proc/loadavg").read().split()[:3]
    for model in sample[:args.models].tolist():
        values = {}
        for label, module in (("before", before), ("now", proxies)):
            clock = time.process_time()
            values[label] = module.score(model, proxies.PROXIES, batch, 0)
            seconds[label].append(time.process_time() - clock)
        if values["before"] != values["now"]:
            raise SystemExit(f"model {model}: {values['before']} before, {values['now']} now")
        print(f"model {model}: {seconds['before'][-1]:.2f} s before, {seconds['now'][-1]:.2f} s "
              "now, same values", flush=True)
    load_end = open("/proc/loadavg").read().split()[:3]
    median = {label: statistics.median(s) for label, s in seconds.items()}
    print(f"all five in one call, median of {args.models} models, CPU s: {median['before']:.2f} "
          f"at {args.before}, {median['now']:.2f} now: {median['before'] / median['now']:.2f}x; "
          f"load average {' '.join(load_start)} at the start, {' '.join(load_end)} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
