"""Export a Zarr store as official release files (``.blox``, ``.pickle`` or ``.csv``).

Every part the store holds is written: ``blox-base-{seed}`` and ``blox-ext-{seed}`` per
seed, ``blox-info``, ``blox-env-{seed}`` per seed with environment strings and
``blox-bench-{device}`` per latency device.  Rows are in model-id order; a training file
skips the models whose values it needs are missing, ``blox-info`` holds the models present
in some base file and a bench file the models with a latency.  Headers, rounding and the
``.blox`` layout are the original writer's, so files for the same rows are byte-identical.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable

import numpy as np

from blox_gym import paths, space, store
from blox_gym.formats import files, schema
from blox_gym.formats.errors import FormatError
from blox_gym.formats.header import HEADER_LIMIT, dump_header, make_header
from blox_gym.formats.schema import Stem


def export_store(path: str | os.PathLike, fmt: str, out_dir: str | os.PathLike,
                 models: Iterable[int] | None = None, progress: bool = True) -> list[str]:
    """Write the store at ``path`` as release files of format ``fmt`` into ``out_dir``.

    ``fmt`` is ``blox``, ``pickle`` or ``csv``; ``models`` optionally restricts the rows to
    these model ids.  Files are written to a temporary folder and moved into ``out_dir``
    only when all of them succeeded.  Returns the written paths.
    """
    from blox_gym.progress import progress_bar

    fmt = str(fmt).lstrip(".")
    if fmt not in schema.EXTENSIONS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(schema.EXTENSIONS)}")
    root = store.open_store(path)
    ids = _selection(models)
    provenance = _provenance(dict(root.attrs))
    parts = list(_parts(root, ids, provenance))
    out = Path(out_dir).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.sibling(out, "partial")
    tmp.mkdir()
    try:
        names = []
        for stem, header, columns in progress_bar(parts, desc=f"exporting .{fmt}", unit="file",
                                                  enabled=bool(progress)):
            name = f"{stem.name}.{fmt}"
            try:
                files.write(tmp / name, header, columns, fmt)
            except FormatError as err:
                if fmt != "blox":
                    raise
                raise FormatError(f"{err}; nothing was written: export this table as pickle or "
                                  f"csv, which hold any such value") from None
            names.append(name)
        out.mkdir(exist_ok=True)
        for name in names:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [str(out / name) for name in names]


def _selection(models: Iterable[int] | None) -> np.ndarray:
    if models is None:
        return np.arange(space.N_MODELS)
    ids = np.asarray(list(models))
    if ids.dtype.kind not in "iu" or ((ids < 0) | (ids >= space.N_MODELS)).any():
        raise ValueError(f"models must be model ids in 0..{space.N_MODELS - 1}")
    return np.unique(ids)


def _parts(root, ids: np.ndarray, provenance: dict | None):
    """``(stem, header, columns)`` of every file the store holds, restricted to ``ids``."""
    attrs = root.attrs
    epochs = int(attrs["epochs"])
    hashes = store.hash_strings(root["model_hash"][...])
    extended = list(attrs.get("extended", []))
    ext_names = store.EXT_CURVES + store.EXT_SCALARS
    if extended and set(extended) != set(ext_names):
        raise FormatError(f"a blox-ext file needs all of {', '.join(ext_names)}; the store "
                          f"holds only {', '.join(extended)}")
    env = dict(attrs.get("env", {}))
    per_model = set(attrs.get("env_per_model", []))
    in_base = np.zeros(space.N_MODELS, dtype=bool)
    for index, seed in enumerate(attrs["seeds"]):
        base, present = _training(root, index, schema.BASE[1:])
        rows = ids[present[ids]]
        if rows.size == 0:
            continue
        in_base[rows] = True
        stem = Stem("base", int(seed))
        yield stem, _header(stem, provenance, epochs=epochs), \
            _columns(stem, hashes[rows], base, rows)
        if extended:
            ext, ext_present = _training(root, index, schema.EXT[1:])
            ext_rows = rows[ext_present[rows]]
            if ext_rows.size:
                stem = Stem("ext", int(seed))
                yield stem, _header(stem, provenance, epochs=epochs), \
                    _columns(stem, hashes[ext_rows], ext, ext_rows)
        if str(seed) in per_model:
            yield from _env_per_model(root, int(seed), ids, hashes, provenance)
        elif str(seed) in env:
            stem = Stem("env", int(seed))
            strings = {key: np.array([value] * rows.size, dtype=object)
                       for key, value in env[str(seed)].items()}  # one shared str per column
            yield stem, _header(stem, provenance, columns=["model_hash", *strings]), \
                {"model_hash": hashes[rows], **strings}
    rows = ids[in_base[ids]]
    if rows.size:
        static = {"params": root["params"][...], "flops": root["flops"][...],
                  "arch_vec": root["arch"][...]}
        stem = Stem("info", None)
        yield stem, _header(stem, provenance), _columns(stem, hashes[rows], static, rows)
    for device in attrs.get("devices", []):
        latency = root[f"latency/{device}"][...].astype(np.float64)
        rows = ids[np.isfinite(latency[ids])]
        if rows.size:
            stem = Stem("bench", device)
            yield stem, _header(stem, provenance), \
                {"model_hash": hashes[rows], "latency": latency[rows] / 1000}  # ms -> s


def _env_per_model(root, seed: int, ids: np.ndarray, hashes: np.ndarray,
                   provenance: dict | None):
    """The ``blox-env-{seed}`` file of per-model strings: the models it held, in id order."""
    array = root[f"env/{seed}"]
    codes, table = array[...], dict(array.attrs)
    rows = ids[codes[0, ids] >= 0] if len(codes) else ids[:0]
    if rows.size == 0:
        return
    strings = {name: np.array(values + [""], dtype=object)[codes[c, rows]]  # shared str objects
               for c, (name, values) in enumerate(zip(table["columns"], table["strings"]))}
    stem = Stem("env", seed)
    yield stem, _header(stem, provenance, columns=["model_hash", *strings]), \
        {"model_hash": hashes[rows], **strings}


def _provenance(attrs: dict) -> dict | None:
    """The ``provenance`` header field of files exported from a store that is not the official
    release: its name, kind and licence, and the source's short scalar fields."""
    source = dict(attrs.get("source", {}))
    if source.get("kind") == "official":
        return None
    fields = {"kind": source.get("kind"), "name": attrs.get("name"),
              "licence": attrs.get("licence")}
    fields.update({key: value for key, value in source.items() if key not in fields and
                   isinstance(value, (str, int, float, bool)) and len(str(value)) <= 60})
    return fields


