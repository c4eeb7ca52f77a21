"""The three training recipes of the paper's Table 4, with the paper's defaults.

Each recipe is a frozen dataclass; :meth:`Recipe.key` names its settings (an md5 of the
sorted fields, as the original names its argument sets), so a run is identified by
``(model, seed, recipe.name, recipe.key())``.  Options that only change speed (device,
channels-last, bf16 autocast, ``torch.compile``) are not part of a recipe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import ClassVar


@dataclass(frozen=True)
class Recipe:
    name: ClassVar[str] = ""
    epochs: int = 200
    batch_size: int = 256
    eval_batch_size: int = 100
    augment: bool = True

    def settings(self) -> dict:
        """All fields plus the recipe name (JSON-ready)."""
        return {"recipe": self.name, **asdict(self)}

    def key(self) -> str:
        """12 hex digits of the md5 of the sorted settings."""
        text = json.dumps(self.settings(), sort_keys=True)
        return hashlib.md5(text.encode()).hexdigest()[:12]

    def with_(self, **changes) -> "Recipe":
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"{self.name} recipe has no setting(s) {unknown}; known: {sorted(known)}")
        return replace(self, **changes)


@dataclass(frozen=True)
class Normal(Recipe):
    """Training from scratch: SGD (momentum 0.9, no Nesterov), lr 0.01 cosine to 0 stepped per
    epoch, weight decay 5e-4, batch 256, 200 epochs, cross-entropy, the full augmentation."""

    name: ClassVar[str] = "normal"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4


@dataclass(frozen=True)
class Distill(Recipe):
    """Blockwise distillation of every block of ``space.BLOCKS`` in every stage against a
    teacher's stage inputs and outputs: Adam (0.9, 0.999), lr 0.005 cosine to 0, weight
    decay 5e-4, MSE; the paper uses 1, 10 or 50 epochs.  ``blocks``: the block indices
    distilled in every stage (empty: all 45; a subset for smoke runs)."""

    name: ClassVar[str] = "distill"
    epochs: int = 10
    teacher: int = -1
    blocks: tuple[int, ...] = ()
    lr: float = 0.005
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 5e-4


@dataclass(frozen=True)
class Finetune(Recipe):
    """A student initialised from its distilled blocks, trained with knowledge distillation
    ``(1 - alpha) CE + alpha KL(teacher_T || student_T)`` (alpha 0.9, T 4, no T^2 factor, as
    the original's ``kd`` loss): Adam lr 5e-5 cosine to 0, weight decay 5e-4, the Normal
    augmentation; the paper uses 10, 50 or 200 epochs after 1, 10 or 50 distillation epochs.
    ``distill_blocks``: the blocks distilled first (:attr:`Distill.blocks`; empty: all)."""

    name: ClassVar[str] = "finetune"
    teacher: int = -1
    distill_epochs: int = 10
    distill_blocks: tuple[int, ...] = ()
    lr: float = 5e-5
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 5e-4
    alpha: float = 0.9
    temperature: float = 4.0

    def distill_recipe(self) -> Distill:
        """The distillation this fine-tuning starts from (the Distill defaults otherwise)."""
        return Distill(epochs=self.distill_epochs, teacher=self.teacher,
                       blocks=self.distill_blocks, batch_size=self.batch_size,
                       eval_batch_size=self.eval_batch_size, augment=self.augment)


RECIPES = {cls.name: cls for cls in (Normal, Distill, Finetune)}


def recipe_from_settings(settings: dict) -> Recipe:
    """The recipe of :meth:`Recipe.settings` (as stored in a record)."""
    values = dict(settings)
    name = values.pop("recipe", None)
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known: {sorted(RECIPES)}")
    for key in ("betas", "blocks", "distill_blocks"):
        if key in values:
            values[key] = tuple(values[key])
    return RECIPES[name]().with_(**values)
