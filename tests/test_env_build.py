"""BloxBuild-v0 by hand: 15 ordered decisions, the unset marker, masks, the final reward."""

import numpy as np
import pytest

from blox_gym import space
from blox_gym.envs.build import BloxBuildEnv, prefix_feasible
from blox_gym.table import Table

ARCH = [1, 2, 1, 0, 1, 0, 1, 1, 1, 0, 2, 2, 0, 1, 1]


@pytest.fixture(scope="module")
def table(structured_store):
    return Table(structured_store[0])


def test_build_one_model(table, structured_store):
    env = BloxBuildEnv(table)
    obs, info = env.reset(seed=0)
    assert obs.tolist() == space.RADIX.tolist() + [0] and info["model_id"] == -1
    for p, v in enumerate(ARCH):
        obs, reward, terminated, truncated, info = env.step(v)
        assert obs[:p + 1].tolist() == ARCH[:p + 1] and obs[-1] == p + 1
        assert obs[p + 1:15].tolist() == space.RADIX[p + 1:].tolist()  # unset = radix
        assert terminated == (p == 14) and not truncated
        if p < 14:
            assert reward == 0.0 and info["valid"] is False and info["step_cost"] == 0.0
    val = structured_store[1]["val_top1"][0, space.model_id(ARCH)].max()
    assert reward == val / 100 and info["model_id"] == space.model_id(ARCH)
    assert info["valid"] and info["step_cost"] == 1.0 and info["best_val"] == val
    with pytest.raises(RuntimeError, match="complete; call reset"):
        env.step(0)


def test_invalid_models_and_values_beyond_the_radix(table):
    env = BloxBuildEnv(table)
    env.reset(seed=0)
    for v in [0, 0, 0, 0]:
        env.step(v)
    *_, info = env.step(0)  # stage 0: previous = input = skip = 0, but only known at the end
    assert info["model_id"] == -1
    for _ in range(9):
        env.step(1)
    _, reward, terminated, _, info = env.step(1)
    assert reward == -1.0 and terminated and info["valid"] is False and env.cost["models"] == 0
    env.reset()
    env.step(0)
    env.step(0)
    _, reward, terminated, _, info = env.step(2)  # component 2 (previous) takes 0 or 1
    assert reward == -1.0 and terminated and info["step_cost"] == 0.0


def test_masks(table):
    plain, masked = BloxBuildEnv(table), BloxBuildEnv(table, mask_invalid=True)
    for env in (plain, masked):
        env.reset(seed=0)
        assert env.action_masks().tolist() == [True, True, True]
        env.step(0)
        env.step(0)
        assert env.action_masks().tolist() == [True, True, False]
        env.step(0)  # previous = 0
        env.step(0)  # input = 0
    assert plain.action_masks().tolist() == [True, True, False]
    assert masked.action_masks().tolist() == [False, True, False]  # skip = 0 would be invalid


def test_masked_random_agents_always_build_feasible_models(table):
    limit = float(np.quantile(table.flops(np.arange(space.N_MODELS)), 0.1))
    env = BloxBuildEnv(table, mask_invalid=True, constraint={"cost": "flops", "limit": limit,
                                                            "mode": "mask"})
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    for _ in range(30):
        terminated = False
        while not terminated:
            allowed = np.flatnonzero(env.action_masks())
            _, reward, terminated, _, info = env.step(rng.choice(allowed))
        assert reward > 0 and table.flops(info["model_id"]) <= limit
        env.reset()


def test_prefix_feasibility_matches_brute_force():
    allowed = np.random.default_rng(0).random(space.N_RAW) < 1e-4
    prefixes = prefix_feasible(allowed)
    raws = np.flatnonzero(allowed)
    for p in (0, 4, 9, 14):
        width = int(space._PLACE[p] * space.RADIX[p])
        expected = np.zeros(width, dtype=bool)
        expected[raws % width] = True
        assert np.array_equal(prefixes[p], expected)


def test_bad_options(table):
    with pytest.raises(TypeError):
        BloxBuildEnv(table, reward="step")  # the reward comes at the end, always
    env = BloxBuildEnv(table)
    with pytest.raises(ValueError, match="unknown reset option\\(s\\) 'arch'; allowed: none"):
        env.reset(options={"arch": ARCH})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an int in 0..2"):
        env.step(3)
