"""The Zarr store (schema version 2): writing it atomically, opening and validating it.

All per-model arrays are indexed by model id (``blox_gym.space``).  Metrics are stored
exactly at the release's precision:

* accuracies as ``uint16`` counts of correctly classified images (train 45,000,
  validation 5,000, test 10,000 images), 65,535 = missing;
* losses as ``uint32`` micro-units (value x 10**6), 2**32 - 1 = missing;
* times, latencies and signatures as ``float32`` with NaN = missing.

:func:`write_store` takes plain float arrays (percent, seconds, NaN = missing) and does
the encoding; :class:`blox_gym.table.Table` decodes.  The layout is documented in
``data/README.md``.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from blox_gym import finetuning, metrics, paths, space
from blox_gym._version import __version__

SCHEMA_VERSION = 2  # 2 added the fine-tuning arrays (blox_gym.finetuning)
READABLE_VERSIONS = (1, 2)  # version 1 is version 2 without the fine-tuning arrays
EPOCHS = 200
# derived from the metric registry (blox_gym.metrics), which is where metrics are declared
BASE_CURVES = metrics.names(shape="curve", part="base")
BASE_SCALARS = metrics.names(shape="scalar", part="base")
EXT_CURVES = metrics.names(shape="curve", part="ext")
EXT_SCALARS = metrics.names(shape="scalar", part="ext")
TRAINING = metrics.names(training=True)
STATIC = ("params", "flops", "model_hash", "arch", "raw_to_model")
DERIVED = ("val_top1_best",)  # [seed, model] best validation count over all epochs
ENV_KEYS = ("codebase_commit", "codebase_version", "cuda", "driver", "gpu", "platform",
            "ptflops_version", "python", "torch_commit", "torch_cuda_version", "torch_version",
            "torchvision_version")
DEVICE_NAME = re.compile(r"^[a-zA-Z0-9-]+$")

ACC_MISSING = np.iinfo(np.uint16).max
LOSS_MISSING = np.iinfo(np.uint32).max
CURVE_CHUNK_MODELS = 2048

_DTYPES = {"accuracy": np.uint16, "loss": np.uint32, "seconds": np.float32,
           "count": np.int64, "float": np.float32}
FINETUNE_ACCURACY = (finetuning.VAL, finetuning.TEST)


class StoreError(ValueError):
    """A store that is missing, corrupt, or of an unknown schema."""


def images_for(name: str) -> int:
    """Images behind an accuracy metric's counts (45,000 train, 5,000 val, 10,000 test)."""
    images = metrics.get(name).images
    if images is None:
        raise ValueError(f"{name!r} is not an accuracy metric")
    return images


def is_accuracy(name: str) -> bool:
    return metrics.get(name).kind == "accuracy"


def encode_accuracy(name: str, values: np.ndarray) -> np.ndarray:
    """Percentages -> uint16 counts; raises if a value is off its quantisation grid."""
    values = np.asarray(values, dtype=np.float64)
    n = images_for(name)
    missing = np.isnan(values)
    counts = np.rint(np.where(missing, 0, values) * n / 100)
    off = ~missing & ((np.abs(counts * 100 / n - values) > 5.1e-4) | (counts < 0) | (counts > n))
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0])
        raise ValueError(f"{name}{list(where)} = {float(values[where])!r} is not an accuracy on the "
                         f"grid of {n:,} images (multiples of {100 / n:.5g} percent in 0..100)")
    return np.where(missing, ACC_MISSING, counts).astype(np.uint16)


def best_counts(counts: np.ndarray) -> np.ndarray:
    """Highest count over the last (epoch) axis, ignoring missing entries."""
    present = counts != ACC_MISSING
    best = np.where(present, counts, 0).max(axis=-1)
    return np.where(present.any(axis=-1), best, ACC_MISSING).astype(np.uint16)


def decode_accuracy(name: str, counts: np.ndarray) -> np.ndarray:
    """uint16 counts -> percent rounded to 3 decimals (float64, NaN where missing)."""
    n = images_for(name)
    acc = np.rint(counts.astype(np.float64) * (100_000 / n)) / 1000
    return np.where(counts == ACC_MISSING, np.nan, acc)


