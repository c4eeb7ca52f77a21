"""Measuring models and writing ``latency/<device>`` into a store, resumably.

:func:`measure_into` adds three ``[model]`` arrays to an existing store (schema version 1)
and lists the device in ``attrs["devices"]`` at once, so that tables, environments and
agents use it while it fills up (models not yet measured read NaN):

* ``latency/<device>``: float32, the protocol's mean in milliseconds per batch;
* ``latency_std/<device>``: float32, the standard deviation of the kept group averages (ms);
* ``latency_runs/<device>``: int32, the number of timed runs behind the mean (0 = not measured).

Each model's three values are written right after it is measured, the mean last, in chunks
that Zarr replaces atomically; a model counts as measured when its mean is present, so an
interrupted run loses at most the model it was timing, and a rerun skips what is done.
``attrs["latency_protocol"][device]`` records the settings and the hardware; a rerun on
other hardware or with other settings is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from blox_gym import metrics as _metrics
from blox_gym import space, store
from blox_gym.latency import backends, protocol
from blox_gym.latency.protocol import Summary

SPREAD_ARRAYS = ("latency_std", "latency_runs")
CHUNK = 1024


class Settings(NamedTuple):
    """How one device's latencies are measured (see :mod:`blox_gym.latency.protocol`)."""

    device: str = "cpu"
    backend: str = "eager"
    batch: int = 1
    threads: int = 1
    runs: int = protocol.RUNS
    warmup: int = protocol.WARMUP
    group: int = protocol.GROUP
    #: models timed in turns of ``group`` runs each (1: one model after another, as in C.3);
    #: turns spread every model's runs over the same minutes, so a shared machine's drift
    #: slows all of them alike instead of whichever model was being timed
    interleave: int = 1

    @property
    def name(self) -> str:
        """The table's device name, e.g. ``cpu-ort-b1-t1``."""
        return backends.device_name(self.device, self.backend, self.batch, self.threads)


def create_latency_table(path: str | os.PathLike, name: str = "blox-latency") -> str:
    """Write a table that holds latencies only (every training value missing) at ``path``;
    refuses to replace an existing one."""
    nan = np.full((1, space.N_MODELS), np.nan)
    arrays = {"val_top1": nan[..., None], "test_top1": nan, "train_time_s": nan}
    attrs = {"name": name, "seeds": [0], "licence": "as the measuring user decides",
             "source": {"kind": "latency", "note": "no training data; see latency_protocol"}}
    return store.write_store(path, arrays, attrs, progress=False)


def measure_models(model_ids: Sequence[int], settings: Settings,
                   timer: protocol.Timer | None = None) -> list[Summary]:
    """Build, prepare and time models with the C.3 protocol, in turns of ``settings.group``
    runs per model (each model's warm-up right before its first turn); one summary per model."""
    from blox_gym.models import build_model

    if settings.runs < 1 or settings.group < 1:
        raise ValueError(f"runs and group must be >= 1, got runs={settings.runs}, "
                         f"group={settings.group}")
    prepared = [backends.prepare(build_model(int(m)), settings.backend, settings.device,
                                 settings.batch, settings.threads) for m in model_ids]
    if timer is None:
        timer = protocol.CudaEventTimer() if settings.device == "cuda" else protocol.ClockTimer()
    runs: list[list[np.ndarray]] = [[] for _ in prepared]
    for first in range(0, settings.runs, settings.group):
        count = min(settings.group, settings.runs - first)
        for timings, run in zip(runs, prepared):
            timings.append(protocol.time_runs(run, timer, count,
                                              settings.warmup if first == 0 else 0))
    return [protocol.summarize(np.concatenate(timings), settings.group) for timings in runs]


def measure_model(model_id: int, settings: Settings,
                  timer: protocol.Timer | None = None) -> Summary:
    """Build, prepare and time one model with the C.3 protocol."""
    return measure_models([model_id], settings, timer)[0]


