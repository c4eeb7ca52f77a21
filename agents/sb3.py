"""Any Stable-Baselines3 or sb3-contrib algorithm as a NAS agent under a cost budget.

:func:`native_vec_env` gives SB3 the native Blox vector env as an SB3 ``VecEnv`` (with
``action_masks`` for MaskablePPO).  :func:`run_sb3` trains an algorithm on ``n_envs`` copies
that share one search and one budget; training stops once the budget is spent or after
``total_timesteps`` steps, whichever comes first.  The result is the search's anytime
record, in ``SearchCore.record()``'s layout, like every other agent's.
"""

from __future__ import annotations

import inspect
import os
import warnings

import gymnasium as gym
import numpy as np
import sb3_contrib
import stable_baselines3
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from blox_gym.core import Budget
from blox_gym.envs import BUILD_ID, EDIT_ID
from blox_gym.envs.base import INFO_KEYS, BloxVectorEnv
from blox_gym.envs.options import resolve_budget
from blox_gym.table import Table

_MODULES = (stable_baselines3, sb3_contrib)
MIN_UPDATES = 4  # run_sb3 shortens rollouts so that at least this many fit in the budget


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


class NativeVecEnv(VecEnv):
    """An SB3 ``VecEnv`` over a Blox native vector env (run in ``"same_step"`` autoreset, as
    SB3 expects: a finished copy's last observation is in ``info["terminal_observation"]``).

    Attributes and methods are those of the whole vector env: ``get_attr(name)`` gives its
    value once per copy, and ``env_method("action_masks")`` each copy's mask row.
    """

    def __init__(self, venv: BloxVectorEnv):
        if venv.autoreset_mode.value != "SameStep":
            raise ValueError("NativeVecEnv needs a vector env made with autoreset_mode='same_step'")
        self.venv = venv
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions = np.zeros(venv.num_envs, dtype=np.int64)

    def reset(self):
        obs, info = self.venv.reset(seed=self._seeds[0])  # SB3's seeds are seed + index
        self.reset_infos = self._infos(info)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int64)

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.venv.step(self._actions)
        infos = self._infos(info)
        for i in np.flatnonzero(terminated | truncated).tolist():
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, reward.astype(np.float32), terminated | truncated, infos

    def _infos(self, info: dict) -> list[dict]:
        columns = [(k, info[k].tolist()) for k in INFO_KEYS]
        return [{k: v[i] for k, v in columns} for i in range(self.num_envs)]

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices=None) -> list:
        return [getattr(self.venv, attr_name)] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        rows = list(self._get_indices(indices))
        out = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        if method_name == "action_masks":
            return [out[i] for i in rows]
        return [out] * len(rows)

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))

    def has_attr(self, attr_name: str) -> bool:
        return hasattr(self.venv, attr_name)


def native_vec_env(env_id: str, n_envs: int, **env_kwargs) -> NativeVecEnv:
    """``env_id``'s native vector env with ``n_envs`` copies, as an SB3 ``VecEnv``.

    ``env_kwargs`` are the env's options (``table``, ``budget``, ``shared_budget``...);
    ``PPO("MlpPolicy", native_vec_env(EDIT_ID, 8, table=t))`` trains on it directly.
    """
    if env_id not in (EDIT_ID, BUILD_ID):
        raise ValueError(f"env_id must be {EDIT_ID!r} or {BUILD_ID!r}, got {env_id!r}")
    venv = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="vector_entry_point",
                        autoreset_mode="same_step", **env_kwargs)
    return NativeVecEnv(venv)


def blox_env(env):
    """The Blox env behind a Gymnasium env, a wrapper or an SB3 VecEnv."""
    env = getattr(env, "unwrapped", env)
    return env.venv if isinstance(env, NativeVecEnv) else env


class StopWhenSpent(BaseCallback):
    """Stops training once every search of the env has spent its budget (the search of a
    single env, or those of all copies of a vector env)."""

    def __init__(self, env):
        super().__init__()
        self._env = env

    def _on_step(self) -> bool:
        return not bool(np.all(blox_env(self._env).ledger.exhausted))


def nominal_timesteps(env) -> int:
    """Steps (of all copies together) the budget lasts if every evaluation trains a new
    model (revisits are free, so real runs take longer)."""
    base = blox_env(env)
    oracle, budget = base.oracle, base.budget
    per_eval = {"models": oracle.epoch_cost[0], "epochs": oracle.epoch_cost[1],
                "seconds": float(np.nanmean(oracle.seconds))}[budget.unit]
    return int(np.ceil(budget.amount / per_eval)) * base.steps_per_model


