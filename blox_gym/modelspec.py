"""Model selections on the command line: ``--models SPEC``, one parser for every command.

A spec is a comma-separated list of terms, each

* a model id: ``45``;
* an inclusive range of ids: ``0-999``;
* ``sample:N``: ``N`` distinct ids drawn uniformly from all 91,125 models with ``seed``;
* ``all``: every model.

The selection is the union of the terms, as sorted unique model ids.
"""

from __future__ import annotations

import re

import numpy as np

from blox_gym import space

_RANGE = re.compile(r"^(\d+)-(\d+)$")
_SAMPLE = re.compile(r"^sample:(\d+)$")
SYNTAX = "comma-separated ids (0,45,91124), ranges (0-999), sample:N or all"


def parse_models(spec: str, seed: int = 0) -> np.ndarray:
    """Sorted unique model ids (int64) selected by ``spec``; ``seed`` drives ``sample:N``.

    Raises ``ValueError`` naming the bad term and the allowed syntax.
    """
    last = space.N_MODELS - 1
    chosen: list[np.ndarray] = []
    terms = [t.strip() for t in str(spec).split(",")]
    if not any(terms):
        raise ValueError(f"empty model selection; use {SYNTAX}")
    for term in terms:
        if term == "all":
            chosen.append(np.arange(space.N_MODELS))
        elif term.isdigit():
            chosen.append(np.array([_checked(int(term), term)]))
        elif match := _RANGE.match(term):
            lo, hi = (_checked(int(g), term) for g in match.groups())
            if lo > hi:
                raise ValueError(f"model range {term!r} is empty: write it low-high")
            chosen.append(np.arange(lo, hi + 1))
        elif match := _SAMPLE.match(term):
            n = int(match.group(1))
            if not 1 <= n <= space.N_MODELS:
                raise ValueError(f"{term!r}: N must be in 1..{space.N_MODELS}")
            rng = np.random.default_rng(seed)
            chosen.append(rng.choice(space.N_MODELS, size=n, replace=False))
        else:
            raise ValueError(f"cannot read model term {term!r}; use {SYNTAX} (ids 0..{last})")
    return np.unique(np.concatenate(chosen)).astype(np.int64)


def _checked(value: int, term: str) -> int:
    if value >= space.N_MODELS:
        raise ValueError(f"model id {value} in {term!r} is out of range 0..{space.N_MODELS - 1}")
    return value
