"""BloxEdit-v0 by hand: edits, rejected invalid edits, reward modes, masks, budgets, options."""

import gymnasium as gym
import numpy as np
import pytest

from blox_gym import space
from blox_gym.envs import EDIT_ID
from blox_gym.envs.edit import BloxEditEnv
from blox_gym.table import Table

# stage 0 = single conv through the skip edge: (previous, input, skip) = (0, 0, 1)
START = [0, 0, 0, 0, 1] + [1, 1, 1, 1, 1] * 2


def action(d: int, v: int) -> int:
    return int(np.flatnonzero((space.ACTION_COMPONENT == d) & (space.ACTION_VALUE == v))[0])


def edited(flat, d, v):
    out = list(flat)
    out[d] = v
    return out


@pytest.fixture(scope="module")
def table(structured_store):
    return Table(structured_store[0])


@pytest.fixture(scope="module")
def val(structured_store):
    curves = structured_store[1]["val_top1"][0]
    return lambda arch, f=20: float(curves[space.model_id(arch), :f].max())


def test_final_reward_is_the_last_models_accuracy(table, val):
    env = BloxEditEnv(table)  # defaults: horizon 2, reward "final"
    obs, info = env.reset(seed=0, options={"arch": START})
    assert obs.tolist() == START and obs.dtype == np.int8
    assert info["model_id"] == space.model_id(START)
    assert info["val_top1"] == -1.0 and info["total_cost"] == 0.0
    one = edited(START, 0, 1)
    obs, reward, terminated, truncated, info = env.step(action(0, 1))
    assert obs.tolist() == one and reward == 0.0 and not terminated and not truncated
    assert info["step_cost"] == 0.0 and info["n_models"] == 0  # not trained: no cost
    two = edited(one, 5, 2)
    obs, reward, terminated, truncated, info = env.step(np.int64(action(5, 2)))
    assert reward == val(two) / 100 and terminated and not truncated
    assert info == {"model_id": space.model_id(two), "valid": True, "val_top1": val(two),
                    "step_cost": 1.0, "total_cost": 1.0, "best_val": val(two),
                    "best_model": space.model_id(two), "n_models": 1, "budget_left": 1.0,
                    "cost_unit": "models", "search_over": False}


def test_invalid_edit_scores_minus_one_free_and_is_rejected(table, val):
    env = BloxEditEnv(table, reward="step", horizon=3)
    env.reset(seed=0, options={"arch": START})
    obs, reward, terminated, _, info = env.step(action(4, 0))  # skip -> 0: stage 0 invalid
    assert reward == -1.0 and obs.tolist() == START and not terminated
    assert info["valid"] is False and info["model_id"] == -1 and info["step_cost"] == 0.0
    assert env.cost == {"models": 0.0, "epochs": 0.0, "seconds": 0.0}
    _, reward, _, _, info = env.step(action(0, 2))
    assert reward == val(edited(START, 0, 2)) / 100 and info["total_cost"] == 1.0
    _, _, terminated, _, _ = env.step(action(0, 2))  # the invalid edit counted towards 3
    assert terminated


def test_step_and_improvement_rewards(table, val):
    env = BloxEditEnv(table, reward="step")
    env.reset(seed=0, options={"arch": START})
    first = edited(START, 0, 1)
    assert env.step(action(0, 1))[1] == val(first) / 100
    _, reward, _, _, info = env.step(action(0, 0))  # back to the start: trained now
    assert reward == val(START) / 100 and info["n_models"] == 2

    env = BloxEditEnv(table, reward="improvement")
    _, info = env.reset(seed=0, options={"arch": START})
    assert info["val_top1"] == val(START) and info["step_cost"] == 1.0  # trained at reset
    rewards, best = [], val(START)
    for a in (action(0, 1), action(0, 2)):
        _, reward, _, _, info = env.step(a)
        rewards.append(reward)
        assert reward == pytest.approx(max(0.0, (info["val_top1"] - best) / 100), abs=1e-12)
        best = max(best, info["val_top1"])
    assert min(rewards) >= 0.0


def test_revisits_are_free_and_masks(table):
    env = BloxEditEnv(table, reward="step", horizon=4, mask_invalid=True, mask_revisits=True)
    env.reset(seed=0, options={"arch": START})
    mask = env.action_masks()
    assert mask.dtype == bool and mask.shape == (36,)
    current = np.array(START)[space.ACTION_COMPONENT]
    assert not mask[space.ACTION_VALUE == current].any()  # no-ops
    assert not mask[action(4, 0)]  # invalid
    assert mask[action(0, 1)]
    env.step(action(0, 1))
    assert not env.action_masks()[action(0, 0)]  # back to the start: a revisit
    assert env.step(action(0, 2))[4]["step_cost"] == 1.0
    assert env.step(action(0, 1))[4]["step_cost"] == 0.0  # unmasked agents may revisit: free
    a, b = space.model_id(edited(START, 0, 1)), space.model_id(edited(START, 0, 2))
    assert env.ledger.log == [a, b, a] and env.ledger.n_models == 2
    same_model = action(1, 2)  # op1 is dangling in a skip-only stage: same model, masked
    assert not env.action_masks()[same_model]
    unmasked = BloxEditEnv(table)
    unmasked.reset(seed=0, options={"arch": START})
    assert unmasked.action_masks()[action(4, 0)] and unmasked.action_masks()[same_model]


