"""RL soundness (issue 19, issue 17 points 7-8): relative actions, no-ops that pay nothing,
info fields, sealed envs, text rendering, refused inputs, the seeding rule of vector copies,
same-step autoreset, the vector record, and the StopWhenSpent callback on a vector env."""

import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from blox_gym import space
from blox_gym.core import Budget, SearchCore
from blox_gym.envs import EDIT_ID
from blox_gym.envs.build import BloxBuildEnv, BloxBuildVectorEnv
from blox_gym.envs.edit import (N_RELATIVE, REL_COMPONENT, REL_STEP, BloxEditEnv,
                                BloxEditVectorEnv)
from blox_gym.table import Table

START = [0, 0, 0, 0, 1] + [1, 1, 1, 1, 1] * 2


def same_column(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a, b, equal_nan=b.dtype.kind == "f")


@pytest.fixture(scope="module")
def table(structured_store):
    return Table(structured_store[0])


def test_relative_actions_always_change_the_encoding(table):
    assert N_RELATIVE == 21 and REL_COMPONENT.tolist()[:7] == [0, 0, 1, 1, 2, 3, 4]
    env = BloxEditEnv(table, action_mode="relative", reward="step", horizon=40)
    assert env.action_space == gym.spaces.Discrete(21)
    obs, info = env.reset(seed=3, options={"arch": START})
    for a in range(N_RELATIVE):  # each action once, by hand: (v + k) mod radix
        d, k = int(REL_COMPONENT[a]), int(REL_STEP[a])
        expected = obs.copy()
        expected[d] = (obs[d] + k) % space.RADIX[d]
        new, reward, _, _, info = env.step(a)
        if space.is_valid(expected):
            assert new.tolist() == expected.tolist() != obs.tolist()  # isomorphic: same id
            assert info["model_id"] == space.model_id(expected) and reward > 0
            obs = new
        else:  # rejected: -1, nothing moves
            assert reward == -1.0 and new.tolist() == obs.tolist()


def test_noop_edits_pay_noop_reward_cost_nothing_and_count(table):
    env = BloxEditEnv(table, reward="step", horizon=3, noop_reward=-0.25)
    env.reset(seed=0, options={"arch": START})
    noop = int(np.flatnonzero((space.ACTION_COMPONENT == 0) & (space.ACTION_VALUE == 0))[0])
    for t in (1, 2, 3):
        obs, reward, terminated, _, info = env.step(noop)
        assert reward == -0.25 and info["step_cost"] == 0.0 and info["val_top1"] == -1.0
        assert terminated == (t == 3) and obs.tolist() == START
    assert env.ledger.n_models == 0 and env.ledger.log == []
    with pytest.raises(ValueError, match=r"noop_reward must be a number in \[-1, 1\]"):
        BloxEditEnv(table, noop_reward=5)


def test_info_best_model_and_fixed_reward_bound(table):
    env = BloxEditEnv(table, reward="step", obs_mode="dict", budget=(10, "epochs"))
    low, high = env.observation_space["last_reward"].low[0], env.observation_space[
        "last_reward"].high[0]
    assert (low, high) == (-1.0, 1.0)  # the reward scale, not the table's best accuracy
    env.reset(seed=0)
    best = (-np.inf, -1)
    for a in np.random.default_rng(0).integers(36, size=30).tolist():
        *_, terminated, _, info = env.step(a)
        if info["val_top1"] > best[0]:
            best = (info["val_top1"], info["model_id"])
        assert (info["best_val"], info["best_model"]) == best
        assert info["cost_unit"] == "epochs" and 0 <= info["budget_left"] <= 1
        if terminated:
            break


def test_sealed_env_hides_the_table(table):
    env = gym.make(EDIT_ID, table=table, sealed=True, reward="step")
    env.reset(seed=0)
    env.step(0)
    for name in ("table", "oracle"):
        with pytest.raises(AttributeError, match="sealed"):
            getattr(env.unwrapped, name)
    assert len(env.unwrapped.record()["model_id"]) == 1  # the record still reads it


def test_render_modes(table):
    for mode in (None, "ansi"):
        env = gym.make(EDIT_ID, table=table, render_mode=mode, budget=(5, "models"))
        env.reset(seed=0, options={"arch": START})
        text = env.render()
        assert text is None if mode is None else text == (
            f"[00001 11111 11111] model {space.model_id(START)} reward +0.0000 best val -inf "
            f"cost 0/5 models")
    with pytest.raises(ValueError, match="render_mode must be one of None, 'ansi'"):
        BloxBuildEnv(table, render_mode="human")
    build = BloxBuildEnv(table, render_mode="ansi")
    build.reset(seed=0)
    build.step(2)
    assert build.render().startswith("[2____ _____ _____] model -1")


@pytest.mark.parametrize("bad", [1.7, 1.0, "1", True, np.float64(2.0), np.array([1]), None])
def test_non_integer_actions_are_refused_like_the_vector_env(table, bad):
    env = BloxEditEnv(table)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an int in 0..35"):
        env.step(bad)
    env.step(np.int64(3))
    env.step(np.array(4))  # a 0-d integer array is an int


