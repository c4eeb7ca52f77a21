"""Gymnasium and SB3 conventions: registration, both env checkers, determinism, pickling,
SB3's DummyVecEnv and SubprocVecEnv."""

import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from blox_gym.envs import BUILD_ID, EDIT_ID, ENV_IDS
from blox_gym.envs.observe import OBS_MODES


def test_import_registers_the_ids_without_zarr_or_torch():
    code = ("import sys, gymnasium, blox_gym; "
            "assert {'blox_gym/BloxEdit-v0', 'blox_gym/BloxBuild-v0'} <= set(gymnasium.registry); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('zarr', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for env_id in ENV_IDS:
        assert gym.spec(env_id).vector_entry_point is not None


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("obs_mode", OBS_MODES)
def test_checkers_pass(structured_store, env_id, obs_mode):
    env = gym.make(env_id, table=structured_store[0], obs_mode=obs_mode, budget=(3, "models"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either
        gymnasium_check_env(env.unwrapped)  # renders every declared mode ("ansi") too
        sb3_check_env(env.unwrapped)


@pytest.mark.parametrize("kwargs", [
    dict(action_mode="relative", reward="step", budget=(1, "models")),
    dict(action_mode="absolute", reward="final", budget=(1, "models")),
    dict(reward="improvement", budget=(1, "models"), on_budget_end="stop"),
    dict(reward="improvement", budget=(1, "epochs"), obs_mode="dict"),
    dict(action_mode="relative", obs_mode="onehot", sealed=True, render_mode="ansi"),
])
def test_checkers_pass_in_every_mode_with_tiny_budgets(structured_store, kwargs):
    env = gym.make(EDIT_ID, table=structured_store[0], **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(env.unwrapped)
        if kwargs.get("on_budget_end") != "stop":  # SB3's check auto-resets past the end
            sb3_check_env(env.unwrapped)


@pytest.mark.parametrize("env_id, kwargs", [
    (EDIT_ID, dict(reward="improvement", mask_invalid=True, mask_revisits=True, fidelity=4)),
    (BUILD_ID, dict(mask_invalid=True, train_seed="episode", metric="val_top1")),
])
def test_checkers_pass_with_options(structured_store, env_id, kwargs):
    env = gym.make(env_id, table=structured_store[0], **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped)


def trajectory(env, seed: int, steps: int = 60) -> list:
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [(obs, info)]
    for _ in range(steps):
        step = env.step(env.action_space.sample())
        out.append(step)
        if step[2] or step[3]:
            out.append(env.reset())
    return out


def same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory(small_store, env_id):
    kwargs = dict(table=small_store[0], train_seed="random", obs_mode="dict", budget=(5, "models"))
    first = trajectory(gym.make(env_id, **kwargs), seed=4)
    assert same(first, trajectory(gym.make(env_id, **kwargs), seed=4))
    assert not same(first, trajectory(gym.make(env_id, **kwargs), seed=5))


def test_pickle_round_trip_reopens_the_table_by_path(structured_store):
    env = gym.make(EDIT_ID, table=structured_store[0]).unwrapped
    env.reset(seed=0)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.table.path == env.table.path and clone.table is not env.table
    assert same(trajectory(clone, 3), trajectory(env, 3))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_vec_envs(structured_store, env_id):
    def make():
        return gym.make(env_id, table=structured_store[0], reward="step") if env_id == EDIT_ID \
            else gym.make(env_id, table=structured_store[0])

    dummy = DummyVecEnv([make, make])
    subproc = SubprocVecEnv([make, make], start_method="fork")
    results = []
    for vec in (dummy, subproc):
        vec.seed(7)
        out = [vec.reset()]
        for a in np.random.default_rng(0).integers(3, size=(40, 2)):
            obs, rewards, dones, infos = vec.step(a)
            out.append((obs, rewards.astype(np.float32), dones, infos))  # Dummy's are float32
        out.append(vec.env_method("action_masks"))
        results.append(out)
        vec.close()
    assert same(results[0], results[1])
    assert any(r[2].any() for r in results[0][1:-1])  # episodes ended and auto-reset
