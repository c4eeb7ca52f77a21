"""What the Blox environments share, single and vector: options, searches, seeding, info.

A *search* spans episodes: its cost and best model carry over from one episode to the next,
and the cost budget bounds the whole search.  ``reset(seed=...)`` starts a new search (so a
seed fixes a whole run); ``reset()`` without a seed starts the next episode of the same one.
The step whose evaluation spends the budget ends the episode (``terminated``) with
``info["search_over"]``, and so does any step of a search that is over; after such a step,
the next ``reset()`` starts a fresh search with a fresh budget (``on_budget_end=
"new_search"``, the default) or raises (``"stop"``).

Copy ``i`` of a vector env reset with seed ``s`` behaves exactly like a single env reset
with seed ``s + i`` (see :mod:`blox_gym.envs.draws`).
"""

from __future__ import annotations

import os
from functools import lru_cache

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from blox_gym import space
from blox_gym.core import UNITS, Budget
from blox_gym.envs.draws import Stream, key_of, keys_of, uniform_rows
from blox_gym.envs.ledger import Ledger, VectorLedger
from blox_gym.envs.observe import Observer
from blox_gym.envs.options import (BUDGET_END, RENDER_MODES, Constraint, Oracle, check_choice,
                                   resolve_budget)
from blox_gym.table import Table

# info["val_top1"] of a step that trained no model (NaN would break equality checks)
NOT_EVALUATED = -1.0
RAW_TO_MODEL = space.RAW_TO_MODEL.tolist()  # plain list: the fastest scalar look-up
PLACE = space._PLACE.tolist()
INFO_KEYS = ("model_id", "valid", "val_top1", "step_cost", "total_cost", "best_val",
             "best_model", "n_models", "budget_left", "cost_unit", "search_over")
AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
#: dtypes of the per-copy model id, valid, val top-1 and step cost that a step reports
STEP_INFO_DTYPES = (np.int64, bool, np.float64, np.float64)


class SearchSettings:
    """The options every Blox env takes, checked once, for single and vector envs alike.

    ``sealed=True`` hides ``table`` and ``oracle`` (the whole table, test metrics included)
    from the env object, so that a policy handed the env cannot read them by accident; it is
    a guard, not a security boundary.
    """

    def _configure(self, table: Table | str | os.PathLike | None, nvec: np.ndarray,
                   obs_mode: str, mask_invalid: bool, fidelity: int | None, metric: str,
                   train_seed: int | str | None, constraint: Constraint | dict | None,
                   budget: Budget | tuple | None, on_budget_end: str, sealed: bool,
                   render_mode: str | None) -> None:
        self._oracle = Oracle(table, fidelity, metric, train_seed, constraint)
        self.budget = resolve_budget(budget)
        check_choice("on_budget_end", on_budget_end, BUDGET_END)
        self.on_budget_end = on_budget_end
        if render_mode is not None:
            check_choice("render_mode", render_mode, (None,) + RENDER_MODES)
        self.render_mode = render_mode
        self.sealed = bool(sealed)
        self.mask_invalid = bool(mask_invalid)
        self.observer = Observer(obs_mode, nvec, self._oracle.reward_bounds())
        self.cost_unit = self.budget.unit if self.budget else UNITS[0]
        constraint = self._oracle.constraint
        self._hw_mask = constraint is not None and constraint.mode == "mask"

    @property
    def oracle(self) -> Oracle:
        """The per-model arrays behind the env (refused when ``sealed``)."""
        if self.sealed:
            raise AttributeError("this environment is sealed: its table and oracle are hidden")
        return self._oracle

    @property
    def table(self) -> Table:
        """The table behind the env (refused when ``sealed``)."""
        return self.oracle.table

    def _over_message(self) -> str:
        return (f"the search's budget of {self.budget.amount:g} {self.budget.unit} is spent "
                f"(on_budget_end='stop'); reset(seed=...) starts a new search, or make the env "
                f"with on_budget_end='new_search'")


def render_line(x: np.ndarray, unset: int | None, mid: int, reward: float, best: float,
                spent: float, budget: Budget | None, unit: str) -> str:
    """One line of text: the encoding by stage, the model, the last reward, best, cost."""
    digits = "".join("_" if unset is not None and v >= unset[i] else str(int(v))
                     for i, v in enumerate(x[:space.N_COMPONENTS]))
    stages = " ".join(digits[i:i + 5] for i in range(0, space.N_COMPONENTS, 5))
    limit = f"/{budget.amount:g}" if budget else ""
    return (f"[{stages}] model {mid} reward {reward:+.4f} best val {best:.2f} "
            f"cost {spent:g}{limit} {unit}")


