"""Cost accounting and the anytime record of the evaluation core, by hand."""

import numpy as np
import pytest

from blox_gym import space
from blox_gym.core import Budget, BudgetExhausted, SearchCore
from blox_gym.table import Table

INVALID = [[[0], [0, 0, 0, 0]]] * 3


class NoTestTable(Table):
    """Fails on any test-metric read until ``allow_test`` is set."""

    allow_test = False

    def _scalar(self, name, models, seed):
        if name.startswith("test") and not self.allow_test:
            raise AssertionError(f"a search read {name}")
        return super()._scalar(name, models, seed)

    def column(self, name="val_top1", *args, **kwargs):
        if name.startswith("test") and not self.allow_test:
            raise AssertionError(f"a search read {name}")
        return super().column(name, *args, **kwargs)


@pytest.fixture()
def table(small_store):
    return NoTestTable(small_store[0])


def test_costs_are_charged_once_and_resumably(table, small_store):
    arrays = small_store[1]
    core = SearchCore(table)
    t = arrays["train_time_s"][0]
    assert core.evaluate(7, fidelity=5) == arrays["val_top1"][0, 7, :5].max()
    assert core.cost == {"models": 5 / 20, "epochs": 5, "seconds": pytest.approx(t[7] * 5 / 20)}
    core.evaluate(7, fidelity=5)  # repeat: free
    core.evaluate(7, fidelity=3)  # lower: free
    assert core.cost["epochs"] == 5
    assert core.evaluate(7, fidelity=20, at_epoch=True) == arrays["val_top1"][0, 7, 19]
    assert core.cost["epochs"] == 20 and core.cost["models"] == 1.0  # resumed: 15 more epochs
    assert core.cost["seconds"] == pytest.approx(t[7])
    assert core.evaluate(INVALID) == -1.0 and core.cost["epochs"] == 20
    with pytest.warns(DeprecationWarning, match="use evaluate_many"):
        core.evaluate(np.array([8, 9]))  # several models: all evaluated, as before 0.2
    assert core.n_models == 3 and core.n_evaluations == 6 and core.cost["models"] == 3.0


def test_budget(table):
    core = SearchCore(table, Budget(2, "models"))
    core.evaluate(1)
    assert not core.exhausted and core.remaining == 1
    core.evaluate(2)
    assert core.exhausted
    with pytest.raises(BudgetExhausted, match="budget of 2 models is spent"):
        core.evaluate(3)
    with pytest.raises(ValueError, match="not one of models, epochs, seconds"):
        Budget(3, "hours")


def test_record_reports_test_of_best_validation_model(table, small_store):
    arrays = small_store[1]
    core = SearchCore(table)
    ids = [11, 12, 13, 14]
    for i in ids:
        core.evaluate(i)
    table.allow_test = True
    rec = core.record()
    best_val = np.maximum.accumulate(arrays["val_top1"][0, ids].max(axis=1))
    assert np.array_equal(rec["best_val"], best_val)
    expected = [arrays["test_top1"][0, ids[int(np.argmax(arrays["val_top1"][0, ids[:k + 1]]
                                                          .max(axis=1)))]] for k in range(4)]
    assert np.array_equal(rec["reported_test"], expected)
    assert np.allclose(rec["regret"], arrays["test_top1"][0].max() - np.array(expected))
    assert rec["cost_models"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_random_seed_mode_is_reproducible(table):
    runs = []
    for _ in range(2):
        core = SearchCore(table, seed="random", rng_seed=3)
        runs.append([core.evaluate(i) for i in range(50)] + [core.evaluate(0)])
        assert core._log["seed"][0] == core._log["seed"][-1]  # a model keeps its seed
    assert runs[0] == runs[1]
    assert set(core._log["seed"]) == {0, 3}
    with pytest.raises(ValueError, match="available: \\[0, 3\\] or 'random'"):
        SearchCore(table, seed=1)


def test_signatures_are_charged_once(table):
    core = SearchCore(table)
    sig = core.signatures(10)
    assert sig.shape == (3, 45)
    # the paper's 60 blocks x 3 stages x 10 epochs of its 200-epoch recipe (the table has 20)
    assert core.cost["models"] == pytest.approx(3 * 60 * 10 / 200)
    core.signatures(10)
    assert core.cost["models"] == pytest.approx(9.0)
    assert core.cost["epochs"] == pytest.approx(9.0 * table.epochs)
    other = SearchCore(table)
    other.signatures(1, blocks_per_stage=space.N_BLOCKS)  # the space's 45 distinct blocks
    assert other.cost["models"] == pytest.approx(3 * 45 * 1 / 200)


def test_deprecated_seen_warns_and_still_answers(table):
    core = SearchCore(table)
    core.evaluate(7, fidelity=3)
    with pytest.warns(DeprecationWarning, match="SearchCore.seen is deprecated"):
        assert core.seen(7) is True and core.seen(np.array([7, 8])).tolist() == [True, False]
