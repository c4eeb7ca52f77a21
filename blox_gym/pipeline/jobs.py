"""One run of one recipe on one model and seed, from data to record: what every backend executes.

:func:`run_job` skips a run whose record exists, resumes from its checkpoint if one is
there, writes the record (and weights when kept), then removes the checkpoint it made.
Prerequisites are run (or reused) in the same runs folder: a distillation needs its
teacher's weights (given, or the teacher trained with ``teacher_recipe``); a fine-tuning
needs the distilled cells of its teacher and distillation epochs.  Distillation and
fine-tuning records also hold the teacher's own test top-1 (``teacher_test_top1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from blox_gym import models
from blox_gym.datasets import Dataset, load_dataset
from blox_gym.paths import atomic_write
from blox_gym.pipeline import records
from blox_gym.pipeline.checkpoint import load_checkpoint
from blox_gym.pipeline.recipes import Distill, Finetune, Normal, Recipe
from blox_gym.pipeline.runtime import Options, env_snapshot


@dataclass(frozen=True)
class Job:
    """One run.  ``model`` is the trained model (for ``distill``, the teacher).  ``runs``:
    the runs folder.  ``teacher_weights``: a state-dict file for the teacher (distill,
    finetune); without it the teacher is trained with ``teacher_recipe`` in ``runs``."""

    model: int
    seed: int
    recipe: Recipe
    dataset: str
    runs: str
    data_dir: str | None = None
    options: Options = field(default_factory=Options)
    teacher_weights: str | None = None
    teacher_recipe: Normal = field(default_factory=Normal)
    keep_weights: bool = False

    @property
    def record(self) -> Path:
        return records.record_path(self.runs, self.recipe, self.model, self.seed)

    @property
    def label(self) -> str:
        return f"{self.recipe.name} #{self.model} seed {self.seed}"


@lru_cache(maxsize=2)
def _data(spec: str, data_dir: str | None, device: str) -> Dataset:
    return load_dataset(spec, data_dir).to(device)


def run_job(job: Job) -> Path:
    """Run ``job`` unless its record exists; return the record's path."""
    if job.record.exists():
        return job.record
    job.options.check()
    job.options.prepare()
    data = _data(job.dataset, job.data_dir, job.options.device)
    stem = records.run_stem(job.runs, job.recipe, job.model, job.seed)
    checkpoint = stem.with_suffix(".ckpt")
    if isinstance(job.recipe, Normal):
        history, net = _train(job, data, checkpoint)
        weights = net.state_dict()
    elif isinstance(job.recipe, Distill):
        teacher = _teacher(job, job.model, data)
        from blox_gym.pipeline.distill import distill_blocks

        history, cells = distill_blocks(teacher, data, job.recipe, job.seed, job.options, checkpoint)
        history["teacher_test_top1"] = _test_top1(teacher, data, job)
        weights = {name: cell.state_dict() for name, cell in cells.items()}
    elif isinstance(job.recipe, Finetune):
        history, net = _finetune(job, data, checkpoint)
        weights = net.state_dict()
    else:
        raise TypeError(f"unknown recipe {type(job.recipe).__name__}")
    if job.keep_weights or isinstance(job.recipe, Distill):
        atomic_write(stem.with_suffix(".pt"), lambda tmp: torch.save(weights, tmp))
    record = records.make_record(job.model, job.seed, job.recipe, data.describe(),
                                 job.options.as_dict(), env_snapshot(job.options.device), history)
    records.write_record(job.record, record)
    checkpoint.unlink(missing_ok=True)
    return job.record


