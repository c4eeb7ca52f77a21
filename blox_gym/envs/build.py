"""``blox_gym/BloxBuild-v0``: build an architecture with 15 decisions, one per component in order.

The observation is the partial encoding with ``radix`` (one past the largest value) marking
components not chosen yet, followed by the position 0..15.  Action ``v`` sets the current
component to ``v`` (0..2).  The model is trained after the 15th decision; its objective is the
only reward (-1 at no cost if it is invalid or over a mask constraint).  A value beyond the
current component's radix (``action_masks`` excludes it) ends the episode at once with -1.

:class:`BloxBuildEnv` (one env) and :class:`BloxBuildVectorEnv` (N copies stepped with array
operations) follow the same rules; the masks are one function for both.
"""

from __future__ import annotations

import os

import numpy as np
from gymnasium import spaces

from blox_gym import space
from blox_gym.core import INVALID_REWARD, Budget
from blox_gym.envs.base import (NOT_EVALUATED, PLACE, RAW_TO_MODEL, BloxEnv, BloxVectorEnv,
                                check_action)
from blox_gym.envs.observe import BUILD_NVEC, OBS_DTYPE
from blox_gym.envs.options import Constraint, check_options
from blox_gym.table import Table

N_VALUES = int(space.RADIX.max())  # 3: the action space
_N = space.N_COMPONENTS
RADIX = space.RADIX.tolist()
_UNSET = space.RADIX.tolist() + [0]  # the observation after reset
_RADIX_P = np.concatenate([space.RADIX, [0]])  # per position; position 15 (complete) takes none
_PLACE_P = np.concatenate([space._PLACE, [0]])


def prefix_feasible(allowed_raw: np.ndarray) -> list[np.ndarray]:
    """``out[p][r]``: whether components 0..p with raw value ``r`` (over those components)
    can be completed into an allowed encoding.  ``out[14]`` is ``allowed_raw`` itself."""
    out = []
    for p in range(space.N_COMPONENTS):
        width = int(space._PLACE[p] * space.RADIX[p])  # raw values of components 0..p
        out.append(allowed_raw.reshape(-1, width).any(axis=0))
    return out


def build_masks(p: np.ndarray, raw: np.ndarray, prefix_ok: list[np.ndarray] | None
                ) -> np.ndarray:
    """Allowed values ``(n, 3)`` at positions ``p`` with partial raw indices ``raw``: within
    the component's radix and, with ``prefix_ok``, completable (all, once complete)."""
    values = np.arange(N_VALUES)
    mask = values < _RADIX_P[p][:, None]
    if prefix_ok is not None:
        for q in np.unique(p[p < _N]).tolist():
            rows = np.flatnonzero(p == q)
            raws = raw[rows, None] + values * _PLACE_P[q]
            mask[rows] &= prefix_ok[q][np.minimum(raws, len(prefix_ok[q]) - 1)]
    mask[p >= _N] = True
    return mask


def _prefix_table(oracle, mask_invalid: bool, hw_mask: bool) -> list[np.ndarray] | None:
    if not (mask_invalid or hw_mask):
        return None
    feasible = oracle.feasible_raw
    return prefix_feasible(feasible if mask_invalid else (space.RAW_TO_MODEL < 0) | feasible)