def encode_loss(name: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    micro = np.rint(np.where(missing, 0, values) * 1e6)
    bad = ~missing & ((micro < 0) | (micro >= LOSS_MISSING))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}{list(where)} = {float(values[where])!r} is not a loss in 0..4294")
    return np.where(missing, LOSS_MISSING, micro).astype(np.uint32)


def decode_loss(micro: np.ndarray) -> np.ndarray:
    return np.where(micro == LOSS_MISSING, np.nan, micro.astype(np.float64) / 1e6)


def encode(name: str, values: np.ndarray) -> np.ndarray:
    """Values in their unit (NaN = missing) -> the stored form of the metric's kind."""
    kind = metrics.get(name).kind
    if kind == "accuracy":
        return encode_accuracy(name, values)
    if kind == "loss":
        return encode_loss(name, values)
    return np.asarray(values, dtype=_DTYPES[kind])


def decode(name: str, stored: np.ndarray) -> np.ndarray:
    """The stored form -> float64 values in the metric's unit (NaN where missing)."""
    kind = metrics.get(name).kind
    if kind == "accuracy":
        return decode_accuracy(name, stored)
    if kind == "loss":
        return decode_loss(stored)
    return stored.astype(np.float64)


def hash_bytes(hashes: np.ndarray) -> np.ndarray:
    """32-hex strings -> (N, 16) uint8."""
    return np.frombuffer(bytes.fromhex("".join(hashes.tolist())), dtype=np.uint8).reshape(-1, 16)


def hash_strings(raw: np.ndarray) -> np.ndarray:
    return np.array([bytes(r).hex() for r in raw], dtype="<U32")


# ---------------------------------------------------------------- writing

def _is_local(path: str | os.PathLike) -> bool:
    return "://" not in str(path) or str(path).startswith("file://")


def _local_path(path: str | os.PathLike) -> Path:
    text = str(path)
    return Path(text[len("file://"):] if text.startswith("file://") else text).expanduser()


def local_dir(path: str | os.PathLike) -> Path | None:
    """The directory of a local store (``file://`` or a plain path); ``None`` for a URL."""
    return _local_path(path) if _is_local(path) else None


def write_store(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], attrs: Mapping[str, Any],
                *, overwrite: bool = False, progress: bool = True) -> str:
    """Write a complete store atomically and return its path.

    ``arrays``: training metrics ``[seed, model(, epoch)]`` in percent / seconds / loss
    units with NaN for missing values (``val_top1``, ``test_top1`` and ``train_time_s`` are
    required, the extended ones optional); ``params`` and ``flops`` ``[model]`` (computed
    with :mod:`blox_gym.costs` when absent, and listed in ``attrs["computed_static"]``);
    ``latency/<device>`` ``[model]`` in milliseconds; ``signatures`` ``[stage, block, k]``.
    ``attrs`` must hold ``name``, ``seeds`` (list of ints), ``source`` (dict with ``kind``)
    and ``licence``; optional ``signature_epochs`` and ``env``: per seed, a dict of environment
    strings ({column: str}, one value for every model) or of per-model strings ({column:
    [model] object array of str, None where the model has no env row}), kept losslessly as
    ``env/{seed}`` codes (see :func:`env_codes`).
    The fine-tuning arrays (``finetune_val_top1``, ``finetune_test_top1`` ``[teacher, D, FT,
    model]`` in percent, ``teacher_signatures`` ``[teacher, stage, block, D]``) come with
    ``attrs["finetune"]``; :func:`blox_gym.finetuning.arrays_from_records` makes all three.

    The store is built in a temporary sibling and renamed into place; a failure leaves
    nothing behind.  Model hashes, canonical vectors and ``raw_to_model`` are added here.
    """
    import zarr
    from blox_gym.progress import progress_bar

    arrays = dict(arrays)
    computed = [name for name in ("params", "flops") if name not in arrays]
    if computed:  # exact counts from the network definition
        from blox_gym import costs

        arrays.update({name: costs.release_column(name) for name in computed})
    meta, env_tables = _validated_attrs(arrays, attrs)
    meta["computed_static"] = computed
    final = str(path)
    check_target(final, overwrite)  # fail before the work; checked again when committing
    if _is_local(final):
        target = _local_path(final)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = str(paths.sibling(target, "partial"))
    else:
        tmp = final.rstrip("/") + f".partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        root = zarr.open_group(tmp, mode="w", zarr_format=3)
        names = sorted(arrays)
        for name in progress_bar(names, desc="writing store", unit="array",
                                 enabled=bool(progress)):
            values = arrays[name]
            stored = encode(name, values)
            shape = metrics.get(name).shape
            chunks = stored.shape
            if shape == "curve":
                chunks = (1, CURVE_CHUNK_MODELS, stored.shape[2])
            elif shape == "scalar":
                chunks = (1, stored.shape[1])
            elif shape == "finetune":
                chunks = (1, 1, 1, stored.shape[3])
            root.create_array(name, data=stored, chunks=chunks,
                              dimension_names=dimension_names(name))
            if name == "val_top1":
                best = best_counts(stored)
                root.create_array("val_top1_best", data=best, chunks=(1, best.shape[1]),
                                  dimension_names=dimension_names("val_top1_best"))
        root.create_array("model_hash", data=hash_bytes(space.model_hashes()),
                          dimension_names=dimension_names("model_hash"))
        root.create_array("arch", data=np.asarray(space.CANONICAL, dtype=np.int8),
                          dimension_names=dimension_names("arch"))
        root.create_array("raw_to_model", data=np.asarray(space.RAW_TO_MODEL),
                          chunks=(space.N_RAW,), dimension_names=dimension_names("raw_to_model"))
        for seed, (codes, table) in env_tables.items():
            root.create_array(f"env/{seed}", data=codes, chunks=codes.shape,
                              dimension_names=("env_column", "model")).attrs.update(table)
        root.attrs.update(meta)
        _commit(tmp, final, overwrite)
    except BaseException:
        _remove(tmp)
        raise
    return final


