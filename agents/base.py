"""The shared layer of the search agents: the :class:`Agent` base, the evaluator, samplers.

An agent is a dataclass of settings.  ``agent.run(core, budget, seed)`` searches through a
:class:`~blox_gym.core.SearchCore` until the budget is spent and returns the core's
anytime record.  Agents see validation metrics only; the record is read after the search.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar

import numpy as np

from blox_gym import space
from blox_gym.core import Budget, BudgetExhausted, SearchCore
from blox_gym.resolve import Models

INVALID = [0] * space.N_COMPONENTS  # an invalid architecture: scores -1 at no cost


class SearchStalled(RuntimeError):
    """Raised by :class:`Evaluator` after too many evaluations in a row that cost nothing."""


class Evaluator:
    """What a search calls: ``evaluator(arch, fidelity)`` -> validation top-1 (percent).

    Ids, hashes or architectures; invalid architectures give -1 at no cost.  Stops the
    search (raising) once the budget is spent, or after ``stall_limit`` consecutive free
    evaluations (repeats and invalid models), which a converged policy would otherwise
    produce forever.
    """

    def __init__(self, core: SearchCore, stall_limit: int):
        self.core = core
        self.stall_limit = stall_limit
        self._free_streak = 0

    @property
    def epochs(self) -> int:
        """Epochs of a full training run in the table (the highest fidelity)."""
        return self.core.epochs

    def __call__(self, arch: Models, fidelity: int | None = None, resume: bool = True) -> float:
        """One model (:mod:`blox_gym.resolve`; a 1-D array of 15 ints is its architecture).
        ``resume=False`` charges a training from scratch (see ``SearchCore.evaluate``)."""
        before = self.core.spent
        value = self.core.evaluate(arch, fidelity, resume=resume)
        self._count(self.core.spent > before)
        return value

    def many(self, archs: Models, fidelity: int | None = None, resume: bool = True
             ) -> np.ndarray:
        """Evaluate models in order (a 1-D array of ids, rows of encodings, ...)."""
        ids = self.core.ids(archs).ids.tolist()
        return np.array([self(m if m >= 0 else INVALID, fidelity, resume) for m in ids])

    def _count(self, charged: bool) -> None:
        self._free_streak = 0 if charged else self._free_streak + 1
        if self._free_streak >= self.stall_limit:
            raise SearchStalled(f"{self.stall_limit} evaluations in a row cost nothing")


@dataclasses.dataclass
class Agent(ABC):
    """Base of every search agent; subclasses are dataclasses of their settings.

    ``stall_limit``: stop after this many consecutive evaluations that cost nothing.
    """

    name: ClassVar[str] = ""
    #: The settings the Blox paper states (supplementary C.2): the defaults must equal them;
    #: ``None`` for agents the paper does not run.
    paper: ClassVar[dict[str, Any] | None] = None
    #: Settings that go beyond the paper (e.g. multi-objective search) and their values when
    #: off: while all are off they are left out of :meth:`config` and :meth:`paper_check`, so
    #: runs with the defaults keep their configs (and resume folders made before them).
    extensions: ClassVar[dict[str, Any]] = {}
    stall_limit: int = 1000

    def __post_init__(self):
        check_positive(self, "stall_limit")

    def active_settings(self) -> dict[str, Any]:
        """The settings; the extensions only if one of them is on."""
        now = dataclasses.asdict(self)
        if all(now[k] == off for k, off in self.extensions.items()):
            return {k: v for k, v in now.items() if k not in self.extensions}
        return now

    def config(self) -> dict[str, Any]:
        """The agent's name and settings (JSON-serialisable)."""
        return {"agent": self.name, **self.active_settings()}

    def paper_check(self) -> dict[str, Any]:
        """Which settings are the paper's: ``{"in_paper": bool, "paper": [names], "changed":
        {name: {"paper": value, "now": value}}, "choices": [names]}``; ``choices`` are the
        settings the paper leaves open (this project's choices, see ``docs/agents.md``).
        Extensions beyond the paper that are on add ``"extensions": {name: value}``."""
        paper = self.paper or {}
        now = self.active_settings()
        changed = {k: {"paper": v, "now": now[k]} for k, v in paper.items() if now[k] != v}
        choices = [k for k in now
                   if k not in paper and k not in self.extensions and k != "stall_limit"]
        check = {"in_paper": self.paper is not None,
                 "paper": [k for k in paper if k not in changed], "changed": changed,
                 "choices": choices}
        extended = {k: now[k] for k in self.extensions if k in now}
        if extended:
            check["extensions"] = extended
        return check

    def run(self, core: SearchCore, budget: Budget | None = None, seed: int = 0) -> dict:
        """Search until the budget is spent; return ``core.record()``.

        ``budget`` replaces the core's budget when given; one of the two must be set.
        ``seed`` fixes every random choice of the search.
        """
        if budget is not None:
            core.budget = budget
        if core.budget is None:
            raise ValueError("a search needs a budget: pass one to run() or to SearchCore")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        evaluate = Evaluator(core, self.stall_limit)
        try:
            self.search(evaluate, np.random.default_rng(int(seed)), int(seed))
        except (BudgetExhausted, SearchStalled):
            pass
        return core.record()

    @abstractmethod
    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        """Spend the budget through ``evaluate``; may return early (the run then ends)."""


