"""``blox-gym finetune ARCH... --teacher ARCH``: fine-tune students from distilled blocks."""

from __future__ import annotations

import argparse

from blox_gym.commands.runs import add_run_arguments, execute, model_ids, recipe_changes


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("arch", nargs="+", help="the students (ARCH)")
    parser.add_argument("--teacher", required=True, help="the teacher architecture (ARCH)")
    parser.add_argument("--teacher-weights", help="state-dict file of the trained teacher "
                        "(default: train it with the Normal recipe, keeping its weights)")
    parser.add_argument("--teacher-epochs", type=int, default=200,
                        help="Normal epochs when the teacher is trained here (default 200)")
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
