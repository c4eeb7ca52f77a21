"""Native vector version of ``blox_gym/BloxEdit-v0``: N copies stepped with array operations."""

from __future__ import annotations

import os

import numpy as np

from blox_gym import space
from blox_gym.core import INVALID_REWARD, Budget
from blox_gym.envs.base import NOT_EVALUATED, start_table
from blox_gym.envs.edit import ACTION_PLACE, check_edit_options
from blox_gym.envs.observe import EDIT_NVEC, OBS_DTYPE
from blox_gym.envs.options import Constraint, check_options
from blox_gym.envs.vector_base import BloxVectorEnv
from blox_gym.table import Table

_COMPONENT, _VALUE = space.ACTION_COMPONENT, space.ACTION_VALUE
_PLACE_OF_ACTION = ACTION_PLACE.astype(np.int64)
_RAW_TO_MODEL = space.RAW_TO_MODEL  # int32: half the cache footprint of int64
_NOT_VISITED = -2  # fills the visited models' table; no model id, not even invalid (-1)


class BloxEditVectorEnv(BloxVectorEnv):
    """``num_envs`` copies of :class:`blox_gym.envs.edit.BloxEditEnv` (same options).

    ``copy=False`` returns the internal observation array, which the next step overwrites.
    """

    def __init__(self, num_envs: int = 1, table: Table | str | os.PathLike | None = None, *,
                 horizon: int = 2, reward: str = "final", obs_mode: str = "multidiscrete",
                 mask_invalid: bool = False, mask_revisits: bool = False,
                 fidelity: int | None = None, metric: str = "val_top1",
                 train_seed: int | str | None = None, constraint: Constraint | dict | None = None,
                 budget: Budget | tuple | None = None, copy: bool = True):
        self.horizon = check_edit_options(horizon, reward)
        super().__init__(num_envs, table, EDIT_NVEC, obs_mode, mask_invalid, fidelity, metric,
                         train_seed, constraint, budget, space.N_ACTIONS, copy)
        self.reward_mode = reward
        self.mask_revisits = bool(mask_revisits)
        self._feasible_raw = self.oracle.feasible_raw
        self._start_raw, self._start_enc = start_table(self._feasible_raw)
        n, h = self.num_envs, self.horizon + 1
        self._x = np.zeros((n, space.N_COMPONENTS), dtype=OBS_DTYPE)
        self._x_flat = self._x.reshape(-1)  # flat views with row offsets: take/put are fastest
        self._x_offset = self._rows * space.N_COMPONENTS
        self._raw = np.zeros(n, dtype=np.int64)
        self._mid = np.zeros(n, dtype=np.int64)
        self._t = np.zeros(n, dtype=np.int64)
        self._visited = np.full((n, h), _NOT_VISITED, dtype=np.int64)  # the episode's models
        self._visited_flat = self._visited.reshape(-1)
        self._visited_offset = self._rows * h
        self._best = np.full(n, -np.inf)

    def _begin(self, rows: np.ndarray, raw: np.ndarray | None = None) -> None:
        """Start episodes in ``rows`` from ``raw`` encodings, or random feasible ones."""
        k = len(rows)
        if k == self.num_envs:
            rows = slice(None)  # basic indexing: much faster than a full index array
        if raw is None:
            i = (self.np_random.random(k) * len(self._start_raw)).astype(np.int64)
            raw, x = self._start_raw.take(i), self._start_enc.take(i, axis=0)
        else:
            x = space.from_raw_index(raw)
        self._x[rows] = x
        self._raw[rows] = raw
        self._mid[rows] = mid = _RAW_TO_MODEL.take(raw)
        self._t[rows] = 0
        self._visited[rows] = _NOT_VISITED
        self._visited[rows, 0] = mid
        self._best[rows] = -np.inf
        self._last_reward[rows] = 0.0
        self._draw_seeds(rows, k)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode in every copy; ``options={"arch": ...}`` gives one start
        architecture for all copies or an ``(num_envs, 15)`` array of them."""
        self._seed(seed)
        options = check_options(options, ("arch",))
        raw = None
        if "arch" in options:
            flat = np.broadcast_to(space.to_flat(options["arch"]), self._x.shape)
            raw = flat @ space._PLACE
            if not self._feasible_raw[raw].all():
                bad = flat[np.flatnonzero(~self._feasible_raw[raw])[0]].tolist()
                raise ValueError(f"start architecture {bad} is invalid or over the mask constraint")
        self._begin(self._rows, raw)
        ev = np.full(self.num_envs, self.reward_mode == "improvement") & ~self.ledger.exhausted()
        val, score, cost = self.ledger.evaluate(ev, self._mid, self._seed_index(ev, self._mid))
        self._best = np.where(ev, score, self._best)
        self._autoreset[:] = False
        info = self._info(self._mid.copy(), np.ones(self.num_envs, dtype=bool),
                          np.where(ev, val, NOT_EVALUATED), cost)
        return self._observe(self._x), info

    def step(self, actions):
        a = self._check_actions(actions)
        reset = self._autoreset
        if reset.any():
            self._begin(np.flatnonzero(reset))
        act = ~reset
        going = act & ~self.ledger.exhausted()
        v = _VALUE.take(a)
        where = self._x_offset + _COMPONENT.take(a)
        old = self._x_flat.take(where)
        raw = self._raw + (v - old) * _PLACE_OF_ACTION.take(a)
        attempted = _RAW_TO_MODEL.take(raw)
        valid = self._feasible_raw.take(raw) if self._hw_mask else attempted >= 0
        move = going & valid
        self._x_flat[where] = np.where(move, v, old)
        self._raw = np.where(move, raw, self._raw)
        self._mid = mid = np.where(move, attempted, self._mid)
        self._t += act
        t = self._t
        self._visited_flat[self._visited_offset + t] = mid
        improvement = self.reward_mode == "improvement"
        ev = move & (t >= self.horizon) if self.reward_mode == "final" else move
        if improvement:
            ev = ev | (reset & ~self.ledger.exhausted())
        val, score, cost = self.ledger.evaluate(ev, mid, self._seed_index(ev, mid))
        if improvement:
            better = ev & (score > self._best)
            reward = np.where(better & act, score - self._best, 0.0)
            self._best = np.where(better, score, self._best)
        else:
            reward = np.where(ev, score, 0.0)
        reward[going & ~valid] = INVALID_REWARD
        terminated = act & (t >= self.horizon)
        truncated = act & self.ledger.exhausted()
        self._autoreset = terminated | truncated
        self._last_reward = reward
        info = self._info(np.where(going, attempted, mid), valid | ~going,
                          np.where(ev, val, NOT_EVALUATED), cost)
        return self._observe(self._x), reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """``(num_envs, 36)`` allowed edits, by the rules of ``BloxEditEnv.action_masks``."""
        current = self._x[:, _COMPONENT]
        mask = _VALUE != current
        if self.mask_invalid or self._hw_mask or self.mask_revisits:
            raws = self._raw[:, None] + (_VALUE - current) * _PLACE_OF_ACTION
            mids = _RAW_TO_MODEL[raws]
            feasible = self._feasible_raw[raws]
            mask &= feasible if self.mask_invalid else (mids < 0) | feasible
            if self.mask_revisits:
                mask &= (mids[:, :, None] != self._visited[:, None, :]).all(axis=2)
        empty = ~mask.any(axis=1)
        mask[empty] = (_VALUE == current)[empty]
        return mask
