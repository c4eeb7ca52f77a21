"""Cost accounting of N independent searches at once, one per copy of a vector environment.

The same rules as :class:`blox_gym.envs.ledger.Ledger` (a model is charged once per search),
with the paid models kept as packed bits: 11.4 KB per copy, 11.7 MB for 1,024 copies
(``train_seed="random"`` or ``"episode"`` add the kept seed of each model: 91 KB per copy).
"""

from __future__ import annotations

import numpy as np

from blox_gym import space
from blox_gym.core import UNITS, Budget
from blox_gym.envs.options import Oracle

_UNKNOWN = 255


class VectorLedger:
    """Paid models, costs (models, epochs, seconds) and best validation top-1 per copy."""

    def __init__(self, oracle: Oracle, budget: Budget | None, n: int):
        self.oracle = oracle
        self.budget = budget
        self.n = n
        self.unit = UNITS.index(budget.unit) if budget else 0
        self.limit = budget.amount if budget else np.inf
        n_bytes = (space.N_MODELS + 7) // 8
        self.paid = np.zeros((n, n_bytes), dtype=np.uint8)
        self._paid_flat = self.paid.reshape(-1)  # a view: copy i's bits at i * n_bytes
        self._row_offset = np.arange(n, dtype=np.int64) * n_bytes
        self.model_seed = (None if oracle.fixed_seed
                           else np.full((n, space.N_MODELS), _UNKNOWN, dtype=np.uint8))
        # val, objective, seconds side by side: one gather per evaluation
        self._values = np.stack([oracle.val, oracle.score, oracle.seconds], axis=-1)
        self._never = np.zeros(n, dtype=bool)
        self._never.flags.writeable = False
        self.cost = np.zeros((3, n))  # models, epochs, seconds per copy
        self.best_val = np.full(n, -np.inf)
        self.n_models = np.zeros(n, dtype=np.int64)
        self._rows = np.arange(n)

    def new_search(self, rows: np.ndarray) -> None:
        """Forget everything about the searches of ``rows`` (indices)."""
        self.paid[rows] = 0
        if self.model_seed is not None:
            self.model_seed[rows] = _UNKNOWN
        self.cost[:, rows] = 0.0
        self.best_val[rows] = -np.inf
        self.n_models[rows] = 0

    def exhausted(self) -> np.ndarray:
        return self._never if self.budget is None else self.cost[self.unit] >= self.limit

    def spent(self) -> np.ndarray:
        return self.cost[self.unit].copy()

    def budget_left(self) -> np.ndarray:
        """Fraction of each copy's budget left, in 0..1 (1 without a budget)."""
        if self.budget is None:
            return np.ones(self.n)
        return np.maximum(0.0, 1.0 - self.cost[self.unit] / self.limit)

    def seed_index(self, ev: np.ndarray, mids: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """Seed index of each copy's model; models first trained now (``ev``) keep ``draws``."""
        kept = self.model_seed[self._rows, mids]
        si = np.where(kept == _UNKNOWN, draws, kept)
        self.model_seed[self._rows, mids] = np.where(ev, si, kept)
        return si.astype(np.int64)

    def evaluate(self, ev: np.ndarray, mids: np.ndarray, si) -> tuple[np.ndarray, ...]:
        """Train model ``mids[i]`` in every copy ``i`` where ``ev[i]``, charging it once.

        ``mids`` must be valid ids everywhere (any id where ``ev`` is False); ``si``: seed
        index per copy, or 0.  Returns ``(val top-1, objective, cost in the budget's unit)``.
        """
        one_seed = isinstance(si, int)
        values = self._values[si].take(mids, axis=0) if one_seed else self._values[si, mids]
        val, score, seconds = values.T
        if not ev.any():
            return val, score, np.zeros(self.n)
        where, shift = self._row_offset + (mids >> 3), (mids & 7).astype(np.uint8)
        cell = self._paid_flat.take(where)
        new = ev & ((cell >> shift) & 1 == 0)
        self._paid_flat[where] = cell | (new.astype(np.uint8) << shift)
        seconds = np.where(new, seconds, 0.0)
        models, epochs = self.oracle.epoch_cost
        self.cost[0] += new * models
        self.cost[1] += new * epochs
        self.cost[2] += seconds
        self.n_models += new
        self.best_val = np.where(ev & (val > self.best_val), val, self.best_val)
        step_cost = seconds if self.unit == 2 else new * (models, epochs)[self.unit]
        return val, score, step_cost
