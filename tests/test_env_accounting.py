"""The environments' fast cost accounting equals SearchCore's, evaluation by evaluation."""

import numpy as np
import pytest

from blox_gym.core import Budget, SearchCore
from blox_gym.envs.build import BloxBuildEnv
from blox_gym.envs.edit import BloxEditEnv
from blox_gym.table import Table


@pytest.fixture(scope="module")
def table(small_store):
    return Table(small_store[0])


def run_alongside(env, make_core, steps: int, fidelity: int, rng) -> SearchCore:
    """Step ``env`` randomly; feed every evaluation it reports to a SearchCore and compare."""
    _, first = env.reset(seed=11)
    core = make_core(env)

    def check(info):
        if info["val_top1"] >= 0:
            assert core.evaluate(info["model_id"], fidelity) == info["val_top1"]
        assert info["total_cost"] == core.spent and info["best_val"] == core.best_val
        assert info["n_models"] == core.n_models

    check(first)
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        check(info)
        if core.exhausted:
            break
        if terminated or truncated:
            check(env.reset()[1])
    return core


def assert_same_record(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert np.array_equal(ours[key], theirs[key],
                              equal_nan=theirs[key].dtype.kind == "f"), key
        if len(ours[key]):  # SearchCore's empty record is all float
            assert ours[key].dtype.kind == theirs[key].dtype.kind, key


@pytest.mark.parametrize("unit, amount", [("models", 25), ("epochs", 300), ("seconds", 1e5)])
def test_edit_env_matches_search_core(table, unit, amount):
    budget = Budget(amount, unit)
    env = BloxEditEnv(table, reward="improvement", horizon=3, fidelity=7, budget=budget)
    core = run_alongside(env, lambda _: SearchCore(table, budget, seed=0), 5000, 7,
                         np.random.default_rng(0))
    assert core.exhausted and env.ledger.exhausted
    assert env.cost == core.cost
    assert_same_record(env.record(), core.record())


def test_random_seed_mode_matches_search_core(table):
    env = BloxEditEnv(table, reward="step", train_seed="random", budget=(40, "models"))
    core = run_alongside(env, lambda e: SearchCore(table, Budget(40, "models"), seed="random",
                                                   rng_seed=e.ledger.rng_seed),
                         5000, 20, np.random.default_rng(1))
    assert core.exhausted and set(core.record()["seed"]) == {0, 3}
    assert_same_record(env.record(), core.record())


def test_build_env_matches_search_core(table):
    env = BloxBuildEnv(table, fidelity=3, budget=(2, "models"))
    core = run_alongside(env, lambda _: SearchCore(table, Budget(2, "models"), seed=0), 20000,
                         3, np.random.default_rng(2))
    assert core.exhausted
    assert_same_record(env.record(), core.record())


def test_record_before_any_evaluation(table):
    env = BloxEditEnv(table)
    env.reset(seed=0)
    assert_same_record(env.record(), SearchCore(table).record())
