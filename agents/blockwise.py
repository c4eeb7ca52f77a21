"""Blockwise NAS procedures of the Blox paper (supplementary D.2-D.4), as agents.

* :class:`Blockwise` runs any agent the blockwise way: the blocks are distilled from
  ``teacher`` for ``distill_epochs`` epochs (charged before the search starts) and every
  model the search evaluates is fine-tuned from the teacher for ``finetune_epochs`` epochs
  (FT / 200 units) instead of trained (Figures 17-19).  ``finetune_epochs=None`` trains the
  models normally and only the signatures guide DONNA and LANA (Figure 20).  ``plateau``
  (units) adds Figure 19's switch: once the best validation accuracy has not improved for
  that long, the searched models are ranked and fine-tuned for ``switch_epochs`` (200).
* :class:`Iterative` is the iterative fine-tuning of Table 5: a blockwise search with a
  teacher of unknown quality, then train its top models from scratch, make the best the
  teacher, fine-tune the top models with it, and repeat while the best improves.
* :class:`DonnaGcn` is DONNA with the zoo's GCN instead of the linear signature model.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent, Evaluator, check_positive
from agents.donna import Donna
from blox_gym.core import Budget, BudgetExhausted, FineTune, SearchCore
from blox_gym.finetuning import PAPER_BLOCKS_PER_STAGE

SIGNATURE_AGENTS = ("donna", "lana", "donna_gcn")  # searches that read block signatures


@dataclasses.dataclass
class DonnaGcn(Donna):
    """DONNA with a GCN accuracy predictor (the zoo's ``gcn``) instead of the linear model.

    The default GCN is smaller than BRP-NAS's (64 hidden, 100 epochs; a choice for speed,
    the paper does not give DONNA-GCN's settings); ``predictor_settings`` changes it.
    """

    name = "donna_gcn"
    predictor: str = "gcn"
    predictor_settings: dict = dataclasses.field(
        default_factory=lambda: {"hidden": 64, "epochs": 100})


class _Plateau(Exception):
    """The best validation accuracy has not improved for the plateau's cost."""


class _PlateauEvaluator(Evaluator):
    """An evaluator that raises :class:`_Plateau` after ``units`` without improvement."""

    def __init__(self, outer: Evaluator, units: float):
        super().__init__(outer.core, outer.stall_limit)
        self.units = units
        self._best, self._since = -np.inf, outer.core.spent

    def __call__(self, arch, fidelity=None, resume: bool = True) -> float:
        value = super().__call__(arch, fidelity, resume)
        if value > self._best:
            self._best, self._since = value, self.core.spent
        elif self.core.spent - self._since >= self.units:
            raise _Plateau
        return value


def _check_teacher(core: SearchCore, teacher: str) -> None:
    axes = core.table.finetune_axes
    if axes is None or teacher not in axes.teachers:
        core.table.finetuned_column(teacher)  # raises the table's own message


@dataclasses.dataclass
class _Distilled(Agent):
    """Settings of the blockwise procedures: ``searcher`` (an agent name, with ``settings``),
    ``teacher`` (a teacher of the table, ``table.finetune_axes``), ``distill_epochs`` and
    ``distill_blocks`` (blocks per stage charged for distillation: 60, the paper's count;
    45 the space's)."""

    searcher: str = "donna"
    settings: dict = dataclasses.field(default_factory=dict)
    teacher: str = "M1"
    distill_epochs: int = 10
    distill_blocks: int = PAPER_BLOCKS_PER_STAGE

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "distill_epochs", "distill_blocks")

    def paper_check(self) -> dict:
        """:meth:`Agent.paper_check`, with the searcher's extensions beyond the paper."""
        import agents

        check = super().paper_check()
        inner = getattr(agents.make(self.searcher, **self.settings), "paper_check", None)
        extended = {} if inner is None else inner().get("extensions", {})
        if extended:
            check["extensions"] = {**check.get("extensions", {}), **extended}
        return check


