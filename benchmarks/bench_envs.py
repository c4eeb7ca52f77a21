"""Speed of the Blox environments, printed as markdown.

1. One ``BloxEdit-v0`` through ``gymnasium.make`` (its checker and order wrappers included)
   against ``CartPole-v1`` through ``gymnasium.make``, measured in alternating rounds in
   this process; target: ratio >= 1.
2. The native vector env with 1,024 copies against Gymnasium's own ``CartPoleVectorEnv``
   with 1,024 copies, in alternating rounds in this process; target: ratio >= 1 (and
   >= 5,000,000 steps/s).
3. ``action_masks()`` of the vector env with ``mask_revisits`` (the costliest masks) at
   1,024 copies against one step of the same env, a mask after each step (as MaskablePPO
   asks for them); target: a mask no slower than a step.
4. MaskablePPO on ``BloxEdit-v0``: the share of training time spent in the environment
   (step, reset, action_masks); target: < 10 %.

Uses ``--table PATH`` if given, else a structured table like the tests' fixture (additive
block effects, 20 epochs), written once into the cache directory.

    PYTHONPATH=. python benchmarks/bench_envs.py
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import gymnasium as gym
import numpy as np

from blox_gym import costs, paths, space, store
from blox_gym.envs import EDIT_ID
from blox_gym.table import Table

BENCH_TABLE = "bench-structured-v1.zarr"


def structured_table() -> Table:
    """A 20-epoch table with additive per-block accuracy effects (built once, then reused)."""
    path = paths.cache_dir() / BENCH_TABLE
    if not path.exists():
        rng = np.random.default_rng(0)
        ids = np.arange(space.N_MODELS)
        k = space.block_indices(ids).T
        effects = rng.normal(0, 1.0, (3, 45))
        final = 72 + sum(effects[s, k[s]] for s in range(3)) + rng.normal(0, 0.2, space.N_MODELS)
        val = np.round(final[:, None] * (1 - np.exp(-np.arange(1, 21) / 4)) * 50) / 50
        flops = costs.release_column("flops")
        arrays = {"val_top1": val[None],
                  "test_top1": (np.round(final * 100) / 100)[None],
                  "train_time_s": np.round(flops / 1e5)[None].astype(float),
                  "latency/dev-a": (flops / 3e7).astype(np.float32)}
        attrs = {"name": "bench-structured", "seeds": [0], "source": {"kind": "synthetic"},
                 "licence": "none"}
        store.write_store(path, arrays, attrs, progress=False)
    return Table(path)


def steps_per_second(env: gym.Env, actions: list[int]) -> float:
    env.reset(seed=0)
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def single_env(table: Table, steps: int, rounds: int) -> dict:
    cartpole = gym.make("CartPole-v1")
    blox = gym.make(EDIT_ID, table=table)
    rng = np.random.default_rng(0)
    rates = {"cartpole": [], "blox": []}
    for _ in range(rounds):  # alternate, so that load on the machine hits both alike
        rates["cartpole"].append(steps_per_second(cartpole, rng.integers(2, size=steps).tolist()))
        rates["blox"].append(steps_per_second(blox, rng.integers(36, size=steps).tolist()))
    ratios = np.array(rates["blox"]) / np.array(rates["cartpole"])
    return {"cartpole": float(np.median(rates["cartpole"])),
            "blox": float(np.median(rates["blox"])), "ratio": float(np.median(ratios))}


def vector_rate(vec, actions: np.ndarray) -> tuple[float, float]:
    """Steps per wall-clock second and per CPU second of ``vec`` over ``actions``."""
    n = actions.shape[1]
    start, start_cpu = time.perf_counter(), time.process_time()
    for a in actions:
        vec.step(a)
    return (len(actions) * n / (time.perf_counter() - start),
            len(actions) * n / (time.process_time() - start_cpu))


def vector_env(table: Table, n: int, steps: int, rounds: int) -> dict:
    """Median steps per second of the Blox vector env and CartPoleVectorEnv, alternating."""
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    blox = gym.make_vec(EDIT_ID, num_envs=n, vectorization_mode="vector_entry_point",
                        table=table)
    cartpole = CartPoleVectorEnv(num_envs=n)
    rng = np.random.default_rng(0)
    ours, theirs = rng.integers(36, size=(steps, n)), rng.integers(2, size=(steps, n))
    blox.reset(seed=0)
    cartpole.reset(seed=0)
    vector_rate(blox, ours[:20])  # warm-up: first touches of the ledgers' pages
    vector_rate(cartpole, theirs[:20])
    rates = {"blox": [], "blox_cpu": [], "cartpole": [], "cartpole_cpu": []}
    for _ in range(rounds):
        for name, env, actions in (("blox", blox, ours), ("cartpole", cartpole, theirs)):
            wall, cpu = vector_rate(env, actions)
            rates[name].append(wall)
            rates[f"{name}_cpu"].append(cpu)
    ratio = np.array(rates["blox"]) / np.array(rates["cartpole"])
    cpu_ratio = np.array(rates["blox_cpu"]) / np.array(rates["cartpole_cpu"])
    return {k: float(np.median(v)) for k, v in rates.items()} | {
        "ratio": float(np.median(ratio)), "cpu_ratio": float(np.median(cpu_ratio))}


def masks_vs_step(table: Table, n: int, steps: int, rounds: int) -> dict:
    """Median seconds of one ``action_masks()`` and of one step, ``mask_revisits=True``: a
    mask after each step, each timed on its own."""
    vec = gym.make_vec(EDIT_ID, num_envs=n, vectorization_mode="vector_entry_point",
                       table=table, reward="step", mask_invalid=True, mask_revisits=True)
    vec.reset(seed=0)
    actions = np.random.default_rng(1).integers(36, size=(steps, n))
    mask_s, step_s = [], []
    clock = time.perf_counter
    for _ in range(rounds):
        mask = step = 0.0
        for a in actions:
            start = clock()
            vec.step(a)
            middle = clock()
            vec.action_masks()
            step += middle - start
            mask += clock() - middle
        mask_s.append(mask / steps)
        step_s.append(step / steps)
    return {"mask": float(np.median(mask_s)), "step": float(np.median(step_s))}


class Timed(gym.Wrapper):
    """Adds up the wall time spent inside the environment's step, reset and action_masks."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.seconds = 0.0

    def step(self, action):
        start = time.perf_counter()
        out = self.env.step(action)
        self.seconds += time.perf_counter() - start
        return out

    def reset(self, **kwargs):
        start = time.perf_counter()
        out = self.env.reset(**kwargs)
        self.seconds += time.perf_counter() - start
        return out

    def action_masks(self) -> np.ndarray:
        start = time.perf_counter()
        out = self.env.unwrapped.action_masks()
        self.seconds += time.perf_counter() - start
        return out


