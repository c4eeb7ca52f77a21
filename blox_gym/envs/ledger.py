"""Cost accounting of the searches inside the environments, by :class:`SearchCore`'s rules.

The fidelity of an environment is fixed, so SearchCore's resumable accounting reduces to:
a model is charged ``fidelity`` epochs the first time it is evaluated in a search and nothing
after; infeasible models are never evaluated.  Costs are added in the same order and with the
same float operations as SearchCore, so totals match it exactly.

Both ledgers keep SearchCore's accounting contract, under the same names: ``budget``,
``cost`` (a dict over units), ``spent`` (in the budget's unit), ``budget_left`` (fraction
0..1), ``exhausted``, ``best_val``, ``best_model``, ``n_models`` and ``record()``, whose
layout is :meth:`SearchCore.record`'s (one builder, :func:`search_record`).  A
:class:`VectorLedger` gives each of them per copy (arrays of ``n``), and ``record(i)``.
"""

from __future__ import annotations

import numpy as np

from blox_gym import space
from blox_gym.core import SCRATCH, UNITS, Budget, complete_record
from blox_gym.envs.options import Oracle

_UNKNOWN = 255  # model_seed entry of a model not trained yet
_BIT = (1 << np.arange(8)).astype(np.uint8)  # a model's bit in its byte of the paid bits


def search_record(oracle: Oracle, ids: np.ndarray, si: np.ndarray) -> dict[str, np.ndarray]:
    """The anytime record of evaluations ``ids`` (in order) with seed indices ``si``."""
    first = np.zeros(len(ids), dtype=bool)
    first[np.unique(ids, return_index=True)[1]] = True
    models, epochs = oracle.epoch_cost
    rec = {
        "model_id": ids,
        "fidelity": np.full(len(ids), oracle.fidelity),
        "seed": np.array(oracle.seeds, dtype=np.int64)[si],
        "val_top1": oracle.val[si, ids],
        "charged_epochs": np.where(first, oracle.fidelity, 0),
        "cost_models": np.cumsum(np.where(first, models, 0.0)),
        "cost_epochs": np.cumsum(np.where(first, epochs, 0.0)),
        "cost_seconds": np.cumsum(np.where(first, oracle.seconds[si, ids], 0.0)),
        "protocol": np.full(len(ids), SCRATCH),
    }
    best_seed = oracle.seeds[0] if oracle.fixed_seed else "mean"
    best_test = float(np.nanmax(oracle.table.test_acc(np.arange(space.N_MODELS), seed=best_seed)))
    return complete_record(rec, oracle.table, best_test)


class Ledger:
    """One search: which models were paid for, the cost so far, and the evaluation log.

    ``rng_seed`` seeds the per-model seed draws of ``train_seed="random"`` exactly as
    ``SearchCore(seed="random", rng_seed=rng_seed)`` does.  ``exhausted``, ``best_val``,
    ``best_model`` and ``n_models`` are plain attributes (read them, never write them).
    """

    def __init__(self, oracle: Oracle, budget: Budget | None, rng_seed: int | None = None):
        self._oracle = oracle
        self.budget = budget
        self.rng_seed = rng_seed
        self.unit = UNITS.index(budget.unit) if budget else 0  # index into UNITS
        self._limit = budget.amount if budget else np.inf
        self._rng = np.random.default_rng(rng_seed)
        self._n_seeds = len(oracle.seeds)
        self._paid = bytearray(space.N_MODELS)
        self._model_seed = None if oracle.fixed_seed else bytearray([_UNKNOWN]) * space.N_MODELS
        self._cost = [0.0, 0.0, 0.0]  # models, epochs, seconds
        self.log: list[int] = []  # model id of every evaluation, in order
        self.best_val = -np.inf
        self.best_model = -1
        self.n_models = 0
        self.exhausted = False

    @property
    def cost(self) -> dict[str, float]:
        """Cost so far in every unit."""
        return dict(zip(UNITS, self._cost))

    @property
    def spent(self) -> float:
        """Cost so far in the budget's unit (models without a budget)."""
        return self._cost[self.unit]

    @property
    def budget_left(self) -> float:
        """Fraction of the budget left, in 0..1 (1 without a budget)."""
        return 1.0 if self.budget is None else max(0.0, 1.0 - self._cost[self.unit] / self._limit)

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
            self.best_model = mid
        if self._paid[mid]:
            return 0.0
        self._paid[mid] = 1
        self.n_models += 1
        cost = self._cost
        models, epochs = self._oracle.epoch_cost
        cost[0] += models
        cost[1] += epochs
        cost[2] += seconds
        self.exhausted = cost[self.unit] >= self._limit
        return (models, epochs, seconds)[self.unit]

    def record(self) -> dict[str, np.ndarray]:
        """The anytime record in :meth:`SearchCore.record`'s layout (reads test metrics)."""
        ids = np.array(self.log, dtype=np.int64)
        si = (np.zeros(len(ids), dtype=np.int64) if self._model_seed is None
              else np.frombuffer(self._model_seed, dtype=np.uint8)[ids].astype(np.int64))
        return search_record(self._oracle, ids, si)


