"""``blox-gym finetune ARCH... --teacher ARCH``: fine-tune students from distilled blocks."""

from __future__ import annotations

import argparse

from blox_gym.commands.runs import (add_models_argument, add_run_arguments, add_teacher_arguments,
                                    execute, model_ids, recipe_changes)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_models_argument(parser, "the students")
    add_teacher_arguments(parser)
    parser.add_argument("--distill-epochs", type=int, default=10,
                        help="distillation epochs of the blocks (default 10; paper 1, 10, 50)")
    parser.add_argument("--distill-blocks", type=int, nargs="+", default=[],
                        help="distil only these block indices (default: all 45)")
    add_run_arguments(parser, "fine-tuning epochs (default 200; the paper uses 10, 50, 200)")
    return parser


def run(args) -> int:
    from blox_gym.commands.distill import jobs_for
    from blox_gym.pipeline.recipes import Finetune

    teacher = model_ids([args.teacher])[0]
    recipe = Finetune(teacher=teacher, distill_epochs=args.distill_epochs,
                      distill_blocks=tuple(args.distill_blocks)).with_(**recipe_changes(args))
    return execute(args, jobs_for(args, recipe, model_ids(args.arch)))
