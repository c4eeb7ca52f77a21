"""Any Stable-Baselines3 or sb3-contrib algorithm as a NAS agent under a cost budget.

The agent trains on one Blox environment; the environment's search (its ledger) counts the
cost, and training stops once the budget is spent or after ``total_timesteps`` steps, which
ever comes first.  The result is the search's anytime record, in ``SearchCore.record()``'s
layout, like every other agent's.
"""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import sb3_contrib
import stable_baselines3
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from blox_gym.core import Budget
from blox_gym.envs import BUILD_ID, EDIT_ID
from blox_gym.envs.options import resolve_budget
from blox_gym.table import Table

_MODULES = (stable_baselines3, sb3_contrib)


def algorithms() -> list[str]:
    """Names of the algorithms ``run_sb3`` can resolve."""
    return sorted(name for module in _MODULES for name in module.__all__
                  if isinstance(getattr(module, name), type)
                  and issubclass(getattr(module, name), BaseAlgorithm))


def resolve_algorithm(algo: str | type) -> type[BaseAlgorithm]:
    """An algorithm class from its name (``"PPO"``, ``"MaskablePPO"``...) or the class itself."""
    if isinstance(algo, type) and issubclass(algo, BaseAlgorithm):
        return algo
    if isinstance(algo, str) and algo in algorithms():
        module = next(m for m in _MODULES if algo in m.__all__)
        return getattr(module, algo)
    raise ValueError(f"unknown algorithm {algo!r}; allowed: {', '.join(algorithms())} or a "
                     f"BaseAlgorithm subclass")


class StopWhenSpent(BaseCallback):
    """Stops training once the environment's search has spent its budget."""

    def __init__(self, env: gym.Env):
        super().__init__()
        self._env = env

    def _on_step(self) -> bool:
        return not self._env.unwrapped.ledger.exhausted


def nominal_timesteps(env: gym.Env) -> int:
    """Steps the budget lasts if every evaluation trains a new model (revisits are free, so
    real runs take longer)."""
    base = env.unwrapped
    oracle, budget = base.oracle, base.budget
    per_eval = {"models": oracle.epoch_cost[0], "epochs": oracle.epoch_cost[1],
                "seconds": float(np.nanmean(oracle.seconds))}[budget.unit]
    return int(np.ceil(budget.amount / per_eval)) * base.steps_per_model


def train_sb3(algo: str | type, table: Table | str | os.PathLike | None,
              budget: Budget | tuple | None, seed: int = 0, env_id: str = EDIT_ID,
              env_kwargs: dict | None = None, algo_kwargs: dict | None = None,
              total_timesteps: int | None = None, policy: str | type | None = None
              ) -> BaseAlgorithm:
    """Build ``env_id`` over ``table`` and train ``algo`` on it (see :func:`run_sb3`)."""
    if env_id not in (EDIT_ID, BUILD_ID):
        raise ValueError(f"env_id must be {EDIT_ID!r} or {BUILD_ID!r}, got {env_id!r}")
    budget = resolve_budget(budget)
    if budget is None and total_timesteps is None:
        raise ValueError("give a budget, total_timesteps, or both: nothing would stop training")
    cls = resolve_algorithm(algo)
    env = gym.make(env_id, table=table, budget=budget, **(env_kwargs or {}))
    if policy is None:
        dict_obs = isinstance(env.observation_space, spaces.Dict)
        policy = "MultiInputPolicy" if dict_obs else "MlpPolicy"
    if total_timesteps is None:
        total_timesteps = 10 * nominal_timesteps(env)
    model = cls(policy, env, seed=seed, verbose=0, **(algo_kwargs or {}))
    model.learn(total_timesteps=total_timesteps, callback=StopWhenSpent(env))
    return model


def run_sb3(algo: str | type, table: Table | str | os.PathLike | None,
            budget: Budget | tuple | None, seed: int = 0, env_id: str = EDIT_ID,
            env_kwargs: dict | None = None, algo_kwargs: dict | None = None,
            total_timesteps: int | None = None, policy: str | type | None = None
            ) -> dict[str, np.ndarray]:
    """Run ``algo`` as a NAS agent; returns the anytime record (``SearchCore.record()`` layout).

    ``budget``: a :class:`Budget` or ``(amount, unit)`` with unit models, epochs or seconds.
    ``seed`` seeds the algorithm and the environment (a seeded reset starts the search).
    ``env_kwargs`` go to ``gymnasium.make(env_id, ...)`` (reward, masks, fidelity...),
    ``algo_kwargs`` to the algorithm (``policy_kwargs`` included).  ``total_timesteps``: the
    step limit the algorithm's schedules see (DQN's exploration...); default 10x the steps the
    budget lasts if every evaluation trained a new model.  ``policy``: default
    ``"MultiInputPolicy"`` for ``obs_mode="dict"``, else ``"MlpPolicy"``.
    """
    model = train_sb3(algo, table, budget, seed, env_id, env_kwargs, algo_kwargs,
                      total_timesteps, policy)
    return model.get_env().envs[0].unwrapped.record()
