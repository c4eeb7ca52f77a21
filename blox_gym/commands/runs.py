"""Options shared by ``train``, ``distill`` and ``finetune``: data, recipe, device, backend,
teacher."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from blox_gym import space
from blox_gym.commands._text import ARCH_HELP

if TYPE_CHECKING:  # the runtime imports torch: not needed to parse or print --help
    from blox_gym.pipeline.runtime import Options


def model_ids(texts: list[str]) -> list[int]:
    """Model ids of ARCH arguments (anything ``blox-gym query`` accepts)."""
    from blox_gym.commands._text import parse_arch

    ids = []
    for text in texts:
        spec = parse_arch(text)
        if isinstance(spec, str):
            ids.append(int(space.model_from_hash(spec)))
        elif isinstance(spec, int):
            if not 0 <= spec < space.N_MODELS:
                raise ValueError(f"{text!r}: model ids are 0..{space.N_MODELS - 1}")
            ids.append(spec)
        else:
            mid = int(space.model_id(spec))
            if mid < 0:
                raise ValueError(f"{text!r} is not a valid architecture (a stage connects "
                                 f"nothing: previous = input = skip = 0)")
            ids.append(mid)
    return ids


def add_models_argument(parser: argparse.ArgumentParser, who: str) -> None:
    """The ``ARCH`` positionals: the models a command trains."""
    parser.add_argument("arch", nargs="+", metavar="ARCH", help=f"{who}: {ARCH_HELP}")


def add_teacher_arguments(parser: argparse.ArgumentParser) -> None:
    """``--teacher`` and how the teacher is obtained (``distill``, ``finetune``)."""
    teacher = parser.add_argument_group("teacher")
    teacher.add_argument("--teacher", required=True, metavar="ARCH",
                         help=f"the teacher architecture: {ARCH_HELP}")
    teacher.add_argument("--teacher-weights", help="state-dict file of the trained teacher "
                         "(default: train it with the Normal recipe, keeping its weights)")
    teacher.add_argument("--teacher-epochs", type=int, default=200,
                         help="Normal epochs when the teacher is trained here (default 200)")


def add_run_arguments(parser: argparse.ArgumentParser, epochs_help: str) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="cifar100",
                      help="cifar100, fake, fake:N (N training images) or a .npz file")
    data.add_argument("--data-dir", help="folder holding cifar-100-python/ "
                      "(default: $BLOX_GYM_DATA)")
    recipe = parser.add_argument_group("recipe (defaults: the paper's)")
    recipe.add_argument("--epochs", type=int, help=epochs_help)
    recipe.add_argument("--batch-size", type=int, help="training batch (default 256)")
    recipe.add_argument("--seed", type=int, nargs="+", default=[0], help="training seed(s)")
    where = parser.add_argument_group("where and how fast")
    where.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    where.add_argument("--channels-last", action="store_true",
                       help="channels-last memory format (often faster on GPUs)")
    where.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA only; "
                       "changes numbers)")
    where.add_argument("--compile", action="store_true", help="torch.compile the network")
    where.add_argument("--checkpoint-every", type=int, default=1, help="epochs between "
                       "checkpoints (0: none); a killed run resumes from its last one")
    where.add_argument("--backend", choices=["local", "ray"], default="local",
                       help="run the jobs in local processes (default) or on Ray")
    where.add_argument("--jobs", type=int, default=1, help="local worker processes")
    where.add_argument("--ray-address", help="Ray cluster address (default: start a local one)")
    where.add_argument("--gpus", type=float, default=None,
                       help="GPUs per Ray task, a fraction allowed (default 1 with --device "
                            "cuda, else 0)")
    where.add_argument("--retries", type=int, default=2, help="tries after a failure")
    out = parser.add_argument_group("output")
    out.add_argument("--runs", default="runs", help="folder of run records and checkpoints")
    out.add_argument("--out", help="store to merge the finished runs into")
    out.add_argument("--keep-weights", action="store_true", help="save each run's best weights")


def recipe_changes(args) -> dict:
    return {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size))
            if v is not None}


def options(args) -> Options:
    from blox_gym.pipeline.runtime import Options

    opts = Options(device=args.device, channels_last=args.channels_last, bf16=args.bf16,
                   compile=args.compile, checkpoint_every=args.checkpoint_every)
    opts.check()
    return opts


def execute(args, stages: list[list]) -> int:
    """Run the job stages in order on the chosen backend, report, and merge into --out."""
    from blox_gym.pipeline.backends import run_jobs

    gpus = args.gpus if args.gpus is not None else (1.0 if args.device.startswith("cuda") else 0.0)
    failed: dict = {}
    done: list[Path] = []
    for jobs in stages:
        outcome = run_jobs(jobs, args.backend, args.jobs, args.retries, args.ray_address, gpus)
        failed.update(outcome.failed)
        done.extend(outcome.done)
        if outcome.failed:
            break
    print(f"{len(done)} run(s) finished in {args.runs}")
    for label, error in failed.items():
        print(f"FAILED {label}: {error}", file=sys.stderr)
    if args.out and not failed:
        from blox_gym.pipeline.merge import merge_runs

        if done:
            summary = merge_runs(done, args.out)
            print(f"merged into {args.out}: {summary['added']} added, "
                  f"{summary['skipped']} already there")
    return 1 if failed else 0