def dimension_names(name: str) -> tuple[str, ...]:
    """Named axes of a stored array (Zarr ``dimension_names``, which ``xarray.open_zarr``
    reads); arrays sharing a name share the axis (``seed``, ``model``, ``epoch``)."""
    fixed = {"model_hash": ("model", "hash_byte"), "arch": ("model", "component"),
             "raw_to_model": ("raw_vector",), "val_top1_best": ("seed", "model")}
    if name in fixed:
        return fixed[name]
    try:
        shape = metrics.get(name).shape
    except ValueError:
        return ("model",)
    return {"curve": ("seed", "model", "epoch"), "scalar": ("seed", "model"),
            "signatures": ("stage", "block", "signature_epoch"),
            "finetune": ("teacher", "distill_epoch", "finetune_epoch", "model"),
            "teacher_signatures": ("teacher", "stage", "block", "distill_epoch"),
            }.get(shape, ("model",))


def check_target(path: str | os.PathLike, overwrite: bool) -> None:
    """Raise ``FileExistsError`` unless a store may be written at ``path`` (a local path or an
    fsspec URL): it must not exist, or, with ``overwrite``, be a blox-gym store or an empty folder.
    """
    text = str(path)
    if _is_local(text):
        target = _local_path(text)
        if not target.exists() and not target.is_symlink():
            return
        kind = ("a blox-gym store" if target.is_dir() and _is_store_meta(target / "zarr.json")
                else "an empty folder" if target.is_dir() and not any(target.iterdir())
                else None)
    else:
        import fsspec

        fs, url = fsspec.core.url_to_fs(text)
        if not fs.exists(url):
            return
        meta = url.rstrip("/") + "/zarr.json"
        kind = ("a blox-gym store" if fs.exists(meta) and _is_store_text(fs.cat_file(meta))
                else "an empty folder" if fs.isdir(url) and not fs.ls(url) else None)
    if kind is None:
        raise FileExistsError(f"{text} exists and is not a blox-gym store or an empty folder; "
                              f"refusing to replace it (choose another output path)")
    if not overwrite:
        raise FileExistsError(f"{text} exists ({kind}); pass overwrite=True (--overwrite) to "
                              f"replace it")


def _is_store_meta(meta: Path) -> bool:
    try:
        return _is_store_text(meta.read_bytes())
    except OSError:
        return False


def _is_store_text(raw: bytes) -> bool:
    """Whether a root ``zarr.json`` is that of a store written by blox-gym."""
    import json

    try:
        attrs = json.loads(raw).get("attributes", {})
    except (ValueError, AttributeError):
        return False
    return isinstance(attrs, dict) and str(attrs.get("created_by", "")).startswith("blox-gym") \
        and "schema_version" in attrs


