"""``blox_gym/BloxEdit-v0``: walk the space by editing one component of the encoding at a time.

An episode starts from a valid model and makes ``horizon`` edits.  ``action_mode="absolute"``
(``Discrete(36)``): action ``a`` sets component ``space.ACTION_COMPONENT[a]`` to
``space.ACTION_VALUE[a]``; setting a component to its current value is a *no-op*: it scores
``noop_reward``, trains nothing and costs nothing.  ``action_mode="relative"``
(``Discrete(21)``, recommended for RL): action ``a`` moves component ``d = REL_COMPONENT[a]``
from value ``v`` to ``(v + REL_STEP[a]) mod radix[d]``, so every action changes the encoding,
as the paper's Q-learning defines one.  An edit that gives an invalid model (or one over a mask
constraint) scores -1 at no cost and is *rejected*: the state stays the last valid model.
No-ops and rejected edits count towards the horizon, so every observation is a valid model.

:class:`BloxEditEnv` (one env) and :class:`BloxEditVectorEnv` (N copies stepped with array
operations) follow the same rules; the masks are one function for both.
"""

from __future__ import annotations

import os

import numpy as np
from gymnasium import spaces

from blox_gym import space
from blox_gym.core import INVALID_REWARD, Budget
from blox_gym.envs.base import (NOT_EVALUATED, RAW_TO_MODEL, BloxEnv, BloxVectorEnv,
                                check_action, parse_start, start_table)
from blox_gym.envs.observe import EDIT_NVEC, OBS_DTYPE
from blox_gym.envs.options import Constraint, check_choice, check_options
from blox_gym.table import Table

REWARDS = ("final", "step", "improvement")
ACTION_MODES = ("absolute", "relative")
_NO_BEST = -np.inf
_RADIX = space.RADIX.astype(np.int64)
_PLACE = space._PLACE.astype(np.int64)
#: Relative actions: component and step (1..radix-1), components in order.
REL_COMPONENT = np.repeat(np.arange(space.N_COMPONENTS), _RADIX - 1)
REL_STEP = np.concatenate([np.arange(1, r) for r in _RADIX])
N_RELATIVE = len(REL_COMPONENT)  # 21
_ABS = (space.ACTION_COMPONENT.tolist(), space.ACTION_VALUE.tolist())
_REL = (REL_COMPONENT.tolist(), REL_STEP.tolist())
_PLACE_L, _RADIX_L = _PLACE.tolist(), _RADIX.tolist()
_NOT_VISITED = -2  # fills the visited models' table; no model id, not even invalid (-1)


def check_edit_options(horizon: int, reward: str, action_mode: str, noop_reward: float) -> int:
    """The horizon as an int, after checking the edit options."""
    check_choice("reward", reward, REWARDS)
    check_choice("action_mode", action_mode, ACTION_MODES)
    if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be an int >= 1 (edits per episode), got {horizon!r}")
    if isinstance(noop_reward, bool) or not isinstance(noop_reward, (int, float)) \
            or not -1 <= noop_reward <= 1:
        raise ValueError(f"noop_reward must be a number in [-1, 1], got {noop_reward!r}")
    return int(horizon)