@dataclasses.dataclass
class Transferable(Agent):
    """An agent that can learn on another table first (transfer, beyond the paper):
    ``pretrain`` (a table path or URL) for ``pretrain_models`` models, charged there and not
    to the search, which then goes on with what was learned (e.g. from a world made by
    ``blox-gym data synth --seed S``)."""

    pretrain: str | None = None
    pretrain_models: float = 2000
    extensions: ClassVar[dict[str, Any]] = {"pretrain": None, "pretrain_models": 2000}

    def learn_then_search(self, learn: Callable[[Evaluator, np.random.Generator], None],
                          evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        """``learn(evaluate, rng)`` on the ``pretrain`` table if one is set, then here."""
        if self.pretrain is not None:
            from blox_gym.table import open_table

            core = SearchCore(open_table(self.pretrain),
                              budget=Budget(self.pretrain_models, "models"))
            try:
                learn(Evaluator(core, self.stall_limit), np.random.default_rng([int(seed), 1]))
            except (BudgetExhausted, SearchStalled):
                pass
        learn(evaluate, rng)


def check_positive(agent: Agent, *names: str) -> None:
    """Raise unless each ``agent.<name>`` is a positive int."""
    for name in names:
        value = getattr(agent, name)
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{type(agent).__name__}.{name} must be a positive int, "
                             f"got {value!r}")


def check_fraction(agent: Agent, name: str) -> None:
    """Raise unless ``agent.<name>`` is a number in [0, 1]."""
    value = getattr(agent, name)
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{type(agent).__name__}.{name} must be in [0, 1], got {value!r}")


# ---------------------------------------------------------------- sampling and mutation

def random_encoding(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random flat encoding (15 ints); about a third are invalid."""
    return rng.integers(space.RADIX)


def random_valid(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random *valid* encoding (invalid draws are redrawn)."""
    while True:
        arch = random_encoding(rng)
        if space.is_valid(arch):
            return arch


def random_models(rng: np.random.Generator, n: int, exclude: np.ndarray | None = None
                  ) -> np.ndarray:
    """``n`` distinct model ids, drawn uniformly over valid encodings, skipping ``exclude``."""
    chosen: list[int] = []
    taken = set() if exclude is None else set(np.asarray(exclude).tolist())
    while len(chosen) < n:
        if len(taken) >= space.N_MODELS:
            break
        mid = int(space.model_id(random_valid(rng)))
        if mid not in taken:
            taken.add(mid)
            chosen.append(mid)
    return np.array(chosen, dtype=np.int64)


def mutate(arch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random component edit that gives a different valid model."""
    nb = space.neighbours(arch)
    own = space.model_id(arch)
    options = np.flatnonzero(nb.valid & (nb.model_id != own))
    return nb.archs[rng.choice(options)]
