"""``blox-gym search``: run a NAS agent over several seeds and print its summary."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path
from typing import Any

from blox_gym.core import UNITS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import agents
    from agents.runner import BACKENDS

    parser.add_argument("--agent", required=True,
                        help=f"one of {', '.join(agents.available())}")
    parser.add_argument("--budget", type=float, default=200, help="search budget (200)")
    parser.add_argument("--unit", choices=UNITS, default="models",
                        help="budget unit: models = full trainings (default), epochs, seconds")
    parser.add_argument("--seeds", type=int, default=10, help="search seeds 0..K-1 (10)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once (1)")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="run the seeds in local processes (default) or on Ray")
    parser.add_argument("--ray-address", help="Ray cluster address (default: a local Ray)")
    parser.add_argument("--data", help="table path or URL (default: the synthetic default)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--train-seed", default=None,
                        help="the table's training seed the search sees, or 'random' "
                             "(default: the first)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an agent setting, e.g. --set population=32 (repeatable)")
    parser.add_argument("--csv", action="store_true", help="also write CSV files")
    blockwise = parser.add_argument_group(
        "blockwise NAS (docs/blockwise.md); any of these runs the agent as 'blockwise'")
    blockwise.add_argument("--teacher", help="teacher of the table (e.g. M1, mediocre)")
    blockwise.add_argument("--distill-epochs", type=int, help="distillation epochs D (10)")
    blockwise.add_argument("--finetune-epochs", type=int,
                           help="fine-tuning epochs FT per evaluated model (200)")


def parse_settings(items: list[str]) -> dict[str, Any]:
    """``["population=32", "device=gpu"]`` -> ``{"population": 32, "device": "gpu"}``."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"agent setting {item!r} must look like KEY=VALUE")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text
    return out


def run(args: argparse.Namespace) -> int:
    from agents import report
    from agents.runner import agent_label, blockwise_settings, run_experiment

    train_seed = args.train_seed
    if train_seed is not None and train_seed != "random":
        train_seed = int(train_seed)
    agent, settings = blockwise_settings(args.agent, parse_settings(args.set), args.teacher,
                                         args.distill_epochs, args.finetune_epochs)
    run_experiment(agent, args.data, args.budget, args.unit, args.seeds, args.jobs,
                   args.backend, args.ray_address, args.out, settings, train_seed, args.csv)
    folder = Path(args.out) / agent_label(agent)
    runs = report.load_runs([folder])
    print(runs.title)
    print(report.to_markdown(report.summarise(runs)))
    print(f"rows: {folder}/seed-*.parquet")
    return 0
