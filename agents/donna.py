"""DONNA-style search: a linear predictor on block signatures plus evolution on it
(Moons et al., ICCV 2021), as in the Blox paper's blockwise NAS (supplementary D.2-D.4).

Block signatures come from blockwise distillation against ``teacher`` (``core.signatures``;
the core charges ``distill_blocks`` (60, the paper's count) x 3 stages x 10 epochs).  The
search trains ``initial`` (20) uniformly random models, then repeats: fit the zoo's
``linear_signatures`` predictor (ridge on each stage's block signature) to the validation
accuracies so far; run regularized evolution
(``population``, ``sample``, ``cycles``; one-edit mutations) on the predicted accuracy,
which costs nothing; train the ``batch`` (20) best-predicted models it visited that are not
trained yet.  DONNA's evolution is multi-objective (accuracy and latency, NSGA-II); this one
optimises predicted accuracy only.  The paper does not state DONNA's search settings:
``initial``, ``batch``, ``population``, ``sample`` and ``cycles`` are this project's choices.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent, Evaluator, check_positive, random_models
from agents.evolution import aging_evolution
from blox_gym import space


@dataclasses.dataclass
class Donna(Agent):
    """Signature-based linear predictor, evolution on it, train the top candidates."""

    name = "donna"
    paper = {"signature_epochs": 10, "distill_blocks": 60}
    signature_epochs: int = 10
    teacher: str | None = None  # a teacher of the table; None: the table's signatures
    distill_blocks: int = 60  # blocks per stage charged for distillation (paper 60; space 45)
    initial: int = 20
    batch: int = 20
    population: int = 64
    sample: int = 16
    cycles: int = 2000
    predictor: str = "linear_signatures"  # a zoo predictor (DONNA-GCN: "gcn")
    predictor_settings: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "signature_epochs", "distill_blocks", "initial", "batch",
                       "population", "sample", "cycles")
        if self.sample > self.population:
            raise ValueError(f"sample ({self.sample}) must not exceed population "
                             f"({self.population})")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        from predictors import make

        signatures = evaluate.core.signatures(self.signature_epochs, self.teacher,
                                              self.distill_blocks)
        trained = random_models(rng, self.initial)
        values = evaluate.many(trained)
        while True:
            extra = {"signatures": signatures} if self.predictor == "linear_signatures" else {}
            predictor = make(self.predictor, seed=seed, **extra, **self.predictor_settings)
            predicted = predictor.fit(trained, values).predict(np.arange(space.N_MODELS))
            visited = self.evolve(predicted, rng)
            fresh = np.setdiff1d(visited, trained)
            if len(fresh) < self.batch:  # evolution converged: fall back on the ranking
                fresh = np.setdiff1d(np.arange(space.N_MODELS), trained)
            picked = fresh[np.argsort(-predicted[fresh], kind="stable")[:self.batch]]
            trained = np.concatenate([trained, picked])
            values = np.concatenate([values, evaluate.many(picked)])

    def evolve(self, fitness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Regularized evolution on ``fitness[model id]``; the ids of every model visited."""
        visited: list[int] = []

        def score(arch: np.ndarray) -> float:
            visited.append(int(space.model_id(arch)))
            return fitness[visited[-1]]

        initial = [space.CANONICAL[mid].astype(np.int64)
                   for mid in random_models(rng, self.population)]
        for _ in aging_evolution(initial, score, rng, self.sample, self.cycles):
            pass
        return np.unique(visited)
