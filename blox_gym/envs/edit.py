"""``blox_gym/BloxEdit-v0``: walk the space by editing one component of the encoding at a time.

An episode starts from a valid model and makes ``horizon`` edits; action ``a`` sets component
``space.ACTION_COMPONENT[a]`` to ``space.ACTION_VALUE[a]``.  An edit that gives an invalid
model (or one over a mask constraint) scores -1 at no cost and is *rejected*: the state stays
the last valid model, and the edit still counts towards the horizon.  So every observation is
a valid model.
"""

from __future__ import annotations

import os

import numpy as np
from gymnasium import spaces

from blox_gym import space
from blox_gym.core import INVALID_REWARD, Budget
from blox_gym.envs.base import (NOT_EVALUATED, RAW_TO_MODEL, BloxEnv, check_action, parse_start,
                                start_table)
from blox_gym.envs.observe import EDIT_NVEC, OBS_DTYPE
from blox_gym.envs.options import Constraint, check_choice, check_options
from blox_gym.table import Table

REWARDS = ("final", "step", "improvement")
_NO_BEST = -np.inf
COMPONENT = space.ACTION_COMPONENT.tolist()
VALUE = space.ACTION_VALUE.tolist()
ACTION_PLACE = space._PLACE[space.ACTION_COMPONENT]
_ACTION_PLACE = ACTION_PLACE.tolist()  # raw-index weight of each action's component
_ACTION_RADIX = space.RADIX[space.ACTION_COMPONENT].tolist()


def check_edit_options(horizon: int, reward: str) -> int:
    """The horizon as an int, after checking both options."""
    check_choice("reward", reward, REWARDS)
    if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be an int >= 1 (edits per episode), got {horizon!r}")
    return int(horizon)


class BloxEditEnv(BloxEnv):
    """Edit one component per step; see ``docs/envs.md`` for every option.

    ``reward``: ``"final"`` (the last model's objective at the end of the episode, 0 before:
    the paper's Q-learning with ``horizon=2``), ``"step"`` (each new model's objective) or
    ``"improvement"`` (how much each step raises the episode's best objective, which starts
    at the start model's: the start model is trained at reset).  Objective = validation top-1
    / 100 after ``fidelity`` epochs by default.  Infeasible edits give -1 in every mode.
    """

    def __init__(self, table: Table | str | os.PathLike | None = None, *, horizon: int = 2,
                 reward: str = "final", obs_mode: str = "multidiscrete",
                 mask_invalid: bool = False, mask_revisits: bool = False,
                 fidelity: int | None = None, metric: str = "val_top1",
                 train_seed: int | str | None = None, constraint: Constraint | dict | None = None,
                 budget: Budget | tuple | None = None):
        self.horizon = check_edit_options(horizon, reward)
        super().__init__(table, EDIT_NVEC, obs_mode, mask_invalid, fidelity, metric, train_seed,
                         constraint, budget)
        self.reward_mode = reward
        self.mask_revisits = bool(mask_revisits)
        self.action_space = spaces.Discrete(space.N_ACTIONS)
        self._start_raw, self._start_enc = start_table(self.oracle.feasible_raw)
        self._md = obs_mode == "multidiscrete"
        self._set_state(space.CANONICAL[0].copy(), 0)
        self._t = 0
        self._best = -np.inf

    @property
    def steps_per_model(self) -> int:
        """Steps per trained model: the horizon with ``reward="final"``, else 1."""
        return self.horizon if self.reward_mode == "final" else 1

    def _set_state(self, x: np.ndarray, raw: int) -> None:
        self._x = x
        self._raw = raw
        self._mid = RAW_TO_MODEL[raw]
        self._visited = [self._mid]

    def _obs(self):
        if self._md:
            return self._x.copy()
        return self.observer.single(self._x.copy(), self._ledger.budget_left, self._last_reward)

    # ------------------------------------------------------------ Gymnasium API

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode from a random feasible encoding (uniform over encodings), or from
        ``options={"arch": ...}``.  A ``seed`` also starts a new search."""
        super().reset(seed=seed)
        if seed is not None:
            self._new_search()
        self._begin_episode()
        if options and check_options(options, ("arch",)):
            x, raw = parse_start(options["arch"])
            if not self._feasible[raw]:
                raise ValueError(f"start architecture {x.tolist()} is invalid or over the mask "
                                 f"constraint")
            x = x.astype(OBS_DTYPE)
        else:
            i = int(self.np_random.random() * len(self._start_raw))
            x, raw = self._start_enc[i].copy(), int(self._start_raw[i])
        self._set_state(x, raw)
        self._t = 0
        val, cost = NOT_EVALUATED, 0.0
        self._best = _NO_BEST
        if self.reward_mode == "improvement" and not self._ledger.exhausted:
            val, self._best, cost = self._evaluate(self._mid)
        return self._obs(), self._info(self._mid, True, val, cost)

    def step(self, action):
        a = check_action(action, space.N_ACTIONS)
        ledger = self._ledger
        self._t += 1
        terminated = self._t >= self.horizon
        if ledger.exhausted:  # nothing more is trained in this search
            self._last_reward = 0.0
            info = self._info(self._mid, True, NOT_EVALUATED, 0.0)
            return self._obs(), 0.0, terminated, True, info
        place, raw = _ACTION_PLACE[a], self._raw
        raw += (VALUE[a] - raw // place % _ACTION_RADIX[a]) * place
        mid = RAW_TO_MODEL[raw]
        val, cost = NOT_EVALUATED, 0.0
        valid = self._feasible[raw]
        if not valid:
            reward = INVALID_REWARD
        else:
            self._x[COMPONENT[a]] = VALUE[a]
            self._raw, self._mid = raw, mid
            self._visited.append(mid)
            mode = self.reward_mode
            if mode == "step":
                val, reward, cost = self._evaluate(mid)
            elif mode == "final":
                reward = 0.0
                if terminated:
                    val, reward, cost = self._evaluate(mid)
            else:
                val, score, cost = self._evaluate(mid)
                reward = score - self._best if score > self._best else 0.0
                if score > self._best:
                    self._best = score
        self._last_reward = reward
        return self._obs(), reward, terminated, ledger.exhausted, self._info(mid, valid, val, cost)

    # ------------------------------------------------------------ masks

    def action_masks(self) -> np.ndarray:
        """Allowed edits (36 bools): never a no-op; with ``mask_invalid`` no invalid model,
        with a mask constraint none over it, with ``mask_revisits`` no model visited in this
        episode.  If that leaves nothing, the no-op edits (stay) are allowed."""
        current = self._x[space.ACTION_COMPONENT]
        mask = space.ACTION_VALUE != current
        if self.mask_invalid or self._hw_mask or self.mask_revisits:
            raws = self._raw + (space.ACTION_VALUE - current) * ACTION_PLACE
            mids = space.RAW_TO_MODEL[raws]
            feasible = self.oracle.feasible_raw[raws]
            mask &= feasible if self.mask_invalid else (mids < 0) | feasible
            if self.mask_revisits:
                for visited in self._visited:
                    mask &= mids != visited
        return mask if mask.any() else space.ACTION_VALUE == current