class VectorLedger:
    """The searches of ``n`` copies: one per copy, or with ``shared=True`` one search that all
    copies add to (a model trained by one copy is paid for all; one budget).

    Paid models are packed bits: 11.4 KB per search, 11.7 MB for 1,024 searches
    (``train_seed="random"`` or ``"episode"`` add the kept seed of each model: 91 KB per
    search).  The log keeps 8 bytes per evaluation of the current searches.  In a shared
    search the copies' evaluations of one step count in copy order; those after the one that
    spends the budget are not made (``evaluate`` reports which were).
    """

    def __init__(self, oracle: Oracle, budget: Budget | None, n: int, shared: bool = False):
        self._oracle = oracle
        self.budget = budget
        self.n = n
        self.shared = bool(shared)
        s = 1 if self.shared else n  # searches
        self.unit = UNITS.index(budget.unit) if budget else 0
        self._limit = budget.amount if budget else np.inf
        n_bytes = (space.N_MODELS + 7) // 8
        self.paid = np.zeros((s, n_bytes), dtype=np.uint8)
        self._paid_flat = self.paid.reshape(-1)  # a view: search j's bits at j * n_bytes
        self._search = np.zeros(n, dtype=np.int64) if self.shared else np.arange(n)
        self._row_offset = self._search * n_bytes
        self.model_seed = (None if oracle.fixed_seed
                           else np.full((s, space.N_MODELS), _UNKNOWN, dtype=np.uint8))
        # train_seed="random": each search's generator, made at its first draw from its seed
        self._rng_seed = np.zeros(s, dtype=np.int64)
        self._rngs: dict[int, np.random.Generator] = {}
        # val, objective, seconds side by side: one gather per evaluation
        self._values = np.stack([oracle.val, oracle.score, oracle.seconds], axis=-1)
        self._value_rows = self._values.view(np.dtype((np.void, 24)))[..., 0]  # a row, one item
        self._never = np.zeros(n, dtype=bool)
        self._ones = np.ones(n)
        self._charge = np.array(oracle.epoch_cost)[:, None]  # models, epochs per new model
        self._never.flags.writeable = False
        self._cost = np.zeros((3, s))  # models, epochs, seconds per search
        self._best_val = np.full(s, -np.inf)
        self._best_model = np.full(s, -1, dtype=np.int64)
        self._n_models = np.zeros(s, dtype=np.int64)
        self._log: list[tuple[np.ndarray, np.ndarray]] = []  # (copies, model ids) per step
        self._log_start = np.zeros(s, dtype=np.int64)  # first log entry of each search

    # ------------------------------------------------------------ the contract, per copy

    def _per_copy(self, values: np.ndarray) -> np.ndarray:
        return np.repeat(values, self.n) if self.shared else values.copy()

    @property
    def cost(self) -> dict[str, np.ndarray]:
        """Cost so far in every unit, per copy."""
        return {unit: self._per_copy(c) for unit, c in zip(UNITS, self._cost)}

    @property
    def spent(self) -> np.ndarray:
        """Cost so far in the budget's unit (models without a budget), per copy."""
        return self._per_copy(self._cost[self.unit])

    @property
    def budget_left(self) -> np.ndarray:
        """Fraction of each copy's budget left, in 0..1 (1 without a budget)."""
        if self.budget is None:
            return self._ones.copy()
        return self._per_copy(np.maximum(0.0, 1.0 - self._cost[self.unit] / self._limit))

    @property
    def exhausted(self) -> np.ndarray:
        """Whether each copy's search has spent its budget (bool per copy)."""
        if self.budget is None:
            return self._never.copy()
        return self._per_copy(self._cost[self.unit] >= self._limit)

    @property
    def best_val(self) -> np.ndarray:
        return self._per_copy(self._best_val)

    @property
    def best_model(self) -> np.ndarray:
        return self._per_copy(self._best_model)

    @property
    def n_models(self) -> np.ndarray:
        return self._per_copy(self._n_models)

    def evaluations(self, i: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Model ids and seed indices of copy ``i``'s search's evaluations, in order (no
        test metric is read)."""
        if not isinstance(i, (int, np.integer)) or not 0 <= i < self.n:
            raise ValueError(f"copy must be an int in 0..{self.n - 1}, got {i!r}")
        j = int(self._search[i])
        chunks = self._log[self._log_start[j]:]
        empty = np.zeros(0, dtype=np.int32)
        copies = np.concatenate([c for c, _ in chunks] or [empty])
        ids = np.concatenate([m for _, m in chunks] or [empty])
        ids = (ids if self.shared else ids[copies == i]).astype(np.int64)
        si = (np.zeros(len(ids), dtype=np.int64) if self.model_seed is None
              else self.model_seed[j, ids].astype(np.int64))
        return ids, si

    def record(self, i: int = 0) -> dict[str, np.ndarray]:
        """The anytime record of copy ``i``'s search (:meth:`SearchCore.record`'s layout)."""
        return search_record(self._oracle, *self.evaluations(i))

    # ------------------------------------------------------------ updates

    def new_search(self, copies: np.ndarray, rng_seeds: np.ndarray | None = None) -> None:
        """Forget the searches of ``copies`` (indices; all of them in a shared search).
        ``rng_seeds``: per copy, the seed of its ``train_seed="random"`` draws."""
        searches = np.unique(self._search[copies])
        self.paid[searches] = 0
        if self.model_seed is not None:
            self.model_seed[searches] = _UNKNOWN
        if rng_seeds is not None:  # as if each copy in turn seeded its search's generator
            self._rng_seed[self._search[copies]] = (rng_seeds[-1] if self.shared
                                                    else rng_seeds)
            for j in searches.tolist() if self._rngs else ():
                self._rngs.pop(j, None)
        self._cost[:, searches] = 0.0
        self._best_val[searches] = -np.inf
        self._best_model[searches] = -1
        self._n_models[searches] = 0
        self._log_start[searches] = len(self._log)
        drop = int(self._log_start.min())
        if drop:  # no search reads these any more
            del self._log[:drop]
            self._log_start -= drop

    def seed_index(self, ev: np.ndarray, mids: np.ndarray, episode_si: np.ndarray | None
                   ) -> np.ndarray:
        """Seed index of each copy's model: kept, else ``episode_si`` (``"episode"``) or a
        draw from the search's generator (``"random"``, in copy order)."""
        j = self._search
        kept = self.model_seed[j, mids]
        si = np.where(kept == _UNKNOWN, 0, kept).astype(np.int64)  # any index where not ev
        for i in np.flatnonzero(ev & (kept == _UNKNOWN)).tolist():
            s = self.model_seed[j[i], mids[i]]  # an earlier copy of a shared search set it
            if s == _UNKNOWN:
                s = (episode_si[i] if episode_si is not None
                     else self._rng(int(j[i])).integers(len(self._oracle.seeds)))
                self.model_seed[j[i], mids[i]] = s
            si[i] = s
        return si

    def _rng(self, j: int) -> np.random.Generator:
        rng = self._rngs.get(j)
        if rng is None:
            rng = self._rngs[j] = np.random.default_rng(int(self._rng_seed[j]))
        return rng

    def evaluate(self, ev: np.ndarray, mids: np.ndarray, si) -> tuple[np.ndarray, ...]:
        """Train model ``mids[i]`` in every copy ``i`` where ``ev[i]``, charging it once per
        search.  ``mids`` must be valid ids everywhere (any id where ``ev`` is False); ``si``:
        seed index per copy, or 0.  Returns ``(val top-1, objective, cost in the budget's
        unit, evaluated)``; ``evaluated`` is ``ev`` less what a shared budget cut off.
        """
        if not ev.any():  # nothing to read: any values do where ev is False
            return np.zeros(self.n), np.zeros(self.n), np.zeros(self.n), ev
        one_seed = isinstance(si, int)
        values = (self._value_rows[si].take(mids).view(np.float64).reshape(self.n, 3)
                  if one_seed else self._values[si, mids])
        val, score, seconds = values.T
        if self.shared:
            return self._evaluate_shared(ev, mids, val, score, seconds)
        where, bit = self._row_offset + (mids >> 3), _BIT.take(mids & 7)
        cell = self._paid_flat.take(where)
        new = ev & (cell & bit == 0)
        self._paid_flat[where] = cell | bit * new
        models, epochs = self._oracle.epoch_cost
        cost = self._cost
        np.add(cost[:2], self._charge, out=cost[:2], where=new)  # models and epochs
        np.add(cost[2], seconds, out=cost[2], where=new)
        self._n_models += new
        better = ev & (val > self._best_val)
        np.copyto(self._best_val, val, where=better)
        np.copyto(self._best_model, mids, where=better)
        self._log_rows(ev, mids)
        step_cost = (new * (models, epochs)[self.unit] if self.unit < 2
                     else np.where(new, seconds, 0.0))
        return val, score, step_cost, ev

    def _evaluate_shared(self, ev, mids, val, score, seconds):
        """One search's evaluations, in copy order, one by one as SearchCore makes them:
        a repeat is free, and none is made once the budget is spent."""
        ev, step_cost = ev.copy(), np.zeros(self.n)
        models, epochs = self._oracle.epoch_cost
        cost, paid = self._cost[:, 0], self.paid[0]
        for i in np.flatnonzero(ev).tolist():
            if cost[self.unit] >= self._limit:
                ev[i] = False
                continue
            m = int(mids[i])
            if val[i] > self._best_val[0]:
                self._best_val[0], self._best_model[0] = val[i], m
            if paid[m >> 3] >> (m & 7) & 1:
                continue
            paid[m >> 3] |= 1 << (m & 7)
            cost[0] += models
            cost[1] += epochs
            cost[2] += seconds[i]
            self._n_models[0] += 1
            step_cost[i] = (models, epochs, seconds[i])[self.unit]
        self._log_rows(ev, mids)
        return val, score, step_cost, ev

    def _log_rows(self, ev: np.ndarray, mids: np.ndarray) -> None:
        rows = np.flatnonzero(ev)
        self._log.append((rows.astype(np.int32), mids[rows].astype(np.int32)))
