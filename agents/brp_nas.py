"""BRP-NAS: search with a binary relation predictor (Dudziak et al., NeurIPS 2020).

The zoo's ``brp`` predictor (a 4-layer, 600-unit binary GCN comparator; AdamW lr 3.5e-4,
weight decay 5e-4, dropout 0.2, 250 epochs with LR and early-stopping patience 10 and 35)
ranks untrained models.  The search trains ``batch`` (20) uniformly random models, then
repeats until ``max_train`` (200) models are trained: retrain the predictor on all trained
models, rank, and train the next ``batch``.  Each round ranks a fresh uniformly random
``pool`` of 10,000 untrained models (the best of 10,000 random models is about the 10th
best of the 91,125 in expectation); ``pool=None`` ranks all of them, as the paper does,
which makes each ranking about ten times slower on a CPU.

Iterative data selection with ``alpha`` (0.5): each batch takes ``round(alpha * batch)``
models from the top of the ranking and the rest uniformly at random from the other ranked
models.  ``alpha = 1`` only exploits the predictor, ``alpha = 0`` samples randomly and uses
the predictor only at the end; mixing keeps the predictor's training set broad while
refining its top.  After ``max_train`` models, the last ranking is followed until the
budget is spent.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents._torch import seeded
from agents.base import Agent, Evaluator, check_fraction, check_positive, random_models
from blox_gym import space


@dataclasses.dataclass
class BrpNas(Agent):
    """Predictor-guided search with a binary GCN comparator and iterative selection.

    ``predictor``: extra keyword arguments for ``predictors.make("brp", ...)``.
    """

    name = "brp_nas"
    batch: int = 20
    max_train: int = 200
    alpha: float = 0.5
    pool: int | None = 10_000
    predictor: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "batch", "max_train")
        check_fraction(self, "alpha")
        if self.pool is not None:
            check_positive(self, "pool")
            if self.pool < self.batch:
                raise ValueError(f"pool ({self.pool}) must be at least batch ({self.batch})")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        with seeded(seed):  # one torch thread: the runner parallelises over seeds
            self._search(evaluate, rng, seed)

    def _search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        from predictors import make

        trained = random_models(rng, self.batch)
        values = evaluate.many(trained)
        while True:
            predictor = make("brp", seed=seed, **self.predictor).fit(trained, values)
            rest = np.setdiff1d(np.arange(space.N_MODELS), trained)
            if self.pool is not None and self.pool < len(rest):
                rest = np.sort(rng.choice(rest, self.pool, replace=False))
            ranking = rest[predictor.rank(rest)]
            if len(trained) >= self.max_train:
                evaluate.many(ranking)
                return
            n_top = round(self.alpha * self.batch)
            picked = np.concatenate([ranking[:n_top], rng.choice(
                ranking[n_top:], self.batch - n_top, replace=False)])
            trained = np.concatenate([trained, picked])
            values = np.concatenate([values, evaluate.many(picked)])
