"""DONNA-style search: a linear predictor on block signatures plus evolution on it
(Moons et al., ICCV 2021), as in the Blox paper's blockwise NAS (supplementary D.2-D.4).

Block signatures come from blockwise distillation against ``teacher`` (``core.signatures``;
the core charges ``distill_blocks`` (60, the paper's count) x 3 stages x 10 epochs).  The
search trains ``initial`` (20) uniformly random models, then repeats: fit the zoo's
``linear_signatures`` predictor (ridge on each stage's block signature) to the validation
accuracies so far; run regularized evolution
(``population``, ``sample``, ``cycles``; one-edit mutations) on the predicted accuracy,
which costs nothing; train the ``batch`` (20) best-predicted models it visited that are not
trained yet.  The Blox paper reduces DONNA to this single objective (supplementary E.2),
the default.  The paper does not state DONNA's search settings: ``initial``, ``batch``,
``population``, ``sample`` and ``cycles`` are this project's choices.

``secondary`` (an extension beyond the Blox paper, as in DONNA's own paper): a cost,
``"latency:<device>"`` or ``"macs"`` (:mod:`blox_gym.pareto`), makes the search
multi-objective.  The evolution is then NSGA-II on (predicted accuracy, cost): generations
of ``population`` children (``cycles`` children in all), parents by binary tournament on
(rank, crowding distance), one-edit mutations, survivors by non-dominated rank and crowding
distance; each batch is the ``batch`` untrained models it visited chosen by the same rule,
so the trained models spread along the predicted front.  Costs are read from the table.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from agents.base import Agent, Evaluator, check_positive, mutate, random_models
from blox_gym import pareto, space


@dataclasses.dataclass
class Donna(Agent):
    """Signature-based linear predictor, evolution on it, train the top candidates."""

    name = "donna"
    paper = {"signature_epochs": 10, "distill_blocks": 60}
    extensions = {"secondary": None}
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
    secondary: str | None = None  # a cost (blox_gym.pareto): NSGA-II on (accuracy, cost)

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "signature_epochs", "distill_blocks", "initial", "batch",
                       "population", "sample", "cycles")
        if self.sample > self.population:
            raise ValueError(f"sample ({self.sample}) must not exceed population "
                             f"({self.population})")
        if self.secondary is not None:
            pareto.check_cost(self.secondary)
            if self.population < 2:
                raise ValueError(f"NSGA-II needs a population of at least 2, got "
                                 f"{self.population}")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        from predictors import make

        cost = None if self.secondary is None else self.costs(evaluate.core, self.secondary)
        signatures = evaluate.core.signatures(self.signature_epochs, self.teacher,
                                              self.distill_blocks)
        trained = random_models(rng, self.initial)
        values = evaluate.many(trained)
        while True:
            extra = {"signatures": signatures} if self.predictor == "linear_signatures" else {}
            predictor = make(self.predictor, seed=seed, **extra, **self.predictor_settings)
            predicted = predictor.fit(trained, values).predict(np.arange(space.N_MODELS))
            visited = self.evolve(predicted, rng, cost)
            fresh = np.setdiff1d(visited, trained)
            if len(fresh) < self.batch:  # evolution converged: fall back on the ranking
                fresh = np.setdiff1d(np.arange(space.N_MODELS), trained)
            if cost is None:
                picked = fresh[np.argsort(-predicted[fresh], kind="stable")[:self.batch]]
            else:
                picked = fresh[pareto.select(predicted[fresh], cost[fresh], self.batch)]
            trained = np.concatenate([trained, picked])
            values = np.concatenate([values, evaluate.many(picked)])

    @staticmethod
    def costs(core, spec: str) -> np.ndarray:
        """The cost ``spec`` of every model id; raises if any is unknown."""
        cost = pareto.cost_values(core.table, spec)
        if np.isnan(cost).any():
            raise ValueError(f"DONNA's {spec} objective needs every model's cost, "
                             f"and {int(np.isnan(cost).sum()):,} are unknown in this table")
        return cost

    def evolve(self, fitness: np.ndarray, rng: np.random.Generator,
               cost: np.ndarray | None = None) -> np.ndarray:
        """Regularized evolution on ``fitness[model id]``, or NSGA-II on (``fitness``,
        ``cost``) when a cost (per model id) is given; the ids of every model visited."""
        members: deque[tuple[np.ndarray, int]] = deque()
        for mid in random_models(rng, self.population):
            members.append((space.CANONICAL[mid].astype(np.int64), int(mid)))
        visited = [mid for _, mid in members]
        if cost is not None:
            return np.unique(visited + self._nsga2(list(members), fitness, cost, rng))
        for _ in range(self.cycles):
            picked = rng.choice(len(members), self.sample, replace=False)
            parent = max(picked.tolist(), key=lambda i: fitness[members[i][1]])
            child = mutate(members[parent][0], rng)
            members.append((child, int(space.model_id(child))))
            members.popleft()
            visited.append(members[-1][1])
        return np.unique(visited)

    def _nsga2(self, members: list[tuple[np.ndarray, int]], fitness: np.ndarray,
               cost: np.ndarray, rng: np.random.Generator) -> list[int]:
        """NSGA-II generations from ``members``; the ids of every child."""
        children_ids: list[int] = []
        for _ in range(max(self.cycles // self.population, 1)):
            ids = np.array([mid for _, mid in members])
            rank = pareto.ranks(fitness[ids], cost[ids])
            crowd = pareto.crowding(fitness[ids], cost[ids], rank)
            children = []
            for _ in range(self.population):
                a, b = rng.choice(len(members), 2, replace=False).tolist()
                parent = a if (rank[a], -crowd[a]) <= (rank[b], -crowd[b]) else b
                child = mutate(members[parent][0], rng)
                children.append((child, int(space.model_id(child))))
            children_ids += [mid for _, mid in children]
            pool: dict[int, tuple[np.ndarray, int]] = {}
            for member in members + children:  # one place per model: the first found
                pool.setdefault(member[1], member)
            candidates = list(pool.values())
            ids = np.array([mid for _, mid in candidates])
            members = [candidates[i] for i in
                       pareto.select(fitness[ids], cost[ids], self.population)]
        return children_ids
