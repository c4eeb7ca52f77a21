"""Hyperband (Li et al., JMLR 2018) with uniform sampling.

Resources are percent of full training: ``R`` = 100 is the table's full run (E epochs), so
``r`` percent is ``max(1, round(E * r / 100))`` epochs.  With ``s_max = floor(log_eta R)``
and ``B = (s_max + 1) R``, bracket ``s`` (from ``s_max`` down to 0) starts
``n = ceil(B / R * eta**s / (s + 1))`` uniformly random valid models at ``r = R / eta**s``;
rung ``i`` trains ``n_i = floor(n / eta**i)`` models to ``r_i = r * eta**i`` and the best
``n_{i+1}`` by validation accuracy go on.  The brackets repeat until the budget is spent.
Blox settings: R = 100, eta = 3.

The paper does not say whether a promoted model resumes training.  By default each rung
trains from scratch and pays its ``r_i`` in full (``resume=False``), the accounting of Li et
al.'s algorithm, where a bracket spends about ``B`` = ``(s_max + 1) R``; ``resume=True`` (an
extension) charges promoted models only their extra epochs, about 17 % cheaper per cycle.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent, Evaluator, check_positive, random_models


def brackets(max_resource: int = 100, eta: int = 3) -> list[list[tuple[int, float]]]:
    """The ``(n_i, r_i)`` rungs of each bracket, from ``s = s_max`` down to 0."""
    if not isinstance(eta, int) or eta < 2:
        raise ValueError(f"eta must be an int >= 2, got {eta!r}")
    if not isinstance(max_resource, int) or max_resource < 1:
        raise ValueError(f"max_resource must be a positive int, got {max_resource!r}")
    s_max = 0
    while eta ** (s_max + 1) <= max_resource:
        s_max += 1
    out = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta**s // (s + 1))  # ceil((s_max + 1) * eta^s / (s + 1))
        out.append([(n // eta**i, max_resource * eta ** (i - s)) for i in range(s + 1)])
    return out


def to_epochs(resource: float, max_resource: int, epochs: int) -> int:
    """Epochs for ``resource`` out of ``max_resource`` (at least one, rounded half up)."""
    return max(1, int(np.floor(epochs * resource / max_resource + 0.5)))


@dataclasses.dataclass
class Hyperband(Agent):
    """Successive halving in brackets of different aggressiveness."""

    name = "hyperband"
    paper = {"max_resource": 100, "eta": 3, "resume": False}
    max_resource: int = 100
    eta: int = 3
    resume: bool = False

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "max_resource")
        brackets(self.max_resource, self.eta)  # validates eta

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        plan = brackets(self.max_resource, self.eta)
        while True:
            for rungs in plan:
                models = random_models(rng, rungs[0][0])
                for i, (_, resource) in enumerate(rungs):
                    epochs = to_epochs(resource, self.max_resource, evaluate.epochs)
                    values = evaluate.many(models, epochs, resume=self.resume)
                    if i + 1 < len(rungs):
                        models = models[np.argsort(-values, kind="stable")[:rungs[i + 1][0]]]
