"""An additive latency table: time the parts once, predict every network as their sum.

A Blox network is a fixed part (stem, the three reductions, pooling and the classifier) plus
one searchable cell per stage.  :func:`measure_table` times the fixed part (the network with
its cells replaced by identities) and each of the 3 x 45 cells of
:func:`blox_gym.models.build_block` on its stage's feature map, all with the C.3 protocol
and the same backend; :meth:`BlockTable.predict` sums them.  136 timings instead of
91,125; the sum ignores what a backend gains by fusing across parts and counts the
per-call overhead four times, so it ranks networks better than it predicts absolute values
(``BENCHMARKS.md`` reports both).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from torch import nn

from blox_gym import space
from blox_gym.costs import STAGE_CHANNELS, STAGE_RESOLUTION
from blox_gym.latency import backends, protocol
from blox_gym.latency.measure import Settings


class BlockTable(NamedTuple):
    """``fixed_ms``: the network without its cells; ``cells_ms[stage, k]``: block ``k`` of
    :data:`space.BLOCKS` in ``stage`` (milliseconds per batch, C.3 means)."""

    fixed_ms: float
    cells_ms: np.ndarray

    def predict(self, ids) -> np.ndarray:
        """Predicted latency (ms, float64) of model ids: fixed part plus the three cells."""
        ks = space.block_indices(np.asarray(ids, dtype=np.int64))
        return self.fixed_ms + self.cells_ms[np.arange(space.N_STAGES), ks].sum(axis=-1)


def fixed_part() -> nn.Module:
    """A Blox network whose three cells are identities (any model id gives the same)."""
    from blox_gym.models import build_model

    net = build_model(0)
    net.blocks = nn.ModuleList(nn.Identity() for _ in range(space.N_STAGES))
    return net


def measure_table(settings: Settings, timer: protocol.Timer | None = None,
                  progress: bool | None = None) -> BlockTable:
    """Time the fixed part and all 3 x 45 cells with ``settings`` (1 + 135 timings)."""
    from blox_gym.progress import progress_bar

    from blox_gym.models import build_block

    if timer is None:
        timer = protocol.CudaEventTimer() if settings.device == "cuda" else protocol.ClockTimer()

    def time(module: nn.Module, shape) -> float:
        run = backends.prepare(module, settings.backend, settings.device, settings.batch,
                               settings.threads, shape)
        runs = protocol.time_runs(run, timer, settings.runs, settings.warmup)
        return protocol.summarize(runs, settings.group).mean_ms

    parts = [(s, k) for s in range(space.N_STAGES) for k in range(space.N_BLOCKS)]
    cells = np.full((space.N_STAGES, space.N_BLOCKS), np.nan)
    fixed = time(fixed_part(), (3, 32, 32))
    for s, k in progress_bar(parts, desc="block table", unit="cell",
                             enabled=progress):
        shape = (STAGE_CHANNELS[s], STAGE_RESOLUTION[s], STAGE_RESOLUTION[s])
        cells[s, k] = time(build_block(s, k), shape)
    return BlockTable(fixed, cells)


def write_additive(path: str, settings: Settings, progress: bool | None = None) -> str:
    """Measure the block table and write its sums for all 91,125 models into the store at
    ``path`` as ``latency/<settings.name>-additive``; returns that device name."""
    from blox_gym.latency.measure import LatencyWriter

    name = f"{settings.name}-additive"
    writer = LatencyWriter(path, settings, backends.hardware(settings.device), name, "additive")
    writer.write_all(measure_table(settings, progress=progress).predict(np.arange(space.N_MODELS)))
    return name
