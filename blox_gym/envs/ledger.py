"""Cost accounting of one search inside a single environment, by :class:`SearchCore`'s rules.

The fidelity of an environment is fixed, so SearchCore's resumable accounting reduces to:
a model is charged ``fidelity`` epochs the first time it is evaluated and nothing after;
infeasible models are never evaluated.  Costs are added in the same order and with the same
float operations as SearchCore, so totals match it exactly; :meth:`Ledger.record` has the
layout of :meth:`SearchCore.record`.
"""

from __future__ import annotations

import numpy as np

from blox_gym import space
from blox_gym.core import SCRATCH, UNITS, Budget
from blox_gym.envs.options import Oracle

_UNKNOWN = 255  # model_seed entry of a model not trained yet


class Ledger:
    """One search: which models were paid for, the cost so far, and the evaluation log.

    ``rng_seed`` seeds the per-model seed draws of ``train_seed="random"`` exactly as
    ``SearchCore(seed="random", rng_seed=rng_seed)`` does.
    """

    def __init__(self, oracle: Oracle, budget: Budget | None, rng_seed: int | None = None):
        self.oracle = oracle
        self.budget = budget
        self.rng_seed = rng_seed
        self.unit = UNITS.index(budget.unit) if budget else 0  # index into UNITS
        self._limit = budget.amount if budget else np.inf
        self._rng = np.random.default_rng(rng_seed)
        self._n_seeds = len(oracle.seeds)
        self._paid = bytearray(space.N_MODELS)
        self._model_seed = None if oracle.fixed_seed else bytearray([_UNKNOWN]) * space.N_MODELS
        self.cost = [0.0, 0.0, 0.0]  # models, epochs, seconds
        self.log: list[int] = []  # model id of every evaluation, in order
        self.best_val = -np.inf
        self.n_models = 0
        self.exhausted = False

    @property
    def spent(self) -> float:
        """Cost so far in the budget's unit (models without a budget)."""
        return self.cost[self.unit]

    @property
    def budget_left(self) -> float:
        """Fraction of the budget left, in 0..1 (1 without a budget)."""
        return 1.0 if self.budget is None else max(0.0, 1.0 - self.spent / self._limit)

    def seed_index(self, mid: int, episode_seed: int) -> int:
        """The seed index model ``mid`` is (or will be) trained with."""
        if self._model_seed is None:
            return 0
        si = self._model_seed[mid]
        if si == _UNKNOWN:
            si = int(self._rng.integers(self._n_seeds)) if episode_seed < 0 else episode_seed
            self._model_seed[mid] = si
        return si

    def charge(self, mid: int, val: float, seconds: float) -> float:
        """Log an evaluation of ``mid`` (validation top-1 ``val``, ``seconds`` to train it
        if it is new); returns its cost in the budget's unit."""
        self.log.append(mid)
        if val > self.best_val:
            self.best_val = val
        if self._paid[mid]:
            return 0.0
        self._paid[mid] = 1
        self.n_models += 1
        cost = self.cost
        models, epochs = self.oracle.epoch_cost
        cost[0] += models
        cost[1] += epochs
        cost[2] += seconds
        self.exhausted = cost[self.unit] >= self._limit
        return (models, epochs, seconds)[self.unit]

    def record(self) -> dict[str, np.ndarray]:
        """The anytime record in :meth:`SearchCore.record`'s layout (reads test metrics)."""
        o = self.oracle
        ids = np.array(self.log, dtype=np.int64)
        si = (np.zeros(len(ids), dtype=np.int64) if self._model_seed is None
              else np.frombuffer(self._model_seed, dtype=np.uint8)[ids].astype(np.int64))
        first = np.zeros(len(ids), dtype=bool)
        first[np.unique(ids, return_index=True)[1]] = True
        models, epochs = o.epoch_cost
        val = o.val[si, ids]
        rec = {
            "model_id": ids,
            "fidelity": np.full(len(ids), o.fidelity),
            "seed": np.array(o.seeds, dtype=np.int64)[si],
            "val_top1": val,
            "charged_epochs": np.where(first, o.fidelity, 0),
            "cost_models": np.cumsum(np.where(first, models, 0.0)),
            "cost_epochs": np.cumsum(np.where(first, epochs, 0.0)),
            "cost_seconds": np.cumsum(np.where(first, o.seconds[si, ids], 0.0)),
            "protocol": np.full(len(ids), SCRATCH),
        }
        return _add_best(rec, o)


def _add_best(rec: dict, oracle: Oracle) -> dict:
    """Best validation so far, the test top-1 it reports, and regret (SearchCore's rules)."""
    val, n = rec["val_top1"], len(rec["val_top1"])
    running = np.maximum.accumulate(np.where(np.isnan(val), -np.inf, val))
    previous = np.concatenate([[-np.inf], running[:-1]])
    improved = val > previous  # strict: the first model reaching a value keeps it
    at = np.maximum.accumulate(np.where(improved, np.arange(n), -1))
    best_model = np.where(at >= 0, rec["model_id"][at], -1)
    best_seed = np.where(at >= 0, rec["seed"][at], -1)
    reported = np.full(n, np.nan)
    table = oracle.table
    for s in np.unique(best_seed[at >= 0]):
        mask = (best_seed == s) & (at >= 0)
        reported[mask] = table.test_acc(best_model[mask], seed=int(s))
    seed = oracle.seeds[0] if oracle.fixed_seed else "mean"
    best_test = float(np.nanmax(table.test_acc(np.arange(space.N_MODELS), seed=seed)))
    rec.update(best_val=np.where(at >= 0, running, -np.inf), best_model=best_model,
               reported_test=reported, regret=best_test - reported)
    return rec
