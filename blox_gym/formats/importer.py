"""Import the official release files (``.blox``, ``.pickle``, ``.csv``) into a Zarr store.

Recognised stems: ``blox-base-{seed}`` (required), ``blox-ext-{seed}``, ``blox-info``,
``blox-env-{seed}`` and ``blox-bench-{device}``.  For each stem the first extension in
``prefer`` that exists is read.  Rows are matched to model ids through the official hash;
models a file lacks are missing (NaN) and counted in the store's ``missing_models``.
Everything is checked before anything is written, and the store is written atomically.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from blox_gym import costs, space, store
from blox_gym.formats import files, schema
from blox_gym.formats.errors import FormatError, at, shown
from blox_gym.formats.header import make_header
from blox_gym.formats.schema import Stem

LICENCE = "CC BY-NC 4.0"
_SHOWN = 10  # offending hashes listed in an error


def import_release(src_dir: str | os.PathLike, out: str | os.PathLike,
                   prefer: Iterable[str] | str = ("blox", "pickle", "csv"),
                   overwrite: bool = False, progress: bool = True) -> str:
    """Read the release files in ``src_dir`` and write them as a store at ``out``; return ``out``.

    ``prefer`` orders the encodings (with or without the dot, or ``"blox,pickle,csv"``);
    an encoding it omits is never read.  Raises ``FormatError`` naming the file, row and
    column of the first problem, ``FileExistsError`` if ``out`` exists and not ``overwrite``.
    """
    from blox_gym.progress import progress_bar

    src = Path(src_dir).expanduser()
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a folder of Blox release files")
    store.check_target(out, overwrite)  # before the reading; again when committing
    chosen = _choose(src, _preference(prefer))
    builder = _Builder([stem.key for stem in chosen if stem.part == "base"])
    for stem in progress_bar(chosen, desc="reading release files", unit="file",
                             enabled=bool(progress)):
        builder.add(stem, chosen[stem])
    arrays, attrs = builder.finish()
    return store.write_store(out, arrays, attrs, overwrite=overwrite, progress=progress)


def _preference(prefer: Iterable[str] | str) -> list[str]:
    items = prefer.split(",") if isinstance(prefer, str) else list(prefer)
    order = [str(item).strip().lstrip(".") for item in items]
    unknown = [item for item in order if item not in schema.EXTENSIONS]
    if not order or unknown:
        raise ValueError(f"prefer must list encodings among {', '.join(schema.EXTENSIONS)}; "
                         f"got {shown(prefer)}")
    return order


def _choose(src: Path, order: list[str]) -> dict[Stem, Path]:
    """The file to read for every recognised stem, base files first, then ext, info, env, bench."""
    found: dict[str, dict[str, Path]] = {}
    for path in src.iterdir():
        ext = path.suffix.lstrip(".")
        if path.is_file() and ext in order and schema.parse_stem(path.stem):
            found.setdefault(path.stem, {})[ext] = path
    chosen: dict[Stem, Path] = {}
    for name in sorted(found):
        stem = schema.parse_stem(name)
        path = next(found[name][ext] for ext in order if ext in found[name])
        if stem in chosen:
            raise FormatError(f"{chosen[stem].name} and {path.name} hold the same "
                              f"{stem.part} {stem.key}")
        chosen[stem] = path
    if not any(stem.part == "base" for stem in chosen):
        raise FormatError(f"{src}: no blox-base-{{seed}} file with extension "
                          f"{', '.join('.' + e for e in order)}; at least one is required")
    rank = {part: i for i, part in enumerate(schema.STEMS)}
    return dict(sorted(chosen.items(), key=lambda item: (rank[item[0].part], str(item[0].key))))


class _Builder:
    """Collects the arrays and attrs of the store while the files are read one by one."""

    def __init__(self, seeds: list[int]):
        self.seeds = sorted(seeds)
        self.epochs: int | None = None
        self.arrays: dict[str, np.ndarray] = {}
        self.base_ids: dict[int, np.ndarray] = {}
        self.info_ids: np.ndarray | None = None
        self.env: dict[str, dict[str, np.ndarray]] = {}  # seed -> column -> [model] str/None
        self.provenance: dict[str, dict | None] = {}  # file -> its header's provenance
        self.files: list[dict] = []

    def add(self, stem: Stem, path: Path) -> None:
        data = path.read_bytes()
        entry = {"name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        self.files.append(entry)
        header, columns = files.read(data, path.name,
                                     lambda header: self._check_header(stem, header, path.name))
        ignored = [name for name in header["columns"] if name not in columns]
        entry["columns"] = list(columns)
        if ignored:
            entry["ignored_columns"] = ignored
        self.provenance[path.name] = _provenance(header.get("provenance"), path.name)
        kinds = schema.column_kinds(path.name, header["columns"])
        for name, values in columns.items():
            _check_values(name, kinds[name], values, path.name, self.epochs)
        ids = _model_ids(columns["model_hash"], path.name)
        entry["models"] = int(ids.size)
        getattr(self, f"_add_{stem.part}")(stem, ids, columns, path.name)

    def _check_header(self, stem: Stem, header: dict, where: str) -> None:
        if stem.part in ("base", "ext") and self.epochs is None:
            epochs = header.get("epochs")
            if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
                raise FormatError(f"{where}: header epochs must be a positive integer, got "
                                  f"{shown(epochs)}")
            self.epochs = epochs
        expected = make_header(stem.dataset_type, list(stem.columns),
                               **schema.extra_fields(stem, self.epochs))
        del expected["columns"]  # any columns that schema.column_kinds accepts
        for key, want in expected.items():
            got = header.get(key)
            if got != want or type(got) is not type(want):
                raise FormatError(f"{where}: header {key} is {shown(got)}, expected {shown(want)}"
                                  + (" (as in the other training files)" if key == "epochs" else ""))

    def _add_base(self, stem: Stem, ids: np.ndarray, columns: dict, where: str) -> None:
        first = next(iter(self.base_ids.items()), None)
        if first is not None and not np.array_equal(np.sort(first[1]), np.sort(ids)):
            only_here = np.setdiff1d(ids, first[1])
            only_there = np.setdiff1d(first[1], ids)
            example = (f"{space.model_hashes()[only_here[0]]} is only in {where}" if only_here.size
                       else f"{space.model_hashes()[only_there[0]]} is missing from {where}")
            raise FormatError(f"{where}: seeds disagree on the model set: {ids.size} models "
                              f"here, {first[1].size} for seed {first[0]}; e.g. {example}")
        self.base_ids[stem.key] = ids
        self._fill(stem, ids, columns)

    def _add_ext(self, stem: Stem, ids: np.ndarray, columns: dict, where: str) -> None:
        if stem.key not in self.base_ids:
            raise FormatError(f"{where}: there is no blox-base-{stem.key} file for this seed")
        extra = np.setdiff1d(ids, self.base_ids[stem.key])
        if extra.size:
            raise FormatError(f"{where}: {extra.size} model(s) are not in blox-base-{stem.key}, "
                              f"e.g. {', '.join(space.model_hashes()[extra[:_SHOWN]])}")
        self._fill(stem, ids, columns)

    def _fill(self, stem: Stem, ids: np.ndarray, columns: dict) -> None:
        index = self.seeds.index(stem.key)
        for name in stem.columns[1:]:
            values = columns[name]
            if name not in self.arrays:
                tail = (self.epochs,) if values.ndim == 2 else ()
                self.arrays[name] = np.full((len(self.seeds), space.N_MODELS) + tail, np.nan)
            if store.is_accuracy(name):
                values = store.decode_accuracy(name, values)
            self.arrays[name][index, ids] = values

    def _add_info(self, stem: Stem, ids: np.ndarray, columns: dict, where: str) -> None:
        try:
            arch_ids = np.atleast_1d(space.model_id(columns["arch_vec"]))
        except ValueError as err:
            raise FormatError(f"{at(where, column='arch_vec')}: {err}") from err
        wrong = np.flatnonzero(arch_ids != ids)
        if wrong.size:
            row = int(wrong[0])
            raise FormatError(f"{at(where, row, 'arch_vec')}: the vector is model "
                              f"{arch_ids[row]}, but the row's hash is model {ids[row]}")
        self.info_ids = ids
        model = costs.model_costs()
        self.arrays["params"] = model[:, 0].copy()
        self.arrays["flops"] = model[:, 2].copy()
        self.arrays["params"][ids] = columns["params"]
        self.arrays["flops"][ids] = columns["flops"]

    def _add_env(self, stem: Stem, ids: np.ndarray, columns: dict, where: str) -> None:
        if stem.key not in self.base_ids:
            raise FormatError(f"{where}: there is no blox-base-{stem.key} file for this seed")
        per_model = {}
        for name, values in columns.items():
            if name != "model_hash":
                full = np.full(space.N_MODELS, None, dtype=object)
                full[ids] = values
                per_model[name] = full
        self.env[str(stem.key)] = per_model

    def _add_bench(self, stem: Stem, ids: np.ndarray, columns: dict, where: str) -> None:
        latency = np.full(space.N_MODELS, np.nan)
        latency[ids] = columns["latency"] * 1000  # files: seconds per batch; the store: ms
        self.arrays[f"latency/{stem.key}"] = latency

    def finish(self) -> tuple[dict[str, np.ndarray], dict]:
        """Arrays and attrs for ``store.write_store``, after the cross-file checks."""
        present = np.unique(np.concatenate(list(self.base_ids.values())))
        labels = {_label(p) for p in self.provenance.values()}
        if len(labels) > 1:
            shown_files = "; ".join(f"{name}: {_label(p) or 'no provenance (official)'}"
                                    for name, p in self.provenance.items())
            raise FormatError(f"the files come from different tables: {shown(shown_files, 600)}")
        origin = next(iter(self.provenance.values()))
        source = {"kind": "official", **(origin or {}), "files": self.files}
        for key in ("name", "licence"):
            source.pop(key, None)
        if self.info_ids is None:
            model = costs.model_costs()
            self.arrays["params"], self.arrays["flops"] = model[:, 0].copy(), model[:, 2].copy()
            source["params_flops"] = "blox_gym.costs.model_costs (no blox-info file)"
        else:
            lacking = np.setdiff1d(present, self.info_ids)
            if lacking.size:
                raise FormatError(f"blox-info lacks params/flops for {lacking.size} model(s) of "
                                  f"the base files, e.g. "
                                  f"{', '.join(space.model_hashes()[lacking[:_SHOWN]])}")
            source["params_flops"] = "blox-info"
            source["params_flops_from_costs"] = int(space.N_MODELS - self.info_ids.size)
        short = incomplete_files(self.files)
        if short:
            source["incomplete_files"] = short
            warnings.warn("some release files hold fewer models than others (truncated?): "
                          + "; ".join(f"{k}: {v}" for k, v in short.items()), stacklevel=3)
        attrs = {"name": (origin or {}).get("name", "blox-official"), "source": source,
                 "licence": (origin or {}).get("licence", LICENCE), "seeds": self.seeds,
                 "env": self.env}
        return self.arrays, attrs


def _provenance(value: object, where: str) -> dict | None:
    """A file's ``provenance`` header field: short scalars by name, with ``kind`` and ``name``."""
    if value is None:
        return None
    ok = isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, (str, int, float, bool)) and len(str(v)) <= 200
        for k, v in value.items()) and isinstance(value.get("kind"), str) \
        and isinstance(value.get("name"), str)
    if not ok:
        raise FormatError(f"{where}: header provenance must map names to short values and "
                          f"hold kind and name; got {shown(value)}")
    return dict(value)


