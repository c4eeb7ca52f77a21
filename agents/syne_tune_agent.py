"""Syne Tune schedulers as registry agents (``syne:<SCHEDULER>``, e.g. ``syne:ASHA``).

The scheduler runs on Syne Tune's simulated backend with ``n_workers`` asynchronous
workers (:func:`blox_gym.integrations.syne_tune.run_syne_tune`); every result it receives
is charged by the run's :class:`~blox_gym.core.SearchCore`, so budgets, costs and the
record mean what they mean for every other agent.  The record adds ``cost_wallclock``, the
simulated wall-clock seconds (with ``n_workers`` in parallel) at each evaluation.
Needs the optional extra ``syne-tune``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent, Evaluator, check_positive
from blox_gym.core import Budget, SearchCore

PREFIX = "syne:"


@dataclasses.dataclass
class SyneTuneAgent(Agent):
    """``scheduler``: a Syne Tune baseline's class name (``ASHA``, ``BOHB``, ``REA``,
    ``RandomSearch``, ...); ``form``: ``"components"`` (15 categoricals, invalid encodings
    reported as the worst value at no cost) or ``"blocks"`` (one of 45 blocks per stage);
    ``scheduler_kwargs``: passed to the scheduler (e.g. ``{"grace_period": 5}``);
    ``wallclock_budget``: a budget in ``seconds`` limits the simulated wall clock (the
    ``n_workers`` train at once) instead of the summed training time."""

    scheduler: str = "RandomSearch"
    n_workers: int = 4
    form: str = "components"
    scheduler_kwargs: dict = dataclasses.field(default_factory=dict)
    wallclock_budget: bool = False

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "n_workers")
        from blox_gym.integrations.syne_tune import FORMS, SCHEDULERS

        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"unknown Syne Tune scheduler {self.scheduler!r}; allowed: "
                             f"{', '.join(SCHEDULERS)}")
        if self.form not in FORMS:
            raise ValueError(f"form {self.form!r} is not one of {', '.join(FORMS)}")

    @property
    def name(self) -> str:
        return PREFIX + self.scheduler

    def run(self, core: SearchCore, budget: Budget | None = None, seed: int = 0) -> dict:
        """Run the scheduler until the budget is spent; the core's record plus
        ``cost_wallclock``."""
        self._wallclock = None
        record = super().run(core, budget, seed)
        record["cost_wallclock"] = self._wallclock
        return record

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        from blox_gym.integrations.syne_tune import run_syne_tune

        core, budget = evaluate.core, evaluate.core.budget
        if self.wallclock_budget and budget.unit != "seconds":
            raise ValueError(f"wallclock_budget needs a budget in seconds, got {budget.unit!r}")
        if self.wallclock_budget:
            core.budget = None  # the simulated wall clock limits the run instead
        try:
            record = run_syne_tune(
                self.scheduler, core, seed=seed, n_workers=self.n_workers,
                max_wallclock=budget.amount if self.wallclock_budget else None,
                form=self.form, **self.scheduler_kwargs)
        finally:
            core.budget = budget
        self._wallclock = record["cost_wallclock"]