def history_until(job: Job, epochs: int) -> dict:
    """The history of a Normal ``job`` after at least ``epochs`` epochs: from its record
    when finished, else trained (or resumed from its checkpoint) up to ``epochs`` and
    checkpointed there; a job that reaches its last epoch is finished with a record."""
    if not isinstance(job.recipe, Normal):
        raise TypeError("partial runs exist for the Normal recipe only")
    if not job.record.exists() and epochs < job.recipe.epochs:
        from blox_gym.pipeline.train import train_normal

        job.options.check()
        data = _data(job.dataset, job.data_dir, job.options.device)
        checkpoint = records.run_stem(job.runs, job.recipe, job.model, job.seed).with_suffix(".ckpt")
        history, _ = train_normal(job.model, data, job.recipe, job.seed, job.options,
                                  checkpoint, stop_after=epochs)
        return history
    return records.read_record(run_job(job))["history"]


def _train(job: Job, data: Dataset, checkpoint: Path):
    from blox_gym.pipeline.train import train_normal

    return train_normal(job.model, data, job.recipe, job.seed, job.options, checkpoint)


def teacher_job(job: Job, teacher: int) -> Job:
    """The Normal run that trains ``teacher`` for ``job`` (keeping its weights)."""
    return Job(teacher, job.seed, job.teacher_recipe, job.dataset, job.runs, job.data_dir,
               job.options, keep_weights=True)


def distill_job(job: Job) -> Job:
    """The distillation a fine-tuning ``job`` starts from."""
    recipe: Finetune = job.recipe
    if recipe.teacher < 0:
        raise ValueError("a finetune recipe needs its teacher's model id (teacher=...)")
    return Job(recipe.teacher, job.seed, recipe.distill_recipe(), job.dataset, job.runs, job.data_dir,
               job.options, job.teacher_weights, job.teacher_recipe)


def prerequisites(job: Job) -> list[Job]:
    """The runs ``job`` needs first, in order (run them before a batch of such jobs, so
    that parallel jobs do not each start the same prerequisite)."""
    if isinstance(job.recipe, Distill):
        return [] if job.teacher_weights else [teacher_job(job, job.model)]
    if isinstance(job.recipe, Finetune):
        first = distill_job(job)
        return prerequisites(first) + [first]
    return []


def _teacher(job: Job, teacher: int, data: Dataset) -> models.BloxNet:
    """The teacher network with trained weights (from ``job.teacher_weights``, or its Normal
    run in ``job.runs``, trained now if missing)."""
    path = job.teacher_weights
    if path is None:
        normal = teacher_job(job, teacher)
        run_job(normal)
        path = records.run_stem(job.runs, normal.recipe, teacher, job.seed).with_suffix(".pt")
    state = load_checkpoint(path, job.options.device)
    if state is None:
        raise FileNotFoundError(f"teacher weights {path} not found; pass --teacher-weights or "
                                f"train the teacher with `blox-gym train --keep-weights`")
    net = models.build_model(teacher, num_classes=data.num_classes).to(job.options.device)
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"{path}: not the weights of model #{teacher} with "
                         f"{data.num_classes} classes ({str(err)[:300]})") from None
    return net


def _finetune(job: Job, data: Dataset, checkpoint: Path):
    from blox_gym.pipeline.finetune import finetune

    first = distill_job(job)
    run_job(first)
    path = records.run_stem(job.runs, first.recipe, first.model, job.seed).with_suffix(".pt")
    cells = load_checkpoint(path, job.options.device)
    if cells is None:
        raise FileNotFoundError(f"{path}: the distilled cells of {first.label} are missing; "
                                f"delete its record to distil again")
    teacher = _teacher(job, job.recipe.teacher, data)
    history, net = finetune(job.model, teacher, cells, data, job.recipe, job.seed, job.options,
                            checkpoint)
    history["teacher_test_top1"] = _test_top1(teacher, data, job)
    return history, net


def _test_top1(teacher: models.BloxNet, data: Dataset, job: Job) -> float:
    """The teacher's own test top-1 (percent): how good a teacher the record had."""
    from blox_gym.pipeline.train import evaluate

    return evaluate(teacher, data.test, job.options, job.recipe.eval_batch_size)[1]
