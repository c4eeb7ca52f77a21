"""Every array a table can hold, declared once: name, kind, unit, split, shape and visibility.

The store encodes by :attr:`Metric.kind`, the release formats take their column types and
rounding from here, :meth:`blox_gym.table.Table.metric` reads any training metric, the
environments offer the visible training curves, and the synthetic generator pre-allocates
the training metrics.  Adding a metric is one :func:`register` call (see
``docs/architecture.md``); its name no longer decides anything.

=============  ==========================================================  ===============
kind           stored as                                                   Python value
=============  ==========================================================  ===============
``accuracy``   ``uint16`` count of correct images (65,535 = missing)       percent, 3 dp
``loss``       ``uint32`` micro-units (2**32 - 1 = missing)                float
``seconds``    ``float32`` (NaN = missing)                                 float
``count``      ``int64``                                                   int
``float``      ``float32`` (NaN = missing)                                 float
=============  ==========================================================  ===============

Shapes: ``curve`` ``[seed, model, epoch]``, ``scalar`` ``[seed, model]``, ``model``
``[model]``, ``keyed`` ``[model]`` stored once per key as ``<name>/<key>`` (a device for
latency), ``signatures`` ``[stage, block, distillation epochs]``, and the fine-tuning world
of :mod:`blox_gym.finetuning`: ``finetune`` ``[teacher, D, FT, model]`` and
``teacher_signatures`` ``[teacher, stage, block, D]``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterator

from blox_gym import finetuning

KINDS = ("accuracy", "loss", "seconds", "count", "float")
SHAPES = ("curve", "scalar", "model", "keyed", "signatures", "finetune", "teacher_signatures")
IMAGES = {"train": 45_000, "val": 5_000, "test": 10_000}  # CIFAR-100 as Blox splits it
KEY = re.compile(r"^[a-zA-Z0-9-]+$")  # a key of a keyed metric (e.g. a device name)


@dataclasses.dataclass(frozen=True)
class Metric:
    """One array of a table.

    ``split``: ``"train"``, ``"val"`` or ``"test"`` for training metrics (it fixes an
    accuracy's image count), ``None`` otherwise.  ``part``: the release file that carries
    it (``"base"``, ``"ext"``, ``"info"``, ``"bench"``) or ``None``.  ``visible``: agents
    and environments may read it (never a test metric).  ``decimals``: what the release's
    pickle and CSV writers round it to.  ``description`` and ``epochs`` are stored in the
    table's attributes.
    """

    name: str
    kind: str
    unit: str
    shape: str
    description: str
    epochs: str
    split: str | None = None
    part: str | None = None
    visible: bool = True
    decimals: int | None = None
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"metric {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.shape not in SHAPES:
            raise ValueError(f"metric {self.name!r}: shape {self.shape!r} is not one of "
                             f"{SHAPES}")
        if self.split is not None and self.split not in IMAGES:
            raise ValueError(f"metric {self.name!r}: split {self.split!r} is not one of "
                             f"{tuple(IMAGES)} or None")
        if self.kind == "accuracy" and self.split is None:
            raise ValueError(f"metric {self.name!r}: an accuracy needs a split (its images)")
        if self.split == "test" and self.visible:
            raise ValueError(f"metric {self.name!r}: test metrics must not be visible to agents")

    @property
    def images(self) -> int | None:
        """Images behind an accuracy's counts (``None`` for other kinds)."""
        return IMAGES[self.split] if self.kind == "accuracy" and self.split else None

    @property
    def training(self) -> bool:
        """Per training seed (``curve`` or ``scalar``)."""
        return self.shape in ("curve", "scalar")

    @property
    def best_by_default(self) -> bool:
        """Whether curve queries default to the best epoch (accuracies) or the last."""
        return self.kind == "accuracy"


_REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add ``metric``; the same declaration again does nothing, another under its name fails."""
    old = _REGISTRY.get(metric.name)
    if old is not None and old != metric:
        raise ValueError(f"metric {metric.name!r} is already declared differently: {old}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", metric.name):
        raise ValueError(f"metric name {metric.name!r} must be lower-case letters, digits "
                         f"and '_'")
    _REGISTRY[metric.name] = metric
    return metric


def unregister(name: str) -> None:
    """Remove a metric added by :func:`register` (built-in ones included: use with care)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> Metric:
    """The metric of an array name (``latency/<device>`` -> ``latency``)."""
    metric = _REGISTRY.get(name) or _REGISTRY.get(name.split("/", 1)[0])
    if metric is None or ("/" in name) != (metric.shape == "keyed"):
        raise ValueError(f"unknown metric {name!r}; allowed: {', '.join(describe_names())}")
    return metric


def describe_names() -> list[str]:
    """Array names as a user writes them (``latency/<device>`` for keyed metrics)."""
    return [f"{m.name}/<key>" if m.shape == "keyed" else m.name for m in _REGISTRY.values()]


def all_metrics() -> Iterator[Metric]:
    """Every declared metric, in declaration order."""
    return iter(list(_REGISTRY.values()))


def names(*, shape: str | tuple[str, ...] | None = None, part: str | None = None,
          visible: bool | None = None, training: bool | None = None,
          kind: str | None = None) -> tuple[str, ...]:
    """Names of the metrics that match every given filter, in declaration order."""
    shapes = (shape,) if isinstance(shape, str) else shape
    return tuple(m.name for m in _REGISTRY.values()
                 if (shapes is None or m.shape in shapes) and (part is None or m.part == part)
                 and (visible is None or m.visible == visible)
                 and (training is None or m.training == training)
                 and (kind is None or m.kind == kind))


def _curve(name: str, kind: str, split: str, description: str, part: str,
           unit: str = "percent") -> Metric:
    accuracy = kind == "accuracy"
    return Metric(name, kind, unit if accuracy else "cross-entropy", "curve", description,
                  "epochs 1..200", split, part, split != "test", 3 if accuracy else 6,
                  higher_is_better=accuracy)


def _after(name: str, kind: str, part: str) -> Metric:
    accuracy = kind == "accuracy"
    return Metric(name, kind, "percent" if accuracy else "cross-entropy", "scalar",
                  "test, 10,000 images, weights of the best-validation epoch", "after training",
                  "test", part, False, 3 if accuracy else 6, higher_is_better=accuracy)


_TRAIN = "training, 45,000 augmented images, running average"
for _metric in (
    # the release's base part
    _curve("val_top1", "accuracy", "val", "validation, 5,000 images held out of the training set",
           "base"),
    _after("test_top1", "accuracy", "base"),
    Metric("train_time_s", "seconds", "seconds", "scalar",
           "wall time of 200 train+validate epochs", "whole run", "train", "base",
           higher_is_better=False),
    # the extended part, in the release's column order
    _curve("train_top1", "accuracy", "train", _TRAIN, "ext"),
    _curve("train_loss", "loss", "train", _TRAIN, "ext"),
    _curve("train_top5", "accuracy", "train", _TRAIN, "ext"),
    _curve("val_loss", "loss", "val", "validation, 5,000 images", "ext"),
    _curve("val_top5", "accuracy", "val", "validation, 5,000 images", "ext"),
    _after("test_loss", "loss", "ext"),
    _after("test_top5", "accuracy", "ext"),
    # static information and hardware
    Metric("params", "count", "count", "model", "trainable parameters", "static", part="info",
           higher_is_better=False),
    Metric("flops", "count", "MACs", "model", "ptflops multiply-accumulates on one 3x32x32 "
           "image", "static", part="info", higher_is_better=False),
    Metric("latency", "float", "milliseconds", "keyed",
           "inference latency per batch on the named device", "static", part="bench",
           higher_is_better=False),
    Metric("signatures", "float", "noise-to-signal ratio", "signatures",
           "blockwise distillation loss of each block", "after N distillation epochs",
           higher_is_better=False),
    # the fine-tuning world of blockwise NAS (blox_gym.finetuning)
    Metric(finetuning.VAL, "accuracy", "percent", "finetune",
           "validation, 5,000 images, student fine-tuned from a teacher",
           "after D distillation + FT fine-tuning epochs", "val", decimals=3),
    Metric(finetuning.TEST, "accuracy", "percent", "finetune",
           "test, 10,000 images, student fine-tuned from a teacher",
           "after D distillation + FT fine-tuning epochs", "test", visible=False, decimals=3),
    Metric(finetuning.SIGNATURES, "float", "noise-to-signal ratio", "teacher_signatures",
           "blockwise distillation loss of each block against each teacher",
           "after D distillation epochs", higher_is_better=False),
):
    register(_metric)
