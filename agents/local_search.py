"""Local search with best-improvement moves and random restarts (White et al., UAI 2021).

From a uniformly random valid model, train every distinct neighbour (the models one
component edit away, in random order) and move to the best one if it beats the current
model; otherwise restart from a new random model.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent, Evaluator, random_valid
from blox_gym import space


@dataclasses.dataclass
class LocalSearch(Agent):
    """Hill climbing over single-component edits, restarting at local optima."""

    name = "local"

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        while True:
            current = random_valid(rng)
            value = evaluate(current)
            while True:
                step = _best_neighbour(current, evaluate, rng)
                if step[1] <= value:
                    break
                current, value = step


def _best_neighbour(arch: np.ndarray, evaluate: Evaluator, rng: np.random.Generator
                    ) -> tuple[np.ndarray, float]:
    nb = space.neighbours(arch)
    ok = nb.valid & (nb.model_id != space.model_id(arch))
    _, first = np.unique(np.where(ok, nb.model_id, -1), return_index=True)
    edits = rng.permutation(first[ok[first]])
    values = [evaluate(nb.archs[a]) for a in edits]
    best = int(np.argmax(values))
    return nb.archs[edits[best]], values[best]