def _label(provenance: dict | None) -> str:
    return "" if provenance is None else f"{provenance['name']} ({provenance['kind']})"


def incomplete_files(entries: list[dict]) -> dict[str, str]:
    """``{file: "N of M models"}`` for the files holding fewer models than the fullest file."""
    most = max((entry.get("models", 0) for entry in entries), default=0)
    return {entry["name"]: f"{entry['models']:,} of {most:,} models" for entry in entries
            if "models" in entry and entry["models"] < most}


def summary_lines(source: dict) -> list[str]:
    """One line per release file of an imported store: models held, size, and what is short."""
    short = source.get("incomplete_files", {})
    lines = []
    for entry in source.get("files", []):
        text = f"{entry['name']}: {entry.get('models', '?'):,} models, {entry['size']:,} bytes" \
            if isinstance(entry.get("models"), int) else f"{entry['name']}: {entry['size']:,} bytes"
        if entry["name"] in short:
            text += f"  (SHORT: {short[entry['name']]}; truncated file?)"
        lines.append(text)
    return lines


def _check_values(name: str, kind: str, values: np.ndarray, where: str,
                  epochs: int | None) -> None:
    """Range checks shared by the three encodings, naming the first offending row."""
    if kind.endswith("_list") and values.shape[1] != epochs:
        raise FormatError(f"{at(where, 0, name)}: lists of {values.shape[1]} values, but the "
                          f"header says {epochs} epochs")
    if kind.startswith("acc"):
        bad, what = values > store.images_for(name), "is above 100 percent"
    elif kind.startswith("float"):
        limit = store.LOSS_MISSING / 1e6 if "loss" in name else np.inf
        bad = ~(np.isfinite(values) & (values >= 0) & (values < limit))
        what = f"is not a number in 0..{limit:g}"
    else:
        return
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        epoch = index[1] + 1 if len(index) > 1 else None
        value = values[index]
        text = f"count {int(value)}" if kind.startswith("acc") else repr(float(value))
        raise FormatError(f"{at(where, index[0], name, epoch)}: {text} {what}")


@lru_cache(maxsize=1)
def _sorted_hashes() -> tuple[np.ndarray, np.ndarray]:
    hashes = space.model_hashes()
    order = np.argsort(hashes)
    return hashes[order], order


def _model_ids(hashes: np.ndarray, where: str) -> np.ndarray:
    """Model id of every row's hash; unknown and repeated hashes are errors listing them."""
    known, order = _sorted_hashes()
    pos = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
    unknown = np.flatnonzero(known[pos] != hashes)
    if unknown.size:
        listed = ", ".join(f"row {r} {hashes[r]}" for r in unknown[:_SHOWN])
        raise FormatError(f"{where}: {unknown.size} hash(es) are not Blox models: {listed}"
                          + (" ..." if unknown.size > _SHOWN else ""))
    ids = order[pos]
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        model = unique[counts > 1][0]
        rows = np.flatnonzero(ids == model)
        raise FormatError(f"{where}: hash {hashes[rows[0]]} appears in rows "
                          f"{', '.join(map(str, rows[:_SHOWN]))}; each model may appear once")
    return ids.astype(np.int64)
