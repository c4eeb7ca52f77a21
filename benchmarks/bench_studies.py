"""The five blockwise studies together: wall time on this machine and CPU time per curve.

    python benchmarks/bench_studies.py [--seeds 10] [--jobs 2] [--studies s,t]
                                       [--agents a,b | --skip b] [--work DIR]

Runs every study of ``agents.studies.STUDIES`` with ``run_study`` (seeds in parallel,
resumable: runs live in ``--work``, default ``~/.cache/blox-gym-bench-studies``), copies each
study's ``results.csv``, ``summary.md`` and figure into ``benchmarks/results/studies/<name>/``
and writes ``benchmarks/results/studies/timing.json``: the wall time of this invocation per
study with the load average, and per curve the search CPU seconds of every finished seed
(recorded by the runner, so resumed seeds count too).  ``--agents``/``--skip`` choose the
curves, so the cheap ones can be timed apart from an expensive one; ``--studies`` the studies
(all by default).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "studies"


def curve_times(name: str, work: Path) -> list[dict]:
    """Per curve of study ``name``: seeds finished and their summed search CPU seconds."""
    from agents.runner import seed_times
    from agents.studies import STUDIES, run_folder

    out = []
    for run in STUDIES[name]:
        folder = run_folder(work, run)
        seeds = sorted(int(f.stem.split("-")[1]) for f in folder.glob("seed-*.parquet"))
        cpu = [seed_times(folder, s)["cpu_s"] for s in seeds]
        out.append({"setting": run.setting, "agent": run.agent, "seeds": len(seeds),
                    "cpu_s": round(sum(cpu), 1),
                    "cpu_s_per_seed": round(sum(cpu) / len(cpu), 2) if cpu else None})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--studies", help="only these studies, comma-separated")
    parser.add_argument("--agents", help="only these agents' curves, comma-separated")
    parser.add_argument("--skip", help="all curves but these agents', comma-separated")
    parser.add_argument("--work", type=Path,
                        default=Path.home() / ".cache" / "blox-gym-bench-studies")
    args = parser.parse_args()

    from agents.studies import STUDIES, collect, run_study, study_agents
    from blox_gym.table import open_table

    table = open_table()
    timing_path = RESULTS / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.exists() else {}
    for name in STUDIES:
        chosen = [a for a in study_agents(name)
                  if (not args.studies or name in args.studies.split(","))
                  and (not args.agents or a in args.agents.split(","))
                  and (not args.skip or a not in args.skip.split(","))]
        work = args.work / name
        if chosen:
            load = open("/proc/loadavg").read().split()[0]
            start = time.perf_counter()
            run_study(name, work, args.seeds, jobs=args.jobs, only=chosen, progress=False)
            wall = time.perf_counter() - start
            timing.setdefault("invocations", []).append(
                {"study": name, "agents": chosen, "seeds": args.seeds, "jobs": args.jobs,
                 "wall_s": round(wall, 1), "load_start": float(load),
                 "load_end": float(open("/proc/loadavg").read().split()[0]),
                 "finished_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())})
            print(f"{name} ({', '.join(chosen)}): {wall:.0f} s wall", flush=True)
        if not any(work.glob("runs/*/*/*/seed-*.parquet")):
            continue
        collect(name, work, table)
        (RESULTS / name).mkdir(parents=True, exist_ok=True)
        for file in ("results.csv", "summary.md", f"{name}.png"):
            shutil.copyfile(work / file, RESULTS / name / file)
        timing.setdefault("curves", {})[name] = curve_times(name, work)
    timing_path.write_text(json.dumps(timing, indent=1) + "\n")
    total = sum(c["cpu_s"] for curves in timing.get("curves", {}).values() for c in curves)
    print(f"search CPU of all finished seeds: {total:.0f} s ({total / 60 / args.jobs:.1f} min "
          f"on {args.jobs} cores if perfectly parallel)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
