"""The one reading of a *models* argument (blox_gym.resolve), form by form, and the plain
Python scalars that one-model queries return (issue 18)."""

import numpy as np
import pandas as pd
import pytest

from blox_gym import space
from blox_gym.resolve import LIST_OF_INTS, resolve

README = [[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]]  # model 24519
README_FLAT = space.to_flat(README).tolist()
HASHES = {"c3bc16e69893c8ea08f1e89e61f4caa5": 24519, "39554afd1b33a44663e653ad10137b9a": 0}


def lookup(hashes):
    return np.array([HASHES[h] for h in hashes], dtype=np.int64)


@pytest.mark.parametrize("spec, ids, single", [
    (24519, [24519], True),
    (np.int64(24519), [24519], True),
    ("#24519", [24519], True),
    ("C3BC16E69893C8EA08F1E89E61F4CAA5", [24519], True),
    (README, [24519], True),
    (README_FLAT, [24519], True),
    (tuple(README_FLAT), [24519], True),
    (np.array([0, 5, 24519]), [0, 5, 24519], False),
    (np.array(README_FLAT), README_FLAT, False),  # a 1-D int array is model ids
    (["#5", "39554afd1b33a44663e653ad10137b9a"], [5, 0], False),
    (np.array(["#5", "#7"]), [5, 7], False),
    ([README, README], [24519, 24519], False),
    ([README_FLAT, README_FLAT], [24519, 24519], False),
    (np.array([README_FLAT, README_FLAT]), [24519, 24519], False),
    (pd.Index([3, 4], name="model"), [3, 4], False),
    (pd.Series(["#1", "#2"]), [1, 2], False),
])
def test_each_documented_form(spec, ids, single):
    resolved = resolve(spec, lookup)
    assert resolved.ids.tolist() == ids and resolved.single is single
    assert resolved.ids.dtype == np.int64


def test_a_list_of_ints_is_one_architecture_and_the_error_names_the_rule():
    with pytest.raises(ValueError, match="read as one architecture") as err:
        resolve([3, 7], lookup)
    assert "np.array" in str(err.value) and LIST_OF_INTS in str(err.value)
    assert resolve(np.array([3, 7]), lookup).ids.tolist() == [3, 7]


def test_one_model_wanted_reads_15_ints_as_its_architecture():
    assert resolve(np.array(README_FLAT), lookup, one=True) == ([24519], True)
    assert resolve(np.array([7]), lookup, one=True).single
    with pytest.raises(ValueError, match="expected one model, got 2"):
        resolve(np.array([3, 7]), lookup, one=True)


@pytest.mark.parametrize("spec, message", [
    (91125, "model id 91125 is out of range"),
    (np.array([-1]), "out of range"),
    ("#x1", "a model id is '#' followed by digits"),
    ("#91125", "out of range"),
    ([[[0], [0, 0, 0, 0]]] * 3, "1 invalid architecture"),
    ([3] * 15, "allowed values"),
    (np.zeros((2, 14), dtype=int), "got shape"),
])
def test_bad_input_is_named(spec, message):
    with pytest.raises(ValueError, match=message):
        resolve(spec, lookup)


def test_invalid_architectures_marked_where_asked():
    invalid = [[[0], [0, 0, 0, 0]]] * 3
    assert resolve([invalid, README], lookup, invalid="mark").ids.tolist() == [-1, 24519]
    assert resolve(invalid, lookup, invalid="mark") == ([-1], True)


def test_one_model_queries_return_plain_python_scalars(small_table):
    t = small_table
    for spec in (24519, "#24519", README, README_FLAT, "c3bc16e69893c8ea08f1e89e61f4caa5"):
        assert type(t.val_acc(spec)) is float and type(t.test_acc(spec)) is float
        assert type(t.metric("train_loss", spec)) is float
        assert type(t.params(spec)) is int and type(t.flops(spec)) is int
        assert type(t.latency(spec, "dev-a")) is float and type(t.model_hash(spec)) is str
        assert type(t.train_time(spec)) is float
    assert type(space.model_id(README)) is int and type(space.model_hash(README)) is str
    assert type(space.is_valid(README)) is bool and type(space.raw_index(README)) is int
    assert isinstance(t.val_acc(np.array([1, 2])), np.ndarray)
    assert t.full_info(np.array(README_FLAT))["model_hash"] == t.model_hash(24519)


def test_core_and_predictors_read_models_the_same_way(small_table):
    from blox_gym.core import SearchCore
    from predictors.encodings import model_ids

    core = SearchCore(small_table)
    assert core.evaluate(np.array(README_FLAT), 2) == core.evaluate("#24519", 2)
    assert core.evaluations()["model_id"].tolist() == [24519, 24519]
    assert model_ids(["#3", "#4"]).tolist() == [3, 4]
    with pytest.warns(DeprecationWarning, match="list of ints as model ids"):
        assert model_ids([3, 4]).tolist() == [3, 4]  # the old predictor reading, for now
    with pytest.raises(ValueError, match="many models"):
        model_ids(5)


def test_readme_space_values_are_shown_as_python_prints_them():
    """README's first look shows each space query's value as the REPL prints it."""
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = readme.split("## A first look", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    scope = {"np": np, "space": space}
    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("  #")
        if code.startswith("arch = "):
            exec(code, scope)
        elif code.startswith("space.") and comment:
            shown = repr(eval(code, scope))
            assert comment.strip().startswith(shown), (code, shown, comment)
            checked += 1
    assert checked == 3
