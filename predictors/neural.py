"""Neural predictors: device choice, target scaling and the shared training loop.

Training follows BRP-NAS: AdamW, mini-batches of 64, the learning rate multiplied by
``lr_factor`` (0.1) after ``lr_patience`` epochs without an improvement larger than
``lr_threshold`` (relative), early stopping after ``es_patience`` epochs without improvement
(the best weights are kept), at most ``epochs`` epochs.  With ``monitor="val"`` improvement
is measured on a validation split of ``round(val_fraction * n)`` of the ``n`` training
models; when that is fewer than 2 models there is no split and no early stopping, and the
schedule follows the training loss.  ``monitor="train"`` measures it on all training models
in evaluation mode after each epoch (BRP-NAS's authors' code).  The schedule and early
stopping start after ``patience_start`` epochs.  ``warm_start=True`` makes a second ``fit``
continue from the fitted weights (with a new optimiser) instead of starting afresh.
Targets are standardised with the training mean and deviation.
Training runs on a GPU when one is present; on the CPU it is deterministic per ``seed``.
"""

from __future__ import annotations

import copy
import math
from abc import abstractmethod
from typing import Any

import numpy as np
import torch
from torch import Tensor

from predictors.base import Predictor, check_number
from predictors.encodings import SCALARS, scalar_features

PREDICT_CHUNK = 2**15  # models per forward pass in predict
MONITORS = ("val", "train")  # what early stopping and the LR schedule watch