class BloxEnv(SearchSettings, gym.Env):
    """Base of :class:`BloxEditEnv` and :class:`BloxBuildEnv`; see ``docs/envs.md``."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}

    def __init__(self, table, nvec, obs_mode, mask_invalid, fidelity, metric, train_seed,
                 constraint, budget, on_budget_end, sealed, render_mode):
        self._configure(table, nvec, obs_mode, mask_invalid, fidelity, metric, train_seed,
                        constraint, budget, on_budget_end, sealed, render_mode)
        self.observation_space = self.observer.space
        self._val, self._score, self._seconds = self._oracle.as_lists()
        self._feasible = self._oracle.feasible_raw.tolist()
        self._fixed_seed = self._oracle.fixed_seed
        self._episode_si = 0 if self._fixed_seed else -1
        self._ledger = Ledger(self._oracle, self.budget)
        self._stream: Stream | None = None  # None until the first reset
        self._last_reward = 0.0
        self._told = False  # a step said search_over

    # ------------------------------------------------------------ the search

    @property
    def ledger(self) -> Ledger:
        """The current search's cost accounting and log."""
        return self._ledger

    @property
    def cost(self) -> dict[str, float]:
        """Cost of the current search in models, epochs and seconds."""
        return self._ledger.cost

    def record(self) -> dict[str, np.ndarray]:
        """The current search's anytime record, in :meth:`SearchCore.record`'s layout."""
        return self._ledger.record()

    def _start_episode(self, seed: int | None) -> None:
        """Seeding, a new search when due, and the episode's training seed."""
        gym.Env.reset(self, seed=seed)
        if seed is not None or self._stream is None:
            self._stream = Stream(key_of(seed) if seed is not None
                                  else int(self.np_random.integers(2**63)))
            self._new_search()
        elif self._told:
            if self.on_budget_end == "stop":
                raise RuntimeError(self._over_message())
            self._new_search()
        if self._oracle.train_seed == "episode":
            self._episode_si = self._stream.below(len(self._oracle.seeds))
        self._last_reward = 0.0

    def _new_search(self) -> None:
        self._ledger = Ledger(self._oracle, self.budget, self._stream.seed63())
        self._told = False

    def _check_started(self, what: str = "step()") -> None:
        if self._stream is None:
            raise RuntimeError(f"call reset() before {what}")

    def _evaluate(self, mid: int) -> tuple[float, float, float]:
        """Train model ``mid`` (charging it once): ``(val top-1, objective, cost)``."""
        si = 0 if self._fixed_seed else self._ledger.seed_index(mid, self._episode_si)
        val = self._val[si][mid]
        return val, self._score[si][mid], self._ledger.charge(mid, val, self._seconds[si][mid])

    def _info(self, mid: int, valid: bool, val: float, cost: float) -> dict:
        ledger = self._ledger
        return {"model_id": mid, "valid": valid, "val_top1": val, "step_cost": cost,
                "total_cost": ledger.spent, "best_val": ledger.best_val,
                "best_model": ledger.best_model, "n_models": ledger.n_models,
                "budget_left": ledger.budget_left, "cost_unit": self.cost_unit,
                "search_over": ledger.exhausted}

    def _render(self, x: np.ndarray, unset, mid: int) -> str | None:
        if self.render_mode != "ansi":
            return None
        ledger = self._ledger
        return render_line(x, unset, mid, self._last_reward, ledger.best_val, ledger.spent,
                           self.budget, self.cost_unit)


def check_action(action, n: int) -> int:
    """``action`` as an int in 0..n-1 (an int or an integer numpy scalar or 0-d array, never
    a bool, float or string), else ``ValueError``."""
    if type(action) is int or isinstance(action, np.integer):
        a = int(action)
    elif isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
        a = int(action)
    else:
        a = -1
    if not 0 <= a < n:
        raise ValueError(f"action must be an int in 0..{n - 1}, got {space.short_repr(action)}")
    return a


def parse_start(arch) -> tuple[np.ndarray, int]:
    """A start architecture as (flat int64 vector, raw index); ``ValueError`` if it is not one."""
    flat, single = space.as_flat(arch)
    if not single:
        raise ValueError(f"reset option 'arch' must be one architecture, got {len(flat)}")
    return flat[0], int(flat[0] @ space._PLACE)


@lru_cache(maxsize=1)
def _valid_encodings() -> tuple[np.ndarray, np.ndarray]:
    raw = np.flatnonzero(space.RAW_TO_MODEL >= 0)
    return raw, space.from_raw_index(raw).astype(np.int8)