def _commit(tmp: str, final: str, overwrite: bool) -> None:
    """Move the finished store ``tmp`` to ``final``; the existence check and the rename are one
    step under the target's lock, so of two writers of a new target the second one fails."""
    if _is_local(final):
        target = _local_path(final)
        with paths.target_lock(target):
            check_target(final, overwrite)
            paths.remove_leftovers(target)
            old = None
            if target.exists():
                old = paths.sibling(target, "old")
                os.replace(target, old)
            os.replace(tmp, target)
            if old is not None:
                _remove(str(old))
    else:
        import fsspec

        check_target(final, overwrite)  # no lock across machines: best effort
        fs, _ = fsspec.core.url_to_fs(final)
        if fs.exists(final):
            fs.rm(final, recursive=True)
        fs.mv(tmp, final, recursive=True)


def _remove(path: str) -> None:
    if _is_local(path):
        target = _local_path(path)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
    else:
        import fsspec

        fs, _ = fsspec.core.url_to_fs(path)
        if fs.exists(path):
            fs.rm(path, recursive=True)


def env_codes(columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, list[list[str]]]:
    """Per-model env strings -> ``(columns, models)`` int32 codes (-1 = no row) and, per column,
    the strings the codes index (in order of first appearance)."""
    codes = np.full((len(columns), space.N_MODELS), -1, dtype=np.int32)
    strings = []
    for c, (name, values) in enumerate(columns.items()):
        values = np.asarray(values, dtype=object)
        if values.shape != (space.N_MODELS,):
            raise ValueError(f"env column {name!r} has shape {values.shape}, expected "
                             f"({space.N_MODELS},)")
        index: dict[str, int] = {}
        for model, value in enumerate(values.tolist()):
            if value is None:
                continue
            if not isinstance(value, str):
                raise ValueError(f"env column {name!r}, model {model}: {value!r} is not a str")
            codes[c, model] = index.setdefault(value, len(index))
        strings.append(list(index))
    if len(codes) and not ((codes < 0) == (codes[:1] < 0)).all():
        raise ValueError("every env column needs a value for the same models")
    return codes, strings


