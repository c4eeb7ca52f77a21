"""The standing property suite (issue 17): any input to a public entry point either works or
raises the documented error type with a bounded message, within a time limit per case."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blox_gym import space, store
from blox_gym.formats import FormatError, files
from test_reliability import BOUND, write_tiny

RELEASE = Path(__file__).parent / "fixtures" / "release"
FAST = settings(max_examples=25, deadline=4000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.integers(-2**80, 2**80), st.floats(allow_nan=True), st.booleans(),
                    st.none(), st.text(max_size=40))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=16), max_leaves=64)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    from blox_gym.table import open_table

    return open_table(write_tiny(tmp_path_factory.mktemp("fuzz") / "t.zarr"))


def bounded(err: Exception) -> None:
    assert len(str(err)) < BOUND, type(err).__name__


@FAST
@given(arch=values)
def test_space_functions_take_anything(arch):
    for function in (space.to_flat, space.model_id, space.canonical):
        try:
            function(arch)
        except ValueError as err:  # the documented error of a bad architecture
            bounded(err)


@FAST
@given(models=values, seed=scalars, k=st.integers(-10, 10) | scalars)
def test_table_queries_take_anything(table, models, seed, k):
    for call in (lambda: table.test_acc(models, seed=seed), lambda: table.val_acc(models),
                 lambda: table.params(models), lambda: table.top(k)):
        try:
            call()
        except (ValueError, store.StoreError) as err:
            bounded(err)


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, byte) edits: 0 flip a byte, 1 cut the file, 2 insert a byte."""
    out = bytearray(data)
    for kind, position, byte in edits:
        position %= max(len(out), 1)
        if kind == 0 and out:
            out[position] ^= byte or 1
        elif kind == 1:
            del out[position:]
        else:
            out.insert(position, byte)
    return bytes(out)


edits = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2**20), st.integers(0, 255)),
                 min_size=1, max_size=4)


@pytest.mark.parametrize("name", ["blox-base-0.blox", "blox-base-0.pickle", "blox-base-0.csv",
                                  "blox-env-0.blox", "blox-info.csv", "blox-ext-0.pickle"])
@FAST
@given(changes=edits)
def test_readers_take_mutated_release_files(name, changes):
    data = mutate((RELEASE / name).read_bytes(), changes)
    try:
        files.read(data, name)
    except FormatError as err:
        bounded(err)


words = st.sampled_from(["query", "top", "data", "info", "-k", "--seed", "--json", "--by",
                         "val", "test", "#0", "#91124", "-3", "1.5", "2", "--data", "--help",
                         "0," * 14 + "0", "zz", "--format", "--out", ""])


@FAST
@given(argv=st.lists(words, max_size=6))
def test_cli_parsing_takes_any_arguments(table, capsys, argv):
    from blox_gym.cli import main

    argv = [table.path if previous == "--data" else word
            for previous, word in zip([None] + argv, argv)]
    if "--data" not in argv:
        argv += ["--data", table.path]
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse: usage errors and --help
        code = exit.code
    assert code in (0, 2)
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err) < 4 * BOUND


# ---------------------------------------------------------------- env step / reset

actions = st.one_of(st.integers(-2, 40), st.integers(-2**70, 2**70),
                    st.integers(0, 40).map(np.int64), st.floats(allow_nan=True), st.booleans(),
                    st.text(max_size=3), st.none(), st.lists(st.integers(0, 3), max_size=2))
ENV_SETTINGS = [(env_id, obs_mode) for env_id in ("blox_gym/BloxEdit-v0", "blox_gym/BloxBuild-v0")
                for obs_mode in ("multidiscrete", "onehot", "dict")]


@pytest.fixture(scope="module")
def envs(structured_store):
    import gymnasium as gym

    import blox_gym.envs  # noqa: F401  (registers the ids)

    return {key: gym.make(key[0], table=structured_store[0], obs_mode=key[1],
                          budget=(4, "models")) for key in ENV_SETTINGS}


def is_action(action, n: int) -> bool:
    """An action of ``Discrete(n)`` as docs/envs.md defines it: an int, never a bool."""
    return (type(action) is int or isinstance(action, np.integer)) and 0 <= action < n


@FAST
@given(key=st.sampled_from(ENV_SETTINGS), seed=st.integers(0, 2**32 - 1) | st.none(),
       steps=st.lists(actions | st.just("reset"), max_size=10))
def test_env_step_and_reset_take_anything(envs, key, seed, steps):
    env = envs[key]
    obs, info = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    for action in steps:
        if action == "reset":
            obs, info = env.reset()
            assert env.observation_space.contains(obs)
            continue
        try:
            obs, reward, terminated, truncated, info = env.step(action)
        except ValueError as err:  # the documented error of an action outside the space
            assert not is_action(action, env.action_space.n), err
            bounded(err)
            continue
        assert is_action(action, env.action_space.n)
        assert env.observation_space.contains(obs)
        assert np.isfinite(reward) and isinstance(terminated, bool) and isinstance(truncated, bool)
        if terminated or truncated:
            obs, info = env.reset()
            assert env.observation_space.contains(obs)
