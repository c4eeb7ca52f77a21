"""``blox_gym/BloxBuild-v0``: build an architecture with 15 decisions, one per component in order.

The observation is the partial encoding with ``radix`` (one past the largest value) marking
components not chosen yet, followed by the position 0..15.  Action ``v`` sets the current
component to ``v`` (0..2).  The model is trained after the 15th decision; its objective is the
only reward (-1 at no cost if it is invalid or over a mask constraint).  A value beyond the
current component's radix (``action_masks`` excludes it) ends the episode at once with -1.
"""

from __future__ import annotations

import os

import numpy as np
from gymnasium import spaces

from blox_gym import space
from blox_gym.core import INVALID_REWARD, Budget
from blox_gym.envs.base import NOT_EVALUATED, PLACE, RAW_TO_MODEL, BloxEnv, check_action
from blox_gym.envs.observe import BUILD_NVEC, OBS_DTYPE
from blox_gym.envs.options import Constraint, check_options
from blox_gym.table import Table

N_VALUES = int(space.RADIX.max())  # 3: the action space
RADIX = space.RADIX.tolist()
_UNSET = space.RADIX.tolist() + [0]  # the observation after reset


def prefix_feasible(allowed_raw: np.ndarray) -> list[np.ndarray]:
    """``out[p][r]``: whether components 0..p with raw value ``r`` (over those components)
    can be completed into an allowed encoding.  ``out[14]`` is ``allowed_raw`` itself."""
    out = []
    for p in range(space.N_COMPONENTS):
        width = int(space._PLACE[p] * space.RADIX[p])  # raw values of components 0..p
        out.append(allowed_raw.reshape(-1, width).any(axis=0))
    return out


class BloxBuildEnv(BloxEnv):
    """Choose the 15 components in order; see ``docs/envs.md`` for every option.

    ``mask_invalid``: ``action_masks`` also excludes values after which no valid model (within
    a mask constraint) can be completed, so every masked episode builds a feasible model.
    """

    def __init__(self, table: Table | str | os.PathLike | None = None, *,
                 obs_mode: str = "multidiscrete", mask_invalid: bool = False,
                 fidelity: int | None = None, metric: str = "val_top1",
                 train_seed: int | str | None = None, constraint: Constraint | dict | None = None,
                 budget: Budget | tuple | None = None):
        super().__init__(table, BUILD_NVEC, obs_mode, mask_invalid, fidelity, metric, train_seed,
                         constraint, budget)
        self.action_space = spaces.Discrete(N_VALUES)
        self._prefix_ok = None
        if self.mask_invalid or self._hw_mask:
            allowed = self.oracle.feasible_raw if self.mask_invalid else (
                (space.RAW_TO_MODEL < 0) | self.oracle.feasible_raw)
            self._prefix_ok = prefix_feasible(allowed)
        self._radix_mask = np.arange(N_VALUES)[None, :] < space.RADIX[:, None]  # (15, 3)
        self._start()

    steps_per_model = space.N_COMPONENTS  # decisions per trained model

    def _start(self) -> None:
        self._x = np.array(_UNSET, dtype=OBS_DTYPE)
        self._p = 0
        self._raw = 0

    def _obs(self):
        return self.observer.single(self._x.copy(), self._ledger.budget_left, self._last_reward)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an empty architecture; a ``seed`` also starts a new search."""
        super().reset(seed=seed)
        check_options(options, ())
        if seed is not None:
            self._new_search()
        self._begin_episode()
        self._start()
        return self._obs(), self._info(-1, False, NOT_EVALUATED, 0.0)

    def step(self, action):
        v = check_action(action, N_VALUES)
        p = self._p
        if p >= space.N_COMPONENTS:
            raise RuntimeError("the architecture is complete; call reset()")
        ledger = self._ledger
        if ledger.exhausted:
            self._last_reward = 0.0
            return self._obs(), 0.0, False, True, self._info(-1, False, NOT_EVALUATED, 0.0)
        if v >= RADIX[p]:  # not a value of this component: the architecture is invalid
            self._p = space.N_COMPONENTS
            self._last_reward = INVALID_REWARD
            info = self._info(-1, False, NOT_EVALUATED, 0.0)
            return self._obs(), INVALID_REWARD, True, False, info
        self._x[p] = v
        self._raw += v * PLACE[p]
        self._p = p = p + 1
        self._x[-1] = p
        mid, valid, val, cost, reward = -1, False, NOT_EVALUATED, 0.0, 0.0
        if p == space.N_COMPONENTS:
            mid = RAW_TO_MODEL[self._raw]
            valid = self._feasible[self._raw]
            if valid:
                val, reward, cost = self._evaluate(mid)
            else:
                reward = INVALID_REWARD
        self._last_reward = reward
        terminated = p == space.N_COMPONENTS
        return self._obs(), reward, terminated, ledger.exhausted, self._info(mid, valid, val, cost)

    def action_masks(self) -> np.ndarray:
        """Allowed values (3 bools) for the current component: within its radix, and with
        ``mask_invalid`` or a mask constraint, completable into a feasible model."""
        p = self._p
        if p >= space.N_COMPONENTS:
            return np.ones(N_VALUES, dtype=bool)
        mask = self._radix_mask[p].copy()
        if self._prefix_ok is not None:
            values = np.flatnonzero(mask)
            mask[values] = self._prefix_ok[p][self._raw + values * PLACE[p]]
        return mask