def _validated_attrs(arrays: dict, attrs: Mapping[str, Any]) -> tuple[dict, dict]:
    """The store's attrs, and per seed with per-model env strings their codes and array attrs."""
    for key in ("name", "seeds", "source", "licence"):
        if key not in attrs:
            raise ValueError(f"store attrs need {key!r}; got {sorted(attrs)}")
    seeds = [int(s) for s in attrs["seeds"]]
    n_seeds, n = len(seeds), space.N_MODELS
    for name in ("val_top1", "test_top1", "train_time_s"):
        if name not in arrays:
            raise ValueError(f"a store needs the base array {name!r}")
    devices = []
    axes = None
    present = [name for name in finetuning.ARRAYS if name in arrays]
    if present or finetuning.ATTR in attrs:
        if len(present) != len(finetuning.ARRAYS) or finetuning.ATTR not in attrs:
            raise ValueError(f"the fine-tuning arrays {', '.join(finetuning.ARRAYS)} and "
                             f"attrs[{finetuning.ATTR!r}] go together; got arrays {present} and "
                             f"attrs {'with' if finetuning.ATTR in attrs else 'without'} it")
        axes = finetuning.Axes.from_attr(attrs[finetuning.ATTR])
    for name, values in arrays.items():
        shape = np.shape(values)
        try:
            metric = metrics.get(name)
        except ValueError:
            raise ValueError(f"unknown array {name!r}; allowed: "
                             f"{', '.join(metrics.describe_names())}") from None
        if metric.shape == "curve":
            expected = (n_seeds, n, shape[2] if len(shape) == 3 else EPOCHS)
        elif metric.shape == "scalar":
            expected = (n_seeds, n)
        elif metric.shape == "model":
            expected = (n,)
        elif metric.shape == "keyed":
            key = name.split("/", 1)[1]
            what = "device name" if metric.name == "latency" else f"{metric.name} key"
            if not metrics.KEY.match(key):
                raise ValueError(f"{what} {key!r} must match [a-zA-Z0-9-]+")
            if metric.name == "latency":
                devices.append(key)
            expected = (n,)
        elif metric.shape == "signatures":
            expected = (space.N_STAGES, space.N_BLOCKS, len(attrs.get("signature_epochs", ())))
        elif metric.shape == "finetune":
            expected = axes.shape
        else:  # teacher_signatures
            expected = axes.signature_shape
        if tuple(shape) != expected:
            raise ValueError(f"array {name!r} has shape {tuple(shape)}, expected {expected}")
    epochs = np.shape(arrays["val_top1"])[2]
    training = [name for name in metrics.names(training=True) if name in arrays]
    missing = {name: int(np.isnan(np.asarray(v, dtype=np.float64)).any(axis=tuple(
        range(2, np.ndim(v)))).sum()) for name, v in arrays.items() if name in training}
    env, per_model = {}, {}
    for seed, columns in dict(attrs.get("env", {})).items():
        if int(seed) not in seeds:
            raise ValueError(f"env strings for seed {seed!r}, which is not among seeds {seeds}")
        columns = dict(columns)
        if all(isinstance(value, str) for value in columns.values()):
            env[str(seed)] = {str(k): v for k, v in columns.items()}
        else:
            codes, strings = env_codes(columns)
            env[str(seed)] = {name: table[np.bincount(code[code >= 0]).argmax()]
                              if (code >= 0).any() else "" for name, code, table
                              in zip(columns, codes, strings)}
            per_model[str(seed)] = (codes, {"columns": list(columns), "strings": strings})
    described = {}
    for name in arrays:
        metric = metrics.get(name)
        described[name] = {"unit": metric.unit, "split": metric.description,
                           "epoch": metric.epochs}
        if metric.training or metric.shape == "finetune":
            kind = metric.kind
            described[name]["encoding"] = (
                f"uint16 count of {images_for(name):,} images; percent = count * 100 / "
                f"{images_for(name)}, rounded to 3 decimals; {ACC_MISSING} = missing"
                if kind == "accuracy" else
                f"uint32 micro-units; value = stored / 1e6; {LOSS_MISSING} = missing"
                if kind == "loss" else "float32 seconds; NaN = missing")
    meta = {key: value for key, value in dict(attrs).items() if key not in ("env",)}
    if axes is not None:
        meta[finetuning.ATTR] = axes.to_attr()
    meta.update({
        "schema_version": SCHEMA_VERSION,
        "seeds": seeds,
        "epochs": int(epochs),
        "devices": sorted(devices),
        "env": env,
        "env_per_model": sorted(per_model, key=int),
        "extended": [name for name in training if metrics.get(name).part != "base"],
        "missing_models": missing,
        "metrics": described,
        "created_by": f"blox-gym {__version__}",
        "n_models": space.N_MODELS,
    })
    return meta, per_model


# ---------------------------------------------------------------- opening

def open_store(path: str | os.PathLike):
    """Open a store read-only and check its schema; ``StoreError`` names what is wrong."""
    import zarr

    text = str(path)
    if _is_local(text) and not _local_path(text).exists():
        raise StoreError(f"{text}: no such store (run `blox-gym data synth --out {text}` or "
                         f"`blox-gym data import`)")
    try:
        root = zarr.open_group(text if not _is_local(text) else str(_local_path(text)), mode="r")
    except Exception as err:  # zarr raises several types for "not a group"
        raise StoreError(f"{text}: not a blox-gym Zarr store ({type(err).__name__}: {err})") from err
    present = set(root.array_keys()) | {f"{group}/{k}" for group in ("latency", "env")
                                        for k in _group_keys(root, group)}
    attrs = dict(root.attrs)
    _check_layout(text, attrs, present)
    seeds, epochs = len(attrs["seeds"]), attrs["epochs"]
    for name in sorted(set(metrics.names(training=True)) & present):
        shape = tuple(root[name].shape)
        curve = metrics.get(name).shape == "curve"
        want = (seeds, space.N_MODELS) + ((epochs,) if name == "val_top1" else shape[2:3]
                                          if curve else ())
        if shape != want:
            raise StoreError(f"{text}: array {name!r} has shape {shape}, but the attrs "
                             f"({seeds} seeds, {epochs} epochs) imply {want}")
    return root