def maskable_ppo(table: Table, timesteps: int) -> dict:
    import torch
    from sb3_contrib import MaskablePPO

    torch.set_num_threads(1)
    env = Timed(gym.make(EDIT_ID, table=table, reward="step", mask_invalid=True))
    model = MaskablePPO("MlpPolicy", env, seed=0, verbose=0)
    start = time.perf_counter()
    model.learn(timesteps)
    total = time.perf_counter() - start
    return {"timesteps": timesteps, "total": total, "env": env.seconds,
            "share": env.seconds / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", help="a table path (default: a structured benchmark table)")
    parser.add_argument("--steps", type=int, default=200_000, help="single-env steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=1024)
    parser.add_argument("--ppo-steps", type=int, default=8192)
    args = parser.parse_args()
    table = Table(args.table) if args.table else structured_table()

    single = single_env(table, args.steps, args.rounds)
    vector = vector_env(table, args.copies, 500, args.rounds)
    masks = masks_vs_step(table, args.copies, 200, args.rounds)
    ppo = maskable_ppo(table, args.ppo_steps)
    print(f"Table: {table.label}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    print("| measurement | result | target |\n|---|---|---|")
    print(f"| CartPole-v1 via gymnasium.make | {single['cartpole']:,.0f} steps/s | |")
    print(f"| BloxEdit-v0 via gymnasium.make | {single['blox']:,.0f} steps/s | |")
    print(f"| ratio BloxEdit / CartPole (median of {args.rounds} alternating rounds) | "
          f"{single['ratio']:.2f}x | >= 1.0x |")
    print(f"| CartPoleVectorEnv, {args.copies:,} copies | {vector['cartpole']:,.0f} steps/s | |")
    print(f"| vector BloxEdit-v0, {args.copies:,} copies | {vector['blox']:,.0f} steps/s "
          f"({vector['blox_cpu']:,.0f} per CPU second) | >= 5,000,000 |")
    print(f"| ratio vector BloxEdit / CartPoleVectorEnv (median of {args.rounds} alternating "
          f"rounds) | {vector['ratio']:.2f}x (by CPU time {vector['cpu_ratio']:.2f}x) "
          f"| >= 1.0x |")
    print(f"| vector action_masks() with mask_revisits, {args.copies:,} copies | "
          f"{1e6 * masks['mask']:.0f} us vs {1e6 * masks['step']:.0f} us per step "
          f"({masks['step'] / masks['mask']:.2f}x) | mask <= step |")
    print(f"| MaskablePPO, {ppo['timesteps']:,} steps: time in the env | {ppo['env']:.2f} s of "
          f"{ppo['total']:.1f} s = {100 * ppo['share']:.1f} % | < 10 % |")


if __name__ == "__main__":
    main()