class LatencyWriter:
    """The latency arrays of one device in a store, opened for resumable writing.

    ``name``: the device name (default ``settings.name``); ``kind``: ``"measured"`` or
    ``"additive"`` (sums of a :mod:`blox_gym.latency.additive` block table).
    """

    def __init__(self, path: str | os.PathLike, settings: Settings, hardware: dict[str, str],
                 name: str | None = None, kind: str = "measured"):
        import zarr

        store.open_store(path)  # validates the schema, naming the problem
        self.path = str(path)
        self.name = name or settings.name
        if not store.DEVICE_NAME.match(self.name):
            raise ValueError(f"device name {self.name!r} must match [a-zA-Z0-9-]+")
        self._root = zarr.open_group(self.path, mode="r+")
        record = {"kind": kind, "settings": settings._asdict(), "hardware": hardware}
        known = dict(self._root.attrs.get("latency_protocol", {}))
        key = f"latency/{self.name}"
        if self.name in known:
            _check_same(self.path, self.name, known[self.name], record)
        elif key in _array_names(self._root):
            raise ValueError(f"{self.path}: {key} exists but was not measured by blox-gym latency; "
                             f"measure into another store or remove it yourself")
        else:
            self._create(record, known)
        self._mean = self._root[key]
        self._std = self._root[f"latency_std/{self.name}"]
        self._runs = self._root[f"latency_runs/{self.name}"]

    def _create(self, record: dict, known: dict) -> None:
        for prefix, dtype, fill in (("latency_std", "float32", np.nan),
                                    ("latency_runs", "int32", 0),
                                    ("latency", "float32", np.nan)):
            self._root.create_array(  # every chunk written: tables treat absent chunks as damage
                f"{prefix}/{self.name}", data=np.full(space.N_MODELS, fill, dtype=dtype),
                chunks=(CHUNK,), fill_value=fill, config={"write_empty_chunks": True})
        attrs = self._root.attrs
        metrics = dict(attrs.get("metrics", {}))
        declared = _metrics.get(f"latency/{self.name}")
        metrics[f"latency/{self.name}"] = {"unit": declared.unit, "split": declared.description,
                                           "epoch": declared.epochs}
        metrics[f"latency/{self.name}"]["encoding"] = (
            "float32 milliseconds per batch, C.3 protocol mean; NaN = not measured"
            if record["kind"] == "measured" else
            "float32 milliseconds per batch, sum of the fixed part and three cells (C.3 means)")
        attrs.update({"latency_protocol": {**known, self.name: record},
                      "devices": sorted(set(attrs.get("devices", [])) | {self.name}),
                      "metrics": metrics})

    def measured(self) -> np.ndarray:
        """Boolean ``[model]``: which models have a mean."""
        return ~np.isnan(self._mean[:])

    def write(self, model_id: int, summary: Summary) -> None:
        """Store one model's result; the mean goes last and marks the model done."""
        self._std[model_id] = summary.std_ms
        self._runs[model_id] = summary.kept_runs
        self._mean[model_id] = summary.mean_ms

    def write_all(self, mean_ms: np.ndarray) -> None:
        """Store estimates for all models at once (no spread: std NaN, runs 0)."""
        self._mean[:] = np.asarray(mean_ms, dtype=np.float32)


def measure_turns(model_ids: Iterable[int], settings: Settings,
                  measure: Callable[[list[int], Settings], list[Summary]] = measure_models
                  ) -> Iterator[tuple[int, Summary]]:
    """``(model id, summary)`` of each model, timed ``settings.interleave`` at a time in the
    order given; a turn's models come out together once the turn ends."""
    size = _turn_size(settings)
    ids = [int(m) for m in model_ids]

    def turns() -> Iterator[tuple[int, Summary]]:
        for start in range(0, len(ids), size):
            turn = ids[start:start + size]
            yield from zip(turn, measure(turn, settings), strict=True)

    return turns()


def _turn_size(settings: Settings) -> int:
    if settings.interleave < 1:
        raise ValueError(f"interleave must be >= 1, got {settings.interleave}")
    return settings.interleave


def measure_into(path: str | os.PathLike, model_ids: Iterable[int], settings: Settings,
                 measure: Callable[[list[int], Settings], list[Summary]] = measure_models,
                 progress: bool | None = None) -> tuple[str, int]:
    """Measure the models of ``model_ids`` not yet in the store; ``(device name, newly measured)``.

    Models are timed ``settings.interleave`` at a time (:func:`measure_turns`) and written as
    each such turn ends, so an interruption loses at most the models of the current turn.
    ``measure`` times a list of models (default :func:`measure_models`); ``progress``: a
    progress bar (:func:`blox_gym.progress.progress_bar`; ``False`` = none).
    """
    from blox_gym.progress import progress_bar

    _turn_size(settings)  # checked before the writer touches the store
    writer = LatencyWriter(path, settings, backends.hardware(settings.device))
    ids = np.asarray(list(model_ids), dtype=np.int64)
    todo = ids[~writer.measured()[ids]]
    for model_id, summary in progress_bar(measure_turns(todo, settings, measure),
                                          total=len(todo), desc=f"latency {writer.name}",
                                          unit="model", enabled=progress):
        writer.write(model_id, summary)
    return writer.name, len(todo)


def _check_same(path: str, name: str, old: dict, new: dict) -> None:
    # settings added since a store was written take their defaults
    old = {**old, "settings": {**Settings()._asdict(), **old["settings"]}}
    if old.get("kind") != new["kind"] or old["settings"] != new["settings"]:
        raise ValueError(f"{path}: {name} was measured with settings {old['settings']}, "
                         f"not {new['settings']}; resume with the same settings")
    if backends.fingerprint(old["hardware"]) != backends.fingerprint(new["hardware"]):
        raise ValueError(f"{path}: {name} was measured on {backends.fingerprint(old['hardware'])}, "
                         f"this is {backends.fingerprint(new['hardware'])}; measure other hardware "
                         f"under another store or device name")


def _array_names(root) -> set[str]:
    names = set(root.array_keys())
    for group in root.group_keys():
        names |= {f"{group}/{key}" for key in root[group].array_keys()}
    return names

