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
from blox_gym.envs.base import (NOT_EVALUATED, RAW_TO_MODEL, BloxEnv, BloxVectorEnv, check_action,
                                parse_start, start_table)
from blox_gym.envs import moves
from blox_gym.envs.moves import (REL_COMPONENT, REL_STEP, STAGE_DIGITS, codes_of_raw,
                                 edit_masks, edit_tables, model_of_codes, start_records)
from blox_gym.envs.observe import EDIT_NVEC, OBS_DTYPE
from blox_gym.envs.options import Constraint, check_choice, check_options
from blox_gym.table import Table

__all__ = ["BloxEditEnv", "BloxEditVectorEnv", "N_RELATIVE", "REL_COMPONENT", "REL_STEP",
           "edit_masks"]

REWARDS = ("final", "step", "improvement")
ACTION_MODES = ("absolute", "relative")
_NO_BEST = -np.inf
N_RELATIVE = len(REL_COMPONENT)  # 21
_CODE_PLACE = moves.CODE_PLACE.tolist()  # a raw index is stage codes @ this
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
        self.noop_reward = float(noop_reward) + 0.0  # -0.0 is 0.0
        self.mask_revisits = bool(mask_revisits)
        self._relative = action_mode == "relative"
        self._moves = edit_tables(self._relative)
        self._n_actions = self._moves.n_actions
        self._feasible_model = self._oracle.feasible_model.tolist()
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
        self._code = [raw // place % moves.N_CODES for place in _CODE_PLACE]
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
        moves, code = self._moves, self._code
        s = moves.stage_l[a]
        key = moves.key_base_l[a] + code[s]
        new_code = moves.new_code_l[key]
        if new_code == code[s]:  # a no-op edit (absolute actions only)
            self._last_reward = reward = self.noop_reward
            return self._obs(), reward, terminated, False, self._info(self._mid, True,
                                                                      NOT_EVALUATED, 0.0)
        mid = self._mid + moves.delta_l[key]
        val, cost = NOT_EVALUATED, 0.0
        valid = mid >= 0 and self._feasible_model[mid]
        if not valid:
            reward = INVALID_REWARD
            mid = max(mid, -1)
        else:
            self._x[moves.component_l[a]] = moves.new_value_l[key]
            code[s] = new_code
            self._mid = mid
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
        visited = np.array([self._visited]) if self.mask_revisits else None
        return edit_masks(np.array([self._code]), np.array([self._mid]), visited, self._relative,
                          self._oracle.feasible_model if self._hw_mask else None,
                          self.mask_invalid)[0]

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
        self.noop_reward = float(noop_reward) + 0.0  # -0.0 is 0.0
        self.mask_revisits = bool(mask_revisits)
        self._relative = relative
        self._moves = edit_tables(relative)
        self._feasible_raw = self._oracle.feasible_raw
        self._feasible_model = self._oracle.feasible_model if self._hw_mask else None
        self._starts = start_records(start_table(self._feasible_raw)[0])
        n, h = self.num_envs, self.horizon + 1
        self._unset = None
        self._x = np.zeros((n, space.N_COMPONENTS), dtype=OBS_DTYPE)
        self._x_flat = self._x.reshape(-1)  # flat views with row offsets: take/put are fastest
        self._x_offset = self._rows * space.N_COMPONENTS
        self._x_stages = self._x.view(STAGE_DIGITS.dtype).reshape(n, space.N_STAGES)
        self._code = np.zeros((n, space.N_STAGES), dtype=np.int64)  # the state: stage codes
        self._code_flat = self._code.reshape(-1)  # a flat view with row offsets: take/put
        self._code_offset = self._rows * space.N_STAGES
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
            start = self._starts.take((self._draw(rows) * len(self._starts)).astype(np.int64))
            code, mid = start["code"], start["mid"]
        else:
            code = codes_of_raw(raw)
            mid = model_of_codes(code)
        self._code[rows] = code
        self._mid[rows] = mid
        self._x_stages[rows] = STAGE_DIGITS.take(code)
        self._t[rows] = 0
        if self.mask_revisits:
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
        terminated) per copy.  Everything is a look-up at ``key`` (see :mod:`.moves`)."""
        moves, ledger, horizon = self._moves, self.ledger, self.horizon
        everyone = act is self._everyone and self.budget is None
        going = act if self.budget is None else act & ~ledger.exhausted
        where = self._code_offset + moves.stage.take(a)
        code = self._code_flat.take(where)
        key = moves.key_base.take(a) + code
        new_code = moves.new_code.take(key)
        target = self._mid + moves.delta.take(key)  # negative: an invalid model
        tried = new_code != code if everyone else going & (new_code != code)  # no no-op
        valid = target >= 0
        if self._feasible_model is not None:
            valid &= self._feasible_model.take(np.maximum(target, 0))
        move = tried & valid
        self._code_flat[where] = np.where(move, new_code, code)
        x_where = self._x_offset + moves.component.take(a)
        self._x_flat[x_where] = np.where(move, moves.new_value.take(key),
                                         self._x_flat.take(x_where))
        mid = self._mid
        model_id = np.maximum(target, -1)  # what each copy tried, -1 if invalid
        if not everyone:
            np.copyto(model_id, mid, where=~going)
        np.copyto(mid, target, where=move)
        t = self._t
        t += act
        if self.mask_revisits:
            self._visited_flat[self._visited_offset + np.minimum(t, horizon)] = mid
        ended = t >= horizon
        ev = move & ended if self.reward_mode == "final" else move
        val, score, cost, ev = ledger.evaluate(ev, mid, self._seed_index(ev, mid))
        if self.reward_mode == "improvement":
            better = ev & (score > self._best)
            reward = np.where(better, score - self._best, 0.0)
            self._best = np.where(better, score, self._best)
        else:
            reward = np.where(ev, score, 0.0)
        rejected = tried ^ move  # to an invalid or infeasible model
        np.copyto(reward, INVALID_REWARD, where=rejected)
        if self.noop_reward:  # else they are 0 already
            np.copyto(reward, self.noop_reward, where=going ^ tried)
        if self.budget is not None:
            ended |= ledger.exhausted
        return (model_id, ~rejected, np.where(ev, val, NOT_EVALUATED), cost, reward,
                ended if everyone else act & ended)

    def action_masks(self) -> np.ndarray:
        """``(num_envs, 36 or 21)`` allowed actions, by the rules of
        :meth:`BloxEditEnv.action_masks`."""
        self._check_started("action_masks()")
        return edit_masks(self._code, self._mid, self._visited if self.mask_revisits else None,
                          self._relative, self._feasible_model, self.mask_invalid)
