"""The predictor interface, the registry, and saving and loading.

A predictor maps Blox models to a score where higher is better:

>>> p = predictors.make("gcn", seed=0).fit(train_ids, val_accuracy[train_ids])
>>> p.predict(test_ids)        # predicted accuracy (or a win score for "brp")
>>> p.rank(test_ids)           # indices into test_ids, best predicted first

``archs`` are model ids (a 1-D int array) or flat encodings (an ``(N, 15)`` int array).
A saved predictor is a folder with ``config.json`` (its name and constructor arguments)
and ``state.pt`` (a plain torch state dict, loadable with ``weights_only=True``).
"""

from __future__ import annotations

import json
import math
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from blox_gym.paths import atomic_write
from blox_gym.registry import Registry, entry_point_of
from predictors.encodings import model_ids

if TYPE_CHECKING:
    import torch

FORMAT = "blox-gym-predictor"
FORMAT_VERSION = 1


def check_number(name: str, value, kind: type | tuple[type, ...], low: float,
                 high: float = math.inf, low_open: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a ``kind`` in the interval."""
    ok = isinstance(value, kind) and not isinstance(value, bool) and (
        low < value if low_open else low <= value) and value <= high
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}]"
        raise ValueError(f"{name} must be a{'n int' if kind is int else ' number'} in "
                         f"{interval}, got {value!r}")


class Predictor(ABC):
    """Base class: subclasses implement ``_fit``, ``_predict``, ``config`` and the state."""

    name: ClassVar[str]
    predicts_values: ClassVar[bool] = True  # False: scores only rank (win scores, costs)

    def __init__(self, seed: int = 0):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"seed must be an int, got {seed!r}")
        self.seed = int(seed)
        self.fitted = False

    def fit(self, archs, y) -> "Predictor":
        """Fit to targets ``y`` (higher is better) of ``archs``; returns ``self``."""
        ids = model_ids(archs)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != ids.shape:
            raise ValueError(f"y must have shape {ids.shape} (one target per model), "
                             f"got {y.shape}")
        if not np.isfinite(y).all():
            raise ValueError(f"y must be finite; {int((~np.isfinite(y)).sum())} value(s) "
                             f"are NaN or infinite")
        if len(ids) < 2:
            raise ValueError(f"fit needs at least 2 models, got {len(ids)}")
        self._fit(ids, y)
        self.fitted = True
        return self

    def predict(self, archs) -> np.ndarray:
        """Predicted scores, float64 ``(N,)``; higher is better."""
        ids = model_ids(archs)
        if not self.fitted:
            raise RuntimeError(f"{self.name!r} predictor is not fitted; call fit() or load()")
        return np.asarray(self._predict(ids), dtype=np.float64)

    def rank(self, archs) -> np.ndarray:
        """Indices into ``archs`` from best to worst predicted (ties keep input order)."""
        return np.argsort(-self.predict(archs), kind="stable")

    @abstractmethod
    def _fit(self, ids: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _predict(self, ids: np.ndarray) -> np.ndarray: ...

    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain JSON values) that rebuild this predictor unfitted."""
        return {"seed": self.seed}

    @abstractmethod
    def state_dict(self) -> dict[str, torch.Tensor]:
        """Everything ``fit`` learnt, as tensors."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what ``state_dict`` returned; marks the predictor fitted."""

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``state.pt`` into the folder ``path``."""
        if not self.fitted:
            raise RuntimeError(f"{self.name!r} predictor is not fitted; nothing to save")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        config = {"format": FORMAT, "version": FORMAT_VERSION, "name": self.name,
                  "entry_point": REGISTRY.entry_point(self.name) if self.name in REGISTRY
                  else entry_point_of(type(self)), "kwargs": self.config()}
        import torch

        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        atomic_write(folder / "state.pt", lambda tmp: torch.save(state, tmp))
        atomic_write(folder / "config.json",
                     lambda tmp: Path(tmp).write_text(json.dumps(config, indent=1) + "\n"))
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> "Predictor":
        """Load a predictor saved by :meth:`save`; see :func:`predictors.load`."""
        predictor = load(path, device)
        if not isinstance(predictor, cls):
            raise TypeError(f"{path} holds a {type(predictor).__name__} ({predictor.name!r}), "
                            f"not a {cls.__name__}")
        return predictor

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"<{type(self).__name__} {self.name!r}({args}){'' if self.fitted else ' unfitted'}>"


REGISTRY: Registry[Predictor] = Registry("predictor", Predictor)


def register(name: str, entry_point: str | type[Predictor], overwrite: bool = False) -> None:
    """Make ``make(name)`` build ``entry_point``: a :class:`Predictor` subclass whose class
    attribute ``name`` is ``name``, or ``"module:Class"``, imported on first use (so
    ``import predictors`` stays light).  Registering the same entry point again does nothing;
    another one under a taken name needs ``overwrite=True``.  Saved predictors and protocol
    workers carry the entry point, so define the class in an importable module (not under
    ``if __name__ == "__main__":``)."""
    REGISTRY.register(name, entry_point, overwrite)


def predictor_class(name: str) -> type[Predictor]:
    """The class registered as ``name``."""
    return REGISTRY.load(name)


def available() -> list[str]:
    """Names accepted by :func:`make`, sorted."""
    return REGISTRY.available()


def make(name: str, **kwargs) -> Predictor:
    """A new, unfitted predictor ``name`` built with ``kwargs``."""
    return REGISTRY.make(name, **kwargs)


def load(path: str | os.PathLike, device: str | None = None) -> Predictor:
    """Load a predictor written by :meth:`Predictor.save` (no pickled classes are read)."""
    folder = Path(path)
    config = json.loads((folder / "config.json").read_text())
    if config.get("format") != FORMAT or config.get("version") != FORMAT_VERSION:
        raise ValueError(f"{folder} is not a {FORMAT} v{FORMAT_VERSION} folder "
                         f"(format {config.get('format')!r}, version {config.get('version')!r})")
    if "entry_point" in config:  # a plug-in saved in another process: register it here too
        register(config["name"], config["entry_point"])
    kwargs = dict(config["kwargs"])
    if device is not None:
        kwargs["device"] = device
    predictor = make(config["name"], **kwargs)
    import torch

    predictor.load_state_dict(torch.load(folder / "state.pt", weights_only=True,
                                         map_location="cpu"))
    return predictor