def resolve_device(device: str | None) -> torch.device:
    """``device``, or ``cuda`` when a GPU is present, else ``cpu``."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must be a torch device string such as 'cpu' or 'cuda:0', "
                         f"got {device!r}") from None


class TorchPredictor(Predictor):
    """A predictor trained by gradient descent on standardised targets.

    Subclasses build the module (``_build``), give the loss of a batch of models
    (``_loss``) and their scores (``_scores``).
    """

    def __init__(self, seed: int = 0, device: str | None = None, lr: float = 3.5e-4,
                 weight_decay: float = 5e-4, batch_size: int = 64, epochs: int = 250,
                 lr_patience: int = 10, es_patience: int = 35, val_fraction: float = 0.1,
                 scalars: tuple[str, ...] | list[str] = (), monitor: str = "val",
                 lr_factor: float = 0.1, lr_threshold: float = 1e-4, patience_start: int = 0,
                 warm_start: bool = False):
        super().__init__(seed)
        check_number("lr", lr, (int, float), 0, low_open=True)
        check_number("weight_decay", weight_decay, (int, float), 0)
        for name, value in (("batch_size", batch_size), ("epochs", epochs),
                            ("lr_patience", lr_patience), ("es_patience", es_patience)):
            check_number(name, value, int, 1)
        check_number("val_fraction", val_fraction, (int, float), 0, 0.5)
        if monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {MONITORS}, got {monitor!r}")
        check_number("lr_factor", lr_factor, (int, float), 0, 1, low_open=True)
        if lr_factor == 1:
            raise ValueError("lr_factor must be below 1 (it multiplies the learning rate)")
        check_number("lr_threshold", lr_threshold, (int, float), 0)
        check_number("patience_start", patience_start, int, 0)
        if not isinstance(warm_start, bool):
            raise ValueError(f"warm_start must be True or False, got {warm_start!r}")
        unknown = [s for s in scalars if s not in SCALARS]
        if unknown or isinstance(scalars, str):
            raise ValueError(f"scalars must be a list from {list(SCALARS)}, got {scalars!r}")
        self.device_arg = device
        self.device = resolve_device(device)
        self.lr, self.weight_decay, self.batch_size, self.epochs = lr, weight_decay, batch_size, epochs
        self.lr_patience, self.es_patience, self.val_fraction = lr_patience, es_patience, val_fraction
        self.scalars = tuple(scalars)
        self.monitor, self.lr_factor, self.lr_threshold = monitor, lr_factor, lr_threshold
        self.patience_start, self.warm_start = patience_start, warm_start
        self.module: torch.nn.Module | None = None
        self.y_mean, self.y_std = 0.0, 1.0
        self.epochs_run = 0

    def config(self) -> dict[str, Any]:
        return {**super().config(), "device": self.device_arg, "lr": self.lr,
                "weight_decay": self.weight_decay, "batch_size": self.batch_size,
                "epochs": self.epochs, "lr_patience": self.lr_patience,
                "es_patience": self.es_patience, "val_fraction": self.val_fraction,
                "scalars": list(self.scalars), "monitor": self.monitor,
                "lr_factor": self.lr_factor, "lr_threshold": self.lr_threshold,
                "patience_start": self.patience_start, "warm_start": self.warm_start}

    @abstractmethod
    def _build(self) -> torch.nn.Module: ...

    @abstractmethod
    def _loss(self, ids: np.ndarray, y: Tensor) -> Tensor:
        """Mean loss of the models ``ids`` with standardised targets ``y``."""

    @abstractmethod
    def _scores(self, ids: np.ndarray) -> Tensor:
        """Scores ``(len(ids),)`` in evaluation mode."""

    def _scalars(self, ids: np.ndarray) -> Tensor:
        return torch.as_tensor(scalar_features(ids, self.scalars), device=self.device)

    def _fit(self, ids: np.ndarray, y: np.ndarray) -> None:
        rng = np.random.default_rng(self.seed)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            if not (self.warm_start and self.module is not None):
                self.module = self._build().to(self.device)
            self.y_mean, self.y_std = float(y.mean()), float(y.std()) or 1.0
            target = torch.as_tensor((y - self.y_mean) / self.y_std, dtype=torch.float32,
                                     device=self.device)
            order = rng.permutation(len(ids))
            n_val = round(self.val_fraction * len(ids)) if self.monitor == "val" else 0
            n_val = n_val if n_val >= 2 else 0
            val, train = order[:n_val], order[n_val:]
            watched = val if self.monitor == "val" else train
            self.epochs_run = self._train(ids, target, train, watched, rng)

    def _train(self, ids: np.ndarray, target: Tensor, train: np.ndarray, val: np.ndarray,
               rng: np.random.Generator) -> int:
        """Train on ``train``; the schedule and early stopping watch the loss on ``val``
        (evaluation mode), or the running training loss when ``val`` is empty."""
        module = self.module
        optimizer = torch.optim.AdamW(module.parameters(), lr=self.lr,
                                      weight_decay=self.weight_decay,
                                      fused=self.device.type in ("cpu", "cuda"))
        schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=self.lr_factor, patience=self.lr_patience,
            threshold=self.lr_threshold)
        n_batches = math.ceil(len(train) / self.batch_size)
        best, best_state, waited = math.inf, None, 0
        for epoch in range(1, self.epochs + 1):
            module.train()
            total = 0.0
            for batch in np.array_split(rng.permutation(train), n_batches):
                loss = self._loss(ids[batch], target[torch.as_tensor(batch)])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
            monitored = total / len(train)
            if len(val):
                module.eval()
                with torch.no_grad():
                    monitored = float(self._loss(ids[val], target[torch.as_tensor(val)]))
            watching = epoch > self.patience_start
            if watching:
                schedule.step(monitored)
            if not len(val):
                continue
            if monitored < best:
                best, best_state, waited = monitored, copy.deepcopy(module.state_dict()), 0
            elif watching:
                waited += 1
                if waited >= self.es_patience:
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
        return epoch

    def _evaluate(self, ids: np.ndarray) -> np.ndarray:
        """``_scores`` of ``ids`` in chunks of ``PREDICT_CHUNK`` models, float64."""
        self.module.eval()
        with torch.no_grad():
            parts = [self._scores(ids[i:i + PREDICT_CHUNK]).cpu()
                     for i in range(0, len(ids), PREDICT_CHUNK)]
        return torch.cat(parts).double().numpy()

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return self._evaluate(ids) * self.y_std + self.y_mean

    def state_dict(self) -> dict[str, Tensor]:
        state = {f"module.{k}": v for k, v in self.module.state_dict().items()}
        state["y_mean"] = torch.tensor(self.y_mean, dtype=torch.float64)
        state["y_std"] = torch.tensor(self.y_std, dtype=torch.float64)
        return state

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
            module = self._build()
        module.load_state_dict({k[len("module."):]: v for k, v in state.items()
                                if k.startswith("module.")})
        self.module = module.to(self.device).eval()
        self.y_mean, self.y_std = float(state["y_mean"]), float(state["y_std"])
        self.fitted = True