def start_table(feasible_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw indices and int8 encodings of the feasible encodings: where episodes may start."""
    raw, enc = _valid_encodings()
    keep = feasible_raw[raw]
    return (raw, enc) if keep.all() else (raw[keep], enc[keep])


# ---------------------------------------------------------------- vector environments

class BloxVectorEnv(SearchSettings, VectorEnv):
    """Base of :class:`BloxEditVectorEnv` and :class:`BloxBuildVectorEnv`.

    ``autoreset_mode``: Gymnasium's ``AutoresetMode`` or its name, ``"next_step"`` (default: the step after a copy's
    episode ends ignores its action and returns its reset observation, reward 0,
    ``terminated = truncated = False`` and its reset info) or ``"same_step"`` (the ending
    step returns the reset observation, with ``info["final_obs"]`` and
    ``info["final_info"]``).  ``shared_budget=True``: all copies add to one search with one
    budget (parallel workers of one NAS run); else each copy runs its own search.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": list(RENDER_MODES),
                "render_fps": 4}

    def __init__(self, num_envs, table, nvec, n_actions, obs_mode, mask_invalid, fidelity,
                 metric, train_seed, constraint, budget, on_budget_end, sealed, render_mode,
                 autoreset_mode, shared_budget, copy):
        if not isinstance(num_envs, (int, np.integer)) or isinstance(num_envs, bool) \
                or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        self.num_envs = n = int(num_envs)
        self._configure(table, nvec, obs_mode, mask_invalid, fidelity, metric, train_seed,
                        constraint, budget, on_budget_end, sealed, render_mode)
        mode = next((m for m in AUTORESET_MODES if autoreset_mode in (m, m.value, m.name.lower())),
                    None)
        if mode is None:
            raise ValueError(f"autoreset_mode must be one of 'next_step', 'same_step' (or an "
                             f"AutoresetMode of these); got {autoreset_mode!r}")
        self.autoreset_mode = mode
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.single_observation_space = self.observer.space
        self.single_action_space = spaces.Discrete(n_actions)
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)
        self.copy = bool(copy)
        self.n_actions = n_actions
        self.ledger = VectorLedger(self._oracle, self.budget, n, shared_budget)
        self._rows = np.arange(n)
        self._keys = np.zeros(n, dtype=np.uint64)
        self._counters = np.zeros(n, dtype=np.uint64)
        self._started = False
        self._episode_si = np.zeros(n, dtype=np.int64)
        self._last_reward = np.zeros(n)
        self._autoreset = np.zeros(n, dtype=bool)
        self._told = np.zeros(n, dtype=bool)  # a step said search_over
        self._present = np.ones(n, dtype=bool)
        self._present.flags.writeable = False
        self._everyone = self._present  # every copy acts
        self._info_present = {f"_{k}": self._present for k in INFO_KEYS}
        self._fixed_seed = self._oracle.fixed_seed
        self._units = np.full(n, self.cost_unit)

    # ------------------------------------------------------------ the searches

    @property
    def cost(self) -> dict[str, np.ndarray]:
        """Cost of each copy's search in models, epochs and seconds."""
        return self.ledger.cost

    def record(self, i: int = 0) -> dict[str, np.ndarray]:
        """Copy ``i``'s search's anytime record, in :meth:`SearchCore.record`'s layout."""
        return self.ledger.record(i)

    def _start_searches(self, seed: int | None) -> None:
        """Seeding and new searches at ``reset``: all copies with a seed (or the first time),
        else those whose search is over (``on_budget_end="new_search"``)."""
        if seed is not None or not self._started:
            if seed is not None:
                self._np_random, self._np_random_seed = seeding.np_random(seed)
                self._keys = keys_of(seed, self.num_envs)
            else:
                self._keys = self.np_random.integers(2**63, size=self.num_envs).astype(np.uint64)
            self._counters[:] = 0
            self._new_searches(slice(None))
        else:
            self._renew(np.flatnonzero(self._told))
        self._started = True

    def _renew(self, rows: np.ndarray) -> None:
        """New searches for ``rows`` whose search is over, or the error of ``"stop"``."""
        if not len(rows):
            return
        if self.on_budget_end == "stop":
            raise RuntimeError(f"copies {space.short_repr(rows.tolist())}: " + self._over_message())
        self._new_searches(rows)

    def _new_searches(self, rows) -> None:
        seeds = (uniform_rows(self._keys, self._counters, rows) * 2.0**63).astype(np.int64)
        self.ledger.new_search(self._rows[rows], seeds)
        self._told[rows] = False

    def _draw(self, rows) -> np.ndarray:
        """One uniform draw in [0, 1) for each copy in ``rows``."""
        return uniform_rows(self._keys, self._counters, rows)

    def _begin_rows(self, rows) -> None:
        """The episode's training seed of each new episode in ``rows``."""
        self._last_reward[rows] = 0.0
        if self._oracle.train_seed == "episode":
            self._episode_si[rows] = (self._draw(rows) * len(self._oracle.seeds)).astype(np.int64)

    def _seed_index(self, ev: np.ndarray, mids: np.ndarray):
        """Seed index per copy: 0 for a fixed seed, else the kept or a newly drawn one."""
        if self._fixed_seed:
            return 0
        episode = self._episode_si if self._oracle.train_seed == "episode" else None
        return self.ledger.seed_index(ev, mids, episode)

    # ------------------------------------------------------------ the step

    def _check_started(self, what: str = "step()") -> None:
        if not self._started:
            raise RuntimeError(f"call reset() before {what}")

    def _check_actions(self, actions) -> np.ndarray:
        self._check_started()
        a = np.asarray(actions)
        if a.shape == (self.num_envs,) and a.dtype.kind in "iu":
            a = a.astype(np.int64, copy=False)
            if np.maximum.reduce(a.view(np.uint64)) < self.n_actions:  # negatives: huge
                return a
        raise ValueError(f"actions must be {self.num_envs} ints in 0..{self.n_actions - 1}, "
                         f"got {space.short_repr(actions)}")

    def step(self, actions):
        a = self._check_actions(actions)
        n, restart = self.num_envs, self._autoreset
        restarting = np.count_nonzero(restart)
        if restarting == n:  # NEXT_STEP resets every copy: nobody acts
            self._renew(np.flatnonzero(self._told))
            mid, valid, val, cost = (np.empty(n, dtype) for dtype in STEP_INFO_DTYPES)
            for out, value in zip((mid, valid, val, cost), self._restart(slice(None))):
                out[:] = value
            reward, terminated = np.zeros(n), np.zeros(n, dtype=bool)
        elif not restarting:
            mid, valid, val, cost, reward, terminated = self._act(a, self._everyone)
        else:  # NEXT_STEP resets some copies, or copies left over by SAME_STEP
            rows = np.flatnonzero(restart)
            self._renew(rows[self._told[rows]])
            reset = self._restart(rows)
            mid, valid, val, cost, reward, terminated = self._act(a, ~restart)
            reward[rows] = 0.0
            terminated[rows] = False
            for out, value in zip((mid, valid, val, cost), reset):
                out[rows] = value
        self._last_reward = reward.copy()  # restarts zero it; the caller keeps reward
        truncated = np.zeros(n, dtype=bool)
        info = self._info(mid, valid, val, cost)
        obs = self._observe()
        self._autoreset = terminated.copy()
        if self.budget is not None:
            self._told |= terminated & info["search_over"]
        if self.autoreset_mode == AutoresetMode.SAME_STEP and terminated.any():
            obs, info = self._reset_same_step(obs, info, (mid, valid, val, cost))
        return obs, reward, terminated, truncated, info

    def _reset_same_step(self, obs, info: dict, step_info: tuple) -> tuple:
        ended = self._autoreset
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in np.flatnonzero(ended).tolist():
            final_obs[i] = ({k: v[i].copy() for k, v in obs.items()} if isinstance(obs, dict)
                            else obs[i].copy())
        final_info = {k: v.copy() for k, v in info.items()}
        over = ended & self._told
        go = ended & ~over if self.on_budget_end == "stop" else ended
        rows = np.flatnonzero(go)
        if len(rows):
            self._renew(rows[over[rows]])
            for out, value in zip(step_info, self._restart(rows)):
                out[rows] = value
            self._last_reward[rows] = 0.0
            info = self._info(*step_info)
            obs = self._observe()
        self._autoreset = ended & ~go  # left over: their next step raises ("stop")
        info.update(final_obs=final_obs, _final_obs=ended.copy(), final_info=final_info,
                    _final_info=ended.copy())
        return obs, info

    def _encodings(self) -> np.ndarray:
        """The current encodings ``(num_envs, width)`` (internal: the next step overwrites
        them)."""
        return self._x

    def _observe(self):
        x = self._encodings()
        left = self.ledger.budget_left if self.observer.mode == "dict" else None
        return self.observer.batch(x.copy() if self.copy else x, left, self._last_reward)

    def _info(self, model_id, valid, val, step_cost) -> dict:
        ledger = self.ledger
        info = {"model_id": model_id, "valid": valid, "val_top1": val, "step_cost": step_cost,
                "total_cost": ledger.spent, "best_val": ledger.best_val,
                "best_model": ledger.best_model, "n_models": ledger.n_models,
                "budget_left": ledger.budget_left, "cost_unit": self._units.copy(),
                "search_over": ledger.exhausted}
        info.update(self._info_present)
        return info

    def render(self) -> tuple[str, ...] | None:
        """With ``render_mode="ansi"``, one line of text per copy."""
        if self.render_mode != "ansi":
            return None
        ledger = self.ledger
        best, spent = ledger.best_val, ledger.spent
        return tuple(render_line(self._encodings()[i], self._unset, int(self._model_ids()[i]),
                                 float(self._last_reward[i]), float(best[i]), float(spent[i]),
                                 self.budget, self.cost_unit) for i in range(self.num_envs))