def test_everything_masked_allows_staying(table):
    smallest = [2, 0, 0, 0, 1] * 3  # a single bconv per stage: the fewest parameters
    limit = table.params(space.model_id(smallest))
    env = BloxEditEnv(table, constraint={"cost": "params", "limit": limit, "mode": "mask"},
                      mask_invalid=True, mask_revisits=True)
    env.reset(seed=0, options={"arch": smallest})
    mask = env.action_masks()
    assert mask.any() and (space.neighbours(smallest).archs[mask] == smallest).all()


@pytest.mark.parametrize("on_budget_end", ["stop", "new_search"])
def test_budget_end_terminates_and_says_search_over(table, on_budget_end):
    env = BloxEditEnv(table, reward="step", horizon=10, budget=(2, "models"),
                      on_budget_end=on_budget_end)
    env.reset(seed=0, options={"arch": START})
    *_, info = env.step(action(0, 1))
    assert not info["search_over"] and info["budget_left"] == 0.5
    _, _, terminated, truncated, info = env.step(action(0, 2))
    assert terminated and not truncated and info["search_over"] and info["total_cost"] == 2.0
    assert info["budget_left"] == 0.0 and info["cost_unit"] == "models"
    first = env.record()
    if on_budget_end == "stop":
        with pytest.raises(RuntimeError, match="budget of 2 models is spent.*new_search"):
            env.reset()
    else:  # a fresh search with a fresh budget; the last one's record was complete
        _, info = env.reset()
        assert info["total_cost"] == 0.0 and not info["search_over"] and env.ledger.n_models == 0
        assert len(first["model_id"]) == 2 and first["cost_models"][-1] == 2.0
    env.reset(seed=1)  # a seed always starts a new search
    assert env.cost["models"] == 0.0 and not env.ledger.exhausted


def test_search_over_at_reset_ends_the_next_step_at_once(table):
    env = BloxEditEnv(table, reward="improvement", budget=(1, "models"), on_budget_end="stop")
    _, info = env.reset(seed=0)  # the start model spends the whole budget
    assert info["search_over"] and info["step_cost"] == 1.0
    obs, reward, terminated, _, info = env.step(0)
    assert terminated and reward == 0.0 and info["search_over"] and info["step_cost"] == 0.0
    with pytest.raises(RuntimeError, match="is spent"):
        env.reset()


def test_budget_in_epochs_and_seconds_with_fidelity(table, structured_store, val):
    seconds = structured_store[1]["train_time_s"][0]
    env = BloxEditEnv(table, reward="step", fidelity=5, budget=(12, "epochs"))
    env.reset(seed=0, options={"arch": START})
    _, reward, _, _, info = env.step(action(0, 1))
    mid = space.model_id(edited(START, 0, 1))
    assert reward == val(edited(START, 0, 1), 5) / 100 and info["step_cost"] == 5.0
    assert env.cost == {"models": 0.25, "epochs": 5.0, "seconds": seconds[mid] * 5 / 20}
    env = BloxEditEnv(table, reward="step", budget=(1.0, "seconds"))
    env.reset(seed=0, options={"arch": START})
    _, _, terminated, _, info = env.step(action(0, 1))
    assert terminated and info["search_over"]
    assert info["step_cost"] == seconds[mid] == info["total_cost"]


def test_random_starts_are_uniform_valid_and_seeded(table):
    env = BloxEditEnv(table)
    starts = [env.reset(seed=s)[0] for s in range(200)]
    assert all(space.is_valid(x) for x in starts)
    assert len({tuple(x) for x in starts}) > 190  # 250,047 valid encodings
    again = BloxEditEnv(table)
    assert all(np.array_equal(again.reset(seed=s)[0], starts[s]) for s in range(20))


def test_metrics_seeds_and_constraints(small_store):
    t, arrays = Table(small_store[0]), small_store[1]
    mid = space.model_id(edited(START, 0, 1))
    env = BloxEditEnv(t, reward="step", metric="train_loss", train_seed=0)
    env.reset(seed=0, options={"arch": START})
    _, reward, _, _, info = env.step(action(0, 1))
    assert reward == -arrays["train_loss"][0, mid].min()
    assert info["val_top1"] == arrays["val_top1"][0, mid].max()  # info: always val top-1
    env = BloxEditEnv(t, reward="step", train_seed=3)
    env.reset(seed=0, options={"arch": START})
    assert env.step(action(0, 1))[1] == arrays["val_top1"][1, mid].max() / 100
    lat = t.latency(mid, "dev-a")
    env = BloxEditEnv(t, reward="step", constraint={"cost": "latency", "device": "dev-a",
                                                    "limit": lat / 2, "weight": 0.5})
    env.reset(seed=0, options={"arch": START})
    expected = arrays["val_top1"][0, mid].max() / 100 - 0.5 * (lat / (lat / 2) - 1)
    assert env.step(action(0, 1))[1] == expected


