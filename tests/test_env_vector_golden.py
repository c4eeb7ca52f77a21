"""Seeded vector runs give exactly the trajectories recorded before the step was optimised
(the hashes were recorded with main's code at ca58d0f, which gathered in the raw index):
a SHA-256 over observations, rewards, flags, every info array and the masks of each step.
A deliberate change of behaviour must record them again, from the code before the change.
Also: the edit rule's look-up tables agree with raw-index arithmetic on every state."""

import hashlib

import numpy as np
import pytest

from blox_gym import space
from blox_gym.envs.build import BloxBuildVectorEnv
from blox_gym.envs.edit import BloxEditVectorEnv
from blox_gym.envs.moves import REL_STEP, edit_tables
from blox_gym.table import Table

N, STEPS = 48, 48


def feed(h, value) -> None:
    """Hash a (possibly nested) observation or info value, its dtype and shape included."""
    if isinstance(value, dict):
        for k in sorted(value):
            h.update(k.encode())
            feed(h, value[k])
    elif isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray)
                                              and value.dtype == object):
        for v in value:
            feed(h, v)
    elif value is None:
        h.update(b"none")
    else:
        a = np.ascontiguousarray(value)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())


def digest(env, seed: int, masks: bool) -> str:
    """Steps ``env`` with seeded random actions (masked ones when ``masks``) and hashes all."""
    h, rng = hashlib.sha256(), np.random.default_rng(seed)
    feed(h, env.reset(seed=seed))
    n_actions = env.single_action_space.n
    for _ in range(STEPS):
        if masks:
            m = env.action_masks()
            feed(h, m)
            actions = (rng.random((N, n_actions)) * m).argmax(axis=1)
        else:
            actions = rng.integers(n_actions, size=N)
        for part in env.step(actions):
            feed(h, part)
    feed(h, env.cost)
    for i in (0, N - 1):
        feed(h, env.ledger.evaluations(i))
    return h.hexdigest()[:16]


CASES = {
    "edit-default": (BloxEditVectorEnv, {}, False, "7a55af04f53310c0"),
    "edit-relative-step-dict-budget-same-step": (
        BloxEditVectorEnv, dict(action_mode="relative", reward="step", obs_mode="dict",
                                budget=(6, "models"), autoreset_mode="same_step",
                                mask_invalid=True, mask_revisits=True, horizon=4),
        True, "299e63e714530e2d"),
    "edit-improvement-onehot-random-seed-shared": (
        BloxEditVectorEnv, dict(reward="improvement", obs_mode="onehot", train_seed="random",
                                budget=(3000, "epochs"), shared_budget=True, horizon=3,
                                mask_revisits=True), True, "dd27bc9536e0caa7"),
    "edit-step-episode-seed-mask-constraint-seconds": (
        BloxEditVectorEnv, dict(reward="step", train_seed="episode", horizon=5,
                                constraint={"cost": "params", "limit": 2e6, "mode": "mask"},
                                budget=(40_000, "seconds"), noop_reward=-0.5),
        False, "aa1755d6732feddd"),
    "edit-relative-hw-mask-masks": (
        BloxEditVectorEnv, dict(action_mode="relative", reward="step", horizon=3,
                                constraint={"cost": "params", "limit": 2e6, "mode": "mask"},
                                mask_revisits=True), True, "983ba0261bc502c4"),
    "edit-absolute-hw-mask-invalid-masks": (
        BloxEditVectorEnv, dict(reward="improvement", horizon=4, mask_invalid=True,
                                constraint={"cost": "params", "limit": 2e6, "mode": "mask"},
                                mask_revisits=True), True, "f26418563e005d5b"),
    "edit-random-seed-small-budget": (
        BloxEditVectorEnv, dict(reward="step", train_seed="random", budget=(5, "models"),
                                horizon=3), False, "e8429fad48bfdf74"),
    "build-masked-budget-same-step": (
        BloxBuildVectorEnv, dict(mask_invalid=True, budget=(1, "models"),
                                 autoreset_mode="same_step", obs_mode="dict"),
        True, "52aaeb0f460955ec"),
    "build-plain-episode-seed": (BloxBuildVectorEnv, dict(train_seed="episode"), False,
                                 "bc874ddba7245e2a"),
}


@pytest.fixture(scope="module")
def table(small_store):
    return Table(small_store[0])


@pytest.mark.parametrize("case", sorted(CASES))
def test_seeded_vector_run_is_unchanged(table, case):
    cls, kwargs, masks, expected = CASES[case]
    assert digest(cls(N, table, **kwargs), seed=11, masks=masks) == expected


@pytest.mark.parametrize("relative", [False, True])
def test_edit_tables_agree_with_the_raw_index(relative):
    """Every action from every valid encoding, against the raw-index arithmetic."""
    t = edit_tables(relative)
    raw = np.flatnonzero(space.RAW_TO_MODEL >= 0)
    x = space.from_raw_index(raw)
    mid = space.RAW_TO_MODEL[raw].astype(np.int64)
    code = x.reshape(-1, 3, 5) @ np.array([1, 3, 9, 18, 36])
    steps = REL_STEP if relative else None
    for a in range(t.n_actions):
        d, s = int(t.component[a]), int(t.stage[a])
        old = x[:, d]
        new = (old + steps[a]) % space.RADIX[d] if relative else np.full_like(
            old, space.ACTION_VALUE[a])
        new_raw = raw + (new - old) * space._PLACE[d]
        key = t.key_base[a] + code[:, s]
        assert np.array_equal(t.new_value[key], new)
        assert np.array_equal(t.new_code[key], new_raw // 72 ** s % 72)
        got = mid + t.delta[key]
        assert np.array_equal(np.where(got < 0, -1, got), space.RAW_TO_MODEL[new_raw])
