"""The epoch loop every recipe shares: a cosine schedule to 0 stepped per epoch, the timed
part of each epoch, and checkpoints from which a killed run resumes to the same numbers.

A recipe supplies ``epoch(generator)``, which trains and validates one epoch (timed), and
``keep(epoch, result, state)``, which records its result in ``state`` (not timed: history,
best weights).  The checkpoint holds ``state``'s entries next to ``epoch``, ``model``,
``optimizer``, ``scheduler``, ``rng`` and ``elapsed``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from blox_gym.pipeline.checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint
from blox_gym.pipeline.runtime import Options

LOOP_KEYS = ("epoch", "model", "optimizer", "scheduler", "rng", "elapsed")


def run_epochs(module: nn.Module, optimizer: torch.optim.Optimizer, epochs: int, seed: int,
               device: torch.device | str, options: Options,
               epoch: Callable[[torch.Generator], Any],
               keep: Callable[[int, Any, dict], None], state: dict,
               checkpoint: Path | None = None, stop_after: int | None = None
               ) -> tuple[dict, float, int]:
    """Run epochs up to ``epochs`` (or ``stop_after``) of ``module``, resuming from
    ``checkpoint`` when it exists and saving it every ``options.checkpoint_every`` epochs
    and at the last one.  Shuffling and augmentation draw from one generator on ``device``
    seeded with ``seed``.  Returns ``(state, elapsed seconds of the timed parts, epochs
    done)``."""
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=0)
    generator = torch.Generator(device=device).manual_seed(seed)
    elapsed, done = 0.0, 0
    saved = load_checkpoint(checkpoint, options.device) if checkpoint else None
    if saved is not None:
        module.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        restore_rng(generator, saved["rng"])
        state = {key: saved[key] for key in state}
        elapsed, done = saved["elapsed"], saved["epoch"]
    last = epochs if stop_after is None else min(epochs, stop_after)
    while done < last:
        started = time.perf_counter()
        result = epoch(generator)
        scheduler.step()
        elapsed += time.perf_counter() - started
        done += 1
        keep(done, result, state)
        every = options.checkpoint_every
        if checkpoint and ((every and done % every == 0) or done == last):
            save_checkpoint(checkpoint, {
                **state, "epoch": done, "model": module.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": rng_state(generator), "elapsed": elapsed})
    return state, elapsed, done
