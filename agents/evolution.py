"""Regularized (aging) evolution (Real et al., AAAI 2019).

A population of ``population`` models starts from uniformly random valid encodings.  Each
cycle samples ``sample`` members without replacement, mutates the best of them (one random
component edit giving a different valid model) and trains the child; the child joins the
population and the oldest member leaves.  Blox settings: population 64, sample 16.  The
mutation rule is not stated by the paper (a choice of this project).
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from agents.base import Agent, Evaluator, check_positive, mutate, random_valid


@dataclasses.dataclass
class RegularizedEvolution(Agent):
    """Aging evolution with tournament selection and single-edit mutation."""

    name = "rea"
    paper = {"population": 64, "sample": 16}
    population: int = 64
    sample: int = 16

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "population", "sample")
        if self.sample > self.population:
            raise ValueError(f"sample ({self.sample}) must not exceed population "
                             f"({self.population})")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        members: deque[tuple[np.ndarray, float]] = deque()
        while len(members) < self.population:
            arch = random_valid(rng)
            members.append((arch, evaluate(arch)))
        while True:
            picked = rng.choice(len(members), self.sample, replace=False)
            parent = max(picked.tolist(), key=lambda i: members[i][1])
            child = mutate(members[parent][0], rng)
            members.append((child, evaluate(child)))
            members.popleft()