class BloxBuildEnv(BloxEnv):
    """Choose the 15 components in order; see ``docs/envs.md`` for every option.

    ``mask_invalid``: ``action_masks`` also excludes values after which no valid model (within
    a mask constraint) can be completed, so every masked episode builds a feasible model.
    """

    def __init__(self, table: Table | str | os.PathLike | None = None, *,
                 obs_mode: str = "multidiscrete", mask_invalid: bool = False,
                 fidelity: int | None = None, metric: str = "val_top1",
                 train_seed: int | str | None = None, constraint: Constraint | dict | None = None,
                 budget: Budget | tuple | None = None, on_budget_end: str = "new_search",
                 sealed: bool = False, render_mode: str | None = None):
        super().__init__(table, BUILD_NVEC, obs_mode, mask_invalid, fidelity, metric, train_seed,
                         constraint, budget, on_budget_end, sealed, render_mode)
        self.action_space = spaces.Discrete(N_VALUES)
        self._prefix_ok = _prefix_table(self._oracle, self.mask_invalid, self._hw_mask)
        self._start()

    steps_per_model = space.N_COMPONENTS  # decisions per trained model

    def _start(self) -> None:
        self._x = np.array(_UNSET, dtype=OBS_DTYPE)
        self._p = 0
        self._raw = 0
        self._mid = -1

    def _obs(self):
        return self.observer.single(self._x.copy(), self._ledger.budget_left, self._last_reward)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an empty architecture; a ``seed`` also starts a new search."""
        check_options(options, ())
        self._start_episode(seed)
        self._start()
        return self._obs(), self._info(-1, False, NOT_EVALUATED, 0.0)

    def step(self, action):
        v = check_action(action, N_VALUES)
        self._check_started()
        p = self._p
        if p >= space.N_COMPONENTS:
            raise RuntimeError("the architecture is complete; call reset()")
        ledger = self._ledger
        if ledger.exhausted:  # the search is over: the episode ends at once
            self._last_reward = 0.0
            self._told = True
            return self._obs(), 0.0, True, False, self._info(-1, False, NOT_EVALUATED, 0.0)
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
            self._mid = mid = RAW_TO_MODEL[self._raw]
            valid = self._feasible[self._raw]
            if valid:
                val, reward, cost = self._evaluate(mid)
            else:
                reward = INVALID_REWARD
        self._last_reward = reward
        self._told = ledger.exhausted
        terminated = p == space.N_COMPONENTS or self._told
        return self._obs(), reward, terminated, False, self._info(mid, valid, val, cost)

    def action_masks(self) -> np.ndarray:
        """Allowed values (3 bools) for the current component: within its radix, and with
        ``mask_invalid`` or a mask constraint, completable into a feasible model."""
        self._check_started("action_masks()")
        return build_masks(np.array([self._p]), np.array([self._raw]), self._prefix_ok)[0]

    def render(self) -> str | None:
        """With ``render_mode="ansi"``: the partial encoding (``_`` not chosen yet), the
        model once complete, the last reward, the best validation top-1 and the cost."""
        return self._render(self._x, RADIX, self._mid)


class BloxBuildVectorEnv(BloxVectorEnv):
    """``num_envs`` copies of :class:`BloxBuildEnv` (same options), stepped with numpy.

    ``copy=False`` returns the internal observation array, which the next step overwrites.
    See :class:`~blox_gym.envs.base.BloxVectorEnv` for ``autoreset_mode`` and
    ``shared_budget``.
    """

    def __init__(self, num_envs: int = 1, table: Table | str | os.PathLike | None = None, *,
                 obs_mode: str = "multidiscrete", mask_invalid: bool = False,
                 fidelity: int | None = None, metric: str = "val_top1",
                 train_seed: int | str | None = None, constraint: Constraint | dict | None = None,
                 budget: Budget | tuple | None = None, on_budget_end: str = "new_search",
                 sealed: bool = False, render_mode: str | None = None,
                 autoreset_mode: str = "next_step", shared_budget: bool = False,
                 copy: bool = True):
        super().__init__(num_envs, table, BUILD_NVEC, N_VALUES, obs_mode, mask_invalid,
                         fidelity, metric, train_seed, constraint, budget, on_budget_end,
                         sealed, render_mode, autoreset_mode, shared_budget, copy)
        self._feasible_raw = self._oracle.feasible_raw
        self._prefix_ok = _prefix_table(self._oracle, self.mask_invalid, self._hw_mask)
        n = self.num_envs
        self._unset = RADIX
        self._x = np.tile(_UNSET, (n, 1)).astype(OBS_DTYPE)
        self._raw = np.zeros(n, dtype=np.int64)
        self._mid = np.full(n, -1, dtype=np.int64)

    steps_per_model = BloxBuildEnv.steps_per_model

    def _model_ids(self) -> np.ndarray:
        return self._mid

    def _restart(self, rows) -> tuple:
        """Empty architectures in ``rows``; their reset info (model, valid, val, cost)."""
        self._begin_rows(rows)
        self._x[rows] = _UNSET
        self._raw[rows] = 0
        self._mid[rows] = -1
        return -1, False, NOT_EVALUATED, 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an empty architecture in every copy."""
        check_options(options, ())
        self._start_searches(seed)
        self._restart(self._rows)
        self._autoreset[:] = False
        n = self.num_envs
        info = self._info(np.full(n, -1), np.zeros(n, dtype=bool), np.full(n, NOT_EVALUATED),
                          np.zeros(n))
        return self._observe(), info

    def _act(self, v: np.ndarray, act: np.ndarray) -> tuple:
        """Apply the values of copies ``act``: (model id, valid, val top-1, cost, reward,
        terminated) per copy."""
        going = act & ~self.ledger.exhausted
        rows, p = self._rows, self._x[:, _N].astype(np.int64)
        beyond = going & (v >= _RADIX_P[p])
        ok = going & ~beyond
        self._x[rows, p] = np.where(ok, v, self._x[rows, p])
        self._raw += np.where(ok, v * _PLACE_P[p], 0)
        self._x[:, _N] = p = p + ok
        complete = ok & (p == _N)
        valid = complete & self._feasible_raw[self._raw]
        mid = np.where(complete, space.RAW_TO_MODEL[self._raw], -1).astype(np.int64)
        self._mid = np.where(complete, mid, self._mid)
        safe = np.maximum(mid, 0)
        val, score, cost, ev = self.ledger.evaluate(valid, safe, self._seed_index(valid, safe))
        reward = np.where(ev, score, 0.0)
        reward[beyond | (complete & ~valid)] = INVALID_REWARD
        terminated = act & (beyond | complete | self.ledger.exhausted)
        return mid, valid, np.where(ev, val, NOT_EVALUATED), cost, reward, terminated

    def action_masks(self) -> np.ndarray:
        """``(num_envs, 3)`` allowed values, by the rules of :meth:`BloxBuildEnv.action_masks`."""
        self._check_started("action_masks()")
        return build_masks(self._x[:, _N].astype(np.int64), self._raw, self._prefix_ok)
