"""Blockwise distillation (DNA / DONNA): every block of every stage learns its teacher's stage.

For each batch the teacher (eval mode, frozen) gives the input and output of each stage's
cell; each of the 3 x 45 candidate cells of :data:`blox_gym.space.BLOCKS` maps the teacher's
input of its stage and is trained with MSE to the teacher's output.  One Adam optimizer over
all cells (Adam is per parameter, so this equals 135 separate optimizers), lr cosine to 0.

After each epoch every cell is scored on the validation split (no augmentation) by

* its distillation loss (MSE over all elements), the DNA signature, and
* its noise-to-signal ratio, ``mean over channels c of MSE(s_c, t_c) / Var(t_c)``, the DONNA
  signature (the original's ``nsr`` loss, over the whole split; channels where the teacher is
  constant, such as dead ReLUs, have no signal and are left out of the mean).

Each cell keeps the weights of its lowest validation loss; its signatures are the values at
that epoch.  Training batches get the Normal recipe's augmentation.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import Tensor, nn

from blox_gym import augment, space
from blox_gym.datasets import Dataset, Split
from blox_gym.models import BloxNet, build_block
from blox_gym.pipeline.loop import run_epochs
from blox_gym.pipeline.recipes import Distill
from blox_gym.pipeline.runtime import Options

SHAPE = (space.N_STAGES, space.N_BLOCKS)


def cell_name(stage: int, block_k: int) -> str:
    return f"{stage}_{block_k}"


def _blocks(recipe: Distill) -> list[int]:
    blocks = sorted(set(recipe.blocks)) or list(range(space.N_BLOCKS))
    if not all(0 <= k < space.N_BLOCKS for k in blocks):
        raise ValueError(f"distill blocks must be in 0..{space.N_BLOCKS - 1}, got {recipe.blocks}")
    return blocks


def build_cells(blocks: list[int], seed: int, options: Options) -> nn.ModuleDict:
    """The student cells of ``blocks`` in every stage, initialised from ``seed`` on the CPU,
    on the device."""
    torch.manual_seed(seed)
    cells = nn.ModuleDict({cell_name(s, k): build_block(s, k)
                           for s in range(space.N_STAGES) for k in blocks})
    return cells.to(options.device)


def _stage_pairs(teacher: BloxNet, x: Tensor, options: Options):
    with torch.no_grad(), options.autocast():
        _, inputs, outputs = teacher(x, return_features=True)
    return [i.float() for i in inputs], [o.float() for o in outputs]


@torch.no_grad()
def score_cells(cells: nn.ModuleDict, teacher: BloxNet, split: Split, options: Options,
                batch_size: int) -> tuple[Tensor, Tensor]:
    """Validation MSE and noise-to-signal ratio of every cell, each ``(3, 45)`` float64
    (NaN for blocks not distilled)."""
    cells.eval()
    blocks = sorted({int(name.split("_")[1]) for name in cells})
    sums: dict[str, Tensor] = {}
    for start in range(0, len(split), batch_size):
        inputs, outputs = _stage_pairs(teacher, options.images(
            augment.eval_batch(split.images[start:start + batch_size])), options)
        for s in range(space.N_STAGES):
            t = outputs[s].double()
            dims = (0, 2, 3)
            moments = torch.stack([t.sum(dims), (t * t).sum(dims)])
            sums[f"t{s}"] = sums.get(f"t{s}", 0) + moments
            for k in blocks:
                with options.autocast():
                    out = cells[cell_name(s, k)](inputs[s]).double()
                err = ((out - t) ** 2).sum(dims)
                sums[cell_name(s, k)] = sums.get(cell_name(s, k), 0) + err
    mse = torch.full(SHAPE, float("nan"), dtype=torch.float64)
    nsr = torch.full(SHAPE, float("nan"), dtype=torch.float64)
    for s in range(space.N_STAGES):
        count = len(split) * outputs[s][0, 0].numel()
        first, second = sums[f"t{s}"].cpu() / count
        variance = second - first * first
        signal = variance > 1e-12 * second.clamp_min(1e-30)
        for k in blocks:
            err = sums[cell_name(s, k)].cpu() / count
            mse[s, k] = err.mean()
            nsr[s, k] = (err[signal] / variance[signal]).mean()
    return mse, nsr


def distill_blocks(teacher: BloxNet, data: Dataset, recipe: Distill = Distill(), seed: int = 0,
                   options: Options = Options(), checkpoint: Path | None = None
                   ) -> tuple[dict, nn.ModuleDict]:
    """Distil all 135 cells from ``teacher`` (on the device, trained).  Returns the history
    and the cells, each holding the weights of its best validation epoch.

    History: ``train_loss``, ``val_loss``, ``val_nsr`` per epoch as ``[epoch][stage][block]``
    lists (NaN for blocks left out by ``recipe.blocks``); ``best_epoch`` ``[stage][block]``
    (1-based); ``dna`` and ``donna``, the
    signatures ``[stage][block]`` (validation MSE and noise-to-signal ratio at the best
    epoch); ``train_time_s``."""
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    blocks = _blocks(recipe)
    cells = build_cells(blocks, seed, options)
    optimizer = torch.optim.Adam(cells.parameters(), lr=recipe.lr, betas=recipe.betas,
                                 weight_decay=recipe.weight_decay)
    n, device = len(data.train), data.train.labels.device

    def epoch(generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        cells.train()
        running = torch.zeros((space.N_STAGES, len(blocks)), dtype=torch.float64, device=device)
        order = torch.randperm(n, generator=generator, device=device)
        for start in range(0, n, recipe.batch_size):
            rows = order[start:start + recipe.batch_size]
            x = augment.train_batch(data.train.images[rows], generator) if recipe.augment \
                else augment.eval_batch(data.train.images[rows])
            inputs, outputs = _stage_pairs(teacher, options.images(x), options)
            losses = []
            for s in range(space.N_STAGES):
                for k in blocks:
                    with options.autocast():
                        out = cells[cell_name(s, k)](inputs[s]).float()
                    losses.append(nn.functional.mse_loss(out, outputs[s]))
            losses = torch.stack(losses)
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            optimizer.step()
            running += losses.detach().double().view(space.N_STAGES, -1) * len(rows)
        return (running, *score_cells(cells, teacher, data.val, options, recipe.eval_batch_size))

    def keep(done: int, result: tuple[Tensor, Tensor, Tensor], state: dict) -> None:
        running, val_loss, val_nsr = result
        train_loss = torch.full(SHAPE, float("nan"), dtype=torch.float64)
        train_loss[:, blocks] = running.cpu() / n
        for key, values in (("train_loss", train_loss), ("val_loss", val_loss),
                            ("val_nsr", val_nsr)):
            state["history"][key].append(values.tolist())
        better = val_loss <= state["best_loss"]  # False for blocks not distilled (NaN)
        state["best_loss"] = torch.where(better, val_loss, state["best_loss"])
        state["best_epoch"] = torch.where(better, torch.tensor(done), state["best_epoch"])
        state["signatures"] = torch.where(better, torch.stack([val_loss, val_nsr]),
                                          state["signatures"])
        for s, k in better.nonzero().tolist():
            state["best_states"][cell_name(s, k)] = copy.deepcopy(
                cells[cell_name(s, k)].state_dict())

    start = {"history": {"train_loss": [], "val_loss": [], "val_nsr": []},
             "best_loss": torch.full(SHAPE, float("inf"), dtype=torch.float64),
             "best_epoch": torch.zeros(SHAPE, dtype=torch.int64),
             "signatures": torch.full((2, *SHAPE), float("nan"), dtype=torch.float64),
             "best_states": {name: copy.deepcopy(cell.state_dict())
                             for name, cell in cells.items()}}
    state, elapsed, _ = run_epochs(cells, optimizer, recipe.epochs, seed, device, options,
                                   epoch, keep, start, checkpoint)
    history, best_states, signatures = state["history"], state["best_states"], state["signatures"]
    for name, cell in cells.items():
        cell.load_state_dict(best_states[name])
    history.update(best_epoch=state["best_epoch"].tolist(), dna=signatures[0].tolist(),
                   donna=signatures[1].tolist(), train_time_s=elapsed)
    return history, cells
