"""Image-classification data for training: CIFAR-100, a seeded fake set, or any ``.npz``.

A dataset is named by a spec string:

* ``cifar100``: the standard python-format folder ``cifar-100-python/`` (files ``train``,
  ``test``, ``meta``), found in ``data_dir`` or ``data_dir/cifar-100-python``, default
  ``$BLOX_GYM_DATA/cifar-100-python``.  Read with the package's restricted unpickler, so a
  downloaded file never runs code; nothing is downloaded here.
* ``fake`` or ``fake:N``: random uint8 images of CIFAR-100's shape and random labels of 100
  classes from a fixed seed; ``N`` training images (default 512), ``max(N // 5, 10)``
  validation and test images.  For tests and smoke runs only.
* ``PATH.npz``: arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``; images uint8
  ``(N, H, W, 3)``, labels integers ``0..K-1``; ``K`` is taken from the labels.

The validation split is the original's: the training images permuted by
``numpy.random.RandomState(split_seed=0)``, the first ``floor(0.9 * N)`` train and the rest
validation (CIFAR-100: 45,000 / 5,000; the official 10,000 test images are the test split).
Images are kept as uint8 ``(N, 3, H, W)`` tensors, ready to move to the training device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from blox_gym import paths
from blox_gym.formats.errors import FormatError
from blox_gym.formats.pickled import read_body

TRAIN_PORTION = 0.9
SPLIT_SEED = 0
FAKE_TRAIN = 512
FAKE_SEED = 0
CIFAR_FOLDER = "cifar-100-python"
CIFAR_HELP = ("download https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, unpack it, and "
              "pass the folder that holds cifar-100-python/ with --data-dir (or put it in "
              "$BLOX_GYM_DATA)")


@dataclass(frozen=True)
class Split:
    """Images uint8 ``(N, 3, H, W)`` and labels int64 ``(N,)``."""

    images: Tensor
    labels: Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: str | torch.device) -> Split:
        return Split(self.images.to(device), self.labels.to(device))


@dataclass(frozen=True)
class Dataset:
    """Train, validation and test splits of one image-classification dataset."""

    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.train.images.shape[-2:])

    def to(self, device: str | torch.device) -> Dataset:
        return Dataset(self.name, self.train.to(device), self.val.to(device),
                       self.test.to(device), self.num_classes)

    def describe(self) -> dict:
        """Name, sizes, classes and image size, for run records and table attributes."""
        return {"name": self.name, "train": len(self.train), "val": len(self.val),
                "test": len(self.test), "num_classes": self.num_classes,
                "image_size": list(self.image_size)}


def load_dataset(spec: str, data_dir: str | os.PathLike | None = None,
                 train_portion: float = TRAIN_PORTION, split_seed: int = SPLIT_SEED) -> Dataset:
    """The dataset named by ``spec`` (``cifar100``, ``fake[:N]`` or a ``.npz`` path)."""
    if spec == "cifar100":
        (x, y), test, classes = _cifar100(_cifar_folder(data_dir))
        name = "cifar100"
    elif spec == "fake" or spec.startswith("fake:"):
        n = FAKE_TRAIN if spec == "fake" else _positive(spec[5:], spec)
        (x, y), test, classes = _fake(n, train_portion)
        name = f"fake:{n}"
    elif spec.endswith(".npz"):
        (x, y), test, classes = _npz(Path(spec))
        name = Path(spec).name
    else:
        raise ValueError(f"unknown dataset {spec!r}: use cifar100, fake, fake:N or a .npz file")
    train, val = split_train(x, y, train_portion, split_seed)
    return Dataset(name, train, val, _split(*test), classes)


def split_train(images: np.ndarray, labels: np.ndarray, train_portion: float = TRAIN_PORTION,
                split_seed: int = SPLIT_SEED) -> tuple[Split, Split]:
    """The original's train/validation split of ``(N, 3, H, W)`` images."""
    if not 0 < train_portion < 1:
        raise ValueError(f"train_portion must be in (0, 1), got {train_portion}")
    order = np.random.RandomState(split_seed).permutation(len(labels))
    cut = int(np.floor(train_portion * len(labels)))
    if cut == 0 or cut == len(labels):
        raise ValueError(f"{len(labels)} training images cannot be split {train_portion} / "
                         f"{1 - train_portion:.2g}")
    return _split(images[order[:cut]], labels[order[:cut]]), \
        _split(images[order[cut:]], labels[order[cut:]])