def test_step_before_reset_is_an_error(table):
    for env in (BloxEditEnv(table), BloxBuildEnv(table)):
        with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
            env.step(0)
        with pytest.raises(RuntimeError, match=r"call reset\(\) before action_masks\(\)"):
            env.action_masks()
    for vec in (BloxEditVectorEnv(2, table), BloxBuildVectorEnv(2, table)):
        with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
            vec.step(np.zeros(2, dtype=np.int64))
        with pytest.raises(RuntimeError, match=r"call reset\(\) before action_masks\(\)"):
            vec.action_masks()


def test_metric_missing_for_a_drawable_seed_is_refused(small_store):
    t = Table(small_store[0])  # train metrics exist for seed 0 only
    BloxEditEnv(t, metric="train_loss", train_seed=0)
    for seed in (3, "random", "episode"):
        with pytest.raises(ValueError, match="'train_loss' .*missing for training seed"):
            BloxEditEnv(t, metric="train_loss", train_seed=seed)


def test_vector_copies_follow_the_gymnasium_seeding_rule(table):
    vec = BloxEditVectorEnv(3, table)
    sync = SyncVectorEnv([lambda: BloxEditEnv(table) for _ in range(3)])
    obs, _ = vec.reset(seed=10)
    assert np.array_equal(obs, sync.reset(seed=10)[0])  # copy i is a single env seeded 10 + i
    assert np.array_equal(obs[2], BloxEditEnv(table).reset(seed=12)[0])
    for a in np.random.default_rng(1).integers(36, size=(7, 3)):
        assert all(np.array_equal(x, y) for x, y in zip(vec.step(a)[:4], sync.step(a)[:4]))


def test_same_step_autoreset_matches_gymnasium_sync(table):
    kwargs = dict(reward="improvement", budget=(6, "models"), horizon=3)
    vec = BloxEditVectorEnv(4, table, autoreset_mode="same_step", **kwargs)
    sync = SyncVectorEnv([lambda: BloxEditEnv(table, **kwargs) for _ in range(4)],
                         autoreset_mode=AutoresetMode.SAME_STEP)
    assert vec.metadata["autoreset_mode"].value == "SameStep"
    vec.reset(seed=0)
    sync.reset(seed=0)
    ended = 0
    for a in np.random.default_rng(2).integers(36, size=(30, 4)):
        ours, theirs = vec.step(a), sync.step(a)
        for x, y in zip(ours[:4], theirs[:4]):
            assert np.array_equal(x, y)
        for key in ("model_id", "val_top1", "total_cost", "search_over"):
            assert np.array_equal(ours[4][key], theirs[4][key])
        if ours[2].any():
            ended += 1
            done = np.flatnonzero(ours[2])
            for i in done:
                assert np.array_equal(ours[4]["final_obs"][i], theirs[4]["final_obs"][i])
            assert np.array_equal(ours[4]["final_info"]["model_id"][done],
                                  theirs[4]["final_info"]["model_id"][done])
    assert ended > 3


def test_vector_record_equals_search_core_per_copy(table):
    vec = BloxEditVectorEnv(3, table, reward="step", budget=(3, "models"),
                            on_budget_end="stop", fidelity=7)  # 0.35 models an evaluation
    vec.reset(seed=0)
    for a in np.random.default_rng(3).integers(36, size=(60, 3)):
        _, _, terminated, _, info = vec.step(a)
        if info["search_over"].any():
            break
    over = np.flatnonzero(vec.ledger.exhausted)
    assert len(over) and np.array_equal(over, np.flatnonzero(info["search_over"]))
    for i in range(3):
        core = SearchCore(table, Budget(3, "models"))
        ids, _ = vec.ledger.evaluations(i)
        core.evaluate_many(ids, 7)
        ours, theirs = vec.record(i), core.record()
        assert all(same_column(ours[k], theirs[k]) for k in theirs)
        assert vec.ledger.cost["models"][i] == core.cost["models"]
        assert core.exhausted == (i in over)
    with pytest.raises(RuntimeError, match=re.escape(f"copies {over.tolist()}: the search's budget")):
        vec.step(np.zeros(3, dtype=np.int64))  # "stop": the next step after the end


def test_shared_budget_is_one_search_in_copy_order(table):
    vec = BloxEditVectorEnv(4, table, reward="step", budget=(5, "models"), shared_budget=True)
    vec.reset(seed=0)
    core = SearchCore(table, Budget(5, "models"))
    rng = np.random.default_rng(4)
    while not vec.ledger.exhausted.any():
        *_, info = vec.step(rng.integers(36, size=4))
        for i in np.flatnonzero(info["val_top1"] >= 0):  # copy order is evaluation order
            assert core.evaluate(int(info["model_id"][i])) == info["val_top1"][i]
    assert core.exhausted and info["search_over"].all() and (info["total_cost"] == 5).all()
    ours = vec.record(2)
    assert all(same_column(ours[k], core.record()[k]) for k in ours)


def test_stop_when_spent_on_a_vector_env(table):
    from agents.sb3 import StopWhenSpent

    vec = BloxEditVectorEnv(2, table, reward="step", budget=(1, "models"),
                            on_budget_end="new_search")
    callback = StopWhenSpent(vec)
    vec.reset(seed=0)
    assert callback._on_step()  # a bound method was always truthy: training stopped here
    vec.step(np.array([0, 1]))
    spent = vec.ledger.exhausted
    assert callback._on_step() == (not spent.all())
    while not vec.ledger.exhausted.all():
        vec.step(np.array([0, 1]))
    assert not callback._on_step()
