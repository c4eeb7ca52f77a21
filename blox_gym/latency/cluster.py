"""Latency on a Ray cluster: one measuring actor per node, one task per chunk of models.

Each alive node gets one actor pinned to it (``NodeAffinitySchedulingStrategy``, not soft);
an actor runs its calls one after another, so a node never times two models at once.  The
driver hands each actor a chunk of models, writes the results into the store as they come
back (it is the only writer), and gives the actor the next chunk.  Every actor first reports
its node's :func:`blox_gym.latency.backends.hardware`; nodes are grouped by hardware
fingerprint, and a cluster with more than one group is refused unless ``node_type`` picks
one (measure each type into its own store).  An interruption loses at most the chunks in
flight; rerunning skips what is stored.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from blox_gym.latency import backends
from blox_gym.latency.measure import LatencyWriter, Settings, measure_turns
from blox_gym.latency.protocol import Summary


class _Measurer:
    """Runs on one node: reports the hardware, times chunks of models."""

    def __init__(self, device: str):
        self.device = device

    def hardware(self) -> dict[str, str]:
        return backends.hardware(self.device)

    def measure(self, ids: Sequence[int], settings: tuple) -> list[tuple[int, tuple]]:
        return [(i, tuple(summary)) for i, summary in measure_turns(ids, Settings(*settings))]


def node_types(hardware: Sequence[dict[str, str]]) -> list[list[int]]:
    """Indices of the nodes of each hardware type, types in order of first appearance."""
    groups: dict[tuple, list[int]] = {}
    for index, info in enumerate(hardware):
        groups.setdefault(backends.fingerprint(info), []).append(index)
    return list(groups.values())


def measure_on_ray(path: str | os.PathLike, model_ids: Iterable[int], settings: Settings,
                   address: str = "auto", chunk: int = 16, node_type: int | None = None,
                   progress: bool | None = None) -> tuple[str, int]:
    """Measure the models not yet in the store on a Ray cluster; ``(device name, measured)``.

    ``address``: ``"local"`` starts a local Ray instance, anything else is passed to
    ``ray.init`` (``"auto"``: the running cluster).  A Ray instance this call started is
    shut down at the end.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from blox_gym.progress import progress_bar
    from blox_gym.ray_session import ray_session

    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    with ray_session(address):
        remote = ray.remote(num_cpus=1)(_Measurer)
        nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
        actors = [remote.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
            node, soft=False)).remote(settings.device) for node in nodes]
        hardware = ray.get([a.hardware.remote() for a in actors])
        actors, info = _choose(actors, hardware, node_type)
        writer = LatencyWriter(path, settings, info)
        ids = np.asarray(list(model_ids), dtype=np.int64)
        todo = ids[~writer.measured()[ids]]
        chunks = [todo[i:i + chunk].tolist() for i in range(0, len(todo), chunk)]
        bar = progress_bar(total=len(todo), desc=f"latency {writer.name} on {len(actors)} node(s)",
                           unit="model", enabled=progress)
        running = {}
        for actor in actors:
            if chunks:
                running[actor.measure.remote(chunks.pop(0), tuple(settings))] = actor
        while running:
            [done], _ = ray.wait(list(running), num_returns=1)
            actor = running.pop(done)
            for model_id, summary in ray.get(done):
                writer.write(model_id, Summary(*summary))
                bar.update()
            if chunks:
                running[actor.measure.remote(chunks.pop(0), tuple(settings))] = actor
        bar.close()
        return writer.name, len(todo)


def _choose(actors: list, hardware: list[dict[str, str]], node_type: int | None):
    types = node_types(hardware)
    if node_type is None and len(types) > 1:
        listing = "; ".join(f"type {t}: {len(g)} node(s) of {backends.fingerprint(hardware[g[0]])}"
                            for t, g in enumerate(types))
        raise ValueError(f"the Ray cluster mixes {len(types)} hardware types ({listing}); "
                         f"pick one with node_type (--node-type) and measure each into its "
                         f"own store")
    chosen = 0 if node_type is None else node_type
    if not 0 <= chosen < len(types):
        raise ValueError(f"node_type must be in 0..{len(types) - 1}, got {node_type}")
    group = types[chosen]
    return [actors[i] for i in group], hardware[group[0]]
