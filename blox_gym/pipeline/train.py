"""The Normal recipe (training from scratch), and the training loop it shares with fine-tuning
(its epochs, schedule and checkpoints are :func:`blox_gym.pipeline.loop.run_epochs`).

Per epoch: one pass over the shuffled, augmented training split (running loss, top-1 and
top-5 over its batches, in train mode), then a full pass over the validation split.  The
best-validation weights (highest val top-1; on a tie, lower or equal val loss wins, as the
reference) are kept and the test split is evaluated with them at the end.  ``train_time_s``
is the wall time of the train+validate epochs (checkpoints, test and counting excluded).

Randomness: the weights are initialised from ``torch.manual_seed(seed)``; shuffling and
augmentation draw from one ``torch.Generator`` on the data's device seeded with ``seed``.
A checkpoint holds both, so a resumed run ends with the numbers of an uninterrupted one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from blox_gym import augment, models
from blox_gym.datasets import Dataset, Split
from blox_gym.pipeline.loop import run_epochs
from blox_gym.pipeline.recipes import Normal, Recipe
from blox_gym.pipeline.runtime import Options

CURVES = ("train_loss", "train_top1", "train_top5", "val_loss", "val_top1", "val_top5")
LossFn = Callable[[Tensor, Tensor, Tensor], Tensor]  # (logits, images, labels) -> loss


def _counts(logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Correct top-1 and top-5 predictions (top-k limited to the number of classes)."""
    top = logits.topk(min(5, logits.shape[1]), dim=1).indices
    hits = top == labels.view(-1, 1)
    return hits[:, 0].sum(), hits.any(dim=1).sum()


@torch.no_grad()
def evaluate(net: nn.Module, split: Split, options: Options, batch_size: int
             ) -> tuple[float, float, float]:
    """Mean cross-entropy, top-1 and top-5 (percent) of ``net`` in eval mode on ``split``."""
    net.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=split.labels.device)
    for start in range(0, len(split), batch_size):
        x = options.images(augment.eval_batch(split.images[start:start + batch_size]))
        y = split.labels[start:start + batch_size]
        with options.autocast():
            logits = net(x).float()
        top1, top5 = _counts(logits, y)
        sums += torch.stack([F.cross_entropy(logits, y, reduction="sum").double(),
                             top1.double(), top5.double()])
    loss, top1, top5 = (sums / len(split)).tolist()
    return loss, 100 * top1, 100 * top5


def train_epoch(net: nn.Module, split: Split, optimizer: torch.optim.Optimizer, loss_fn: LossFn,
                recipe: Recipe, generator: torch.Generator, options: Options
                ) -> tuple[float, float, float]:
    """One epoch in train mode; running (loss, top-1, top-5) over its augmented batches."""
    net.train()
    n = len(split)
    order = torch.randperm(n, generator=generator, device=split.labels.device)
    sums = torch.zeros(3, dtype=torch.float64, device=split.labels.device)
    for start in range(0, n, recipe.batch_size):
        rows = order[start:start + recipe.batch_size]
        images = split.images[rows]
        x = augment.train_batch(images, generator) if recipe.augment else augment.eval_batch(images)
        x, y = options.images(x), split.labels[rows]
        with options.autocast():
            logits = net(x).float()
            loss = loss_fn(logits, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        top1, top5 = _counts(logits.detach(), y)
        sums += torch.stack([loss.detach().double() * len(rows), top1.double(), top5.double()])
    loss, top1, top5 = (sums / n).tolist()
    return loss, 100 * top1, 100 * top5


def fit(net: nn.Module, data: Dataset, recipe: Recipe, seed: int, options: Options,
        optimizer: torch.optim.Optimizer, loss_fn: LossFn, checkpoint: Path | None = None,
        stop_after: int | None = None) -> dict:
    """Train ``net`` (already on the device, optimizer built on its parameters) for
    ``recipe.epochs`` epochs with a per-epoch cosine schedule to 0; resume from
    ``checkpoint`` if it exists and save it every ``options.checkpoint_every`` epochs.

    Returns the history: the six per-epoch curves, ``best_epoch`` (1-based),
    ``train_time_s`` and, once all epochs ran, ``test_loss``/``test_top1``/``test_top5``
    with the best weights.  ``stop_after`` ends early after that many epochs (a checkpoint
    is written there, so a later call continues); the history then has no test metrics.
    """
    runner = torch.compile(net) if options.compile else net

    def epoch(generator: torch.Generator) -> tuple[float, ...]:
        train = train_epoch(runner, data.train, optimizer, loss_fn, recipe, generator, options)
        return (*train, *evaluate(runner, data.val, options, recipe.eval_batch_size))

    def keep(done: int, values: tuple[float, ...], state: dict) -> None:
        for name, value in zip(CURVES, values):
            state["history"][name].append(value)
        loss, top1, best = values[3], values[4], state["best"]
        if top1 > best["top1"] or (top1 == best["top1"] and loss <= best["loss"]):
            state["best"] = {"top1": top1, "loss": loss, "epoch": done,
                             "state": copy.deepcopy(net.state_dict())}

    start = {"history": {name: [] for name in CURVES},
             "best": {"top1": -1.0, "loss": float("inf"), "epoch": 0, "state": None}}
    state, elapsed, done = run_epochs(net, optimizer, recipe.epochs, seed,
                                      data.train.labels.device, options, epoch, keep, start,
                                      checkpoint, stop_after)
    history, best = state["history"], state["best"]
    out = {**{k: list(v) for k, v in history.items()}, "best_epoch": best["epoch"],
           "train_time_s": elapsed}
    if done == recipe.epochs:
        net.load_state_dict(best["state"])
        out.update(zip(("test_loss", "test_top1", "test_top5"),
                       evaluate(runner, data.test, options, recipe.eval_batch_size)))
    return out


def build_network(model_id: int, data: Dataset, seed: int, options: Options) -> models.BloxNet:
    """The network of ``model_id`` sized to the dataset's classes, initialised from ``seed``
    on the CPU (the same weights on every device), then moved to the device."""
    torch.manual_seed(seed)
    net = models.build_model(model_id, num_classes=data.num_classes)
    net.to(options.device)
    return net.to(memory_format=torch.channels_last) if options.channels_last else net


def train_normal(model_id: int, data: Dataset, recipe: Normal = Normal(), seed: int = 0,
                 options: Options = Options(), checkpoint: Path | None = None,
                 stop_after: int | None = None) -> tuple[dict, models.BloxNet]:
    """Train model ``model_id`` from scratch with the Normal recipe on ``data`` (already on
    the device).  Returns the history (see :func:`fit`) and the network, holding the
    best-validation weights once the run is complete."""
    net = build_network(model_id, data, seed, options)
    optimizer = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                weight_decay=recipe.weight_decay)
    history = fit(net, data, recipe, seed, options, optimizer,
                  lambda logits, x, y: F.cross_entropy(logits, y), checkpoint, stop_after)
    return history, net
