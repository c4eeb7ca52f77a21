"""The synthetic fine-tuning world against its calibration targets (docs/synthetic.md, 9)."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from blox_gym import finetuning, synthetic
from blox_gym import synthetic_accuracy as accuracy
from blox_gym import synthetic_finetune as finetune


@pytest.fixture(scope="module")
def ft_world():
    """The default world (generator seed 0) with seed-0 test top-1 approximated by the
    expected accuracy plus seed and split noise (the full table is built elsewhere)."""
    world = accuracy.make_world(synthetic._rng(0, synthetic._WORLD))
    noise = np.hypot(synthetic.SEED_SD, 0.15)
    test0 = world.expected + noise * np.random.default_rng(0).standard_normal(len(world.expected))
    legacy = accuracy.signatures(world, synthetic._rng(0, synthetic._SIGNATURES))
    arrays, attrs = finetune.generate(world, test0, synthetic._rng(0, synthetic._FINETUNE), legacy)
    return world, test0, legacy, arrays, finetuning.Axes.from_attr(attrs[finetuning.ATTR])


def test_teachers(ft_world):
    _, test0, _, _, axes = ft_world
    assert axes.teachers == ("M1", "mediocre", "self")
    m1, mediocre = axes.teacher_models[:2]
    assert test0[m1] == test0.max()  # M1: among the best models (the best)
    assert abs(test0[mediocre] - np.median(test0)) < 0.01
    assert axes.teacher_test_top1[0] == round(float(test0[m1]), 2)


def test_more_finetuning_is_better(ft_world):
    *_, arrays, axes = ft_world
    means = np.nanmean(arrays[finetuning.TEST], axis=-1)  # [teacher, D, FT]
    assert (np.diff(means, axis=2) > 1.0).all()  # FT200 > FT50 > FT10 for every teacher and D


def test_good_teacher_lifts_students(ft_world):
    _, test0, _, arrays, axes = ft_world
    test = arrays[finetuning.TEST][:, axes.distill_epochs.index(10), -1]  # FT200
    m1, mediocre = test[0], test[1]
    assert m1.mean() - mediocre.mean() > 0.9  # 0.5 x the 2.5 pp teacher gap, minus noise
    assert m1.mean() - test0.mean() > 2.0  # fine-tuned from M1 beats training from scratch
    best = np.argsort(test0)[-100:]
    assert m1[best].mean() > test0[best].mean() + 0.5  # even for the best students


def test_table5_levels(ft_world):
    """Table 5: students of 73.3-74.9 from scratch searched at about 70.5-70.7 (val) with a
    mediocre teacher, fine-tuned (FT200) from a 74.89 teacher to 75.6-76.7 (test)."""
    _, test0, _, arrays, axes = ft_world
    students = (test0 > 73.3) & (test0 < 74.9)
    d10 = axes.distill_epochs.index(10)
    searched = arrays[finetuning.VAL][1, d10, 0][students]  # mediocre teacher, FT10
    assert 70.3 < searched.mean() < 70.9
    qualities = np.stack([np.full_like(test0, axes.teacher_test_top1[0]),
                          np.full_like(test0, axes.teacher_test_top1[1]), test0])
    tuned = finetuning.interpolate(arrays[finetuning.TEST][:, d10, -1], qualities, 74.89)[students]
    assert 75.8 < tuned.mean() < 76.4  # Table 5's iteration 1: mean 76.10
    low, high = np.percentile(tuned, [5, 95])
    assert 75.3 < low and high < 77.0


def test_one_distillation_epoch_gives_worse_signatures(ft_world):
    world, _, legacy, arrays, axes = ft_world
    sig = arrays[finetuning.SIGNATURES]
    m1 = axes.teachers.index("M1")
    np.testing.assert_array_equal(sig[m1, :, :, :2], legacy.astype(np.float32))  # one truth

    def faithfulness(teacher, distill):
        s = sig[axes.teachers.index(teacher), :, :, axes.distill_epochs.index(distill)]
        return np.mean([spearmanr(-s[st], world.block_effect[st])[0] for st in range(3)])

    for teacher in ("M1", "mediocre"):
        assert faithfulness(teacher, 10) > faithfulness(teacher, 1) + 0.2
    assert faithfulness("M1", 10) > faithfulness("mediocre", 10)
    assert np.isnan(sig[axes.teachers.index("self")]).all()


def test_on_the_grids(ft_world):
    *_, arrays, _ = ft_world
    val, test = arrays[finetuning.VAL][..., :3000], arrays[finetuning.TEST][..., :3000]
    np.testing.assert_allclose(val * 50, np.rint(val * 50), atol=1e-6)
    np.testing.assert_allclose(test * 100, np.rint(test * 100), atol=1e-6)
