"""Torch helpers shared by the agents that train networks."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def seeded(seed: int, threads: int | None = 1) -> Iterator[None]:
    """Run with torch's global RNG seeded (restored afterwards) and ``threads`` CPU threads.

    Small networks train fastest on one thread; ``None`` keeps the current setting.
    """
    previous = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)
