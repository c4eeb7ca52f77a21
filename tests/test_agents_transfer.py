"""Transfer for the paper's own learners: Q-learning and REINFORCE learn on another table
first (not charged), then search with what they learned."""

import numpy as np
import pytest

import agents
from blox_gym.core import Budget, SearchCore
from blox_gym.table import Table


@pytest.mark.parametrize("name", ["qlearning", "reinforce"])
def test_pretraining_elsewhere_is_not_charged_and_changes_the_search(name, structured_store,
                                                                     small_store):
    world_b, table = small_store[0], Table(structured_store[0])
    plain = agents.make(name)
    moved = agents.make(name, pretrain=world_b, pretrain_models=30)
    assert "pretrain" not in plain.config()  # the paper's config is unchanged
    assert moved.paper_check()["extensions"] == {"pretrain": world_b, "pretrain_models": 30}

    def run(agent):
        return agent.run(SearchCore(table), Budget(12), seed=3)

    before, after, again = run(plain), run(moved), run(moved)
    # the 30 models of the other world are charged there, not here
    assert before["cost_models"][-1] == after["cost_models"][-1] == 12
    assert np.array_equal(after["model_id"], again["model_id"])  # deterministic per seed
    assert not np.array_equal(before["model_id"], after["model_id"])  # the learned policy acts
