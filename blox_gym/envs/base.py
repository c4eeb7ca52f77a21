"""What the single Blox environments share: options, the search's ledger, evaluation, info.

A *search* spans episodes: its cost and best model carry over from one episode to the next,
and the cost budget bounds the whole search.  ``reset(seed=...)`` starts a new search (so a
seed fixes a whole run); ``reset()`` without a seed starts the next episode of the same one.
"""

from __future__ import annotations

import os
from functools import lru_cache

import gymnasium as gym
import numpy as np

from blox_gym import space
from blox_gym.core import Budget
from blox_gym.envs.ledger import Ledger
from blox_gym.envs.observe import Observer
from blox_gym.envs.options import Constraint, Oracle, resolve_budget
from blox_gym.table import Table

# info["val_top1"] of a step that trained no model (NaN would break equality checks)
NOT_EVALUATED = -1.0
RAW_TO_MODEL = space.RAW_TO_MODEL.tolist()  # plain list: the fastest scalar look-up
PLACE = space._PLACE.tolist()


class BloxEnv(gym.Env):
    """Base of :class:`BloxEditEnv` and :class:`BloxBuildEnv`; see ``docs/envs.md``."""

    metadata = {"render_modes": []}

    def __init__(self, table: Table | str | os.PathLike | None, nvec: np.ndarray, obs_mode: str,
                 mask_invalid: bool, fidelity: int | None, metric: str,
                 train_seed: int | str | None, constraint: Constraint | dict | None,
                 budget: Budget | tuple | None):
        self.oracle = Oracle(table, fidelity, metric, train_seed, constraint)
        self.table = self.oracle.table
        self.budget = resolve_budget(budget)
        self.mask_invalid = bool(mask_invalid)
        self.observer = Observer(obs_mode, nvec, self.oracle.reward_bounds())
        self.observation_space = self.observer.space
        self._val, self._score, self._seconds = self.oracle.as_lists()
        self._feasible = self.oracle.feasible_raw.tolist()
        self._hw_mask = self.oracle.constraint is not None and self.oracle.constraint.mode == "mask"
        self._fixed_seed = self.oracle.fixed_seed
        self._episode_si = 0 if self._fixed_seed else -1
        self._ledger = Ledger(self.oracle, self.budget)
        self._last_reward = 0.0

    # ------------------------------------------------------------ the search

    @property
    def ledger(self) -> Ledger:
        """The current search's cost accounting and log."""
        return self._ledger

    @property
    def cost(self) -> dict[str, float]:
        """Cost of the current search in models, epochs and seconds."""
        return dict(zip(("models", "epochs", "seconds"), self._ledger.cost))

    def record(self) -> dict[str, np.ndarray]:
        """The current search's anytime record, in :meth:`SearchCore.record`'s layout."""
        return self._ledger.record()

    def _new_search(self) -> None:
        self._ledger = Ledger(self.oracle, self.budget, int(self.np_random.integers(2**63)))

    def _begin_episode(self) -> None:
        if self.oracle.train_seed == "episode":
            self._episode_si = int(self.np_random.integers(len(self.oracle.seeds)))
        self._last_reward = 0.0

    def _evaluate(self, mid: int) -> tuple[float, float, float]:
        """Train model ``mid`` (charging it once): ``(val top-1, objective, cost)``."""
        si = 0 if self._fixed_seed else self._ledger.seed_index(mid, self._episode_si)
        val = self._val[si][mid]
        return val, self._score[si][mid], self._ledger.charge(mid, val, self._seconds[si][mid])

    def _info(self, mid: int, valid: bool, val: float, cost: float) -> dict:
        ledger = self._ledger
        return {"model_id": mid, "valid": valid, "val_top1": val, "step_cost": cost,
                "total_cost": ledger.cost[ledger.unit], "best_val": ledger.best_val,
                "n_models": ledger.n_models}


def check_action(action, n: int) -> int:
    """``action`` as an int in 0..n-1, else ``ValueError``."""
    try:
        a = int(action)
    except (TypeError, ValueError):
        a = -1
    if not 0 <= a < n:
        raise ValueError(f"action must be an int in 0..{n - 1}, got {action!r}")
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