@dataclasses.dataclass
class Blockwise(_Distilled):
    """``searcher`` (with ``settings``) run with distillation from ``teacher`` and
    fine-tuning."""

    name = "blockwise"
    finetune_epochs: int | None = 200
    plateau: float | None = None
    switch_epochs: int = 200

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "switch_epochs")
        if self.finetune_epochs is not None:
            check_positive(self, "finetune_epochs")
        if self.plateau is not None and not self.plateau > 0:
            raise ValueError(f"Blockwise.plateau must be a positive cost, got {self.plateau!r}")
        if self.plateau is not None and self.finetune_epochs is None:
            raise ValueError("the plateau switch fine-tunes; it needs finetune_epochs")
        self.inner()  # validates the searcher and its settings

    def inner(self) -> Agent:
        """The wrapped search agent, reading the teacher's signatures if it uses any."""
        import agents

        extra = {}
        if self.searcher in SIGNATURE_AGENTS:
            extra = {"teacher": self.teacher, "signature_epochs": self.distill_epochs,
                     "distill_blocks": self.distill_blocks}
        return agents.make(self.searcher, **{**self.settings, **extra})

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        core = evaluate.core
        _check_teacher(core, self.teacher)
        core.distill(self.distill_epochs, self.teacher, self.distill_blocks)
        if self.finetune_epochs is not None:
            core.finetune = FineTune(self.teacher, self.distill_epochs, self.finetune_epochs)
        try:
            if self.plateau is None:
                self.inner().search(evaluate, rng, seed)
                return
            try:
                self.inner().search(_PlateauEvaluator(evaluate, self.plateau), rng, seed)
                return
            except _Plateau:
                pass
            searched = ranked(core, str(core.finetune))
            core.finetune = FineTune(self.teacher, self.distill_epochs, self.switch_epochs)
            evaluate.many(searched)
        finally:
            core.finetune = None


def ranked(core: SearchCore, protocol: str) -> np.ndarray:
    """Models evaluated under ``protocol``, best validation first (ties: first evaluated)."""
    log = core.evaluations()
    mask = log["protocol"] == protocol
    ids, vals = log["model_id"][mask], log["val_top1"][mask]
    _, first = np.unique(ids, return_index=True)
    first = np.sort(first)
    order = np.lexsort((first, -vals[first]))
    return ids[first][order]


@dataclasses.dataclass
class Iterative(_Distilled):
    """Iterative fine-tuning without a known good teacher (Table 5).

    Step 1: a :class:`Blockwise` search (``searcher`` with ``settings``, ``teacher``,
    ``search_epochs`` of fine-tuning) for ``search_budget`` units; step 2: its ``top``
    models by validation top-1 are trained from scratch; step 3: the best of them (by
    validation) becomes the teacher and the ``top`` models are fine-tuned from it for
    ``finetune_epochs``; step 4: the best fine-tuned model becomes the next teacher; steps
    3-4 repeat while the best validation accuracy improves, at most ``iterations`` times.
    A model serves as teacher with its network trained from scratch (docs/blockwise.md).
    """

    name = "iterative"
    teacher: str = "mediocre"
    search_epochs: int = 10
    search_budget: float = 50.0
    top: int = 5
    finetune_epochs: int = 200
    iterations: int = 5

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "search_epochs", "top", "finetune_epochs", "iterations")
        if not self.search_budget > 0:
            raise ValueError(f"Iterative.search_budget must be positive, got "
                             f"{self.search_budget!r}")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        core = evaluate.core
        outer = core.budget
        step1 = Blockwise(searcher=self.searcher, settings=self.settings, teacher=self.teacher,
                          distill_epochs=self.distill_epochs, distill_blocks=self.distill_blocks,
                          finetune_epochs=self.search_epochs)
        if outer is not None and outer.unit != "models":
            raise ValueError("the iterative procedure counts its budget in models (units)")
        limit = self.search_budget if outer is None else min(self.search_budget, outer.amount)
        core.budget = Budget(limit, "models")
        try:
            step1.search(Evaluator(core, self.stall_limit), rng, seed)
        except BudgetExhausted:
            pass
        finally:
            core.budget = outer
        top = ranked(core, str(FineTune(self.teacher, self.distill_epochs,
                                        self.search_epochs)))[:self.top]
        scratch = evaluate.many(top)  # step 2: trained from scratch
        teacher, best = int(top[np.argmax(scratch)]), -np.inf
        for _ in range(self.iterations):  # steps 3 and 4
            core.finetune = FineTune(teacher, self.distill_epochs, self.finetune_epochs)
            try:
                tuned = evaluate.many(top)
            finally:
                core.finetune = None
            if tuned.max() <= best:
                return
            best, next_teacher = float(tuned.max()), int(top[np.argmax(tuned)])
            if next_teacher == teacher:
                return
            teacher = next_teacher
