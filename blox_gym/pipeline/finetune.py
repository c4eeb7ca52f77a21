"""Fine-tuning: a student built from its distilled blocks, trained by knowledge distillation.

The student's three cells come from blockwise distillation against the teacher
(:mod:`blox_gym.pipeline.distill`); its stem, reductions and classifier are the teacher's,
since the cells were distilled on the teacher's stage inputs.  It is then trained with
``(1 - alpha) CE(student, y) + alpha KL(softmax(teacher / T) || softmax(student / T))``
(batch mean, no T^2 factor, as the original's ``kd`` loss; teacher frozen in eval mode on the
same augmented batch) and Adam with a cosine schedule; the epoch loop, metrics, best-weights
rule and checkpoints are the Normal recipe's (:func:`blox_gym.pipeline.train.fit`).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from blox_gym.datasets import Dataset
from blox_gym.models import BloxNet
from blox_gym.pipeline.distill import cell_name
from blox_gym.pipeline.recipes import Finetune
from blox_gym.pipeline.runtime import Options
from blox_gym.pipeline.train import build_network, fit


def kd_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, alpha: float,
            temperature: float) -> torch.Tensor:
    """``(1 - alpha) CE + alpha KL(teacher_T || student_T)``, batch mean, no T^2 factor."""
    soft = F.kl_div(F.log_softmax(student / temperature, dim=1),
                    F.log_softmax(teacher / temperature, dim=1), reduction="batchmean",
                    log_target=True)
    return (1 - alpha) * F.cross_entropy(student, labels) + alpha * soft


def build_student(model_id: int, teacher: BloxNet, cells: nn.ModuleDict | dict, data: Dataset,
                  seed: int, options: Options) -> BloxNet:
    """Model ``model_id`` with the distilled cells of its blocks and the teacher's stem,
    reductions and classifier."""
    student = build_network(model_id, data, seed, options)
    for s, k in enumerate(student.block_ks):
        cell = cells[cell_name(s, k)]
        student.blocks[s].load_state_dict(cell if isinstance(cell, dict) else cell.state_dict())
    for part in ("stem", "reductions", "classifier"):
        getattr(student, part).load_state_dict(getattr(teacher, part).state_dict())
    return student


def finetune(model_id: int, teacher: BloxNet, cells: nn.ModuleDict | dict, data: Dataset,
             recipe: Finetune = Finetune(), seed: int = 0, options: Options = Options(),
             checkpoint: Path | None = None, stop_after: int | None = None
             ) -> tuple[dict, BloxNet]:
    """Fine-tune model ``model_id`` from the distilled ``cells`` with KD from ``teacher``
    (on the device, trained).  Returns the history of :func:`fit` and the student."""
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = build_student(model_id, teacher, cells, data, seed, options)
    optimizer = torch.optim.Adam(student.parameters(), lr=recipe.lr, betas=recipe.betas,
                                 weight_decay=recipe.weight_decay)

    def loss(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = teacher(x).float()
        return kd_loss(logits, target, y, recipe.alpha, recipe.temperature)

    history = fit(student, data, recipe, seed, options, optimizer, loss, checkpoint, stop_after)
    return history, student
