"""The native vector environments: make_vec, NEXT_STEP autoreset, and copy-by-copy equality
with the single environments."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from blox_gym.envs import EDIT_ID, ENV_IDS
from blox_gym.envs.base import INFO_KEYS
from blox_gym.envs.build import BloxBuildEnv, BloxBuildVectorEnv
from blox_gym.envs.edit import BloxEditEnv, BloxEditVectorEnv
from blox_gym.table import Table

N = 6


@pytest.fixture(scope="module")
def table(small_store):
    return Table(small_store[0])


def row(data, i):
    return {k: v[i] for k, v in data.items()} if isinstance(data, dict) else data[i]


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    else:
        assert np.array_equal(a, b), (a, b)


def assert_copy_is_single(vec_info, i, single_info):
    assert {k: row(vec_info, i)[k] for k in INFO_KEYS} == single_info
    assert all(vec_info[f"_{k}"].all() for k in INFO_KEYS)


def run_side_by_side(vector, singles, steps: int, seed: int) -> int:
    """Step both with the same random actions; returns how many episodes ended."""
    edit = isinstance(vector, BloxEditVectorEnv)
    rng = np.random.default_rng(seed)

    def reset_single(i, obs, first=False):  # the seeding rule: copy i is seed + i
        return singles[i].reset(seed=seed + i if first else None)

    obs, info = vector.reset(seed=seed)
    for i in range(N):
        o, inf = reset_single(i, obs, first=True)
        assert_same(row(obs, i), o)
        assert_copy_is_single(info, i, inf)
    ended, episodes = np.zeros(N, dtype=bool), 0
    for _ in range(steps):
        masks = vector.action_masks()
        for i in np.flatnonzero(~ended):
            assert np.array_equal(masks[i], singles[i].action_masks())
        actions = rng.integers(vector.single_action_space.n, size=N)
        obs, reward, terminated, truncated, info = vector.step(actions)
        for i in range(N):
            if ended[i]:  # NEXT_STEP autoreset: the action is ignored
                o, inf = reset_single(i, obs)
                r, te, tr = 0.0, False, False
            else:
                o, r, te, tr, inf = singles[i].step(actions[i])
            assert_same(row(obs, i), o)
            assert (reward[i], terminated[i], truncated[i]) == (r, te, tr)
            assert_copy_is_single(info, i, inf)
        ended = terminated | truncated
        episodes += int(ended.sum())
    return episodes


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(reward="step", horizon=3, mask_invalid=True, budget=(20, "models"),
         on_budget_end="new_search"),
    dict(reward="improvement", mask_revisits=True, fidelity=5, budget=(50, "epochs"),
         on_budget_end="new_search", train_seed="episode"),
    dict(obs_mode="dict", reward="step", budget=(3e4, "seconds"), train_seed="random",
         on_budget_end="new_search"),
    dict(action_mode="relative", reward="step", mask_revisits=True, mask_invalid=True),
    dict(obs_mode="onehot", constraint={"cost": "latency", "device": "dev-a", "limit": 5.0,
                                        "mode": "mask"}),
    dict(reward="step", constraint={"cost": "params", "limit": 2.5e6, "weight": 2.0}),
])
def test_edit_copies_behave_like_single_envs(table, kwargs):
    vector = BloxEditVectorEnv(N, table, **kwargs)
    singles = [BloxEditEnv(table, **kwargs) for _ in range(N)]
    assert run_side_by_side(vector, singles, 60, seed=1) > N


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mask_invalid=True, fidelity=2, budget=(1, "models"), obs_mode="dict",
         on_budget_end="new_search"),
    dict(constraint={"cost": "flops", "limit": 2e8, "mode": "mask"}, obs_mode="onehot"),
])
def test_build_copies_behave_like_single_envs(table, kwargs):
    vector = BloxBuildVectorEnv(N, table, **kwargs)
    singles = [BloxBuildEnv(table, **kwargs) for _ in range(N)]
    assert run_side_by_side(vector, singles, 120, seed=2) > N


def test_kept_seeds_in_random_modes(table):
    for mode in ("random", "episode"):
        vector = BloxEditVectorEnv(N, table, reward="step", train_seed=mode, horizon=50)
        vector.reset(seed=0)
        seen = {}
        for _ in range(200):
            *_, info = vector.step(np.random.default_rng(0).integers(36, size=N))
            for i in np.flatnonzero(info["val_top1"] >= 0):
                seen.setdefault((i, info["model_id"][i]), set()).add(info["val_top1"][i])
        assert all(len(v) == 1 for v in seen.values())  # a model keeps its seed in a search
        assert set(np.unique(vector.ledger.model_seed)) == {0, 1, 255}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_make_vec_gives_the_native_env(structured_store, env_id):
    vec = gym.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point",
                       table=structured_store[0])
    assert isinstance(vec, BloxEditVectorEnv if env_id == EDIT_ID else BloxBuildVectorEnv)
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = vec.reset(seed=0)
    assert obs in vec.observation_space and obs.shape[0] == 4
    assert isinstance(gym.make_vec(env_id, num_envs=2, table=structured_store[0]), type(vec))


def test_next_step_autoreset(structured_store):
    vec = BloxEditVectorEnv(3, structured_store[0], reward="step", horizon=1, mask_invalid=True)
    vec.reset(seed=0)
    allowed = vec.action_masks().argmax(axis=1)  # a real, valid edit in each copy
    obs, reward, terminated, truncated, info = vec.step(allowed)
    assert terminated.all() and (reward > 0).all() and (info["step_cost"] == 1).all()
    obs2, reward, terminated, truncated, info = vec.step(np.array([5, 5, 5]))  # ignored
    assert (reward == 0).all() and not terminated.any() and not truncated.any()
    assert (info["step_cost"] == 0).all() and (info["val_top1"] == -1).all()
    assert not np.array_equal(obs, obs2)


def test_same_seed_same_vector_trajectory(structured_store):
    def run(seed):
        vec = BloxBuildVectorEnv(8, structured_store[0], train_seed="episode")
        out = [vec.reset(seed=seed)]
        for a in np.random.default_rng(9).integers(3, size=(40, 8)):
            out.append(vec.step(a))
        return out
    first = run(3)
    for a, b in zip(first, run(3)):
        for x, y in zip(a, b):
            assert_same(x, y)


def test_many_copies_memory_and_copy_flag(structured_store):
    vec = BloxEditVectorEnv(1024, structured_store[0], copy=False)
    assert vec.ledger.paid.nbytes < 12e6  # packed bits: 11.4 KB per copy
    obs, _ = vec.reset(seed=0)
    obs2, *_ = vec.step(np.zeros(1024, dtype=np.int64))
    assert obs2 is obs  # the internal buffer, as asked


def test_bad_vector_input(structured_store):
    vec = BloxEditVectorEnv(2, structured_store[0])
    vec.reset(seed=0)
    for bad in ([0, 36], [0], [0.5, 1.0], [-1, 0]):
        with pytest.raises(ValueError, match="actions must be 2 ints in 0..35"):
            vec.step(np.array(bad))
    with pytest.raises(ValueError, match="allowed: 'arch'"):
        vec.reset(options={"seed": 1})
    with pytest.raises(ValueError, match="num_envs must be an int >= 1"):
        BloxBuildVectorEnv(0, structured_store[0])
