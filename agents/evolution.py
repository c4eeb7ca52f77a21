"""Regularized (aging) evolution (Real et al., AAAI 2019).

A population of ``population`` models starts from uniformly random valid encodings.  Each
cycle samples ``sample`` members without replacement, mutates the best of them (one random
component edit giving a different valid model) and trains the child; the child joins the
population and the oldest member leaves.  Blox settings: population 64, sample 16.  The
mutation rule is not stated by the paper (a choice of this project).

:func:`aging_evolution` is the loop itself; :class:`RegularizedEvolution` runs it on trained
accuracies and DONNA (``agents/donna.py``) on predicted ones.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from agents.base import Agent, Evaluator, check_positive, mutate, random_valid


def aging_evolution(population: Iterable[np.ndarray], fitness: Callable[[np.ndarray], float],
                    rng: np.random.Generator, sample: int, cycles: int | None = None
                    ) -> Iterator[tuple[np.ndarray, float]]:
    """Yield ``(encoding, fitness)`` for each initial member, then for each cycle's child.

    ``population`` gives the initial members (drawn lazily, scored in order); each cycle
    mutates the fittest of ``sample`` members drawn without replacement (ties: the first
    drawn), adds the child and drops the oldest member.  ``cycles=None`` runs until
    ``fitness`` raises (a spent budget).
    """
    members: deque[tuple[np.ndarray, float]] = deque()
    for arch in population:
        members.append((arch, fitness(arch)))
        yield members[-1]
    done = 0
    while cycles is None or done < cycles:
        picked = rng.choice(len(members), sample, replace=False)
        parent = max(picked.tolist(), key=lambda i: members[i][1])
        child = mutate(members[parent][0], rng)
        members.append((child, fitness(child)))
        members.popleft()
        done += 1
        yield members[-1]


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
        initial = (random_valid(rng) for _ in range(self.population))
        for _ in aging_evolution(initial, evaluate, rng, self.sample):
            pass
