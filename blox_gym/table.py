"""Query API over a blox-gym store, with the original ``blox.Dataset`` semantics.

Every query takes *models* as :mod:`blox_gym.resolve` reads them (the one table of accepted
forms, also in ``docs/models-argument.md``): a model id, ``'#<id>'``, a hash, one
architecture (flat or nested), or many of them (a 1-D int array is model ids; a list of ints
is one architecture), and returns a plain Python scalar (``float``, ``int``, ``str``) for
one model or a ``numpy`` array for many.  **Invalid architectures raise** ``ValueError``;
use ``blox_gym.space.is_valid`` to filter first.

``seed`` selects the training seed: an ``int`` from :attr:`Table.seeds`, ``"mean"`` for the
average over seeds, or a ``numpy.random.Generator`` that draws one seed per model.
Accuracies are percent (1.0 = 1 %), losses cross-entropy, times seconds, latency ms.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from collections.abc import Callable
from typing import Any, Union, overload

import numpy as np

from blox_gym import finetuning, paths, space, store
from blox_gym import metrics as _metrics
from blox_gym.resolve import ManyModels, Models, OneModel, Resolved, resolve

DEFAULT_NAME = "blox-synthetic-v2.zarr"  # v2: synthetic model 2 (fine-tuning world)
POINT_READS = 8  # single-model reads of an array before it is loaded whole

#: A training seed of the table, ``"mean"`` over seeds, or a Generator drawing one per model.
Seed = Union[int, str, "np.random.Generator"]  # a string: numpy.random loads on use
Fetch = Callable[[np.ndarray, int], np.ndarray]  # (model ids, seed index) -> values


class Table:
    """A read-only Blox benchmark table.  Open with :func:`open_table`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.attrs: dict[str, Any]
        self.attrs, self._names = store.describe(self.path)
        self.seeds: list[int] = [int(s) for s in self.attrs["seeds"]]
        self.epochs: int = int(self.attrs["epochs"])
        self.devices: list[str] = list(self.attrs.get("devices", []))
        self.extended: list[str] = list(self.attrs.get("extended", []))
        self._cache: dict[Any, Any] = {}
        self._point_reads: dict[str, int] = {}

    # ------------------------------------------------------------ metadata

    @property
    def name(self) -> str:
        return str(self.attrs["name"])

    @property
    def source(self) -> dict[str, Any]:
        """Where the data comes from: ``{"kind": "synthetic" | "official", ...}``."""
        return dict(self.attrs["source"])

    @property
    def is_synthetic(self) -> bool:
        return self.source.get("kind") == "synthetic"

    @property
    def label(self) -> str:
        """Short description for titles and CLI output; says when the data is synthetic."""
        kind = "SYNTHETIC surrogate, not measured" if self.is_synthetic else self.source.get("kind")
        return f"{self.name} ({kind})"

    def __repr__(self) -> str:
        return (f"<Table {self.label}: {space.N_MODELS:,} models, seeds {self.seeds}, "
                f"{self.epochs} epochs, devices {self.devices}, at {self.path}>")

    def __getstate__(self) -> dict[str, str]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, str]) -> None:
        Table.__init__(self, state["path"])

    @cached_property
    def _root(self) -> Any:
        return store.open_store(self.path)

    # ------------------------------------------------------------ model resolution

    @cached_property
    def _hash_lookup(self) -> dict[str, int]:
        hashes = store.hash_strings(self._static("model_hash"))
        return {h: i for i, h in enumerate(hashes.tolist())}

    def ids(self, models: Models, one: bool = False) -> Resolved:
        """Resolve ``models`` to ``(int64 model ids, was_scalar)`` by the one reading of
        :mod:`blox_gym.resolve` (hashes looked up in this table); invalid architectures
        raise.  ``one=True`` requires exactly one model."""
        return resolve(models, self._hash_ids, one=one)

    def _hash_ids(self, hashes: list[str]) -> np.ndarray:
        lookup = self._hash_lookup
        try:
            return np.array([lookup[h] for h in hashes], dtype=np.int64)
        except KeyError as err:
            raise ValueError(f"{err.args[0]!r} is not the hash of a Blox model") from None

    # ------------------------------------------------------------ raw access

    def _seed_index(self, seed: int) -> int:
        try:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                raise TypeError(seed)  # 1.5 or True must not read seed 1
            return self.seeds.index(int(seed))
        except (ValueError, TypeError):
            raise ValueError(f"seed {seed!r} is not in this table; available: {self.seeds}, "
                             f"'mean', or a numpy Generator") from None

    def _stored(self, name: str, seed_index: int) -> np.ndarray:
        """The stored (encoded) array of one seed, loaded whole on first use."""
        key = (name, seed_index)
        if key not in self._cache:
            if name not in self._names:
                raise ValueError(f"this table has no {name!r} (extended metrics: "
                                 f"{self.extended or 'none'})")
            self._cache[key] = store.read(self._read(name), seed_index, self.path)
        cached: np.ndarray = self._cache[key]
        return cached

    def _read(self, name: str) -> Any:
        """The zarr array ``name``, after checking that none of its chunks is missing."""
        array = self._root[name]
        if array.nchunks_initialized != array.nchunks:
            raise store.StoreError(f"{self.path}: array {name!r} has "
                                   f"{array.nchunks - array.nchunks_initialized} of "
                                   f"{array.nchunks} chunks missing; rebuild or re-import it")
        return array

    def _row(self, name: str, *index: int) -> np.ndarray:
        """``stored[name][index]`` (the trailing axes whole) without loading the array."""
        if name not in self._names:
            raise ValueError(f"this table has no {name!r}")
        per_seed = name in store.DERIVED or name in _metrics.names(training=True)
        whole = self._cache.get((name, index[0]) if per_seed else ("static", name))
        if whole is not None:
            row: np.ndarray = whole[index[1:] if per_seed else index]
            return row
        directory = store.local_dir(self.path)
        if directory is not None:
            from blox_gym import zarr_local

            try:
                local = self._cache.get(("local", name))
                if local is None:
                    local = self._cache[("local", name)] = zarr_local.LocalArray(directory / name)
                return local.row(*index)
            except zarr_local.Unsupported:
                pass
            except (FileNotFoundError, zarr_local.CorruptChunk) as err:
                raise store.StoreError(f"{self.path}: {err}; rebuild or re-import it") from None
        return np.asarray(self._read(name)[index])

    def _take(self, name: str, seed_index: int, ids: np.ndarray) -> np.ndarray:
        """Stored values of ``name`` for ``ids``: the first few single-model reads touch one
        chunk (fast one-shot queries), later ones load the seed's array whole (fast loops)."""
        if len(ids) == 1 and (name, seed_index) not in self._cache:
            reads = self._point_reads[name] = self._point_reads.get(name, 0) + 1
            if reads <= POINT_READS:
                return self._row(name, seed_index, int(ids[0]))[None]
        values: np.ndarray = self._stored(name, seed_index)[ids]
        return values

    def load(self, metrics: str = "base") -> "Table":
        """Load every seed of the ``"base"`` or ``"all"`` training metrics into memory now."""
        names = _metrics.names(training=True, part="base")
        if metrics == "all":
            names += tuple(self.extended)
        elif metrics != "base":
            raise ValueError(f"metrics must be 'base' or 'all', got {metrics!r}")
        for name in names:
            for i in range(len(self.seeds)):
                self._stored(name, i)
        return self

    def _best_counts(self, name: str, seed_index: int, lowest: bool = False) -> np.ndarray:
        key = (name, seed_index, "best", lowest)
        if key not in self._cache:
            if name == "val_top1":  # precomputed in the store: no curve read needed
                self._cache[key] = self._stored("val_top1_best", seed_index)
            else:
                self._cache[key] = _reduce_epochs(self._stored(name, seed_index), name, lowest)
        cached: np.ndarray = self._cache[key]
        return cached

    def _curve_value(self, name: str, ids: np.ndarray, si: int, epoch: int | None,
                     best: bool, lowest: bool) -> np.ndarray:
        if epoch is None and best:
            if name == "val_top1":  # precomputed in the store: no curve read needed
                return store.decode(name, self._take("val_top1_best", si, ids))
            return store.decode(name, self._best_counts(name, si, lowest)[ids])
        e = self._epoch(epoch)
        epochs = slice(0, e) if best else e - 1
        if len(ids) == 1:  # the first single-model reads touch one chunk only
            data = self._take(name, si, ids)[:, epochs]
        else:  # only the epochs asked for: no copy of whole curves
            data = self._stored(name, si)[ids, epochs]
        if best:
            return store.decode(name, _reduce_epochs(data, name, lowest))
        return store.decode(name, data)

    def _epoch(self, epoch: int | None) -> int:
        if epoch is None:
            return self.epochs
        if not isinstance(epoch, (int, np.integer)) or not 1 <= epoch <= self.epochs:
            raise ValueError(f"epoch must be an int in 1..{self.epochs} (or None for all), "
                             f"got {epoch!r}")
        return int(epoch)

    def _per_seed(self, fetch: Fetch, ids: np.ndarray, seed: Seed) -> np.ndarray:
        """Evaluate ``fetch(ids, seed_index)`` under the ``seed`` convention."""
        # ints and "mean" first: touching np.random imports it (30 ms a one-shot query skips)
        if not isinstance(seed, (int, np.integer, str)) and isinstance(seed,
                                                                      np.random.Generator):
            choice = seed.integers(len(self.seeds), size=len(ids))
            out: np.ndarray | None = None
            for si in np.unique(choice):
                mask = choice == si
                part = fetch(ids[mask], int(si))
                if out is None:
                    out = np.empty((len(ids),) + part.shape[1:], dtype=np.float64)
                out[mask] = part
            return fetch(ids, 0) if out is None else out
        if isinstance(seed, str):
            if seed != "mean":
                raise ValueError(f"seed must be an int in {self.seeds}, 'mean' or a numpy "
                                 f"Generator, got {seed!r}")
            return nan_mean([fetch(ids, si) for si in range(len(self.seeds))])
        return fetch(ids, self._seed_index(seed))

    def _curve(self, name: str, models: Models, epoch: int | None, best: bool, seed: Seed,
               lowest: bool = False) -> float | np.ndarray:
        ids, single = self.ids(models)
        values = self._curve_ids(name, ids, epoch, best, seed, lowest)
        return float(values[0]) if single else values

    def _curve_ids(self, name: str, ids: np.ndarray, epoch: int | None, best: bool,
                   seed: Seed, lowest: bool = False) -> np.ndarray:
        return self._per_seed(
            lambda i, si: self._curve_value(name, i, si, epoch, best, lowest), ids, seed)

    def _scalar(self, name: str, models: Models, seed: Seed) -> float | np.ndarray:
        ids, single = self.ids(models)
        values = self._scalar_ids(name, ids, seed)
        return float(values[0]) if single else values

    def _scalar_ids(self, name: str, ids: np.ndarray, seed: Seed) -> np.ndarray:
        return self._per_seed(lambda i, si: store.decode(name, self._take(name, si, i)),
                              ids, seed)

    # ------------------------------------------------------------ training metrics

    def column(self, name: str = "val_top1", epoch: int | None = None, best: bool | None = None,
               seed: int = 0) -> np.ndarray:
        """A training metric, or ``latency/<device>`` (ms, NaN where not measured), for all
        91,125 models, indexed by model id (read-only, cached).

        The fast path for environments, agents and predictors: one call, then plain array
        indexing.  ``best`` defaults to the metric's own default (True for accuracies).
        """
        if name.startswith("latency/"):
            return self.latency(np.arange(space.N_MODELS), name.split("/", 1)[1])
        metric = _training_metric(name)
        if best is None:
            best = metric.best_by_default
        key = ("column", name, epoch, best, seed)
        if key not in self._cache:
            values = np.asarray(self.metric(name, np.arange(space.N_MODELS), epoch, best, seed))
            values.flags.writeable = False
            self._cache[key] = values
        cached: np.ndarray = self._cache[key]
        return cached

    @overload
    def metric(self, name: str, models: OneModel, epoch: int | None = ...,
               best: bool | None = ..., seed: Seed = ...) -> float: ...
    @overload
    def metric(self, name: str, models: ManyModels, epoch: int | None = ...,
               best: bool | None = ..., seed: Seed = ...) -> np.ndarray: ...
    @overload
    def metric(self, name: str, models: Models, epoch: int | None = ...,
               best: bool | None = ..., seed: Seed = ...) -> float | np.ndarray: ...

    def metric(self, name: str, models: Models, epoch: int | None = None,
               best: bool | None = None, seed: Seed = 0) -> float | np.ndarray:
        """Any training metric of :mod:`blox_gym.metrics` by name, in its unit.

        Curves: the value at ``epoch`` (default the last), or the best over the first
        ``epoch`` epochs if ``best`` (highest accuracy, lowest loss; the default for
        accuracies).  Scalars ignore ``epoch`` and ``best``, except ``train_time_s``, which
        scales linearly to ``epoch`` epochs.
        """
        metric = _training_metric(name)
        if name == "train_time_s":
            return self.train_time(models, epoch, seed)
        if metric.shape == "scalar":
            return self._scalar(name, models, seed)
        best = metric.best_by_default if best is None else best
        return self._curve(name, models, epoch, best, seed, lowest=not metric.higher_is_better)

    @overload
    def val_acc(self, models: OneModel, epoch: int | None = ..., best: bool = ...,
                seed: Seed = ...) -> float: ...
    @overload
    def val_acc(self, models: ManyModels, epoch: int | None = ..., best: bool = ...,
                seed: Seed = ...) -> np.ndarray: ...
    @overload
    def val_acc(self, models: Models, epoch: int | None = ..., best: bool = ...,
                seed: Seed = ...) -> float | np.ndarray: ...

    def val_acc(self, models: Models, epoch: int | None = None, best: bool = True,
                seed: Seed = 0) -> float | np.ndarray:
        """Validation top-1 (percent): the best over the first ``epoch`` epochs if ``best``,
        else the value at ``epoch``; ``epoch=None`` means all epochs."""
        if type(models) is int and type(seed) is int:  # the hot loop: one id, a list look-up
            fast = self._cache.get(("val_list", epoch, best, seed))
            if fast is not None and 0 <= models < space.N_MODELS:
                value: float = fast[models]
                return value
        mid = models
        if type(models) is list:
            try:
                mid = space.model_id(models)
            except ValueError:  # the general path below explains the problem
                mid = None
        if type(mid) is int and type(seed) is int and 0 <= mid < space.N_MODELS:
            # one model: a plain list lookup once the first queries are done or the seed's
            # values are in memory anyway
            key = ("val_list", epoch, best, seed)
            fast = self._cache.get(key)
            if fast is None and (
                    epoch is not None or not best
                    or self._point_reads.get("val_top1_best", 0) >= POINT_READS
                    or (seed in self.seeds
                        and ("val_top1_best", self.seeds.index(seed)) in self._cache)):
                fast = self._cache[key] = self.column("val_top1", epoch, best, seed).tolist()
            if fast is not None:
                value = fast[mid]
                return value
        return self._curve("val_top1", models, epoch, best, seed)

    @overload
    def test_acc(self, models: OneModel, seed: Seed = ...) -> float: ...
    @overload
    def test_acc(self, models: ManyModels, seed: Seed = ...) -> np.ndarray: ...
    @overload
    def test_acc(self, models: Models, seed: Seed = ...) -> float | np.ndarray: ...

    def test_acc(self, models: Models, seed: Seed = 0) -> float | np.ndarray:
        """Test top-1 (percent) with the weights of the best-validation epoch."""
        return self._scalar("test_top1", models, seed)

    @overload
    def train_time(self, models: OneModel, epoch: int | None = ..., seed: Seed = ...
                   ) -> float: ...
    @overload
    def train_time(self, models: ManyModels, epoch: int | None = ..., seed: Seed = ...
                   ) -> np.ndarray: ...
    @overload
    def train_time(self, models: Models, epoch: int | None = ..., seed: Seed = ...
                   ) -> float | np.ndarray: ...

    def train_time(self, models: Models, epoch: int | None = None, seed: Seed = 0
                   ) -> float | np.ndarray:
        """Training seconds for ``epoch`` epochs: ``train_time_s * epoch / epochs`` (linear)."""
        e = self._epoch(epoch)
        ids, single = self.ids(models)
        values = self._per_seed(
            lambda i, si: store.decode("train_time_s", self._take("train_time_s", si, i)),
            ids, seed) * (e / self.epochs)
        return float(values[0]) if single else values

    def train_acc(self, models: Models, epoch: int | None = None, best: bool = True,
                  seed: Seed = 0) -> float | np.ndarray:
        """Running training top-1 (percent, 45,000 augmented images), extended data."""
        return self._curve("train_top1", models, epoch, best, seed)

    def train_top5(self, models: Models, epoch: int | None = None, best: bool = True,
                   seed: Seed = 0) -> float | np.ndarray:
        """Running training top-5 (percent, 45,000 augmented images), extended data."""
        return self._curve("train_top5", models, epoch, best, seed)

    def val_top5(self, models: Models, epoch: int | None = None, best: bool = True,
                 seed: Seed = 0) -> float | np.ndarray:
        """Validation top-5 (percent, 5,000 images), extended data."""
        return self._curve("val_top5", models, epoch, best, seed)

    def train_loss(self, models: Models, epoch: int | None = None, best: bool = False,
                   seed: Seed = 0) -> float | np.ndarray:
        """Training loss at ``epoch`` (default the last), or the lowest so far if ``best``."""
        return self._curve("train_loss", models, epoch, best, seed, lowest=True)

    def val_loss(self, models: Models, epoch: int | None = None, best: bool = False,
                 seed: Seed = 0) -> float | np.ndarray:
        """Validation loss at ``epoch`` (default the last), or the lowest so far if ``best``."""
        return self._curve("val_loss", models, epoch, best, seed, lowest=True)

    def test_loss(self, models: Models, seed: Seed = 0) -> float | np.ndarray:
        """Test cross-entropy (10,000 images) with the best-validation weights, extended data."""
        return self._scalar("test_loss", models, seed)

    def test_top5(self, models: Models, seed: Seed = 0) -> float | np.ndarray:
        """Test top-5 (percent, 10,000 images) with the best-validation weights, extended data."""
        return self._scalar("test_top5", models, seed)

    # ------------------------------------------------------------ static information

    def _static(self, name: str) -> np.ndarray:
        key = ("static", name)
        if key not in self._cache:
            self._cache[key] = store.read(self._read(name), ..., self.path)
        cached: np.ndarray = self._cache[key]
        return cached

    def _static_take(self, name: str, ids: np.ndarray) -> np.ndarray:
        """``_static(name)[ids]``; as in :meth:`_take`, the first few single-model reads
        touch one chunk and later ones load the array whole."""
        if len(ids) == 1 and ("static", name) not in self._cache:
            reads = self._point_reads[name] = self._point_reads.get(name, 0) + 1
            if reads <= POINT_READS:
                return self._row(name, int(ids[0]))[None]
        values: np.ndarray = self._static(name)[ids]
        return values

    @overload
    def params(self, models: OneModel) -> int: ...
    @overload
    def params(self, models: ManyModels) -> np.ndarray: ...
    @overload
    def params(self, models: Models) -> int | np.ndarray: ...

    def params(self, models: Models) -> int | np.ndarray:
        """Trainable parameters."""
        ids, single = self.ids(models)
        values = self._static_take("params", ids)
        return int(values[0]) if single else values

    @overload
    def flops(self, models: OneModel) -> int: ...
    @overload
    def flops(self, models: ManyModels) -> np.ndarray: ...
    @overload
    def flops(self, models: Models) -> int | np.ndarray: ...

    def flops(self, models: Models) -> int | np.ndarray:
        """ptflops multiply-accumulates on one 3x32x32 image (the release's ``flops``)."""
        ids, single = self.ids(models)
        values = self._static_take("flops", ids)
        return int(values[0]) if single else values

    @overload
    def latency(self, models: OneModel, device: str) -> float: ...
    @overload
    def latency(self, models: ManyModels, device: str) -> np.ndarray: ...
    @overload
    def latency(self, models: Models, device: str) -> float | np.ndarray: ...

    def latency(self, models: Models, device: str) -> float | np.ndarray:
        """Latency in milliseconds on ``device`` (one of :attr:`devices`)."""
        if device not in self.devices:
            raise ValueError(f"device {device!r} is not in this table; available: "
                             f"{self.devices or 'none'}")
        ids, single = self.ids(models)
        values = self._static_take(f"latency/{device}", ids).astype(np.float64)
        return float(values[0]) if single else values

    def arch_vec(self, models: Models) -> list[Any] | np.ndarray:
        """Canonical architecture: nested form for one model, ``(N, 15)`` array for many."""
        ids, single = self.ids(models)
        flat = self._static_take("arch", ids).astype(np.int64)
        return space.to_nested(flat[0]) if single else flat

    @overload
    def model_hash(self, models: OneModel) -> str: ...
    @overload
    def model_hash(self, models: ManyModels) -> np.ndarray: ...
    @overload
    def model_hash(self, models: Models) -> str | np.ndarray: ...

    def model_hash(self, models: Models) -> str | np.ndarray:
        """Official 32-hex model hash(es)."""
        ids, single = self.ids(models)
        hashes = store.hash_strings(self._static_take("model_hash", ids))
        return str(hashes[0]) if single else hashes

    @property
    def signature_epochs(self) -> list[int]:
        return [int(e) for e in self.attrs.get("signature_epochs", [])]

    def signatures(self, epochs: int | None = None) -> np.ndarray:
        """Block signatures ``[stage, block]`` after ``epochs`` distillation epochs (default:
        the most), lower = closer to the teacher.  Blocks are indexed as ``space.BLOCKS``.
        A table without the one-teacher ``signatures`` array whose fine-tuning arrays hold
        one teacher (a measured table, ``docs/pipeline.md``) answers with that teacher's."""
        if not self.signature_epochs:
            axes = self.finetune_axes
            teachers = [t for t in axes.teachers if t != finetuning.SELF] if axes else []
            if axes is not None and len(teachers) == 1:
                return self.teacher_signatures(
                    teachers[0], max(axes.distill_epochs) if epochs is None else epochs)
            raise ValueError("this table has no block signatures" + (
                f" of one teacher; name one of {teachers} (teacher_signatures)" if teachers
                else ""))
        epochs = max(self.signature_epochs) if epochs is None else epochs
        if epochs not in self.signature_epochs:
            raise ValueError(f"no signatures after {epochs!r} distillation epochs; available: "
                             f"{self.signature_epochs}")
        return self._static("signatures")[:, :, self.signature_epochs.index(epochs)].astype(
            np.float64)

    # ------------------------------------------------------------ blockwise NAS (fine-tuning)

    @property
    def finetune_axes(self) -> finetuning.Axes | None:
        """Teachers, distillation and fine-tuning epochs of the fine-tuning arrays, if any."""
        attr = self.attrs.get(finetuning.ATTR)
        return None if attr is None else finetuning.Axes.from_attr(attr)

    def _axes(self) -> finetuning.Axes:
        axes = self.finetune_axes
        if axes is None:
            raise ValueError(f"{self.label} has no fine-tuning arrays (teachers, distillation "
                             f"and fine-tuning epochs of blockwise NAS; the official release "
                             f"has none): use the default synthetic table or a store written "
                             f"with them (data/README.md)")
        return axes

    def finetuned_column(self, teacher: str | float, distill_epochs: int = 10,
                         finetune_epochs: int = 200, split: str = "val") -> np.ndarray:
        """Fine-tuned top-1 (percent) of every model as a student, indexed by model id.

        ``teacher``: a teacher's name (:attr:`finetune_axes`), or a number: the test top-1
        of a teacher the table does not hold, answered by
        :func:`blox_gym.finetuning.interpolate` over the stored teachers.  ``split``:
        ``"val"`` (5,000 images) or ``"test"`` (10,000).  Read-only, cached.
        """
        axes = self._axes()
        if split not in ("val", "test"):
            raise ValueError(f"split must be 'val' or 'test', got {split!r}")
        name = finetuning.VAL if split == "val" else finetuning.TEST
        key = ("finetuned", teacher, distill_epochs, finetune_epochs, split)
        if key in self._cache:
            cached: np.ndarray = self._cache[key]
            return cached
        if isinstance(teacher, str):
            t, d, f = axes.index(teacher, distill_epochs, finetune_epochs)
            values = store.decode(name, self._read(name)[t, d, f])
        else:
            _, d, f = axes.index(axes.teachers[0], distill_epochs, finetune_epochs)
            stored = store.decode(name, self._read(name)[:, d, f])
            own = self.test_acc(np.arange(space.N_MODELS), seed=self.seeds[0])
            qualities = np.stack([own if q is None else np.full(space.N_MODELS, q)
                                  for q in axes.teacher_test_top1])
            values = finetuning.interpolate(stored, qualities, float(teacher))
        values.flags.writeable = False
        self._cache[key] = values
        return values

    def finetuned(self, models: Models, teacher: str | float, distill_epochs: int = 10,
                  finetune_epochs: int = 200, split: str = "val") -> float | np.ndarray:
        """Fine-tuned top-1 (percent) of ``models`` as students; see :meth:`finetuned_column`."""
        ids, single = self.ids(models)
        values = self.finetuned_column(teacher, distill_epochs, finetune_epochs, split)[ids]
        return float(values[0]) if single else values

    def teacher_signatures(self, teacher: str, distill_epochs: int = 10) -> np.ndarray:
        """Block signatures ``[stage, block]`` against ``teacher`` after ``distill_epochs``
        epochs of distillation (noise-to-signal ratio, lower = closer to the teacher)."""
        t, d = self._axes().index(teacher, distill_epochs)
        values = self._static(finetuning.SIGNATURES)[t, :, :, d].astype(np.float64)
        if np.isnan(values).all():
            raise ValueError(f"this table has no signatures against teacher {teacher!r} after "
                             f"{distill_epochs} distillation epochs")
        return values

    @property
    def proxy_names(self) -> list[str]:
        """Zero-cost proxies stored with this table (``blox-gym proxies --out``), sorted."""
        return sorted(n.split("/", 1)[1] for n in self._names if n.startswith("proxies/"))

    def proxy(self, models: Models, name: str) -> float | np.ndarray:
        """Zero-cost proxy ``name`` (see :mod:`blox_gym.proxies`; NaN = not computed)."""
        if name not in self.proxy_names:
            raise ValueError(f"this table has no proxy {name!r}; stored: "
                             f"{', '.join(self.proxy_names) or 'none'} (compute them with "
                             f"`blox-gym proxies`)")
        key = ("static", f"proxies/{name}")
        if key not in self._cache:  # not _static: chunks of models never scored are absent
            self._cache[key] = self._root[f"proxies/{name}"][...]
        ids, single = self.ids(models)
        values = self._cache[key][ids]
        return float(values[0]) if single else values

    def env(self, seed: int = 0, model: Models = None) -> dict[str, str]:
        """The training environment strings (the release's ``blox-env-{seed}``) of ``model``, or
        of most models of ``seed`` when ``model`` is None; ``{}`` for a model without env row."""
        self._seed_index(seed)
        summary = dict(self.attrs.get("env", {}).get(str(seed), {}))
        if model is None or str(seed) not in self.attrs.get("env_per_model", []):
            return summary
        ids = self.ids(model, one=True).ids
        key = ("env", seed)
        if key not in self._cache:
            array = self._root[f"env/{seed}"]
            self._cache[key] = (store.read(array, ..., self.path), dict(array.attrs))
        codes, table = self._cache[key]
        return {name: strings[code] for name, strings, code
                in zip(table["columns"], table["strings"], codes[:, int(ids[0])].tolist())
                if code >= 0}

    def full_info(self, models: Models, seed: int = 0) -> dict[str, Any]:
        """Everything about one model in the original ``Dataset.full_info`` layout."""
        mid = int(self.ids(models, one=True).ids[0])
        si = self._seed_index(seed)
        info: dict[str, Any] = {}
        for name in _metrics.names(training=True):
            if name in self._names:
                values = store.decode(name, self._row(name, si, mid))
                info[name] = values.tolist() if np.ndim(values) else _scalar_value(name, values)
        info["model_hash"] = bytes(self._row("model_hash", mid)).hex()
        info["seed"] = int(seed)
        for device in self.devices:
            info[device] = {"latency": float(self._row(f"latency/{device}", mid))}
        info["info"] = {"params": int(self._row("params", mid)),
                        "flops": int(self._row("flops", mid)),
                        "arch_vec": space.to_nested(self._row("arch", mid).astype(np.int64))}
        info["env"] = self.env(seed, mid)
        return info

    # ------------------------------------------------------------ whole-table views

    def curve(self, models: Models, metric: str = "val_top1", seed: Seed = 0) -> np.ndarray:
        """A metric at every epoch: ``(epochs,)`` for one model, ``(n, epochs)`` for many
        (percent or cross-entropy; NaN where missing)."""
        curves = _metrics.names(shape="curve")
        if metric not in curves:
            raise ValueError(f"{metric!r} has no curve; curves: {', '.join(curves)}")
        ids, single = self.ids(models)
        values = self._per_seed(lambda i, si: store.decode(metric, self._take(metric, si, i)),
                                ids, seed)
        return values[0] if single else values

    def summary_metrics(self) -> list[str]:
        """The per-model training summaries this table holds: best ``val_top1`` (over all
        epochs), then the after-training scalars (``test_top1``, ``train_time_s``, ...)."""
        return ["val_top1"] + [n for n in _metrics.names(shape="scalar") if n in self._names]

    def _summary(self, name: str, ids: np.ndarray, seed: Seed) -> np.ndarray:
        if name == "val_top1":
            return self._curve_ids("val_top1", ids, None, True, seed)
        return self._scalar_ids(name, ids, seed)

    def to_pandas(self, seed: Seed | None = None) -> Any:
        """One row per model (index ``model``, all 91,125 ids): the 15 architecture
        components, ``hash``, ``params``, ``flops`` (MACs), ``latency_<device>`` (ms) and the
        summary metrics (:meth:`summary_metrics`: best validation top-1 in percent, ...).

        ``seed=None`` gives ``<metric>_seed<k>`` for every seed plus ``<metric>_mean`` (over
        the seeds that have a value); an int or ``"mean"`` gives one ``<metric>`` column.
        """
        import pandas as pd

        everything = np.arange(space.N_MODELS)
        columns: dict[str, Any] = dict(zip(space.COMPONENT_NAMES, self._static("arch").T))
        columns["hash"] = self.model_hash(everything)
        columns["params"] = self._static("params")
        columns["flops"] = self._static("flops")
        for device in self.devices:
            columns[f"latency_{device}"] = self.latency(everything, device)
        for name in self.summary_metrics():
            if seed is not None:
                columns[name] = self._summary(name, everything, seed)
                continue
            for s in self.seeds:
                columns[f"{name}_seed{s}"] = self._summary(name, everything, s)
            columns[f"{name}_mean"] = self._summary(name, everything, "mean")
        return pd.DataFrame(columns, index=pd.RangeIndex(space.N_MODELS, name="model"))

    def to_xarray(self, models: Models = None, metrics: str | list[str] = "base") -> Any:
        """The table as an ``xarray.Dataset``: curves ``(seed, model, epoch)``, summary
        metrics ``(seed, model)``, costs and latencies ``(model)``, the architecture
        ``(model, component)``; coordinates are the seeds, model ids and epochs 1..E.

        ``metrics`` is ``"base"`` (``val_top1`` curves), ``"all"`` (every curve) or a list of
        curve names.  Curves are float64 in memory: about 0.15 GB per curve and seed for all
        models, so pass ``models`` (anything :meth:`ids` takes) for a subset.
        """
        import xarray as xr

        ids = (np.arange(space.N_MODELS) if models is None
               else np.atleast_1d(self.ids(models)[0]))
        curves = _metrics.names(shape="curve")
        if metrics == "base":
            names = list(_metrics.names(shape="curve", part="base"))
        elif metrics == "all":
            names = [n for n in curves if n in self._names]
        elif isinstance(metrics, (list, tuple)) and all(m in curves for m in metrics):
            names = list(metrics)
        else:
            raise ValueError(f"metrics must be 'base', 'all' or a list of {', '.join(curves)}; "
                             f"got {metrics!r}")
        data: dict[str, Any] = {}
        for name in names:
            data[name] = (("seed", "model", "epoch"),
                          np.stack([self.curve(ids, name, seed=s) for s in self.seeds]))
        for name in self.summary_metrics():
            key = "val_top1_best" if name == "val_top1" else name
            data[key] = (("seed", "model"),
                         np.stack([self._summary(name, ids, s) for s in self.seeds]))
        data["params"] = ("model", self._static("params")[ids])
        data["flops"] = ("model", self._static("flops")[ids])
        for device in self.devices:
            data[f"latency_{device}"] = ("model", self.latency(ids, device))
        data["arch"] = (("model", "component"), self._static("arch")[ids].astype(np.int64))
        data["hash"] = ("model", self.model_hash(ids))
        coords = {"seed": self.seeds, "model": ids, "epoch": np.arange(1, self.epochs + 1),
                  "component": list(space.COMPONENT_NAMES)}
        return xr.Dataset(data, coords=coords, attrs={"name": self.name,
                                                       "source": self.source.get("kind", "")})

    def top(self, k: int = 10, by: str = "val", seed: Seed = 0) -> np.ndarray:
        """Ids of the ``k`` best models by best validation (``"val"``) or test top-1."""
        if by not in ("val", "test"):
            raise ValueError(f"by must be 'val' or 'test', got {by!r}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"k must be a whole number >= 0, got {k!r}")
        everything = np.arange(space.N_MODELS)
        scores = self.val_acc(everything, seed=seed) if by == "val" else self.test_acc(everything, seed)
        order = np.lexsort((everything, -np.nan_to_num(scores, nan=-np.inf)))
        return order[:k]


def _training_metric(name: str) -> _metrics.Metric:
    allowed = _metrics.names(training=True)
    if name not in allowed:
        raise ValueError(f"unknown metric {name!r}; allowed: {', '.join(allowed)}")
    return _metrics.get(name)


def nan_mean(per_seed: Any) -> np.ndarray:
    """Mean over the seeds that have a value (NaN only where no seed has one)."""
    stacked = np.asarray(per_seed, dtype=np.float64)
    present = ~np.isnan(stacked)
    total = np.where(present, stacked, 0.0).sum(axis=0)
    count = present.sum(axis=0)
    mean: np.ndarray = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    return mean


def _scalar_value(name: str, value: Any) -> float | int:
    value = float(value)
    return int(value) if name == "train_time_s" and value.is_integer() else value


def _reduce_epochs(data: np.ndarray, name: str, lowest: bool) -> np.ndarray:
    """Best stored value over the epoch axis, ignoring missing entries."""
    if lowest:
        lowest_values: np.ndarray = data.min(axis=-1)  # the missing sentinel is the dtype's maximum
        return lowest_values
    return store.best_counts(data)


def default_path() -> Path:
    """Where the default synthetic table lives: ``cache_dir() / DEFAULT_NAME``."""
    return paths.cache_dir() / DEFAULT_NAME


def open_table(path_or_url: str | os.PathLike[str] | None = None) -> Table:
    """Open a table; ``None`` opens the default synthetic table, building it on first use."""
    if path_or_url is not None:
        return Table(path_or_url)
    target = default_path()
    if not target.exists():
        _build_default(target)
    return Table(target)


def _build_default(target: Path) -> None:
    from blox_gym import synthetic

    with paths.target_lock(target):  # one builder at a time; the rest wait and reuse it
        if not target.exists():
            print(f"blox-gym: building the default SYNTHETIC table at {target} (once)")
            synthetic.build(target)