def _split(images: np.ndarray, labels: np.ndarray) -> Split:
    return Split(torch.from_numpy(np.require(images, requirements=["C", "W"])),
                 torch.from_numpy(np.asarray(labels, dtype=np.int64)))


def _positive(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) < 10:
        raise ValueError(f"dataset {spec!r}: the size after 'fake:' must be an integer >= 10")
    return int(text)


def _fake(n_train: int, train_portion: float):
    rng = np.random.default_rng(FAKE_SEED)
    n_pool = int(np.ceil(n_train / train_portion))
    n_test = max(n_train // 5, 10)
    images = rng.integers(0, 256, (n_pool + n_test, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 100, n_pool + n_test)
    return (images[:n_pool], labels[:n_pool]), (images[n_pool:], labels[n_pool:]), 100


def _cifar_folder(data_dir) -> Path:
    base = Path(data_dir).expanduser() if data_dir else paths.cache_dir()
    for folder in (base, base / CIFAR_FOLDER):
        if all((folder / f).is_file() for f in ("train", "test", "meta")):
            return folder
    raise FileNotFoundError(f"no CIFAR-100 python-format folder (train, test, meta) at {base} "
                            f"or {base / CIFAR_FOLDER}: {CIFAR_HELP}")


def _cifar_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    where = str(path)
    try:
        content = read_body(path.read_bytes(), where, numpy_arrays=True, encoding="bytes")
    except FormatError as err:
        raise FormatError(f"{err} ({CIFAR_HELP})") from None
    if not isinstance(content, dict):
        raise FormatError(f"{where}: expected a dict with 'data' and 'fine_labels', got "
                          f"{type(content).__name__}")
    content = {k.decode() if isinstance(k, bytes) else k: v for k, v in content.items()}
    if "data" not in content or "fine_labels" not in content:
        raise FormatError(f"{where}: keys {sorted(content)[:8]} lack 'data' or 'fine_labels'")
    data, labels = np.asarray(content["data"]), np.asarray(content["fine_labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 \
            or len(labels) != len(data):
        raise FormatError(f"{where}: 'data' must be uint8 (N, 3072) with N fine labels, got "
                          f"{data.dtype} {data.shape} and {len(labels)} labels")
    if labels.size and not (labels.min() >= 0 and labels.max() < 100):
        raise FormatError(f"{where}: fine labels must be in 0..99, got {labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _cifar100(folder: Path):
    return _cifar_file(folder / "train"), _cifar_file(folder / "test"), 100


def _npz(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such .npz dataset")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in data]
        if missing:
            raise FormatError(f"{path}: missing array(s) {', '.join(missing)}; a dataset .npz "
                              f"holds x_train, y_train, x_test, y_test")
        parts = []
        for split in ("train", "test"):
            x, y = data[f"x_{split}"], data[f"y_{split}"]
            if x.dtype != np.uint8 or x.ndim != 4 or x.shape[3] != 3 or len(y) != len(x):
                raise FormatError(f"{path}: x_{split} must be uint8 (N, H, W, 3) with N labels, "
                                  f"got {x.dtype} {x.shape} and {len(y)} labels")
            if y.dtype.kind not in "iu" or (len(y) and y.min() < 0):
                raise FormatError(f"{path}: y_{split} must be non-negative integers, got {y.dtype}")
            parts.append((x.transpose(0, 3, 1, 2), y.astype(np.int64)))
    if parts[0][0].shape[1:] != parts[1][0].shape[1:]:
        raise FormatError(f"{path}: train and test images differ in size")
    classes = int(max(parts[0][1].max(), parts[1][1].max(), -1)) + 1
    return parts[0], parts[1], classes
