"""What the five kinds of release file hold: their names, header fields, columns and value kinds.

Value kinds say how a column is held in memory by this package (one numpy array per column):

==============  ==========================================  ===========================
kind            in memory                                    ``.blox`` type
==============  ==========================================  ===========================
``hash``        ``<U32`` hex strings                         ``hash``
``arch``        ``(rows, 15)`` int, flat canonical vectors   ``arch``
``int``         int64                                        ``int`` (u32)
``float``       float64 (losses; latency in ms)              ``float`` (u24 micro-units)
``float_list``  ``(rows, epochs)`` float64                   ``list[float]``
``str``         object array of str                          ``str``
``acc``         uint32 counts of correct images              ``b_{lo}_{hi}_{B}``
``acc_list``    ``(rows, epochs)`` uint32 counts             ``list[b_{lo}_{hi}_{B}]``
==============  ==========================================  ===========================

Accuracies are held as counts (exact); percent = ``store.decode_accuracy(name, counts)``.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import NamedTuple

from blox_gym import metrics, store
from blox_gym.formats.errors import FormatError, shown
from blox_gym.formats.header import DATASET

BASE = ("model_hash",) + metrics.names(part="base")
EXT = ("model_hash",) + metrics.names(part="ext")
INFO = ("model_hash",) + metrics.names(part="info") + ("arch_vec",)
ENV = ("model_hash",) + store.ENV_KEYS
BENCH = ("model_hash",) + metrics.names(part="bench")

_RELEASE_KIND = {"accuracy": "acc", "loss": "float", "seconds": "int", "count": "int",
                 "float": "float"}  # metric kind -> value kind of a release column
KIND = {
    "model_hash": "hash", "arch_vec": "arch",
    **{m.name: _RELEASE_KIND[m.kind] + ("_list" if m.shape == "curve" else "")
       for m in metrics.all_metrics() if m.part is not None},
    **{key: "str" for key in store.ENV_KEYS},
}

# part -> (stem pattern, dataset_type, columns); the pattern's group is the seed or device
STEMS = {
    "base": (re.compile(r"blox-base-([0-9]+)"), "training", BASE),
    "ext": (re.compile(r"blox-ext-([0-9]+)"), "training", EXT),
    "info": (re.compile(r"blox-info()"), "static", INFO),
    "env": (re.compile(r"blox-env-([0-9]+)"), "env", ENV),
    "bench": (re.compile(r"blox-bench-([a-zA-Z0-9-]+)"), "benchmarking", BENCH),
}
EXTENSIONS = {"blox": "custom", "pickle": "pickle", "csv": "csv"}  # file extension -> header format


class Stem(NamedTuple):
    """A recognised file stem: ``part`` (base, ext, info, env, bench) and its seed or device."""

    part: str
    key: int | str | None  # seed (int) for base/ext/env, device (str) for bench, None for info

    @property
    def name(self) -> str:
        return "blox-info" if self.part == "info" else f"blox-{self.part}-{self.key}"

    @property
    def dataset_type(self) -> str:
        return STEMS[self.part][1]

    @property
    def columns(self) -> tuple[str, ...]:
        return STEMS[self.part][2]


def parse_stem(stem: str) -> Stem | None:
    """The part and seed/device of a file stem such as ``blox-ext-0``; None if not a release file."""
    for part, (pattern, _, _) in STEMS.items():
        match = pattern.fullmatch(stem)
        if match:
            key = match.group(1)
            return Stem(part, None if part == "info" else key if part == "bench" else int(key))
    return None


def column_kinds(file_name: str, names: object) -> dict[str, str | None]:
    """The value kind of each header column of ``file_name`` (``None``: an extra column).

    An env file holds ``model_hash`` and then any string columns; the other kinds hold
    their columns (``Stem.columns``) first, in order, and may add any columns after them,
    which readers skip.  A file whose stem is not a release stem may use known columns only.
    """
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
            or len(set(names)) != len(names):
        raise FormatError(f"{file_name}: header columns {shown(names)} are not a list of "
                          f"distinct names")
    stem = parse_stem(PurePath(file_name).stem)
    if stem is None:
        unknown = [n for n in names if n not in KIND]
        if unknown:
            raise FormatError(f"{file_name}: unknown column(s) {shown(unknown)}; known: "
                              f"{', '.join(KIND)}")
        return {name: KIND[name] for name in names}
    if stem.part == "env":
        if names[:1] != ["model_hash"]:
            raise FormatError(f"{file_name}: an env file's columns start with model_hash, got "
                              f"{shown(names)}")
        return {name: "hash" if name == "model_hash" else "str" for name in names}
    required = list(stem.columns)
    if names[:len(required)] != required:
        raise FormatError(f"{file_name}: the columns must start with {', '.join(required)} "
                          f"(any further columns may follow), got {shown(names)}")
    return {name: KIND[name] if i < len(required) else None for i, name in enumerate(names)}


def extra_fields(stem: Stem, epochs: int | None = None) -> dict:
    """The header fields after ``columns`` for ``stem``, in the original order."""
    if stem.part in ("base", "ext"):
        return {"seed": stem.key, "epochs": epochs, "dataset": DATASET, "part": stem.part}
    if stem.part == "env":
        return {"seed": stem.key}
    if stem.part == "bench":
        return {"device": stem.key}
    return {}


def rounding(name: str) -> int | None:
    """Decimals that the pickle and CSV writers round a column to (3 for accuracies, 6 for
    losses, as the metric registry says), or ``None``."""
    try:
        return metrics.get(name).decimals
    except ValueError:  # hashes, architectures, environment strings
        return None
