"""The Blox paper's latency protocol (supplementary C.3): timing runs and trimming them.

After warm-up, a model is run ``runs`` times (1,000 in the paper).  The runs outside the
lower and upper quartiles are discarded, the kept runs (in time order) are averaged in
groups of ``group`` (10), those averages are trimmed to their quartiles again, and the
result is the mean of the kept averages, their standard deviation and the number of runs
behind them.  Everything here is in milliseconds.

Trimming to the quartiles is by rank: of ``n`` values the ``n // 4`` smallest and the
``n // 4`` largest are dropped (ties broken by time order), so at least one value survives
and hand-computed cases are exact.  A trailing incomplete group is dropped, unless fewer
than ``group`` runs were kept, which then form one group.

Timing goes through a *timer*: :class:`ClockTimer` reads a nanosecond clock around each run
(``time.perf_counter_ns`` by default; tests pass a fake clock), :class:`CudaEventTimer`
records CUDA events and synchronises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

import numpy as np

RUNS = 1_000
WARMUP = 50
GROUP = 10


class Summary(NamedTuple):
    """The protocol's result for one model: ``mean_ms``, ``std_ms`` of the kept group
    averages, and ``kept_runs``, the number of timed runs behind them."""

    mean_ms: float
    std_ms: float
    kept_runs: int


def quartile_keep(values: np.ndarray) -> np.ndarray:
    """Indices (ascending, i.e. time order) of the values kept after dropping the
    ``n // 4`` smallest and ``n // 4`` largest."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"need a non-empty 1-D array of timings, got shape {values.shape}")
    cut = len(values) // 4
    order = np.argsort(values, kind="stable")
    return np.sort(order[cut:len(values) - cut])


def summarize(runs_ms: np.ndarray, group: int = GROUP) -> Summary:
    """Apply the C.3 trimming to one model's run times (ms, in time order)."""
    runs_ms = np.asarray(runs_ms, dtype=np.float64)
    if group < 1:
        raise ValueError(f"group must be >= 1, got {group}")
    if not np.isfinite(runs_ms).all() or (runs_ms < 0).any():
        raise ValueError("run times must be finite and non-negative milliseconds")
    kept = runs_ms[quartile_keep(runs_ms)]
    n_groups = max(1, len(kept) // group)
    size = min(group, len(kept))
    averages = kept[:n_groups * size].reshape(n_groups, size).mean(axis=1)
    final = averages[quartile_keep(averages)]
    return Summary(float(final.mean()), float(final.std()), int(len(final) * size))


class Timer(Protocol):
    """Times one call of a zero-argument function, in milliseconds."""

    def time_ms(self, run: Callable[[], object]) -> float: ...


class ClockTimer:
    """Wall time of each call from a nanosecond clock (default ``time.perf_counter_ns``)."""

    def __init__(self, clock: Callable[[], int] = time.perf_counter_ns):
        self.clock = clock

    def time_ms(self, run: Callable[[], object]) -> float:
        start = self.clock()
        run()
        return (self.clock() - start) / 1e6


class CudaEventTimer:
    """GPU time of each call between two CUDA events, synchronising after each run."""

    def __init__(self):
        import torch

        self._events = (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))

    def time_ms(self, run: Callable[[], object]) -> float:
        start, end = self._events
        start.record()
        run()
        end.record()
        end.synchronize()
        return float(start.elapsed_time(end))


def time_runs(run: Callable[[], object], timer: Timer, runs: int = RUNS,
              warmup: int = WARMUP) -> np.ndarray:
    """``runs`` timings (ms, float64, time order) of ``run`` after ``warmup`` untimed calls."""
    if runs < 1 or warmup < 0:
        raise ValueError(f"runs must be >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    for _ in range(warmup):
        run()
    return np.array([timer.time_ms(run) for _ in range(runs)], dtype=np.float64)
