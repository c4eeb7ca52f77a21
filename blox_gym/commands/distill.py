"""``blox-gym distill --teacher ARCH``: blockwise distillation of all blocks against a teacher."""

from __future__ import annotations

import argparse

from blox_gym.commands.runs import (add_run_arguments, add_teacher_arguments, execute, model_ids,
                                    options, recipe_changes)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_teacher_arguments(parser)
    parser.add_argument("--blocks", type=int, nargs="+", default=[],
                        help="distil only these block indices 0..44 (default: all)")
    add_run_arguments(parser, "distillation epochs (default 10; the paper uses 1, 10, 50)")
    return parser


def jobs_for(args, recipe, models: list[int]) -> list[list]:
    """Stages of jobs: the prerequisites (teacher, distillation), then ``recipe`` on ``models``."""
    from blox_gym.pipeline.jobs import Job, prerequisites
    from blox_gym.pipeline.recipes import Normal

    opts = options(args)
    teacher_recipe = Normal(epochs=args.teacher_epochs).with_(
        **{k: v for k, v in recipe_changes(args).items() if k != "epochs"})
    jobs = [Job(model, seed, recipe, args.dataset, args.runs, args.data_dir, opts,
                args.teacher_weights, teacher_recipe, args.keep_weights)
            for model in models for seed in args.seed]
    stages: list[list] = []
    for job in jobs:
        for depth, need in enumerate(prerequisites(job)):
            while len(stages) <= depth:
                stages.append([])
            if need not in stages[depth]:
                stages[depth].append(need)
    return stages + [jobs]


def run(args) -> int:
    from blox_gym.pipeline.recipes import Distill

    teacher = model_ids([args.teacher])[0]
    recipe = Distill(teacher=teacher, blocks=tuple(args.blocks)).with_(**recipe_changes(args))
    return execute(args, jobs_for(args, recipe, [teacher]))
