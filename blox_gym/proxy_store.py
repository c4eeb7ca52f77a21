"""Zero-cost proxies in a Zarr store: ``proxies/<name>``, resumable.

Each proxy is a float64 array over all 91,125 model ids (NaN = not computed) in the group
``proxies`` of a store: a table's own store (then ``Table.proxy`` and
``predictors.features`` see them) or a new folder.  The group's attributes record the
settings (``batch_size``, ``seed``, ``images``); adding to it with other settings is refused.
Results are written every ``flush_every`` models, one whole chunk file at a time (Zarr
replaces chunk files atomically), so an interrupted run loses at most that many models and a
rerun computes only the missing ones.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from blox_gym import space
from blox_gym._version import __version__

GROUP = "proxies"
CHUNK_MODELS = 1024


def settings(batch_size: int, seed: int) -> dict:
    """The attributes that must agree between runs writing into one proxies group."""
    return {"batch_size": int(batch_size), "seed": int(seed), "images": "random-normal"}


def open_group(path: str | os.PathLike, wanted: dict):
    """The ``proxies`` group of the store at ``path`` (created if needed), checked against
    the ``wanted`` settings."""
    import zarr

    root = zarr.open_group(str(path), mode="a", zarr_format=3)
    group = root.require_group(GROUP)
    have = {key: group.attrs.get(key) for key in wanted}
    if all(v is None for v in have.values()):
        group.attrs.update({**wanted, "created_by": f"blox-gym {__version__}"})
    elif have != wanted:
        differ = {k: (have[k], wanted[k]) for k in wanted if have[k] != wanted[k]}
        raise ValueError(f"{path}: proxies were computed with other settings "
                         + ", ".join(f"{k}={a!r} (asked {b!r})" for k, (a, b) in differ.items())
                         + "; use the same settings or another --out")
    return group


def _array(group, name: str):
    if name not in group.array_keys():
        return group.create_array(name, shape=(space.N_MODELS,), dtype="float64",
                                  chunks=(CHUNK_MODELS,), fill_value=np.nan,
                                  dimension_names=("model",))
    return group[name]


BACKENDS = ("local", "ray")


def compute(path: str | os.PathLike, models: np.ndarray, names: Sequence[str],
            batch_size: int = 64, seed: int = 0, flush_every: int = 16, jobs: int = 1,
            progress: bool = True, backend: str = "local", ray_address: str | None = None,
            chunk: int = 16) -> dict[str, int]:
    """Compute the proxies ``names`` of ``models`` into ``path``, skipping those already
    there; returns how many values were computed per proxy.

    ``backend="local"`` scores in ``jobs`` processes (one torch thread each when more than
    one); ``backend="ray"`` runs one Ray task (one CPU, one torch thread) per ``chunk``
    models on the cluster at ``ray_address`` (None: a running or a new local instance).
    This process is the only writer either way, and values do not depend on the backend.
    """
    from blox_gym.progress import progress_bar

    from blox_gym import proxies

    names = proxies.check_names(names)
    group = open_group(path, settings(batch_size, seed))
    arrays = {name: _array(group, name) for name in names}
    values = {name: arrays[name][...] for name in names}
    models = np.unique(np.asarray(models, dtype=np.int64))
    todo = [(int(m), [n for n in names if np.isnan(values[n][m])]) for m in models]
    todo = [(m, missing) for m, missing in todo if missing]
    counts = dict.fromkeys(names, 0)
    pending: list[int] = []
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; backends: {', '.join(BACKENDS)}")
    scored = (_scores(todo, batch_size, seed, jobs) if backend == "local"
              else _scores_on_ray(todo, batch_size, seed, ray_address, chunk))
    for model, scores in progress_bar(scored, total=len(todo), desc="proxies", unit="model",
                                      enabled=bool(progress)):
        for name, value in scores.items():
            values[name][model] = value
            counts[name] += 1
        pending.append(model)
        if len(pending) >= flush_every:
            _flush(arrays, values, pending)
            pending = []
    _flush(arrays, values, pending)
    return counts


def _scores(todo: list, batch_size: int, seed: int, jobs: int):
    """``(model, {proxy: value})`` for each ``(model, proxies)`` of ``todo``, in order."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs!r}")
    if jobs == 1:
        _start(batch_size, seed, threads=None)
        yield from map(_score, todo)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start, initargs=(batch_size, seed, 1)) as pool:
        yield from pool.map(_score, todo)


def _scores_on_ray(todo: list, batch_size: int, seed: int, address: str | None, chunk: int):
    """``(model, {proxy: value})`` for each ``(model, proxies)`` of ``todo``, in the order the
    Ray tasks finish."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk!r}")
    from blox_gym.ray_session import ray_session

    with ray_session(address) as ray:
        task = ray.remote(num_cpus=1)(_score_chunk)
        pending = [task.remote(todo[i:i + chunk], batch_size, seed)
                   for i in range(0, len(todo), chunk)]
        while pending:
            [done], pending = ray.wait(pending, num_returns=1)
            yield from ray.get(done)


def _score_chunk(todo: list, batch_size: int, seed: int) -> list[tuple[int, dict[str, float]]]:
    """One Ray task: the scores of a chunk of ``(model, proxies)``, with one torch thread."""
    _start(batch_size, seed, threads=1)
    return [_score(task) for task in todo]


_WORKER: dict = {}


def _start(batch_size: int, seed: int, threads: int | None) -> None:
    from blox_gym import proxies

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    _WORKER.update(batch=proxies.minibatch(batch_size, seed), seed=seed)


def _score(task: tuple[int, list[str]]) -> tuple[int, dict[str, float]]:
    from blox_gym import proxies

    model, names = task
    return model, proxies.score(model, names, _WORKER["batch"], _WORKER["seed"])


def _flush(arrays: dict, values: dict, models: list[int]) -> None:
    for chunk in sorted({m // CHUNK_MODELS for m in models}):
        part = slice(chunk * CHUNK_MODELS, min((chunk + 1) * CHUNK_MODELS, space.N_MODELS))
        for name, array in arrays.items():
            array[part] = values[name][part]
