"""The evaluation core shared by environments and agents: cost accounting and the record.

A search asks :meth:`SearchCore.evaluate` for the validation top-1 of a model trained for
``fidelity`` epochs.  Costs are counted three ways:

* ``models``: 200-epoch equivalents (``epochs / table.epochs``),
* ``epochs``: training epochs,
* ``seconds``: simulated training time, ``train_time_s`` prorated by epochs.

Training is resumable: evaluating a model at ``fidelity`` charges only the epochs beyond the
most already paid for that model, so repeating an evaluation (or asking for a lower
fidelity) is free; ``resume=False`` charges a training from scratch (all ``fidelity``
epochs) instead.  Invalid architectures return -1 and cost nothing.

Blockwise NAS (``docs/blockwise.md``) is counted as the paper counts it: distilling the
blocks against a teacher costs ``blocks_per_stage x 3 stages x D epochs / 200`` models
before the search starts (:meth:`SearchCore.signatures`, the paper's 60 blocks per stage by
default: 9 units at D = 10), and while :attr:`SearchCore.finetune` is set every evaluation
fine-tunes the model as a student for FT epochs (FT / 200 models) instead of training it.
Distillation and fine-tuning epochs are epochs of the paper's recipe, so their cost in
models does not depend on the table's epochs (``charged_epochs`` of a fine-tuning is FT).

The search sees validation metrics only.  Test metrics are read once the search asks for
its :meth:`SearchCore.record`: the *reported* accuracy at each step is the test top-1 of the
best-validation model so far (trained fully), and *regret* is the table's best test top-1
minus it.

Without a table, an :class:`Evaluator` (such as
:class:`blox_gym.pipeline.live.LiveEvaluator`, which trains the models) answers instead of
the table lookups; the regret is then unknown (NaN) and static queries (latency, signatures)
are unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from blox_gym import finetuning, space
from blox_gym.table import Table

UNITS = ("models", "epochs", "seconds")
INVALID_REWARD = -1.0


class BudgetExhausted(RuntimeError):
    """Raised by :meth:`SearchCore.evaluate` once the budget is spent."""


@dataclass(frozen=True)
class Budget:
    """A cost limit: ``amount`` in ``unit`` (``models``, ``epochs`` or ``seconds``)."""

    amount: float
    unit: str = "models"

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"budget unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if not self.amount > 0:
            raise ValueError(f"budget amount must be positive, got {self.amount!r}")


class Evaluator(Protocol):
    """What the core asks when it has no table: ``seeds``, ``epochs`` (a full run), the
    validation top-1 after ``fidelity`` epochs (best so far if ``best``), the seconds of a
    full training run, and the test top-1 of fully trained models (NaN if not trained)."""

    seeds: list[int]
    epochs: int

    def val_top1(self, model: int, fidelity: int, best: bool, seed: int) -> float: ...

    def train_time_s(self, model: int, seed: int) -> float: ...

    def test_acc(self, models: np.ndarray, seed: int) -> np.ndarray: ...


@dataclass(frozen=True)
class FineTune:
    """Evaluate by fine-tuning: students distilled from ``teacher`` for ``distill_epochs``
    and fine-tuned with it for ``finetune_epochs`` epochs.  ``teacher``: a teacher of the
    table (``table.finetune_axes``) or the id of a model trained from scratch."""

    teacher: str | int = "M1"
    distill_epochs: int = 10
    finetune_epochs: int = 200

    def __str__(self) -> str:
        return f"finetune:{self.teacher}:D{self.distill_epochs}:FT{self.finetune_epochs}"

    @classmethod
    def parse(cls, protocol: str) -> "FineTune":
        """The setting of a protocol name (``str(setting)``); a teacher of digits only is a
        model id."""
        kind, _, rest = protocol.partition(":")
        teacher, d, ft = rest.rsplit(":", 2) if rest.count(":") >= 2 else ("", "", "")
        if kind != "finetune" or not teacher or d[:1] != "D" or ft[:2] != "FT" \
                or not d[1:].isdigit() or not ft[2:].isdigit():
            raise ValueError(f"protocol {protocol[:80]!r} is not finetune:<teacher>:D<d>:FT<ft>")
        return cls(int(teacher) if teacher.isdigit() else teacher, int(d[1:]), int(ft[2:]))


SCRATCH = "scratch"  # the protocol of an ordinary training run


class SearchCore:
    """Evaluates models for one search run with cost accounting and an anytime record.

    ``seed``: the training seed whose results the search sees (an int from
    ``table.seeds``), or ``"random"`` to draw one seed per model from ``rng_seed`` (each
    model keeps the seed it was first trained with).  ``budget``: a :class:`Budget`, or
    ``None`` for no limit.  ``evaluator``: answers instead of ``table`` (which is then
    ``None``), e.g. by training the models live.
    """

    def __init__(self, table: Table | None, budget: Budget | None = None, seed: int | str = 0,
                 rng_seed: int | None = 0, evaluator: Evaluator | None = None):
        if (table is None) == (evaluator is None):
            raise ValueError("a SearchCore needs exactly one of a table and an evaluator")
        source = table if evaluator is None else evaluator
        if seed != "random" and seed not in source.seeds:
            raise ValueError(f"seed {seed!r} is not in the table; available: {source.seeds} "
                             f"or 'random'")
        self.table = table
        self.evaluator = evaluator
        self._source = source
        self.budget = budget
        self.seed = seed
        self.epochs = source.epochs
        self._rng = np.random.default_rng(rng_seed)
        self._paid = np.zeros(space.N_MODELS, dtype=np.int16)  # epochs paid per model
        self._model_seed = np.full(space.N_MODELS, -1, dtype=np.int64)
        self._cost = np.zeros(3)  # models, epochs, seconds
        self._log: dict[str, list] = {k: [] for k in (
            "model_id", "fidelity", "seed", "val_top1", "charged_epochs",
            "cost_models", "cost_epochs", "cost_seconds", "protocol")}
        self._best = (-np.inf, -1, -1)  # (val, model id, seed)
        self.finetune: FineTune | None = None  # set: evaluations fine-tune (blockwise NAS)
        self._finetuned: set[tuple[int, FineTune]] = set()  # (model, setting) paid
        self._distilled: set[tuple] = set()  # (teacher, D) whose distillation was charged
        self._settings: dict[str, FineTune] = {}  # protocol name -> setting

    # ------------------------------------------------------------ state

    @property
    def cost(self) -> dict[str, float]:
        """Cost so far in every unit."""
        return dict(zip(UNITS, (float(c) for c in self._cost)))

    @property
    def spent(self) -> float:
        """Cost so far in the budget's unit (models if there is no budget)."""
        return float(self._cost[UNITS.index(self.budget.unit if self.budget else "models")])

    @property
    def budget_left(self) -> float:
        """Fraction of the budget left, in 0..1 (1 without a budget)."""
        return 1.0 if self.budget is None else max(0.0, 1.0 - self.spent / self.budget.amount)

    @property
    def remaining(self) -> float:
        return np.inf if self.budget is None else max(0.0, self.budget.amount - self.spent)

    @property
    def exhausted(self) -> bool:
        return self.budget is not None and self.spent >= self.budget.amount

    @property
    def best_val(self) -> float:
        """Best validation top-1 seen so far (-inf before any valid evaluation)."""
        return float(self._best[0])

    @property
    def best_model(self) -> int:
        return int(self._best[1])

    @property
    def n_evaluations(self) -> int:
        return len(self._log["model_id"])

    @property
    def n_models(self) -> int:
        """Distinct models trained so far."""
        return int((self._paid > 0).sum())

    def seen(self, arch) -> bool | np.ndarray:
        """Whether each model was already trained (at any fidelity)."""
        ids, single = self._ids(arch)
        out = self._paid[ids] > 0
        return bool(out[0]) if single else out

    # ------------------------------------------------------------ evaluation

    def evaluate(self, arch, fidelity: int | None = None, at_epoch: bool = False,
                 resume: bool = True) -> float:
        """Validation top-1 (percent) of ``arch`` after ``fidelity`` epochs, or -1 if invalid.

        ``at_epoch=False`` gives the best over the first ``fidelity`` epochs (what a search
        sees when it keeps the best checkpoint), ``True`` the value at that epoch.
        ``resume=False`` trains from scratch: all ``fidelity`` epochs are charged.
        """
        return float(self.evaluate_many(arch, fidelity, at_epoch, resume)[0])

    def evaluate_many(self, archs, fidelity: int | None = None, at_epoch: bool = False,
                      resume: bool = True) -> np.ndarray:
        """Evaluate models in order: ids, hashes or architectures, one or many (see Table)."""
        if self.exhausted:
            raise BudgetExhausted(f"the budget of {self.budget.amount} {self.budget.unit} is "
                                  f"spent ({self.spent:.3f})")
        fidelity = self.epochs if fidelity is None else fidelity
        if not isinstance(fidelity, (int, np.integer)) or not 1 <= fidelity <= self.epochs:
            raise ValueError(f"fidelity must be an int in 1..{self.epochs} epochs, got {fidelity!r}")
        ids = self._ids_or_invalid(archs)
        out = np.full(len(ids), INVALID_REWARD)
        for i, mid in enumerate(ids.tolist()):
            if mid >= 0:
                out[i] = self._evaluate_one(mid, int(fidelity), at_epoch, resume)
        return out

    def _ids_or_invalid(self, models) -> np.ndarray:
        """Model ids (-1 for invalid architectures) of ids, hashes or architectures."""
        if isinstance(models, (int, np.integer, str)) or (
                isinstance(models, np.ndarray) and models.ndim <= 1 and models.dtype.kind in "iuUO"):
            return self._ids(models)[0]
        return np.atleast_1d(space.model_id(models)).astype(np.int64)

    def _ids(self, models) -> tuple[np.ndarray, bool]:
        if self.table is not None:
            return self.table.ids(models)
        single = np.ndim(models) == 0
        if isinstance(models, str) or (isinstance(models, np.ndarray) and models.dtype.kind in "UO"):
            ids = np.atleast_1d(space.model_from_hash(models if single else list(models)))
        elif isinstance(models, (int, np.integer)) or (
                isinstance(models, np.ndarray) and models.dtype.kind in "iu"):
            ids = np.atleast_1d(np.asarray(models, dtype=np.int64))
            if ((ids < 0) | (ids >= space.N_MODELS)).any():
                raise ValueError(f"model ids must be in 0..{space.N_MODELS - 1}")
        else:
            ids = np.atleast_1d(space.model_id(models)).astype(np.int64)
            single = np.ndim(space.model_id(models)) == 0
        return ids.astype(np.int64), single

    def _evaluate_one(self, mid: int, fidelity: int, at_epoch: bool, resume: bool) -> float:
        if self.finetune is not None:
            if fidelity != self.epochs:
                raise ValueError(f"fine-tuning evaluations take no fidelity (got {fidelity} "
                                 f"epochs); unset core.finetune to train at lower fidelity")
            return self._finetune_one(mid, self.finetune)
        seed = self._seed_for(mid)
        if self.evaluator is not None:
            val = float(self.evaluator.val_top1(mid, fidelity, not at_epoch, seed))
        else:
            val = float(self.table.column("val_top1", fidelity, not at_epoch, seed)[mid])
        charged = max(0, fidelity - int(self._paid[mid])) if resume else fidelity
        if charged:
            seconds = self._train_time(mid, seed) * charged / self.epochs
            self._cost += (charged / self.epochs, charged, seconds)
            self._paid[mid] = max(fidelity, int(self._paid[mid]))
        if val > self._best[0]:
            self._best = (val, mid, seed)
        self._append(mid, fidelity, seed, val, charged, SCRATCH)
        return val

    def _train_time(self, mid: int, seed: int) -> float:
        if self.evaluator is not None:
            return float(self.evaluator.train_time_s(mid, seed))
        return float(self.table.column("train_time_s", seed=seed)[mid])

    def _append(self, mid: int, fidelity: int, seed: int, val: float, charged: int,
                protocol: str) -> None:
        values = (mid, fidelity, seed, val, charged, *self._cost, protocol)
        for key, value in zip(self._log, values):
            self._log[key].append(value)

    def _teacher(self, setting: FineTune) -> str | float:
        """A table teacher's name, or the test top-1 of a model used as the teacher."""
        if isinstance(setting.teacher, str):
            return setting.teacher
        seed = self.table.seeds[0] if self.seed == "random" else self.seed
        return float(self.table.test_acc(int(setting.teacher), seed=seed))

    def _finetune_one(self, mid: int, setting: FineTune) -> float:
        teacher = self._teacher(setting)
        val = float(self.table.finetuned_column(teacher, setting.distill_epochs,
                                                setting.finetune_epochs, "val")[mid])
        charged = 0
        if (mid, setting) not in self._finetuned:
            self._finetuned.add((mid, setting))
            charged = setting.finetune_epochs
            units = finetuning.finetune_cost(charged)
            seed = self.table.seeds[0] if self.seed == "random" else int(self.seed)
            seconds = float(self.table.column("train_time_s", seed=seed)[mid]) * units
            self._cost += (units, units * self.epochs, seconds)
        if val > self._best[0]:
            self._best = (val, mid, -1)
        self._settings[str(setting)] = setting
        self._append(mid, setting.finetune_epochs, -1, val, charged, str(setting))
        return val

    def finetune_model(self, arch, setting: FineTune) -> float:
        """Fine-tune one model with ``setting`` (whatever :attr:`finetune` is): its validation
        top-1, charging ``FT / 200`` models once per (model, setting)."""
        if self.exhausted:
            raise BudgetExhausted(f"the budget of {self.budget.amount} {self.budget.unit} is "
                                  f"spent ({self.spent:.3f})")
        ids = self._ids_or_invalid(arch)
        if len(ids) != 1:
            raise ValueError("finetune_model takes one model")
        if ids[0] < 0:
            return INVALID_REWARD
        return self._finetune_one(int(ids[0]), setting)

    def _seed_for(self, mid: int) -> int:
        if self.seed != "random":
            return int(self.seed)
        if self._model_seed[mid] < 0:
            seeds = self._source.seeds
            self._model_seed[mid] = seeds[int(self._rng.integers(len(seeds)))]
        return int(self._model_seed[mid])

    def charge(self, models: float) -> None:
        """Charge extra cost in 200-epoch model units (e.g. blockwise distillation)."""
        if models < 0:
            raise ValueError(f"cannot charge a negative cost ({models})")
        if self.table is None:  # the mean over the models trained so far
            trained = np.flatnonzero(self._paid)
            mean_time = np.mean([self._train_time(int(m), self._seed_for(int(m)))
                                 for m in trained]) if len(trained) else 0.0
        else:
            mean_time = np.nanmean(self.table.column("train_time_s", seed=self.table.seeds[0]))
        self._cost += (models, models * self.epochs, models * float(mean_time))

    # ------------------------------------------------------------ static information

    def params(self, arch):
        return self.table.params(arch)

    def flops(self, arch):
        return self.table.flops(arch)

    def latency(self, arch, device: str):
        return self.table.latency(arch, device)

    def distill(self, epochs: int = 10, teacher: str | None = None,
                blocks_per_stage: int = finetuning.PAPER_BLOCKS_PER_STAGE) -> None:
        """Charge distilling every block against ``teacher`` for ``epochs`` epochs, once per
        (teacher, epochs): ``blocks_per_stage x 3 x epochs / 200`` models (60: the paper's
        count, 9 units at 10 epochs; 45: the space's distinct blocks)."""
        if (teacher, epochs) not in self._distilled:
            self.charge(finetuning.distill_cost(epochs, blocks_per_stage))
            self._distilled.add((teacher, epochs))

    def signatures(self, epochs: int = 10, teacher: str | None = None,
                   blocks_per_stage: int = finetuning.PAPER_BLOCKS_PER_STAGE) -> np.ndarray:
        """Block signatures ``[stage, block]`` after ``epochs`` distillation epochs against
        ``teacher`` (``None``: the table's ``signatures``), charging :meth:`distill` once."""
        values = (self.table.signatures(epochs) if teacher is None
                  else self.table.teacher_signatures(teacher, epochs))
        self.distill(epochs, teacher, blocks_per_stage)
        return values

    def evaluations(self) -> dict[str, np.ndarray]:
        """What the search has seen: one row per evaluation (model, validation top-1,
        protocol, costs); no test metrics."""
        return {k: np.asarray(v) for k, v in self._log.items()}

    # ------------------------------------------------------------ the record

    def best_test_in_table(self) -> float:
        """The table's best test top-1 (the seed seen, or the mean over seeds if random);
        NaN without a table."""
        if self.table is None:
            return float("nan")
        seed = "mean" if self.seed == "random" else self.seed
        return float(np.nanmax(self.table.test_acc(np.arange(space.N_MODELS), seed=seed)))

    def record(self) -> dict[str, np.ndarray]:
        """The anytime record, one row per evaluation, with the reported test and regret.

        Reading it is the only place test metrics are touched.
        """
        rec = {k: np.asarray(v) for k, v in self._log.items()}
        rec["model_id"] = rec["model_id"].astype(np.int64)
        rec["seed"] = rec["seed"].astype(np.int64)
        rec["protocol"] = rec["protocol"].astype(str)

        tests = self.table if self.evaluator is None else self.evaluator
        return complete_record(rec, tests, self.best_test_in_table(), self.finetuned_test)

    def finetuned_test(self, protocol: str, ids: np.ndarray) -> np.ndarray:
        """Test top-1 (percent) of students ``ids`` evaluated under ``protocol`` (a
        fine-tuning protocol's name; a model teacher counts with this core's seed)."""
        setting = self._settings.get(protocol) or FineTune.parse(protocol)
        return self.table.finetuned_column(self._teacher(setting), setting.distill_epochs,
                                           setting.finetune_epochs, "test")[ids]