def _training(root, seed_index: int, names: tuple[str, ...]):
    """Stored arrays of one seed (counts, micro-units, seconds) and where all are present."""
    arrays = {name: root[name][seed_index] for name in names}
    present = np.ones(space.N_MODELS, dtype=bool)
    for name, stored in arrays.items():
        if stored.dtype.kind == "f":
            missing = np.isnan(stored)
        else:
            missing = stored == (store.ACC_MISSING if store.is_accuracy(name) else store.LOSS_MISSING)
        present &= ~missing.reshape(space.N_MODELS, -1).any(axis=1)
    return arrays, present


def _columns(stem: Stem, hashes: np.ndarray, arrays: dict, rows: np.ndarray) -> dict:
    """Columns of ``stem`` for ``rows``: counts stay counts, losses and times become floats."""
    columns = {"model_hash": hashes}
    for name in stem.columns[1:]:
        values = arrays[name][rows]
        if "loss" in name:
            values = store.decode_loss(values)
        elif name == "train_time_s":
            values = np.rint(values.astype(np.float64)).astype(np.int64)
        columns[name] = values
    return columns


_WIDEST_TYPE = {"hash": "hash", "arch": "arch", "int": "int", "float": "float", "str": "str",
                "float_list": "list[float]", "acc": "b_99999_99999_16",
                "acc_list": "list[b_99999_99999_16]"}  # longest type string per value kind


def _header(stem: Stem, provenance: dict | None, epochs: int | None = None,
            columns: list[str] | None = None) -> dict:
    header = make_header(stem.dataset_type, list(columns or stem.columns),
                         **schema.extra_fields(stem, epochs))
    if provenance:  # readers ignore unknown fields; the header must stay within 1,024 bytes
        kinds = schema.column_kinds(f"{stem.name}.blox", header["columns"])
        tail = {"format": "custom",
                "column_types": {name: _WIDEST_TYPE[kind] for name, kind in kinds.items()}}
        fields = dict(provenance)
        while len(fields) > 3 and len(dump_header({**header, "provenance": fields, **tail})) \
                > HEADER_LIMIT:
            fields.popitem()
        header["provenance"] = fields
    return header
