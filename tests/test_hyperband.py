"""Hyperband's bracket arithmetic against its definition, worked by hand for R = 100, eta = 3."""

import numpy as np
import pytest

from agents.hyperband import brackets, to_epochs

# s_max = floor(log_3 100) = 4, B = 5 R.  n = ceil(5 * 3^s / (s + 1)), r = 100 / 3^s;
# rung i: floor(n / 3^i) models at r * 3^i percent.
BY_HAND = [
    [(81, 100 / 81), (27, 100 / 27), (9, 100 / 9), (3, 100 / 3), (1, 100)],  # s = 4
    [(34, 100 / 27), (11, 100 / 9), (3, 100 / 3), (1, 100)],  # s = 3: ceil(135 / 4) = 34
    [(15, 100 / 9), (5, 100 / 3), (1, 100)],  # s = 2: ceil(45 / 3) = 15
    [(8, 100 / 3), (2, 100)],  # s = 1: ceil(15 / 2) = 8
    [(5, 100)],  # s = 0
]


def test_brackets_for_r100_eta3():
    plan = brackets(100, 3)
    assert [[n for n, _ in rungs] for rungs in plan] == [[n for n, _ in r] for r in BY_HAND]
    for rungs, expected in zip(plan, BY_HAND):
        assert np.allclose([r for _, r in rungs], [r for _, r in expected])


def test_exact_powers_and_small_resources():
    assert len(brackets(81, 3)) == 5  # 3^4 = 81 exactly: s_max = 4, no float log error
    assert brackets(1, 3) == [[(1, 1)]]
    with pytest.raises(ValueError, match="eta must be an int >= 2, got 1"):
        brackets(100, 1)


def test_resource_to_epochs():
    # 200 epochs: 100/81 % = 2.47 -> 2, 100/27 % -> 7, 100/9 % -> 22, 100/3 % -> 67, 100 % -> 200
    assert [to_epochs(r, 100, 200) for _, r in BY_HAND[0]] == [2, 7, 22, 67, 200]
    assert [to_epochs(r, 100, 20) for _, r in BY_HAND[0]] == [1, 1, 2, 7, 20]


@pytest.mark.parametrize("resume, epochs", [(False, 167), (True, 118)])
def test_first_bracket_cost_with_and_without_resuming(small_store, resume, epochs):
    """20-epoch table, bracket s = 4: rungs of 81, 27, 9, 3, 1 models at 1, 1, 2, 7, 20
    epochs.  From scratch: 81 + 27 + 9 * 2 + 3 * 7 + 20 = 167 epochs; resuming:
    81 + 0 + 9 * 1 + 3 * 5 + 13 = 118."""
    import agents
    from blox_gym.core import Budget, SearchCore
    from blox_gym.table import open_table

    core = SearchCore(open_table(small_store[0]), seed=0)
    record = agents.make("hyperband", resume=resume).run(core, Budget(10), seed=0)
    assert record["cost_epochs"][120] == epochs and record["fidelity"][120] == 20
