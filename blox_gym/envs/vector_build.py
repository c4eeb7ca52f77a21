"""Native vector version of ``blox_gym/BloxBuild-v0``: N copies stepped with array operations."""

from __future__ import annotations

import os

import numpy as np

from blox_gym import space
from blox_gym.core import INVALID_REWARD, Budget
from blox_gym.envs.base import NOT_EVALUATED
from blox_gym.envs.build import N_VALUES, prefix_feasible
from blox_gym.envs.observe import BUILD_NVEC, OBS_DTYPE
from blox_gym.envs.options import Constraint, check_options
from blox_gym.envs.vector_base import BloxVectorEnv
from blox_gym.table import Table

_N = space.N_COMPONENTS
_UNSET = np.concatenate([space.RADIX, [0]])
_RADIX = np.concatenate([space.RADIX, [0]])  # position 15 (complete) takes no value
_PLACE = np.concatenate([space._PLACE, [0]])
_RAW_TO_MODEL = space.RAW_TO_MODEL.astype(np.int64)


class BloxBuildVectorEnv(BloxVectorEnv):
    """``num_envs`` copies of :class:`blox_gym.envs.build.BloxBuildEnv` (same options).

    ``copy=False`` returns the internal observation array, which the next step overwrites.
    """

    def __init__(self, num_envs: int = 1, table: Table | str | os.PathLike | None = None, *,
                 obs_mode: str = "multidiscrete", mask_invalid: bool = False,
                 fidelity: int | None = None, metric: str = "val_top1",
                 train_seed: int | str | None = None, constraint: Constraint | dict | None = None,
                 budget: Budget | tuple | None = None, copy: bool = True):
        super().__init__(num_envs, table, BUILD_NVEC, obs_mode, mask_invalid, fidelity, metric,
                         train_seed, constraint, budget, N_VALUES, copy)
        feasible = self.oracle.feasible_raw
        self._feasible_raw = feasible
        self._prefix_ok = None
        if self.mask_invalid or self._hw_mask:
            allowed = feasible if self.mask_invalid else (space.RAW_TO_MODEL < 0) | feasible
            self._prefix_ok = prefix_feasible(allowed)
        n = self.num_envs
        self._x = np.tile(_UNSET, (n, 1)).astype(OBS_DTYPE)
        self._raw = np.zeros(n, dtype=np.int64)

    def _begin(self, rows: np.ndarray) -> None:
        k = len(rows)
        self._x[rows] = _UNSET
        self._raw[rows] = 0
        self._last_reward[rows] = 0.0
        self._draw_seeds(rows, k)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an empty architecture in every copy."""
        self._seed(seed)
        check_options(options, ())
        self._begin(self._rows)
        self._autoreset[:] = False
        n = self.num_envs
        info = self._info(np.full(n, -1), np.zeros(n, dtype=bool), np.full(n, NOT_EVALUATED),
                          np.zeros(n))
        return self._observe(self._x), info

    def step(self, actions):
        v = self._check_actions(actions)
        reset = self._autoreset
        if reset.any():
            self._begin(np.flatnonzero(reset))
        going = ~reset & ~self.ledger.exhausted()
        rows, p = self._rows, self._x[:, _N]
        beyond = going & (v >= _RADIX[p])
        ok = going & ~beyond
        self._x[rows, p] = np.where(ok, v, self._x[rows, p])
        self._raw += np.where(ok, v * _PLACE[p], 0)
        self._x[:, _N] = p = p + ok
        complete = ok & (p == _N)
        valid = complete & self._feasible_raw[self._raw]
        mid = np.where(complete, _RAW_TO_MODEL[self._raw], -1)
        safe = np.maximum(mid, 0)
        val, score, cost = self.ledger.evaluate(valid, safe, self._seed_index(valid, safe))
        reward = np.where(valid, score, 0.0)
        reward[beyond | (complete & ~valid)] = INVALID_REWARD
        terminated = beyond | complete
        truncated = ~reset & self.ledger.exhausted()
        self._autoreset = terminated | truncated
        self._last_reward = reward
        info = self._info(mid, valid, np.where(valid, val, NOT_EVALUATED), cost)
        return self._observe(self._x), reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """``(num_envs, 3)`` allowed values, by the rules of ``BloxBuildEnv.action_masks``."""
        p = self._x[:, _N]
        values = np.arange(N_VALUES)
        mask = values < _RADIX[p][:, None]
        if self._prefix_ok is not None:
            for q in np.unique(p[p < _N]):
                rows = np.flatnonzero(p == q)
                raws = self._raw[rows, None] + values * _PLACE[q]
                ok = self._prefix_ok[q][np.minimum(raws, len(self._prefix_ok[q]) - 1)]
                mask[rows] &= ok
        mask[p >= _N] = True
        return mask
