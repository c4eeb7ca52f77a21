"""An ensemble of named predictors: ``"ensemble"``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from predictors.base import Predictor, available, make, predictor_class


def _member_spec(spec) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict) and isinstance(spec.get("name"), str) \
            and set(spec) <= {"name", "kwargs"}:
        return spec["name"], dict(spec.get("kwargs", {}))
    raise ValueError(f"an ensemble member is a predictor name or {{'name': ..., 'kwargs': "
                     f"{{...}}}}, got {spec!r}")


class EnsemblePredictor(Predictor):
    """The mean prediction of its members, each fitted on the same data.

    ``members``: predictor names or ``{"name": ..., "kwargs": {...}}``; member ``i`` gets
    ``seed + i`` unless its kwargs give a seed.  Members must predict values of ``y``
    (not win scores or costs), so that their mean is meaningful.
    """

    name = "ensemble"

    def __init__(self, members=("gcn", "mlp", "additive"), seed: int = 0):
        super().__init__(seed)
        if isinstance(members, str) or not members:
            raise ValueError(f"members must be a non-empty list of predictor names or specs, "
                             f"got {members!r}")
        self.members: list[Predictor] = []
        for i, spec in enumerate(members):
            name, kwargs = _member_spec(spec)
            if not predictor_class(name).predicts_values:
                allowed = [n for n in available()
                           if predictor_class(n).predicts_values and n != self.name]
                raise ValueError(f"ensemble member {name!r} does not predict values of y; "
                                 f"allowed members: {', '.join(allowed)}")
            kwargs.setdefault("seed", self.seed + i)
            self.members.append(make(name, **kwargs))

    def config(self) -> dict[str, Any]:
        return {**super().config(),
                "members": [{"name": m.name, "kwargs": m.config()} for m in self.members]}

    def _fit(self, ids: np.ndarray, y: np.ndarray) -> None:
        for member in self.members:
            member.fit(ids, y)

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return np.mean([member.predict(ids) for member in self.members], axis=0)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {f"members.{i}.{k}": v for i, m in enumerate(self.members)
                for k, v in m.state_dict().items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for i, member in enumerate(self.members):
            prefix = f"members.{i}."
            member.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                                    if k.startswith(prefix)})
        self.fitted = True
