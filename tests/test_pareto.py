"""Pareto arithmetic (blox_gym.pareto) against hand-computed cases and brute force."""

import numpy as np
import pytest

from blox_gym import pareto, space

# (test top-1, cost): F is cheapest and worst, A and E are identical, C is dominated by B
A, B, C, D, E, F = (70, 1), (72, 2), (71, 3), (74, 4), (70, 1), (69, 0.5)
POINTS = np.array([A, B, C, D, E, F], dtype=float)


def test_ranks_and_front_by_hand():
    acc, cost = POINTS.T
    # C is dominated by B only; identical points (A, E) do not dominate each other
    assert pareto.ranks(acc, cost).tolist() == [0, 0, 1, 0, 0, 0]
    assert pareto.front(acc, cost).tolist() == [5, 0, 4, 1, 3]  # F, A, E, B, D: cheapest first
    # equal accuracy, higher cost is dominated; a chain of three such points gives ranks 0-2
    assert pareto.ranks([70, 70, 70], [3, 1, 2]).tolist() == [2, 0, 1]


def test_hypervolume_by_hand():
    acc, cost = POINTS.T
    # strips of cost to the reference (68, 5): [0.5,1) x 1 + [1,2) x 2 + [2,4) x 4 + [4,5) x 6
    assert pareto.hypervolume(acc, cost, (68, 5)) == pytest.approx(0.5 + 2 + 8 + 6)
    # reference (70, 3): only B is strictly better in both: (3 - 2) x (72 - 70)
    assert pareto.hypervolume(acc, cost, (70, 3)) == pytest.approx(2.0)
    assert pareto.hypervolume([], [], (0, 1)) == 0.0


def test_crowding_and_selection_by_hand():
    # a front of four (accuracy range 6, cost range 4) and P4 = (71, 3), dominated by P1
    acc = np.array([70, 72, 73, 76, 71], dtype=float)
    cost = np.array([1, 2, 4, 5, 3], dtype=float)
    crowd = pareto.crowding(acc, cost)
    assert np.isinf(crowd[[0, 3, 4]]).all()  # the front's ends, and a front of one point
    assert crowd[1] == pytest.approx(3 / 6 + 3 / 4)  # neighbours 70..73 and 1..4
    assert crowd[2] == pytest.approx(4 / 6 + 3 / 4)  # neighbours 72..76 and 2..5
    # the first front (4 points) is cut to 3 by crowding: both ends, then the wider gap
    assert pareto.select(acc, cost, 3).tolist() == [0, 3, 2]
    assert pareto.select(acc, cost, 5).tolist() == [0, 3, 2, 1, 4]


def brute_ranks(acc, cost):
    """Peel fronts by the definition of dominance (O(n^3))."""
    def dominates(i, j):
        return (acc[i] >= acc[j] and cost[i] <= cost[j]
                and (acc[i] > acc[j] or cost[i] < cost[j]))

    left, out, k = set(range(len(acc))), np.zeros(len(acc), dtype=int), 0
    while left:
        layer = [j for j in left if not any(dominates(i, j) for i in left)]
        out[layer] = k
        left -= set(layer)
        k += 1
    return out


def brute_area(acc, cost, reference):
    """Dominated unit cells on an integer grid (points and reference are integers)."""
    ra, rc = reference
    cells = 0
    for a in range(ra, int(acc.max()) + 1):
        for c in range(int(cost.min()), rc):
            cells += bool(np.any((acc >= a + 1) & (cost <= c)))
    return cells


def test_ranks_and_hypervolume_match_brute_force():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 25):
        for _ in range(40):  # small integer grids: many ties and duplicates
            acc = rng.integers(0, 6, n).astype(float)
            cost = rng.integers(0, 6, n).astype(float)
            np.testing.assert_array_equal(pareto.ranks(acc, cost), brute_ranks(acc, cost))
            assert pareto.hypervolume(acc, cost, (-1, 7)) == brute_area(acc, cost, (-1, 7))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="differ in length"):
        pareto.ranks([1, 2], [1])
    with pytest.raises(ValueError, match="NaN"):
        pareto.front([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="latency:<device>, macs"):
        pareto.check_cost("flops")
    with pytest.raises(ValueError, match="names no device"):
        pareto.check_cost("latency:")


def test_true_front_of_a_table(ft_table):
    table = ft_table
    truth = pareto.true_front(table, "latency:dev-a")
    acc = table.test_acc(np.arange(space.N_MODELS))
    cost = table.latency(np.arange(space.N_MODELS), "dev-a")
    assert truth.reference == (acc.min(), cost.max())
    np.testing.assert_array_equal(truth.accuracy, acc[truth.model_id])
    assert np.all(np.diff(truth.cost) >= 0) and np.all(np.diff(truth.accuracy) > 0)
    # no model is as cheap and more accurate than a front model, or more accurate and cheaper
    for a, c in zip(truth.accuracy, truth.cost):
        assert not np.any((cost <= c) & (acc > a)) and not np.any((cost < c) & (acc >= a))
    # every other model is dominated by some front model
    off = np.setdiff1d(np.arange(space.N_MODELS), truth.model_id)
    dominated = np.zeros(off.size, dtype=bool)
    for a, c in zip(truth.accuracy, truth.cost):
        dominated |= (acc[off] <= a) & (cost[off] >= c) & ((acc[off] < a) | (cost[off] > c))
    assert dominated.all()
    assert truth.hypervolume == pytest.approx(
        pareto.hypervolume(acc, cost, truth.reference))  # the front holds all of it
    with pytest.raises(ValueError, match="device 'gpu' is not in this table"):
        pareto.true_front(table, "latency:gpu")
