"""The synthetic fine-tuning world: students fine-tuned from teachers (blockwise NAS).

A student s (expected test top-1 ``mu_s``, percent) whose blocks were distilled from a
teacher of test top-1 ``q`` for D epochs and which was then fine-tuned with knowledge
distillation from that teacher for FT epochs reaches, in expectation,

    target = mu_s + SHRINK * (q + KD_BONUS - mu_s)                 (converged level)
    acc    = target - START_GAP[D] * exp(-FT / FT_TAU) + compat[teacher, s]

Validation and test add their own noise per setting.  ``q`` is the teacher's test top-1
trained from scratch (training seed 0); for ``"self"`` it is the student's own.  Constants
and their calibration to the paper (Table 5, Figures 17-20): ``docs/synthetic.md``.
"""

from __future__ import annotations

import numpy as np

from blox_gym import finetuning, space
from blox_gym import synthetic_accuracy as accuracy

TEACHERS = ("M1", "mediocre", "self")
DISTILL_EPOCHS = (1, 10, 50)
FINETUNE_EPOCHS = (10, 50, 200)
SHRINK = 0.5  # share of the gap to the teacher's level a converged student closes
KD_BONUS = 3.3  # pp a student can exceed its teacher by (Table 5: 74.89 teacher -> 76.35)
FT_TAU = 40.0  # epochs: time constant of fine-tuning
START_GAP = {1: 7.4, 10: 6.55, 50: 6.3}  # pp below the converged level before fine-tuning
COMPAT_SD = 0.15  # pp per (teacher, student): how well the pair suits each other
VAL_SD, TEST_SD = 0.20, 0.12  # pp per (teacher, D, FT, student): finite splits, run noise
# Signatures against each teacher after D epochs: NSR level and faithfulness (correlation
# of -log NSR with the block's true effect); a mediocre teacher gives less faithful ones.
SIGNATURE_LEVEL = {1: 0.55, 10: 0.22, 50: 0.18}
SIGNATURE_FAITHFUL = {"M1": {1: 0.30, 10: 0.90, 50: 0.93},
                      "mediocre": {1: 0.25, 10: 0.75, 50: 0.80}}


def teacher_models(test0: np.ndarray) -> dict[str, int]:
    """M1: the best model by seed-0 test top-1; mediocre: the one at the median."""
    order = np.argsort(test0, kind="stable")
    return {"M1": int(order[-1]), "mediocre": int(order[len(order) // 2])}


def expected(mu: np.ndarray, quality, distill_epochs: int, finetune_epochs: int) -> np.ndarray:
    """Noise-free fine-tuned top-1 (percent) of students ``mu`` with teacher quality(ies)."""
    target = mu + SHRINK * (np.asarray(quality) + KD_BONUS - mu)
    return target - START_GAP[distill_epochs] * np.exp(-finetune_epochs / FT_TAU)


def generate(world: accuracy.World, test0: np.ndarray, rng: np.random.Generator,
             legacy_signatures: np.ndarray) -> tuple[dict[str, np.ndarray], dict]:
    """Fine-tuning arrays and the ``finetune`` attribute for :func:`store.write_store`.

    ``test0``: seed-0 test top-1 of every model (teachers' qualities); ``legacy_signatures``:
    the table's ``signatures`` (D = 1, 10), reused as M1's so both agree.
    """
    chosen = teacher_models(test0)
    models = [chosen.get(t, -1) for t in TEACHERS]
    quality = [None if m < 0 else round(float(test0[m]), 2) for m in models]
    axes = finetuning.Axes(TEACHERS, tuple(models), tuple(quality), DISTILL_EPOCHS,
                           FINETUNE_EPOCHS)
    val, test = np.empty(axes.shape), np.empty(axes.shape)
    n = space.N_MODELS
    for t, q in enumerate(quality):
        q_students = test0 if q is None else q
        compat = COMPAT_SD * rng.standard_normal(n)
        for d, distill in enumerate(DISTILL_EPOCHS):
            for f, epochs in enumerate(FINETUNE_EPOCHS):
                acc = expected(world.expected, q_students, distill, epochs) + compat
                val[t, d, f] = _grid(acc + VAL_SD * rng.standard_normal(n), 5_000)
                test[t, d, f] = _grid(acc + TEST_SD * rng.standard_normal(n), 10_000)
    signatures = {}
    for teacher, faithful in SIGNATURE_FAITHFUL.items():
        for distill in DISTILL_EPOCHS:
            if teacher == "M1" and distill in accuracy.SIGNATURE_EPOCHS:
                k = accuracy.SIGNATURE_EPOCHS.index(distill)
                signatures[teacher, distill] = legacy_signatures[:, :, k]
            else:
                signatures[teacher, distill] = accuracy.signatures(
                    world, rng, (SIGNATURE_LEVEL[distill],), (faithful[distill],))[:, :, 0]
    arrays, _ = finetuning.arrays_from_records((), axes, signatures)
    arrays[finetuning.VAL], arrays[finetuning.TEST] = val, test
    return arrays, {finetuning.ATTR: axes.to_attr()}


def _grid(values: np.ndarray, images: int) -> np.ndarray:
    """Percentages on the grid of ``images`` images, rounded to 3 decimals, in 0..100."""
    return np.round(np.clip(np.rint(values * images / 100), 0, images) * 100 / images, 3)
