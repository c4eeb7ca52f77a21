import numpy as np
import pytest

from blox_gym import space
from blox_gym.modelspec import parse_models


def test_ids_and_ranges_are_a_sorted_union():
    assert parse_models("91124,0,45").tolist() == [0, 45, 91124]
    assert parse_models("3-6, 5, 10").tolist() == [3, 4, 5, 6, 10]
    assert len(parse_models("all")) == space.N_MODELS


def test_sample_is_distinct_seeded_and_in_range():
    a = parse_models("sample:50", seed=1)
    assert len(a) == 50 and a.min() >= 0 and a.max() < space.N_MODELS
    assert np.array_equal(a, parse_models("sample:50", seed=1))
    assert not np.array_equal(a, parse_models("sample:50", seed=2))


@pytest.mark.parametrize("spec, message", [
    ("91125", "out of range"), ("7-3", "empty"), ("sample:0", "N must be"),
    ("x", "cannot read"), ("", "empty model selection"), ("1-2-3", "cannot read")])
def test_bad_terms_are_named(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_models(spec)
