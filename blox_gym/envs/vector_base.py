"""What the native vector environments share: options, per-copy searches, seeding, info.

Copy ``i`` of a vector environment behaves like a single environment: the same options,
rewards, costs and info keys.  Copies autoreset with Gymnasium's ``NEXT_STEP`` mode: the step
after a copy's episode ends ignores its action and returns its reset observation, reward 0,
``terminated = truncated = False`` and its reset info.  ``reset(seed=s)`` seeds one generator
for all copies and starts new searches in all of them; ``reset()`` keeps the searches.
"""

from __future__ import annotations

import os

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from blox_gym.core import Budget
from blox_gym.envs.observe import Observer
from blox_gym.envs.options import Constraint, Oracle, resolve_budget
from blox_gym.envs.vector_ledger import VectorLedger
from blox_gym.table import Table

INFO_KEYS = ("model_id", "valid", "val_top1", "step_cost", "total_cost", "best_val", "n_models")


class BloxVectorEnv(VectorEnv):
    """Base of :class:`BloxEditVectorEnv` and :class:`BloxBuildVectorEnv`."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int, table: Table | str | os.PathLike | None, nvec: np.ndarray,
                 obs_mode: str, mask_invalid: bool, fidelity: int | None, metric: str,
                 train_seed: int | str | None, constraint: Constraint | dict | None,
                 budget: Budget | tuple | None, n_actions: int, copy: bool):
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        self.num_envs = n = int(num_envs)
        self.oracle = Oracle(table, fidelity, metric, train_seed, constraint)
        self.table = self.oracle.table
        self.budget = resolve_budget(budget)
        self.mask_invalid = bool(mask_invalid)
        self.observer = Observer(obs_mode, nvec, self.oracle.reward_bounds())
        self.single_observation_space = self.observer.space
        self.single_action_space = spaces.Discrete(n_actions)
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)
        self.copy = bool(copy)
        self.n_actions = n_actions
        self._hw_mask = self.oracle.constraint is not None and self.oracle.constraint.mode == "mask"
        self.ledger = VectorLedger(self.oracle, self.budget, n)
        self._rows = np.arange(n)
        self._episode_si = np.zeros(n, dtype=np.int64)
        self._last_reward = np.zeros(n)
        self._autoreset = np.zeros(n, dtype=bool)

    # ------------------------------------------------------------ shared steps

    def _seed(self, seed: int | None) -> None:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
            self.ledger.new_search(self._rows)

    def _check_actions(self, actions) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape == (self.num_envs,) and a.dtype.kind in "iu":
            a = a.astype(np.int64, copy=False)
            if not (a.view(np.uint64) >= self.n_actions).any():  # negatives wrap to huge
                return a
        raise ValueError(f"actions must be {self.num_envs} ints in 0..{self.n_actions - 1}, "
                         f"got {_short(actions)}")

    def _draw_seeds(self, rows: np.ndarray | slice, k: int) -> None:
        """The training seed of the ``k`` new episodes in ``rows`` (``train_seed="episode"``)."""
        if self.oracle.train_seed == "episode":
            self._episode_si[rows] = self.np_random.integers(len(self.oracle.seeds), size=k)

    def _seed_index(self, ev: np.ndarray, mids: np.ndarray):
        """Seed index per copy: 0 for a fixed seed, else the kept or a newly drawn one."""
        if self.oracle.fixed_seed:
            return 0
        if self.oracle.train_seed == "episode":
            draws = self._episode_si
        else:
            draws = self.np_random.integers(len(self.oracle.seeds), size=self.num_envs)
        return self.ledger.seed_index(ev, mids, draws)

    def _observe(self, x: np.ndarray):
        return self.observer.batch(x.copy() if self.copy else x, self.ledger.budget_left(),
                                   self._last_reward)

    def _info(self, model_id, valid, val, step_cost) -> dict:
        ledger = self.ledger
        info = {"model_id": model_id, "valid": valid, "val_top1": val, "step_cost": step_cost,
                "total_cost": ledger.spent(), "best_val": ledger.best_val.copy(),
                "n_models": ledger.n_models.copy()}
        present = np.ones(self.num_envs, dtype=bool)
        info.update({f"_{k}": present for k in INFO_KEYS})
        return info


def _short(x) -> str:
    text = repr(x)
    return text if len(text) < 120 else text[:117] + "..."
