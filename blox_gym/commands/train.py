"""``blox-gym train ARCH...``: train models from scratch with the Normal recipe."""

from __future__ import annotations

import argparse

from blox_gym.commands.runs import (add_models_argument, add_run_arguments, execute, model_ids,
                                    options, recipe_changes)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_models_argument(parser, "the models to train")
    add_run_arguments(parser, "training epochs (default 200)")
    return parser


def run(args) -> int:
    from blox_gym.pipeline.jobs import Job
    from blox_gym.pipeline.recipes import Normal

    recipe = Normal().with_(**recipe_changes(args))
    opts = options(args)
    jobs = [Job(model, seed, recipe, args.dataset, args.runs, args.data_dir, opts,
                keep_weights=args.keep_weights)
            for model in model_ids(args.arch) for seed in args.seed]
    return execute(args, [jobs])