def complete_record(rec: dict[str, np.ndarray], table: Table, best_test: float,
                    finetuned_test=None) -> dict[str, np.ndarray]:
    """Adds ``best_val``, ``best_model``, ``reported_test`` and ``regret`` to a record's
    evaluation columns (``model_id``, ``seed``, ``val_top1``, ``protocol``...): the one record
    builder of SearchCore and the environments.  The first model reaching the best value
    keeps it.  A best model of a fine-tuning protocol reports ``finetuned_test(protocol,
    ids)``; a trained one its test top-1 with its seed."""
    val, n = rec["val_top1"], len(rec["val_top1"])
    running = np.maximum.accumulate(np.where(np.isnan(val), -np.inf, val))
    previous = np.concatenate([[-np.inf], running[:-1]])
    improved = val > previous
    at = np.maximum.accumulate(np.where(improved, np.arange(n), -1))
    found = at >= 0
    best_model = np.where(found, rec["model_id"][at], -1).astype(np.int64)
    best_seed = np.where(found, rec["seed"][at], -1).astype(np.int64)
    protocol = np.where(found, rec["protocol"][at], SCRATCH)
    reported = np.full(n, np.nan)
    scratch = found & (protocol == SCRATCH)
    for s in np.unique(best_seed[scratch]):
        mask = scratch & (best_seed == s)
        reported[mask] = table.test_acc(best_model[mask], seed=int(s))
    for name in np.unique(protocol[found & ~scratch]).tolist():
        mask = found & (protocol == name)
        reported[mask] = finetuned_test(name, best_model[mask])
    rec.update(best_val=np.where(found, running, -np.inf), best_model=best_model,
               reported_test=reported, regret=best_test - reported)
    return rec
