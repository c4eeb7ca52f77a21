"""Live evaluation: a :class:`~blox_gym.core.SearchCore` that trains models instead of looking
them up, so any agent can search on a dataset that has no table.

Evaluating a model at ``fidelity`` epochs trains it with the Normal recipe (its cosine
schedule spans ``recipe.epochs``) and stops after ``fidelity`` epochs, keeping a checkpoint:
asking later for more epochs continues the same run, exactly the table's semantics
(the value at epoch ``f`` of a full run) and the core's resumable cost accounting.  Finished
runs are written as run records in ``runs`` (re-used by later searches, mergeable into a
table with :func:`blox_gym.pipeline.merge.merge_runs`).

The costs a search sees in seconds are the measured training seconds, prorated to a full
run.  Test top-1 (for the record's reported accuracy) exists for fully trained models only
(NaN otherwise); the regret is NaN, since no best model is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from blox_gym.core import Budget, SearchCore
from blox_gym.pipeline import records
from blox_gym.pipeline.jobs import Job, history_until
from blox_gym.pipeline.recipes import Normal
from blox_gym.pipeline.runtime import Options


class LiveEvaluator:
    """Trains models on ``dataset`` with ``recipe`` and the given ``seed`` on demand."""

    def __init__(self, dataset: str, recipe: Normal = Normal(), seed: int = 0,
                 runs: str | Path = "live-runs", data_dir: str | None = None,
                 options: Options = Options()):
        self.recipe, self.seeds, self.epochs = recipe, [int(seed)], recipe.epochs
        self._job = dict(recipe=recipe, dataset=dataset, runs=str(runs), data_dir=data_dir,
                         options=options)
        self._histories: dict[int, dict] = {}

    def _history(self, model: int, seed: int, epochs: int) -> dict:
        known = self._histories.get(model)
        if known is None or len(known["val_top1"]) < epochs:
            job = Job(model, seed, **self._job)
            known = history_until(job, epochs)
            self._histories[model] = known
        return known

    def val_top1(self, model: int, fidelity: int, best: bool, seed: int) -> float:
        """Validation top-1 (percent) after ``fidelity`` epochs, best so far if ``best``."""
        curve = self._history(model, seed, fidelity)["val_top1"][:fidelity]
        return max(curve) if best else curve[-1]

    def train_time_s(self, model: int, seed: int) -> float:
        """Seconds of a full run: measured so far, prorated to ``recipe.epochs``."""
        history = self._history(model, seed, 1)
        return history["train_time_s"] * self.epochs / len(history["val_top1"])

    def test_acc(self, models, seed: int) -> np.ndarray:
        """Test top-1 (percent) of fully trained models, NaN for the others."""
        return np.array([float(self._histories.get(int(m), {}).get("test_top1", np.nan))
                         for m in np.atleast_1d(models)])

    def record_paths(self) -> list[Path]:
        """Records of the fully trained models so far."""
        return [p for p in (records.record_path(self._job["runs"], self.recipe, m, self.seeds[0])
                            for m in self._histories) if p.exists()]


def live_core(dataset: str, recipe: Normal = Normal(), seed: int = 0,
              budget: Budget | None = None, runs: str | Path = "live-runs",
              data_dir: str | None = None, options: Options = Options(),
              rng_seed: int | None = 0) -> SearchCore:
    """A search core that trains on ``dataset``; pass it to any agent's ``run``."""
    evaluator = LiveEvaluator(dataset, recipe, seed, runs, data_dir, options)
    return SearchCore(None, budget, seed=seed, rng_seed=rng_seed, evaluator=evaluator)