def test_mask_constraint(small_store):
    t = Table(small_store[0])
    latency = t.latency(np.arange(space.N_MODELS), "dev-a")
    limit = float(np.median(latency))
    env = BloxEditEnv(t, reward="step", horizon=100, constraint={
        "cost": "latency", "device": "dev-a", "limit": limit, "mode": "mask"})
    x, _ = env.reset(seed=0)
    for _ in range(20):
        assert latency[space.model_id(x)] <= limit  # starts and moves stay within the limit
        n = space.neighbours(x)
        over = n.valid & (latency[np.maximum(n.model_id, 0)] > limit)
        mask = env.action_masks()
        assert np.array_equal(mask, n.changed & ~over)  # invalid edits stay allowed
        a = int(np.flatnonzero(over)[0])
        y, reward, *_, info = env.step(a)
        assert reward == -1.0 and info["step_cost"] == 0.0 and np.array_equal(x, y)
        x, *_ = env.step(int(np.flatnonzero(mask & n.valid)[0]))


def test_episode_seed_mode_keeps_a_models_seed(small_store):
    t, arrays = Table(small_store[0]), small_store[1]
    env = BloxEditEnv(t, reward="step", train_seed="episode")
    env.reset(seed=0)
    seen = {}
    for _ in range(300):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        if info["val_top1"] >= 0:
            seen.setdefault(info["model_id"], set()).add(info["val_top1"])
        if terminated:
            env.reset()
    assert all(len(v) == 1 for v in seen.values())
    seeds = np.frombuffer(env.ledger._model_seed, dtype=np.uint8)
    assert set(seeds[list(seen)]) == {0, 1}


@pytest.mark.parametrize("kwargs, message", [
    (dict(reward="best"), "reward must be one of 'final', 'step', 'improvement'"),
    (dict(obs_mode="graph"), "obs_mode must be one of 'multidiscrete', 'onehot', 'dict'"),
    (dict(horizon=0), "horizon must be an int >= 1"),
    (dict(fidelity=21), "fidelity must be an int in 1..20"),
    (dict(metric="test_top1"), "agents must never see test metrics"),
    (dict(metric="val_loss"), "not in this table; available: val_top1"),
    (dict(metric="train_time_s"), "metric must be one of 'val_top1'"),
    (dict(train_seed=5), r"train_seed must be one of the table's seeds \[0\], 'random' or"),
    (dict(budget=(3, "hours")), "not one of models, epochs, seconds"),
    (dict(constraint={"cost": "energy", "limit": 1}), "constraint cost must be one of 'latency'"),
    (dict(constraint={"cost": "latency", "device": "tpu", "limit": 1}), "available: \\['dev-a'\\]"),
    (dict(constraint={"cost": "flops", "limit": 1, "unit": "G"}), "unknown constraint key"),
    (dict(constraint={"cost": "flops", "limit": 1, "mode": "mask"}), "no model meets"),
])
def test_bad_options_name_the_allowed_ones(table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        BloxEditEnv(table, **kwargs)


def test_bad_actions_and_reset_options(table):
    env = BloxEditEnv(table)
    env.reset(seed=0)
    for bad in (36, -1, "x"):
        with pytest.raises(ValueError, match="action must be an int in 0..35"):
            env.step(bad)
    with pytest.raises(ValueError, match="unknown reset option\\(s\\) 'start'; allowed: 'arch'"):
        env.reset(options={"start": START})
    with pytest.raises(ValueError, match="invalid or over the mask constraint"):
        env.reset(options={"arch": edited(START, 4, 0)})
    with pytest.raises(ValueError, match="table must be a Table, a path or None"):
        BloxEditEnv(table=3)


def test_make_passes_options_and_path(structured_store):
    env = gym.make(EDIT_ID, table=structured_store[0], obs_mode="onehot", horizon=3)
    obs, _ = env.reset(seed=0, options={"arch": START})
    assert obs.shape == (36,) and obs.dtype == np.float32  # one-hot, in the actions' layout
    assert np.array_equal(obs, space.ACTION_VALUE == np.array(START)[space.ACTION_COMPONENT])
    obs, _ = gym.make(EDIT_ID, table=structured_store[0], obs_mode="dict").reset(seed=0)
    assert set(obs) == {"arch", "budget_left", "last_reward"} and obs["budget_left"][0] == 1.0
