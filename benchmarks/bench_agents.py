"""Search agents on the default table: anytime quality of every agent, and their speed.

    PYTHONPATH=. python benchmarks/bench_agents.py [--seeds 20] [--budget 200] [--jobs 2]
        [--brp-seeds N] [--brp-budget B]

Runs every agent but BRP-NAS for ``--seeds`` seeds and ``--budget`` models (timed as one
part), then one BRP-NAS run alone (timed) and its other seeds (``--brp-seeds``, default
``--seeds``, at ``--brp-budget`` models, default ``--budget``), all with the paper's default
settings, into a fresh runs folder; writes the anytime figure and summary into
``benchmarks/results/agents/`` and prints the checks:

- regularized evolution and BRP-NAS end with a lower mean regret than random search;
- all agents but BRP-NAS finish within 10 minutes on 2 cores;
- one BRP-NAS run of 200 models takes under 20 minutes (the paper's defaults: the authors'
  predictor training, about 200-250 epochs per round, and whole-space rankings; it took
  74 s with the old defaults, a 10 % validation split and a pool of 10,000).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

from agents import report
from agents.runner import agent_label, run_experiment, seed_times
from blox_gym.table import open_table

RESULTS = Path(__file__).parent / "results" / "agents"
AGENTS = {
    "random": {}, "rea": {}, "local": {}, "qlearning": {}, "reinforce": {}, "hyperband": {},
    "donna": {}, "lana": {}, "sb3:MaskablePPO": {"algo_kwargs": {"n_steps": 32, "batch_size": 32}},
}
TIME_LIMIT_S = 600  # all agents but BRP-NAS
BRP_LIMIT_S = 1200  # one BRP-NAS run at the paper's defaults


def cpu_seconds(folder: Path, seeds: int) -> float:
    return sum(seed_times(folder, s)["cpu_s"] for s in range(seeds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=float, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--brp-seeds", type=int, default=None,
                        help="BRP-NAS seeds (default: --seeds)")
    parser.add_argument("--brp-budget", type=float, default=None,
                        help="BRP-NAS budget in models (default: --budget)")
    parser.add_argument("--only-brp", action="store_true",
                        help="keep the other agents' rows in --runs and run BRP-NAS only")
    parser.add_argument("--runs", default=str(Path.home() / ".cache" / "blox-gym-bench-agents"),
                        help="scratch folder for the rows (emptied first)")
    args = parser.parse_args()

    brp_seeds = args.brp_seeds or args.seeds
    brp_budget = args.brp_budget or args.budget
    table = open_table()
    runs = Path(args.runs)
    timings_file = runs / "timings.json"
    if not args.only_brp:
        shutil.rmtree(runs, ignore_errors=True)
    load = [os.getloadavg()[0]]
    timings = {}
    for agent, settings in AGENTS.items():
        start = time.perf_counter()
        if not args.only_brp:
            run_experiment(agent, table.path, args.budget, "models", args.seeds, args.jobs,
                           out_dir=runs, settings=settings)
            timings[agent] = time.perf_counter() - start
    if args.only_brp:
        timings = json.loads(timings_file.read_text())
    else:
        timings_file.write_text(json.dumps(timings))
    part1 = sum(timings.values())
    load.append(os.getloadavg()[0])
    shutil.rmtree(runs / "brp_nas", ignore_errors=True)
    start = time.perf_counter()  # one BRP-NAS run alone, then the other seeds in parallel
    run_experiment("brp_nas", table.path, brp_budget, "models", [0], 1, out_dir=runs)
    run_experiment("brp_nas", table.path, brp_budget, "models", brp_seeds, args.jobs,
                   out_dir=runs)
    timings["brp_nas"] = time.perf_counter() - start
    load.append(os.getloadavg()[0])
    alone = seed_times(runs / "brp_nas", 0)
    brp_cpu = [seed_times(runs / "brp_nas", s)["cpu_s"] for s in range(brp_seeds)]

    text = report.write_report([runs], RESULTS / "anytime.png")
    summary = report.summarise(report.load_runs([runs])).set_index("agent")
    regret = summary["final_regret"]
    lines = [
        f"Table: {table.label}; {args.seeds} seeds x {args.budget:g} models (BRP-NAS: "
        f"{brp_seeds} seeds x {brp_budget:g} models); paper default settings; --jobs "
        f"{args.jobs}; {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{min(load):.1f}-{max(load):.1f} (1-minute, sampled between parts)", "",
        "| agent | wall-clock, all seeds (s) | CPU, summed over seeds (s) |", "|---|---|---|",
        *[f"| {agent_label(a)} | {t:.0f} | "
          f"{cpu_seconds(runs / agent_label(a), brp_seeds if a == 'brp_nas' else args.seeds):.0f} |"
          for a, t in timings.items()], "",
        "| check | result | target |", "|---|---|---|",
        f"| all agents but BRP-NAS, {args.seeds} seeds | {part1:.0f} s | <= {TIME_LIMIT_S} s |",
        f"| one BRP-NAS run alone (seed 0), wall-clock / CPU | {alone['wall_s']:.0f} s / "
        f"{alone['cpu_s']:.0f} s | <= {BRP_LIMIT_S} s |",
        f"| BRP-NAS CPU time per run, mean / max of {brp_seeds} | "
        f"{sum(brp_cpu) / len(brp_cpu):.0f} s / {max(brp_cpu):.0f} s | |",
        f"| final regret: rea vs random | {regret['rea']:.3f} vs {regret['random']:.3f} | lower |",
        f"| final regret: brp_nas vs random | {regret['brp_nas']:.3f} vs "
        f"{regret['random']:.3f} | lower |",
        "", text,
    ]
    (RESULTS / "timings.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