def describe(path: str | os.PathLike) -> tuple[dict, set[str]]:
    """The root attributes and array names of a checked store; local stores are read from
    their metadata files without importing zarr (a one-model query stays fast)."""
    text = str(path)
    local = _local_path(text)
    if _is_local(text) and local.exists():
        from blox_gym import zarr_local

        try:
            meta = zarr_local.metadata(local)
        except (OSError, ValueError):
            meta = {}  # zarr's error message below names the problem
        if meta.get("zarr_format") == 3 and meta.get("node_type") == "group":
            attrs, present = dict(meta.get("attributes", {})), zarr_local.array_names(local)
            _check_layout(text, attrs, present)
            return attrs, present
    root = open_store(text)
    return dict(root.attrs), set(root.array_keys()) | {
        f"{group}/{k}" for group in ("latency", "env") for k in _group_keys(root, group)}


def _check_layout(text: str, attrs: Mapping[str, Any], present: set[str]) -> None:
    version = attrs.get("schema_version")
    if version not in READABLE_VERSIONS:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        hint = ("written by a newer blox-gym: upgrade blox-gym" if newer else
                "rebuild it with `blox-gym data synth` or re-import it")
        raise StoreError(f"{text}: schema version {version!r} is not supported (this blox-gym "
                         f"reads versions {', '.join(map(str, READABLE_VERSIONS))}; {hint})")
    _check_open_attrs(dict(attrs), text)
    required = set(BASE_CURVES + BASE_SCALARS) | set(STATIC) | set(DERIVED)
    required |= set(attrs.get("extended", []))
    required |= {f"latency/{d}" for d in attrs.get("devices", [])}
    required |= {f"env/{s}" for s in attrs.get("env_per_model", [])}
    if finetuning.ATTR in attrs:
        required |= set(finetuning.ARRAYS)
    lacking = sorted(required - present)
    if lacking:
        raise StoreError(f"{text}: missing array(s) {', '.join(lacking)}")


def _check_open_attrs(attrs: dict, where: str) -> None:
    """The attrs a table relies on: seeds, epochs, devices, extended metrics, name, source."""
    def bad(key: str, want: str):
        return StoreError(f"{where}: store attribute {key!r} must be {want}, got "
                          f"{_excerpt(attrs.get(key))}; the store is corrupt: rebuild or "
                          f"re-import it")

    seeds = attrs.get("seeds")
    if not (isinstance(seeds, list) and seeds and len(set(map(str, seeds))) == len(seeds)
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise bad("seeds", "a non-empty list of distinct non-negative integers")
    epochs = attrs.get("epochs")
    if not (isinstance(epochs, int) and not isinstance(epochs, bool) and 1 <= epochs <= 10_000):
        raise bad("epochs", "an integer in 1..10000")
    for key, allowed in (("devices", None), ("extended", metrics.names(training=True)),
                         ("env_per_model", None)):
        value = attrs.get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)
                and (allowed is None or set(value) <= set(allowed))):
            raise bad(key, "a list of names" if allowed is None
                      else f"a list among {', '.join(allowed)}")
    if not isinstance(attrs.get("name"), str):
        raise bad("name", "a string")
    if not (isinstance(attrs.get("source"), dict) and isinstance(attrs["source"].get("kind"), str)):
        raise bad("source", "a mapping with a 'kind'")


def _excerpt(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:120] + "..."


def read(array, selection, where: str) -> np.ndarray:
    """``array[selection]``, turning a corrupt or unreadable chunk into a ``StoreError`` that
    names the array and the chunk (the codecs raise many types)."""
    try:
        return array[selection]
    except Exception as err:
        chunk = _bad_chunk(array)
        raise StoreError(f"{where}: array {array.path!r}, chunk "
                         f"{chunk or 'for selection ' + _excerpt(selection)} is corrupt or "
                         f"unreadable ({type(err).__name__}: {_excerpt(str(err))}); rebuild or "
                         f"re-import the store") from None


def _bad_chunk(array, limit: int = 4096) -> str | None:
    """The key (``c/i/j``) of the first chunk of ``array`` that cannot be read, if found."""
    for index in list(np.ndindex(*array.cdata_shape))[:limit]:
        try:
            array.blocks[index]
        except Exception:
            return "c/" + "/".join(map(str, index))
    return None


def _group_keys(root, group: str) -> list[str]:
    if group not in root.group_keys():
        return []
    return list(root[group].array_keys())
