"""BRP-NAS: search with a binary relation predictor (Dudziak et al., NeurIPS 2020).

The zoo's ``brp`` predictor (a 4-layer, 600-unit binary GCN comparator; AdamW lr 3.5e-4,
weight decay 5e-4, dropout 0.2, at most 250 epochs, batches of 64, LR patience 10 and
early-stopping patience 35) ranks untrained models.  The search trains ``batch`` (20)
uniformly random models, then repeats until ``max_train`` (200) models are trained:
train the predictor on all trained models, rank the whole space, and train the next
``batch``.  After ``max_train`` models, the last ranking is followed until the budget is
spent.

Iterative data selection with ``alpha`` (0.5): each batch takes ``round(alpha * batch)``
models from the top of the ranking and the rest uniformly at random from the other untrained
models, as the authors' ``--sample_best`` option does.

Where the paper (supplementary C.2) is silent, the defaults follow the authors' code
(SamsungLabs/eagle, ``eagle/predictors/__main__.py``; :data:`AUTHORS_TRAINING`): early
stopping and the plateau schedule watch the loss on the training models, the learning rate
is halved (threshold 0.01), both start after epoch 20, one predictor keeps training across
rounds (``warm_start``), and the ranking sorts the space with the comparator
(``ranking="sort"``).  Extensions: ``ranking="win_rate"`` (mean win probability against
the trained models), ``pool=N`` (rank a fresh random pool of N untrained models per round,
which is faster), ``warm_start=False``.  See ``docs/agents.md``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents._torch import seeded
from agents.base import Agent, Evaluator, check_fraction, check_positive, random_models
from blox_gym import space

RANKINGS = ("sort", "win_rate")
#: Predictor training of the authors' code where C.2 does not say (``predictors.make``
#: keywords); the agent's ``predictor`` setting overrides them.
AUTHORS_TRAINING = {"monitor": "train", "lr_factor": 0.5, "lr_threshold": 0.01,
                    "patience_start": 21}


@dataclasses.dataclass
class BrpNas(Agent):
    """Predictor-guided search with a binary GCN comparator and iterative selection.

    ``predictor``: extra keyword arguments for ``predictors.make("brp", ...)``, on top of
    :data:`AUTHORS_TRAINING`.
    """

    name = "brp_nas"
    paper = {"batch": 20, "max_train": 200, "alpha": 0.5, "pool": None, "ranking": "sort",
             "warm_start": True, "predictor": {}}
    batch: int = 20
    max_train: int = 200
    alpha: float = 0.5
    pool: int | None = None
    ranking: str = "sort"
    warm_start: bool = True
    predictor: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "batch", "max_train")
        check_fraction(self, "alpha")
        if self.ranking not in RANKINGS:
            raise ValueError(f"BrpNas.ranking must be one of {RANKINGS}, got {self.ranking!r}")
        if self.pool is not None:
            check_positive(self, "pool")
            if self.pool < self.batch:
                raise ValueError(f"pool ({self.pool}) must be at least batch ({self.batch})")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        with seeded(seed):  # one torch thread: the runner parallelises over seeds
            self._search(evaluate, rng, seed)

    def _search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        from predictors import make

        settings = {**AUTHORS_TRAINING, "warm_start": self.warm_start, **self.predictor}
        predictor = make("brp", seed=seed, **settings)
        trained = random_models(rng, self.batch)
        values = evaluate.many(trained)
        while True:
            predictor.fit(trained, values)
            ranking = self._rank(predictor, trained, rng)
            if len(trained) >= self.max_train:
                evaluate.many(ranking)
                return
            n_top = round(self.alpha * self.batch)
            picked = np.concatenate([ranking[:n_top], rng.choice(
                ranking[n_top:], self.batch - n_top, replace=False)])
            trained = np.concatenate([trained, picked])
            values = np.concatenate([values, evaluate.many(picked)])

    def _rank(self, predictor, trained: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Untrained model ids from best to worst predicted."""
        if self.pool is None:  # the whole space, trained models included (the authors')
            candidates = np.arange(space.N_MODELS)
        else:
            rest = np.setdiff1d(np.arange(space.N_MODELS), trained)
            candidates = np.sort(rng.choice(rest, min(self.pool, len(rest)), replace=False))
        order = (predictor.sort_rank(candidates) if self.ranking == "sort"
                 else predictor.rank(candidates))
        ranking = candidates[order]
        return ranking[~np.isin(ranking, trained)]
