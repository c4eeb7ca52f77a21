"""Random search: uniform over all encodings (Bergstra and Bengio, JMLR 2012).

Invalid encodings (a stage with previous = input = skip = 0) return -1 and cost nothing,
as in the Blox paper (supplementary C.2).  Since isomorphic encodings are one model,
models with more encodings are drawn more often.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.base import Agent, Evaluator, random_encoding


@dataclasses.dataclass
class RandomSearch(Agent):
    """Train uniformly random encodings at full fidelity until the budget is spent."""

    name = "random"
    paper = {}  # in the paper, with no settings to choose

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        while True:
            evaluate(random_encoding(rng))