def _block_of_code() -> np.ndarray:
    """Block index (0..44) of each of a stage's 72 encodings; for an invalid stage a large
    negative number, so that any model id computed with it is negative (int32)."""
    codes = np.arange(_STAGE_PLACE[-1] * 2)
    stage = (codes[:, None] // _STAGE_PLACE) % _RADIX[:5]
    ids = space.RAW_TO_MODEL[np.tile(stage, 3) @ _PLACE]
    return np.where(ids >= 0, ids % space.N_BLOCKS, -10**6).astype(np.int32)


_STAGE_PLACE = _PLACE[:5]  # a stage's 5 components as a mixed-radix code, 0..71
_STAGE_PLACE32, _RADIX32 = _STAGE_PLACE.astype(np.int32), _RADIX.astype(np.int32)
_REL_STEP32, _ACTION_VALUE32 = REL_STEP.astype(np.int32), space.ACTION_VALUE.astype(np.int32)
_BLOCK = _block_of_code()
_STAGE_OF = np.arange(space.N_COMPONENTS) // 5
_STAGE_WEIGHT = (space.N_BLOCKS ** np.arange(space.N_STAGES)).astype(np.int32)  # id = sum
_CODE_STEP = _STAGE_PLACE[np.arange(space.N_COMPONENTS) % 5].astype(np.int32)  # block * 45**s


def edit_masks(x: np.ndarray, mid: np.ndarray, visited: np.ndarray | None, relative: bool,
               feasible_model: np.ndarray | None, exclude_invalid: bool) -> np.ndarray:
    """Allowed actions of ``n`` states (``x``: (n, 15) encodings, ``mid``: their model ids):
    never a no-op; with ``feasible_model`` none to an infeasible model (invalid ones too if
    ``exclude_invalid``); none to a model id in the state's row of ``visited``.  A state left
    with nothing allows its no-ops (absolute) or every action (relative).

    An edit changes one stage, so the new model id is the old one with that stage's block
    swapped: small-table look-ups only, no gathers in the 3.4 M-entry raw index."""
    comp = REL_COMPONENT if relative else space.ACTION_COMPONENT
    current = x.take(comp, axis=1).astype(np.int32)  # take: C order, fast downstream
    if relative:
        target = (current + _REL_STEP32) % _RADIX32[comp]
        mask = np.ones(target.shape, dtype=bool)
    else:
        target = _ACTION_VALUE32
        mask = target != current
    if feasible_model is not None or visited is not None:
        code = x.reshape(len(x), space.N_STAGES, 5).astype(np.int32) @ _STAGE_PLACE32  # (n, 3)
        stage = _STAGE_OF[comp]
        old_code = code.take(stage, axis=1)
        new_block = _BLOCK[old_code + (target - current) * _CODE_STEP[comp]]
        # negative where the edit makes the stage invalid
        mids = mid.astype(np.int32)[:, None] + (new_block - _BLOCK[old_code]) * _STAGE_WEIGHT[stage]
        if feasible_model is not None:
            feasible = (mids >= 0) & feasible_model.take(np.maximum(mids, 0))
            mask &= feasible if exclude_invalid else (mids < 0) | feasible
        if visited is not None:
            for j in range(visited.shape[1]):
                mask &= mids != visited[:, j:j + 1]
    empty = ~mask.any(axis=1)
    if empty.any():
        mask[empty] = True if relative else (target == current)[empty]
    return mask


class BloxEditEnv(BloxEnv):
    """Edit one component per step; see ``docs/envs.md`` for every option.

    ``reward``: ``"final"`` (the last model's objective at the end of the episode, 0 before:
    the paper's Q-learning with ``horizon=2``), ``"step"`` (each new model's objective) or
    ``"improvement"`` (how much each step raises the episode's best objective, which starts
    at the start model's: the start model is trained at reset).  Objective = validation top-1
    / 100 after ``fidelity`` epochs by default.  Infeasible edits give -1 in every mode.
    """

    def __init__(self, table: Table | str | os.PathLike | None = None, *, horizon: int = 2,
                 reward: str = "final", action_mode: str = "absolute", noop_reward: float = 0.0,
                 obs_mode: str = "multidiscrete", mask_invalid: bool = False,
                 mask_revisits: bool = False, fidelity: int | None = None,
                 metric: str = "val_top1", train_seed: int | str | None = None,
                 constraint: Constraint | dict | None = None, budget: Budget | tuple | None = None,
                 on_budget_end: str = "new_search", sealed: bool = False,
                 render_mode: str | None = None):
        self.horizon = check_edit_options(horizon, reward, action_mode, noop_reward)
        super().__init__(table, EDIT_NVEC, obs_mode, mask_invalid, fidelity, metric, train_seed,
                         constraint, budget, on_budget_end, sealed, render_mode)
        self.reward_mode = reward
        self.action_mode = action_mode
        self.noop_reward = float(noop_reward)
        self.mask_revisits = bool(mask_revisits)
        self._relative = action_mode == "relative"
        self._n_actions = N_RELATIVE if self._relative else space.N_ACTIONS
        self._component, self._value = _REL if self._relative else _ABS
        self.action_space = spaces.Discrete(self._n_actions)
        self._start_raw, self._start_enc = start_table(self._oracle.feasible_raw)
        self._md = obs_mode == "multidiscrete"
        self._set_state(space.CANONICAL[0].astype(OBS_DTYPE), 0)
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
        options = check_options(options, ("arch",))
        self._start_episode(seed)
        if "arch" in options:
            x, raw = parse_start(options["arch"])
            if not self._feasible[raw]:
                raise ValueError(f"start architecture {x.tolist()} is invalid or over the mask "
                                 f"constraint")
            x = x.astype(OBS_DTYPE)
        else:
            i = self._stream.below(len(self._start_raw))
            x, raw = self._start_enc[i].copy(), int(self._start_raw[i])
        self._set_state(x, raw)
        self._t = 0
        val, cost = NOT_EVALUATED, 0.0
        self._best = _NO_BEST
        if self.reward_mode == "improvement" and not self._ledger.exhausted:
            val, self._best, cost = self._evaluate(self._mid)
        return self._obs(), self._info(self._mid, True, val, cost)

    def step(self, action):
        a = check_action(action, self._n_actions)
        self._check_started()
        ledger = self._ledger
        self._t += 1
        terminated = self._t >= self.horizon
        if ledger.exhausted:  # the search is over: the episode ends at once
            self._last_reward = 0.0
            self._told = True
            return self._obs(), 0.0, True, False, self._info(self._mid, True, NOT_EVALUATED, 0.0)
        d, raw = self._component[a], self._raw
        place, radix = _PLACE_L[d], _RADIX_L[d]
        old = raw // place % radix
        v = (old + self._value[a]) % radix if self._relative else self._value[a]
        if v == old:  # a no-op edit (absolute actions only)
            self._last_reward = reward = self.noop_reward
            return self._obs(), reward, terminated, False, self._info(self._mid, True,
                                                                      NOT_EVALUATED, 0.0)
        raw += (v - old) * place
        mid = RAW_TO_MODEL[raw]
        val, cost = NOT_EVALUATED, 0.0
        valid = self._feasible[raw]
        if not valid:
            reward = INVALID_REWARD
        else:
            self._x[d] = v
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
        self._told = ledger.exhausted
        return (self._obs(), reward, terminated or self._told, False,
                self._info(mid, valid, val, cost))

    def action_masks(self) -> np.ndarray:
        """Allowed actions (36 or 21 bools): never a no-op; with ``mask_invalid`` no invalid
        model, with a mask constraint none over it, with ``mask_revisits`` no model visited in
        this episode.  If that leaves nothing, the no-ops (absolute) or all actions
        (relative) are allowed."""
        self._check_started("action_masks()")
        check = self.mask_invalid or self._hw_mask
        visited = np.array([self._visited]) if self.mask_revisits else None
        return edit_masks(self._x[None], np.array([self._mid]), visited, self._relative,
                          self._oracle.feasible_model if check else None, self.mask_invalid)[0]

    def render(self) -> str | None:
        """With ``render_mode="ansi"``: the encoding by stage, the model, the last reward,
        the best validation top-1 and the cost so far, on one line."""
        return self._render(self._x, None, self._mid)


class BloxEditVectorEnv(BloxVectorEnv):
    """``num_envs`` copies of :class:`BloxEditEnv` (same options), stepped with numpy.

    ``copy=False`` returns the internal observation array, which the next step overwrites.
    See :class:`~blox_gym.envs.base.BloxVectorEnv` for ``autoreset_mode`` and
    ``shared_budget``.
    """

    def __init__(self, num_envs: int = 1, table: Table | str | os.PathLike | None = None, *,
                 horizon: int = 2, reward: str = "final", action_mode: str = "absolute",
                 noop_reward: float = 0.0, obs_mode: str = "multidiscrete",
                 mask_invalid: bool = False, mask_revisits: bool = False,
                 fidelity: int | None = None, metric: str = "val_top1",
                 train_seed: int | str | None = None, constraint: Constraint | dict | None = None,
                 budget: Budget | tuple | None = None, on_budget_end: str = "new_search",
                 sealed: bool = False, render_mode: str | None = None,
                 autoreset_mode: str = "next_step", shared_budget: bool = False,
                 copy: bool = True):
        self.horizon = check_edit_options(horizon, reward, action_mode, noop_reward)
        relative = action_mode == "relative"
        super().__init__(num_envs, table, EDIT_NVEC, N_RELATIVE if relative else space.N_ACTIONS,
                         obs_mode, mask_invalid, fidelity, metric, train_seed, constraint,
                         budget, on_budget_end, sealed, render_mode, autoreset_mode,
                         shared_budget, copy)
        self.reward_mode = reward
        self.action_mode = action_mode
        self.noop_reward = float(noop_reward)
        self.mask_revisits = bool(mask_revisits)
        self._relative = relative
        self._component = REL_COMPONENT if relative else space.ACTION_COMPONENT.astype(np.int64)
        self._value = REL_STEP if relative else space.ACTION_VALUE.astype(np.int64)
        self._action_place = _PLACE[self._component]  # raw-index weight of each action
        self._feasible_raw = self._oracle.feasible_raw
        self._start_raw, self._start_enc = start_table(self._feasible_raw)
        self._start_mid = space.RAW_TO_MODEL[self._start_raw]  # 1 MB: a cheaper gather
        n, h = self.num_envs, self.horizon + 1
        self._unset = None
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

    steps_per_model = BloxEditEnv.steps_per_model

    def _model_ids(self) -> np.ndarray:
        return self._mid

    def _begin(self, rows, raw: np.ndarray | None = None) -> None:
        """Start episodes in ``rows`` from ``raw`` encodings, or random feasible ones."""
        self._begin_rows(rows)
        if raw is None:
            i = (self._draw(rows) * len(self._start_raw)).astype(np.int64)
            raw, x, mid = (self._start_raw.take(i), self._start_enc.take(i, axis=0),
                           self._start_mid.take(i))
        else:
            x, mid = space.from_raw_index(raw), space.RAW_TO_MODEL.take(raw)
        self._x[rows] = x
        self._raw[rows] = raw
        self._mid[rows] = mid
        self._t[rows] = 0
        self._visited[rows] = _NOT_VISITED
        self._visited[rows, 0] = mid
        self._best[rows] = -np.inf

    def _restart(self, rows, raw: np.ndarray | None = None) -> tuple:
        """New episodes in ``rows``; their reset info (model, valid, val top-1, cost)."""
        if not isinstance(rows, slice) and len(rows) == self.num_envs:
            rows = slice(None)  # basic indexing: much faster than a full index array
        self._begin(rows, raw)
        mid = self._mid[rows]
        if self.reward_mode != "improvement":
            return mid, True, NOT_EVALUATED, 0.0
        ev = np.zeros(self.num_envs, dtype=bool)
        ev[rows] = True
        ev &= ~self.ledger.exhausted
        val, score, cost, ev = self.ledger.evaluate(ev, self._mid,
                                                    self._seed_index(ev, self._mid))
        self._best = np.where(ev, score, self._best)
        return mid, True, np.where(ev, val, NOT_EVALUATED)[rows], cost[rows]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode in every copy; ``options={"arch": ...}`` gives one start
        architecture for all copies or an ``(num_envs, 15)`` array of them."""
        options = check_options(options, ("arch",))
        raw = None
        if "arch" in options:
            flat = np.broadcast_to(space.to_flat(options["arch"]), self._x.shape)
            raw = flat @ space._PLACE
            if not self._feasible_raw[raw].all():
                bad = flat[np.flatnonzero(~self._feasible_raw[raw])[0]].tolist()
                raise ValueError(f"start architecture {bad} is invalid or over the mask constraint")
        self._start_searches(seed)
        n = self.num_envs
        mid, valid, val, cost = (np.broadcast_to(v, n).copy()
                                 for v in self._restart(self._rows, raw))
        self._autoreset[:] = False
        return self._observe(), self._info(mid, valid, val, cost)

    def _act(self, a: np.ndarray, act: np.ndarray) -> tuple:
        """Apply the actions of copies ``act``: (model id, valid, val top-1, cost, reward,
        terminated) per copy."""
        over = self.ledger.exhausted
        going = act & ~over
        comp = self._component.take(a)
        where = self._x_offset + comp
        old = self._x_flat.take(where).astype(np.int64)
        v = (old + self._value.take(a)) % _RADIX.take(comp) if self._relative else self._value.take(a)
        noop = v == old
        raw = self._raw + (v - old) * self._action_place.take(a)
        attempted = space.RAW_TO_MODEL.take(raw)
        valid = self._feasible_raw.take(raw) if self._hw_mask else attempted >= 0
        move = going & valid & ~noop
        self._x_flat[where] = np.where(move, v, old)
        self._raw = np.where(move, raw, self._raw)
        self._mid = mid = np.where(move, attempted, self._mid)
        self._t += act
        t = self._t
        self._visited_flat[self._visited_offset + np.minimum(t, self.horizon)] = mid
        ev = move & (t >= self.horizon) if self.reward_mode == "final" else move
        val, score, cost, ev = self.ledger.evaluate(ev, mid, self._seed_index(ev, mid))
        if self.reward_mode == "improvement":
            better = ev & (score > self._best)
            reward = np.where(better, score - self._best, 0.0)
            self._best = np.where(better, score, self._best)
        else:
            reward = np.where(ev, score, 0.0)
        reward[going & ~valid & ~noop] = INVALID_REWARD
        reward[going & noop] = self.noop_reward
        terminated = act & ((t >= self.horizon) | self.ledger.exhausted)
        return (np.where(going, attempted, mid), valid | ~going | noop,
                np.where(ev, val, NOT_EVALUATED), cost, reward, terminated)

    def action_masks(self) -> np.ndarray:
        """``(num_envs, 36 or 21)`` allowed actions, by the rules of
        :meth:`BloxEditEnv.action_masks`."""
        self._check_started("action_masks()")
        check = self.mask_invalid or self._hw_mask
        return edit_masks(self._x, self._mid, self._visited if self.mask_revisits else None,
                          self._relative, self._oracle.feasible_model if check else None,
                          self.mask_invalid)