def fit_rollout(cls: type[BaseAlgorithm], algo_kwargs: dict, n_envs: int,
                budget_steps: int) -> dict:
    """``algo_kwargs`` with an on-policy rollout (``n_steps`` per copy) short enough that
    :data:`MIN_UPDATES` updates fit in ``budget_steps`` steps; warns when it changes them."""
    if not issubclass(cls, OnPolicyAlgorithm):
        return algo_kwargs
    defaults = inspect.signature(cls.__init__).parameters
    n_steps = algo_kwargs.get("n_steps", defaults["n_steps"].default)
    if n_steps * n_envs * MIN_UPDATES <= budget_steps:
        return algo_kwargs
    fitted = dict(algo_kwargs, n_steps=max(2, budget_steps // (MIN_UPDATES * n_envs)))
    rollout = fitted["n_steps"] * n_envs
    if "batch_size" in defaults:
        batch = min(algo_kwargs.get("batch_size", defaults["batch_size"].default), rollout)
        fitted["batch_size"] = max(b for b in range(1, batch + 1) if rollout % b == 0)
    warnings.warn(f"{cls.__name__}: a rollout of {n_steps} x {n_envs} steps leaves fewer than "
                  f"{MIN_UPDATES} updates in a budget of about {budget_steps} steps; using "
                  f"n_steps={fitted['n_steps']}" + (f", batch_size={fitted['batch_size']}"
                                                     if "batch_size" in fitted else ""),
                  stacklevel=3)
    return fitted


def train_sb3(algo: str | type, table: Table | str | os.PathLike | None,
              budget: Budget | tuple | None, seed: int = 0, env_id: str = EDIT_ID,
              env_kwargs: dict | None = None, algo_kwargs: dict | None = None,
              total_timesteps: int | None = None, policy: str | type | None = None,
              n_envs: int = 1) -> BaseAlgorithm:
    """Build ``env_id`` over ``table`` and train ``algo`` on it (see :func:`run_sb3`)."""
    budget = resolve_budget(budget)
    if budget is None and total_timesteps is None:
        raise ValueError("give a budget, total_timesteps, or both: nothing would stop training")
    cls = resolve_algorithm(algo)
    env = native_vec_env(env_id, n_envs, table=table, budget=budget, shared_budget=True,
                         on_budget_end="stop", **(env_kwargs or {}))
    algo_kwargs = dict(algo_kwargs or {})
    if budget is not None:
        algo_kwargs = fit_rollout(cls, algo_kwargs, n_envs, nominal_timesteps(env))
    if policy is None:
        dict_obs = isinstance(env.observation_space, spaces.Dict)
        policy = "MultiInputPolicy" if dict_obs else "MlpPolicy"
    if total_timesteps is None:
        total_timesteps = 10 * nominal_timesteps(env)
    model = cls(policy, env, seed=seed, verbose=0, **algo_kwargs)
    model.learn(total_timesteps=total_timesteps, callback=StopWhenSpent(env))
    return model


def run_sb3(algo: str | type, table: Table | str | os.PathLike | None,
            budget: Budget | tuple | None, seed: int = 0, env_id: str = EDIT_ID,
            env_kwargs: dict | None = None, algo_kwargs: dict | None = None,
            total_timesteps: int | None = None, policy: str | type | None = None,
            n_envs: int = 1) -> dict[str, np.ndarray]:
    """Run ``algo`` as a NAS agent; returns the anytime record (``SearchCore.record()`` layout).

    ``budget``: a :class:`Budget` or ``(amount, unit)`` with unit models, epochs or seconds,
    shared by the ``n_envs`` copies the algorithm collects from (one search: a model one copy
    trained is free for the others).  ``seed`` seeds the algorithm and the search.
    ``env_kwargs`` go to the env (reward, masks, fidelity...), ``algo_kwargs`` to the
    algorithm (``policy_kwargs`` included); an on-policy rollout too long for the budget is
    shortened with a warning (:func:`fit_rollout`).  ``total_timesteps``: the step limit the
    algorithm's schedules see (DQN's exploration...); default 10x the steps the budget lasts
    if every evaluation trained a new model.  ``policy``: default ``"MultiInputPolicy"`` for
    ``obs_mode="dict"``, else ``"MlpPolicy"``.
    """
    model = train_sb3(algo, table, budget, seed, env_id, env_kwargs, algo_kwargs,
                      total_timesteps, policy, n_envs)
    return blox_env(model.get_env()).record()
