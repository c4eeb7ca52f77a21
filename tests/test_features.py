"""predictors.features against independent counts, and make("linear_signatures")."""

import numpy as np
import pytest

import predictors
from blox_gym import costs, space
from blox_gym.table import Table


def test_feature_matrix_columns(small_store):
    table = Table(small_store[0])
    ids = np.array([0, 24519, 91124])
    X, names = predictors.features(ids, table)
    assert len(names) == X.shape[1] == len(set(names))
    column = {n: X[:, i] for i, n in enumerate(names)}
    assert column["params"][2] == 1_363_940 + 2 * (21_856 + 72_384 + 259_456)  # bconv x2 x3
    assert np.array_equal(column["flops"], table.flops(ids))
    assert np.array_equal(column["stage0.params"] + column["stage1.params"] + column["stage2.params"],
                          column["params"] - costs.fixed_cost().params)
    assert np.array_equal(column["stage1.block"], space.block_indices(ids)[:, 1])
    # model 24519's stage 0 is [[0], [1, 1, 1, 1]]: op0 conv, op1 mbconv
    assert column["stage0.op0=conv"][1] == 1 and column["stage0.op1=mbconv"][1] == 1
    assert X[:, :36].sum(axis=1).tolist() == [15] * 3
    assert np.array_equal(column["latency.dev-a"], table.latency(ids, "dev-a"))
    k = space.block_indices(ids)
    assert np.array_equal(column["stage2.signature@10"], table.signatures(10)[2, k[:, 2]])
    with pytest.raises(ValueError, match="unknown feature group 'zen'"):
        predictors.features(ids, table, include=["zen"])


def test_linear_signatures_defaults_to_the_default_table(small_store, monkeypatch):
    from blox_gym import table as table_module

    monkeypatch.setattr(table_module, "open_table", lambda path=None: Table(small_store[0]))
    p = predictors.make("linear_signatures")
    assert np.array_equal(p.signatures, Table(small_store[0]).signatures())
