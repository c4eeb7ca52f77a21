"""Training curves of one synthetic training seed (200 epochs, cosine learning rate).

For model m with final accuracy level ``level`` (percent) the noise-free curve is

    acc(e) = CHANCE + (level - gap * r(e) - CHANCE) * (1 - exp(-e / tau))

with r(e) the cosine learning-rate factor (1 -> 0): a high learning rate costs ``gap``
points, and a warm-up with time constant ``tau`` epochs starts from chance.  Validation and
test share the model's epoch-to-epoch weight fluctuation; each split adds its own
measurement noise.  Test is read at the best-validation epoch.  Top-5 and losses follow
from top-1 (logit-linear and power-law links).  Constants: ``docs/synthetic.md``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

EPOCHS = 200
CHANCE = 1.0  # percent, 100 classes
LR_GAP = 13.0  # pp below the final level while the learning rate is at its peak
LR_GAP_SD = 0.15  # relative spread of LR_GAP across models
TRAIN_EXTRA_GAP = 9.0  # pp: augmented running-average training accuracy lags further
TAU_BASE, TAU_PER_LAYER = 5.0, 0.05  # epochs; deeper networks warm up more slowly
TRAIN_GAP_BASE, TRAIN_GAP_PER_DOUBLING = 5.0, 3.0  # pp final train-over-val gap vs params
WOBBLE_LATE, WOBBLE_LR = 0.06, 0.9  # pp sd of the weight fluctuation: floor + r(e) share;
# consecutive epochs share half of it (correlation 0.5)
VAL_SPLIT_SD, TEST_SPLIT_SD = 0.20, 0.12  # pp per (seed, model): finite split sampling
VAL_EPOCH_SD, TEST_READ_SD = 0.06, 0.06  # pp per epoch / per test pass
TRAIN_EPOCH_SD = 0.12  # pp: running average over 45,000 freshly augmented images
TOP5_A, TOP5_B, TOP5_SD = 1.43, 1.035, 0.04  # logit(top5) = A + B logit(top1) + noise
LOSS_SCALE, LOSS_POWER = 4.605, 1.1  # loss = SCALE * (1 - top1)^POWER * calibration
LOSS_CAL_SD, LOSS_EPOCH_SD = 0.05, 0.01  # log-sd per model; relative sd per epoch


class Model(NamedTuple):
    """Per-model inputs for one seed, each ``(N,)`` float64."""

    level: np.ndarray  # expected test top-1 of this seed, percent
    lr_gap: np.ndarray  # pp
    tau: np.ndarray  # warm-up epochs
    train_gap: np.ndarray  # pp
    calibration: np.ndarray  # loss multiplier (over-confidence)


class Noise(NamedTuple):
    """Standard normal draws of one seed; rows are models."""

    wobble: np.ndarray  # (N, 200)
    val_epoch: np.ndarray  # (N, 200)
    val_loss: np.ndarray  # (N, 200); drawn even when not stored: it breaks best-epoch ties
    val_split: np.ndarray  # (N,)
    test: np.ndarray  # (N, 4): split, read, top-5, loss
    extended: tuple | None  # 4 x (N, 200): train top-1, train top-5, val top-5, train loss


def draw_noise(rng: np.random.Generator, n: int, extended: bool) -> Noise:
    """All random draws of one seed in a fixed order; the base draws come first."""
    def normal():
        return rng.standard_normal((n, EPOCHS), dtype=np.float32)
    wobble, val_epoch, val_loss = normal(), normal(), normal()
    return Noise(wobble, val_epoch, val_loss, rng.standard_normal(n), rng.standard_normal((n, 4)),
                 tuple(normal() for _ in range(4)) if extended else None)


def take(x: NamedTuple, ids: np.ndarray):
    """The rows ``ids`` of every array of a :class:`Model` or :class:`Noise`."""
    def rows(a):
        return None if a is None else tuple(rows(b) for b in a) if isinstance(a, tuple) else a[ids]
    return type(x)(*(rows(a) for a in x))


def lr_factor() -> np.ndarray:
    """(200,) cosine learning-rate factor during epochs 1..200 (stepped once per epoch)."""
    return (0.5 * (1 + np.cos(np.pi * np.arange(EPOCHS) / EPOCHS))).astype(np.float32)


def _curve(level: np.ndarray, gap: np.ndarray, tau: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """(N, 200) noise-free accuracy in percent, ``shift`` epochs behind."""
    e = np.arange(1, EPOCHS + 1, dtype=np.float32) - shift
    warm = 1 - np.exp(-e / tau[:, None].astype(np.float32))
    gap = gap.astype(np.float32)[:, None] * lr_factor()
    top = (level - CHANCE).astype(np.float32)[:, None] - gap
    return CHANCE + top * warm


def quantise(values: np.ndarray, images: int) -> np.ndarray:
    """Percent on the grid of ``images`` images, rounded to 3 decimals (dtype of ``values``)."""
    counts = np.rint(np.clip(values, 0, 100) * (images / 100))
    return (np.rint(counts * (100_000 / images)) / 1000).astype(values.dtype)


def _top5(top1: np.ndarray, noise: np.ndarray, images: int) -> np.ndarray:
    """Top-5 percent from top-1 percent (logit-linear), on the grid of ``images``."""
    p = np.clip(top1 / 100, 1e-4, 1 - 1e-4)
    logit = TOP5_A + TOP5_B * np.log(p / (1 - p)) + TOP5_SD * noise
    top5 = quantise(100 / (1 + np.exp(-logit)), images)
    return np.maximum(top5, quantise(top1 + 100 / images, images))


def _loss(top1: np.ndarray, calibration: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Cross-entropy from top-1 percent (power law), float64 rounded to 6 decimals."""
    err = np.clip(1 - top1 / 100, 1e-3, 1)
    cal = calibration.reshape(calibration.shape + (1,) * (np.ndim(top1) - 1))
    loss = LOSS_SCALE * err ** LOSS_POWER * cal * (1 + LOSS_EPOCH_SD * noise)
    return np.round(loss.astype(np.float64), 6)


