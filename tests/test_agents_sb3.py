"""SB3 and sb3-contrib algorithms as NAS agents: they learn, stop on budget, report records."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from agents.features import BloxGraphExtractor
from agents.sb3 import algorithms, resolve_algorithm, run_sb3, train_sb3
from blox_gym import space
from blox_gym.core import SearchCore
from blox_gym.envs import BUILD_ID, EDIT_ID
from blox_gym.table import Table

ENV_KWARGS = dict(reward="step")  # horizon 2: the paper's edit budget per episode
ALGOS = {
    "PPO": dict(n_steps=128, batch_size=64, n_epochs=4, learning_rate=3e-3),
    "A2C": dict(n_steps=8, learning_rate=3e-3),
    "DQN": dict(learning_starts=100, train_freq=4, gradient_steps=2, target_update_interval=100,
                exploration_fraction=0.3, learning_rate=2e-3, buffer_size=5000, gamma=0.5,
                batch_size=64),
    "MaskablePPO": dict(n_steps=128, batch_size=64, n_epochs=4, learning_rate=3e-3),
}
EPISODES = range(1000, 1100)  # reset seeds of the evaluation episodes


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: threads only contend
    yield
    torch.set_num_threads(threads)


def mean_return(env, act) -> float:
    returns = []
    for seed in EPISODES:
        obs, _ = env.reset(seed=seed)
        done, total = False, 0.0
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


@pytest.fixture(scope="module")
def uniform_random(structured_store):
    env = gym.make(EDIT_ID, table=structured_store[0], **ENV_KWARGS)
    rng = np.random.default_rng(0)
    return mean_return(env, lambda obs: int(rng.integers(space.N_ACTIONS)))


@pytest.mark.parametrize("algo", ALGOS)
def test_trained_agents_beat_a_uniform_random_policy(structured_store, uniform_random, algo):
    model = train_sb3(algo, structured_store[0], None, seed=0, env_kwargs=ENV_KWARGS,
                      algo_kwargs=ALGOS[algo], total_timesteps=2000)
    env = gym.make(EDIT_ID, table=structured_store[0], **ENV_KWARGS)
    if algo == "MaskablePPO":  # default masks: no no-op edits; invalid ones stay allowed
        def act(obs):
            return int(model.predict(obs, deterministic=True,
                                     action_masks=env.unwrapped.action_masks())[0])
    else:
        def act(obs):
            return int(model.predict(obs, deterministic=True)[0])
    assert mean_return(env, act) > uniform_random + 0.03


def test_run_sb3_stops_on_budget_and_reports_the_record(structured_store):
    kwargs = dict(seed=1, env_kwargs=dict(reward="final"), algo_kwargs=dict(n_steps=16))
    record = run_sb3("A2C", structured_store[0], (30, "models"), **kwargs)
    assert record.keys() == SearchCore(Table(structured_store[0])).record().keys()
    assert record["cost_models"][-1] == 30 and len(np.unique(record["model_id"])) == 30
    assert np.all(np.diff(record["best_val"]) >= 0) and np.all(record["regret"] >= 0)
    again = run_sb3("A2C", structured_store[0], (30, "models"), **kwargs)
    assert all(np.array_equal(record[k], again[k]) for k in record)


def test_run_sb3_on_build_with_dict_observations(structured_store):
    record = run_sb3("MaskablePPO", structured_store[0], (5, "models"), seed=0, env_id=BUILD_ID,
                     env_kwargs=dict(obs_mode="dict", mask_invalid=True),
                     algo_kwargs=dict(n_steps=64, batch_size=32, n_epochs=1))
    assert record["cost_models"][-1] == 5


def test_algorithm_names(structured_store):
    assert {"PPO", "A2C", "DQN", "MaskablePPO", "QRDQN", "TRPO"} <= set(algorithms())
    assert resolve_algorithm(PPO) is PPO
    with pytest.raises(ValueError, match="unknown algorithm 'PPO2'; allowed: A2C, ARS"):
        resolve_algorithm("PPO2")
    with pytest.raises(ValueError, match="give a budget, total_timesteps, or both"):
        run_sb3("PPO", structured_store[0], None)


@pytest.mark.parametrize("obs_mode", ["multidiscrete", "dict"])
def test_graph_extractor_trains_ppo(structured_store, obs_mode):
    env = gym.make(EDIT_ID, table=structured_store[0], obs_mode=obs_mode, **ENV_KWARGS)
    policy = "MultiInputPolicy" if obs_mode == "dict" else "MlpPolicy"
    model = PPO(policy, env, n_steps=64, batch_size=32, n_epochs=2, seed=0, policy_kwargs=dict(
        features_extractor_class=BloxGraphExtractor,
        features_extractor_kwargs=dict(features_dim=32, hidden=16, layers=2)))
    before = [p.detach().clone() for p in model.policy.features_extractor.parameters()]
    model.learn(128)
    after = list(model.policy.features_extractor.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))


def test_graph_extractor_builds_the_space_graphs(structured_store):
    env = gym.make(EDIT_ID, table=structured_store[0], obs_mode="onehot")
    extractor = BloxGraphExtractor(env.observation_space)
    flat = space.CANONICAL[[0, 4000, 91124]].astype(np.int64)
    onehot = (space.ACTION_VALUE == flat[:, space.ACTION_COMPONENT]).astype(np.float32)
    x, edge_index = extractor.graphs(torch.from_numpy(onehot))
    adj, feats = space.graph_tensors(flat)
    assert torch.equal(x, torch.from_numpy(feats.reshape(-1, space.N_GCN_FEATURES)))
    dense = np.zeros((3 * 12, 3 * 12), dtype=bool)
    dense[edge_index[0].numpy(), edge_index[1].numpy()] = True
    for i in range(3):
        block = dense[12 * i:12 * i + 12, 12 * i:12 * i + 12]
        assert np.array_equal(block, (adj[i] + adj[i].T) > 0)
    assert extractor(torch.from_numpy(onehot)).shape == (3, 64)
    with pytest.raises(ValueError, match="takes BloxEdit-v0 observations"):
        BloxGraphExtractor(gym.make(BUILD_ID, table=structured_store[0]).observation_space)


def test_native_vec_env_trains_maskable_ppo_with_masks(structured_store):
    from sb3_contrib import MaskablePPO

    from agents.sb3 import native_vec_env

    env = native_vec_env(EDIT_ID, 4, table=structured_store[0], action_mode="relative",
                         reward="step", mask_invalid=True)
    env.reset()
    masks = np.stack(env.env_method("action_masks"))
    assert masks.shape == (4, 21) and env.has_attr("action_masks")
    model = MaskablePPO("MlpPolicy", env, n_steps=16, batch_size=32, n_epochs=1, seed=0)
    model.learn(128)
    assert model._n_updates == 2 and model.num_timesteps == 128


def test_run_sb3_shares_one_budget_across_copies_and_fits_the_rollout(structured_store):
    kwargs = dict(seed=2, n_envs=3, env_kwargs=dict(action_mode="relative", reward="step"))
    with pytest.warns(UserWarning, match="rollout of 2048 x 3 steps leaves fewer than 4 updates"):
        model = train_sb3("PPO", structured_store[0], (30, "models"), **kwargs)
    assert model.n_steps * 3 * 4 <= 30 and model._n_updates >= 4  # it learned in the budget
    record = run_sb3("PPO", structured_store[0], (30, "models"), algo_kwargs=dict(n_steps=2),
                     **kwargs)
    assert record["cost_models"][-1] == 30 and len(np.unique(record["model_id"])) == 30


def test_sb3_agent_is_an_agent_that_charges_the_core(structured_store):
    import agents
    from agents.base import Agent
    from blox_gym.core import Budget

    agent = agents.make("sb3:A2C", algo_kwargs=dict(n_steps=4), n_envs=2)
    assert isinstance(agent, Agent) and agent.config()["agent"] == "sb3:A2C"
    core = SearchCore(Table(structured_store[0]))
    record = agent.run(core, Budget(12, "models"), seed=0)
    assert core.n_models == 12 and core.exhausted  # the core paid, as for every agent
    assert np.array_equal(record["model_id"], core.record()["model_id"])
