"""``blox-gym predictors bench``: evaluate accuracy predictors with NASLib's protocol."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from blox_gym.paths import atomic_write
from blox_gym.versions import versions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from predictors import available
    from predictors.protocol import QUICK_SIZES, QUICK_TRIALS, TEST_SIZE, TRIALS

    parser.add_argument("--predictors", nargs="+", metavar="NAME",
                        help=f"predictors to evaluate (default: all but ensemble; "
                             f"available: {', '.join(available())})")
    parser.add_argument("--sizes", nargs="+", type=int, metavar="N",
                        help="training-set sizes (default: NASLib's 11 sizes, 5..1000)")
    parser.add_argument("--trials", type=int, help=f"trials (default {TRIALS})")
    parser.add_argument("--quick", action="store_true",
                        help=f"a short run: sizes {', '.join(map(str, QUICK_SIZES))} and "
                             f"{QUICK_TRIALS} trials (about 2 minutes on 2 cores instead of "
                             f"about 43 with --jobs 2); --sizes and --trials still win")
    parser.add_argument("--test-size", default=str(TEST_SIZE),
                        help="test models per trial, or 'all' for all remaining (default 200)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--threads", type=int,
                        help="torch threads per worker (default: CPUs / jobs)")
    parser.add_argument("--data", help="table path or URL (default: the default table)")
    parser.add_argument("--target", default="val_top1",
                        help="training metric to predict, best over epochs (default val_top1), "
                             "or latency/<device> (only the measured models are drawn)")
    parser.add_argument("--seed", type=int, default=0, help="protocol seed (default 0)")
    parser.add_argument("--kwargs", default="{}", metavar="JSON",
                        help='constructor arguments per predictor, e.g. \'{"gcn": {"epochs": 50}}\'')
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE:CLASS",
                        help="register a Predictor subclass under its class attribute name "
                             "(repeatable; the module must be importable, e.g. on PYTHONPATH)")
    parser.add_argument("--out", required=True, help="output folder")


def _predictor_kwargs(args: argparse.Namespace, table) -> dict[str, dict[str, Any]]:
    from predictors import available
    from predictors.protocol import default_predictors

    try:
        extra = json.loads(args.kwargs)
    except json.JSONDecodeError as err:
        raise ValueError(f"--kwargs is not valid JSON ({err}): {args.kwargs!r}") from None
    if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
        raise ValueError(f"--kwargs must map predictor names to objects, got {args.kwargs!r}")
    names = args.predictors or default_predictors()
    unknown = [n for n in list(names) + list(extra) if n not in available()]
    if unknown:
        raise ValueError(f"unknown predictor(s) {unknown}; available: {', '.join(available())}")
    chosen = {name: dict(extra.get(name, {})) for name in names}
    if "linear_signatures" in chosen and "signatures" not in chosen["linear_signatures"]:
        if table.signature_epochs:
            chosen["linear_signatures"]["signatures"] = table.signatures().tolist()
        elif args.predictors:
            raise ValueError("linear_signatures needs block signatures and this table has "
                             "none; pass them with --kwargs or choose other predictors")
        else:
            print("note: the table has no block signatures; skipping linear_signatures",
                  file=sys.stderr)
            del chosen["linear_signatures"]
    return chosen


def run(args: argparse.Namespace) -> int:
    """Run the protocol as ``args`` say and write results, summary, sidecar and plot."""
    from blox_gym.registry import import_entry_point
    from blox_gym.table import open_table
    from predictors import Predictor, register
    from predictors.base import REGISTRY
    from predictors.protocol import plot, run_protocol, summarise

    for entry_point in args.plugin:
        cls = import_entry_point(entry_point)
        if not (isinstance(cls, type) and issubclass(cls, Predictor)):
            raise ValueError(f"--plugin {entry_point}: not a predictors.Predictor subclass")
        register(getattr(cls, "name", None), entry_point)
    table = open_table(args.data)
    chosen = _predictor_kwargs(args, table)
    test_size = None if args.test_size == "all" else _int(args.test_size, "--test-size")
    sizes, trials = protocol_size(args)
    targets = table.column(args.target)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(cost_line(list(chosen), sizes, trials, args.jobs), flush=True)
    started = datetime.now(timezone.utc)
    results = run_protocol(targets, chosen, sizes, trials, test_size, args.seed,
                           args.jobs, args.threads)
    finished = datetime.now(timezone.utc)
    atomic_write(out / "results.csv", lambda tmp: results.to_csv(tmp, index=False))
    atomic_write(out / "results.parquet", lambda tmp: results.to_parquet(tmp, index=False))
    atomic_write(out / "summary.csv", lambda tmp: summarise(results).to_csv(tmp, index=False))
    config = {"predictors": chosen, "sizes": list(sizes), "trials": trials,
              "test_size": args.test_size, "seed": args.seed, "jobs": args.jobs,
              "threads": args.threads, "target": args.target,
              "entry_points": {name: REGISTRY.entry_point(name) for name in chosen},
              "table": {"path": table.path, "label": table.label, "source": table.source}}
    sidecar = {"config": config, "versions": versions(), "cpus": os.cpu_count(),
               "started": started.isoformat(), "finished": finished.isoformat(),
               "wall_s": (finished - started).total_seconds(), "command": sys.argv}
    atomic_write(out / "results.json",
                 lambda tmp: Path(tmp).write_text(json.dumps(sidecar, indent=1) + "\n"))
    title = f"Kendall tau of {args.target} predictions: {table.label}"
    atomic_write(out / "kendall_tau.png", lambda tmp: plot(results, title, tmp))
    print(f"\nKendall tau on {args.target} (mean over {trials} trials), by training size; "
          f"{(finished - started).total_seconds():,.0f} s")
    print(tau_table(results))
    print(f"wrote results.csv, results.parquet, summary.csv, results.json and "
          f"kendall_tau.png to {out}")
    return 0


def protocol_size(args: argparse.Namespace) -> tuple[list[int], int]:
    """The training sizes and trials: given ones, else ``--quick``'s, else NASLib's."""
    from predictors.protocol import QUICK_SIZES, QUICK_TRIALS, SIZES, TRIALS

    sizes = args.sizes or list(QUICK_SIZES if args.quick else SIZES)
    trials = args.trials if args.trials is not None else QUICK_TRIALS if args.quick else TRIALS
    return sizes, trials


def cost_line(names: list[str], sizes: list[int], trials: int, jobs: int) -> str:
    """What the run will do and about how long it takes (from the reference timings)."""
    from predictors.protocol import estimate_seconds

    seconds, unknown = estimate_seconds(names, sizes, trials, jobs)
    minutes = f"{seconds / 60:,.0f} min" if seconds >= 90 else f"{seconds:,.0f} s"
    line = (f"{len(names)} predictor(s) x {len(sizes)} size(s) x {trials} trial(s), "
            f"{jobs} worker(s): about {minutes} on a 2-core machine like the reference")
    if unknown:
        line += f" plus {', '.join(unknown)} (no reference timing)"
    return line + ("" if seconds < 300 else "; --quick runs a short version")


def tau_table(results) -> str:
    """Mean Kendall tau per predictor (rows) and training size (columns), as aligned text."""
    import io

    from blox_gym.commands._text import print_rows

    means = results.pivot_table(index="predictor", columns="train_size",
                                values="kendall_tau", aggfunc="mean")
    text = io.StringIO()
    print_rows([[name, *(round(float(v), 3) for v in row)] for name, row in means.iterrows()],
               ["predictor", *map(str, means.columns)], text)
    return text.getvalue().rstrip("\n")


def _int(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{option} must be an int or 'all', got {text!r}") from None