def simulate(model: Model, noise: Noise) -> dict[str, np.ndarray]:
    """Curves and test metrics of one seed for the models in ``model`` (rows of ``noise``)."""
    r = lr_factor()
    wobble_sd = WOBBLE_LATE + WOBBLE_LR * r
    wobble = noise.wobble.copy()  # (z_e + z_(e-1)) / sqrt 2: correlation 0.5 between epochs
    wobble[:, 1:] += noise.wobble[:, :-1]
    wobble[:, 1:] *= np.float32(np.sqrt(0.5))
    wobble *= wobble_sd
    val_level = model.level + VAL_SPLIT_SD * noise.val_split
    val_raw = _curve(val_level, model.lr_gap, model.tau) + wobble + VAL_EPOCH_SD * noise.val_epoch
    val = quantise(val_raw, 5_000)
    val_loss = _loss(val, model.calibration, noise.val_loss)
    best = _best_epoch(val, val_loss)
    rows = np.arange(len(best))
    test_level = model.level + TEST_SPLIT_SD * noise.test[:, 0]
    test_raw = _curve(test_level, model.lr_gap, model.tau)[rows, best] + wobble[rows, best] \
        + TEST_READ_SD * noise.test[:, 1]
    test = quantise(test_raw, 10_000)
    out = {"val_top1": val, "test_top1": test, "best_epoch": best + 1}
    ext = noise.extended
    if ext is not None:
        train_raw = _curve(val_level + model.train_gap, model.lr_gap + TRAIN_EXTRA_GAP,
                           model.tau, shift=0.5) + TRAIN_EPOCH_SD * ext[0]
        train = quantise(train_raw, 45_000)
        out.update(train_top1=train, train_top5=_top5(train, ext[1], 45_000),
                   train_loss=_loss(train, model.calibration, ext[3]),
                   val_top5=_top5(val, ext[2], 5_000), val_loss=val_loss,
                   test_top5=_top5(test, noise.test[:, 2], 10_000),
                   test_loss=_loss(test, model.calibration, noise.test[:, 3]))
    return out


def _best_epoch(val: np.ndarray, val_loss: np.ndarray) -> np.ndarray:
    """Index of the highest validation top-1; ties go to the lowest validation loss."""
    top = val.max(axis=1, keepdims=True)
    return np.where(val == top, val_loss, np.inf).argmin(axis=1)
