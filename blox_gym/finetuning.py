"""The fine-tuning world of blockwise NAS: its axes and how results become store arrays.

Blockwise NAS (the Blox paper's supplementary D.2-D.4) distils every candidate block
against a *teacher* for ``D`` epochs, assembles a student from distilled blocks and
fine-tunes it with knowledge distillation from the teacher for ``FT`` epochs.  A table
holds, per teacher, ``D`` and ``FT``, the student's fine-tuned validation and test top-1
(percent) and the teacher's block signatures.  Teachers are named: a model of the space
(e.g. ``"M1"``, a good one) or ``"self"``, where each student is fine-tuned with its own
network trained from scratch as the teacher.

:func:`arrays_from_records` turns per-model fine-tuning results (what a measurement
pipeline produces) into the arrays and the ``finetune`` attribute that
:func:`blox_gym.store.write_store` takes; the synthetic table fills the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from blox_gym import space

VAL, TEST, SIGNATURES = "finetune_val_top1", "finetune_test_top1", "teacher_signatures"
ARRAYS = (VAL, TEST, SIGNATURES)
SELF = "self"
ATTR = "finetune"  # the store attribute describing the axes
PAPER_BLOCKS_PER_STAGE = 60  # the paper's count; the space has space.N_BLOCKS = 45


@dataclass(frozen=True)
class Axes:
    """What the fine-tuning arrays are indexed by.

    ``teachers``: names; ``teacher_models``: each teacher's model id (-1 for ``"self"``);
    ``teacher_test_top1``: each teacher's own test top-1 in percent (``None`` for
    ``"self"``: the student's own); ``distill_epochs`` (D) and ``finetune_epochs`` (FT;
    empty in a store holding only signatures so far).
    """

    teachers: tuple[str, ...]
    teacher_models: tuple[int, ...]
    teacher_test_top1: tuple[float | None, ...]
    distill_epochs: tuple[int, ...]
    finetune_epochs: tuple[int, ...]

    def __post_init__(self):
        n = len(self.teachers)
        if not n or len(set(self.teachers)) != n:
            raise ValueError(f"teachers must be distinct names, got {list(self.teachers)}")
        if len(self.teacher_models) != n or len(self.teacher_test_top1) != n:
            raise ValueError(f"teacher_models and teacher_test_top1 need one entry per teacher "
                             f"({n}), got {len(self.teacher_models)} and "
                             f"{len(self.teacher_test_top1)}")
        for name, model, quality in zip(self.teachers, self.teacher_models,
                                        self.teacher_test_top1):
            if name == SELF:
                if model != -1 or quality is not None:
                    raise ValueError("teacher 'self' takes model -1 and test top-1 None")
            elif not 0 <= model < space.N_MODELS or quality is None or not 0 <= quality <= 100:
                raise ValueError(f"teacher {name!r}: model {model!r} must be a model id and "
                                 f"test top-1 {quality!r} a percentage")
        for label, values in (("distill_epochs", self.distill_epochs),
                              ("finetune_epochs", self.finetune_epochs)):
            empty = not values and label == "finetune_epochs"  # signatures, no students yet
            if not empty and (not values or sorted(set(values)) != list(values)
                              or min(values) < 1):
                raise ValueError(f"{label} must be increasing positive ints, got {list(values)}")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Shape of the accuracy arrays: ``[teacher, D, FT, model]``."""
        return (len(self.teachers), len(self.distill_epochs), len(self.finetune_epochs),
                space.N_MODELS)

    @property
    def signature_shape(self) -> tuple[int, int, int, int]:
        """Shape of ``teacher_signatures``: ``[teacher, stage, block, D]``."""
        return (len(self.teachers), space.N_STAGES, space.N_BLOCKS, len(self.distill_epochs))

    def index(self, teacher: str, distill_epochs: int, finetune_epochs: int | None = None
              ) -> tuple[int, ...]:
        """Positions of a setting on the axes; raises naming what is available."""
        pick = [_position("teacher", teacher, self.teachers),
                _position("distill epochs", distill_epochs, self.distill_epochs)]
        if finetune_epochs is not None:
            pick.append(_position("fine-tuning epochs", finetune_epochs, self.finetune_epochs))
        return tuple(pick)

    def to_attr(self) -> dict:
        return {"teachers": list(self.teachers), "teacher_models": list(self.teacher_models),
                "teacher_test_top1": list(self.teacher_test_top1),
                "distill_epochs": list(self.distill_epochs),
                "finetune_epochs": list(self.finetune_epochs)}

    @classmethod
    def from_attr(cls, attr: Mapping) -> "Axes":
        return cls(tuple(attr["teachers"]), tuple(int(m) for m in attr["teacher_models"]),
                   tuple(None if q is None else float(q) for q in attr["teacher_test_top1"]),
                   tuple(int(d) for d in attr["distill_epochs"]),
                   tuple(int(f) for f in attr["finetune_epochs"]))


def _position(label: str, value, allowed: tuple) -> int:
    try:
        return allowed.index(value)
    except ValueError:
        raise ValueError(f"{label} {value!r} is not in this table; available: "
                         f"{list(allowed)}") from None


def arrays_from_records(records: Iterable[Mapping], axes: Axes,
                        signatures: Mapping[tuple[str, int], np.ndarray] | None = None
                        ) -> tuple[dict[str, np.ndarray], dict]:
    """Store arrays and attributes from per-model fine-tuning results.

    ``records``: mappings with ``teacher`` (a name of ``axes``), ``distill_epochs``,
    ``finetune_epochs``, ``model`` (id), ``val_top1`` and ``test_top1`` (percent on the
    5,000 / 10,000-image grids).  ``signatures``: ``{(teacher, D): (3, 45) array}`` of block
    noise-to-signal ratios.  Settings never measured stay missing (NaN).  Returns
    ``(arrays, {"finetune": axes})`` to merge into :func:`blox_gym.store.write_store`'s
    arguments.
    """
    val, test = np.full(axes.shape, np.nan), np.full(axes.shape, np.nan)
    seen = set()
    for record in records:
        at = axes.index(record["teacher"], int(record["distill_epochs"]),
                        int(record["finetune_epochs"]))
        model = int(record["model"])
        if not 0 <= model < space.N_MODELS:
            raise ValueError(f"record model {model!r} is not a model id 0..{space.N_MODELS - 1}")
        if (*at, model) in seen:
            raise ValueError(f"two records for teacher {record['teacher']!r}, D "
                             f"{record['distill_epochs']}, FT {record['finetune_epochs']}, "
                             f"model {model}")
        seen.add((*at, model))
        val[(*at, model)], test[(*at, model)] = record["val_top1"], record["test_top1"]
    sig = np.full(axes.signature_shape, np.nan, dtype=np.float32)
    for (teacher, distill), values in dict(signatures or {}).items():
        t, d = axes.index(teacher, int(distill))
        values = np.asarray(values, dtype=np.float32)
        if values.shape != (space.N_STAGES, space.N_BLOCKS):
            raise ValueError(f"signatures of ({teacher!r}, {distill}) have shape "
                             f"{values.shape}, expected ({space.N_STAGES}, {space.N_BLOCKS})")
        sig[t, :, :, d] = values
    return {VAL: val, TEST: test, SIGNATURES: sig}, {ATTR: axes.to_attr()}


def interpolate(per_teacher: np.ndarray, qualities: np.ndarray, quality: float) -> np.ndarray:
    """Fine-tuned accuracy for a teacher of test top-1 ``quality`` that the table lacks.

    ``per_teacher``: ``[teacher, model]`` accuracies of the stored teachers; ``qualities``:
    the teachers' test top-1, ``[teacher]`` or ``[teacher, model]`` (``"self"`` differs per
    student).  Per student, the least-squares line through (quality, accuracy) of the
    stored teachers, evaluated at ``quality``.  Needs two teachers of different quality.
    """
    y = np.asarray(per_teacher, dtype=np.float64)
    q = np.broadcast_to(np.asarray(qualities, dtype=np.float64).reshape(len(y), -1), y.shape)
    present = ~np.isnan(y) & ~np.isnan(q)
    n = present.sum(axis=0)
    qm = np.where(present, q, 0).sum(axis=0) / np.maximum(n, 1)
    ym = np.where(present, y, 0).sum(axis=0) / np.maximum(n, 1)
    dq = np.where(present, q - qm, 0)
    sxx = (dq ** 2).sum(axis=0)
    slope = (dq * np.where(present, y - ym, 0)).sum(axis=0) / np.where(sxx > 0, sxx, 1)
    out = ym + slope * (quality - qm)
    return np.where((n >= 2) & (sxx > 1e-12), out, np.nan)


def distill_cost(distill_epochs: int, blocks_per_stage: int = PAPER_BLOCKS_PER_STAGE,
                 epochs: int = 200) -> float:
    """Cost units (200-epoch trainings) of distilling every block of the 3 stages.

    The paper counts 60 blocks per stage (9 units at D = 10) although the space has 45
    distinct blocks (6.75 units); ``blocks_per_stage`` chooses (docs/blockwise.md).
    """
    if blocks_per_stage < 1 or distill_epochs < 1:
        raise ValueError(f"blocks_per_stage and distill_epochs must be positive, got "
                         f"{blocks_per_stage} and {distill_epochs}")
    return blocks_per_stage * space.N_STAGES * distill_epochs / epochs


def finetune_cost(finetune_epochs: int, epochs: int = 200) -> float:
    """Cost units of fine-tuning one student for ``finetune_epochs`` epochs."""
    if finetune_epochs < 1:
        raise ValueError(f"finetune_epochs must be positive, got {finetune_epochs}")
    return finetune_epochs / epochs

