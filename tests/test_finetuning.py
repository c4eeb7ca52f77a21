"""The fine-tuning arrays: records -> store -> Table, schema versions, interpolation, costs."""

import json
import shutil

import numpy as np
import pytest

from blox_gym import finetuning, space, store
from blox_gym.table import Table
from tests.conftest import structured_arrays

AXES = finetuning.Axes(teachers=("M1", "mediocre", "self"), teacher_models=(7, 11, -1),
                       teacher_test_top1=(76.5, 73.0, None), distill_epochs=(1, 10, 50),
                       finetune_epochs=(10, 50, 200))


def _records():
    """Students 0..99 of every setting; accuracy = 70 + FT/100 + 0.2 * teacher index + model/1000."""
    for t, teacher in enumerate(AXES.teachers):
        for d in AXES.distill_epochs:
            for f in AXES.finetune_epochs:
                for m in range(100):
                    acc = 70 + f / 100 + 0.2 * t + m / 1000 + (d == 1) * 0.02
                    yield {"teacher": teacher, "distill_epochs": d, "finetune_epochs": f,
                           "model": m, "val_top1": round(acc * 50) / 50,
                           "test_top1": round(acc * 100) / 100}


@pytest.fixture(scope="module")
def ft_store(tmp_path_factory):
    arrays, attrs = structured_arrays()
    sig = {("M1", 10): np.full((3, 45), 0.2), ("mediocre", 1): np.full((3, 45), 0.5)}
    ft_arrays, ft_attrs = finetuning.arrays_from_records(_records(), AXES, sig)
    path = tmp_path_factory.mktemp("stores") / "ft.zarr"
    store.write_store(path, {**arrays, **ft_arrays}, {**attrs, **ft_attrs}, progress=False)
    return path


def test_round_trip(ft_store):
    t = Table(ft_store)
    assert t.attrs["schema_version"] == 2
    assert t.finetune_axes == AXES
    assert t.finetuned(5, "M1", 10, 200, split="test") == pytest.approx(72.005, abs=0.006)
    assert t.finetuned(5, "self", 1, 10) == pytest.approx(70.1 + 0.4 + 0.005 + 0.02, abs=0.011)
    assert np.isnan(t.finetuned(100, "M1", 10, 200))  # never measured
    assert t.teacher_signatures("M1", 10)[2, 44] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="no signatures against teacher 'self'"):
        t.teacher_signatures("self", 10)
    with pytest.raises(ValueError, match=r"fine-tuning epochs 20 is not in this table; "
                                         r"available: \[10, 50, 200\]"):
        t.finetuned(5, "M1", 10, 20)
    with pytest.raises(ValueError, match="teacher 'M9'"):
        t.finetuned(5, "M9")


def test_unstored_teacher_is_interpolated(ft_store):
    t = Table(ft_store)
    # M1 (76.5) and mediocre (73.0) differ by -0.2 pp; "self" (the student's own test top-1)
    # adds a third point per student.  A teacher at 76.5 must reproduce M1 within the grid.
    own = t.test_acc(np.arange(3))
    fitted = t.finetuned(np.arange(3), 76.5, 10, 200, split="test")
    qs = np.array([[76.5] * 3, [73.0] * 3, own])
    ys = np.stack([t.finetuned(np.arange(3), name, 10, 200, split="test")
                   for name in AXES.teachers])
    for m in range(3):
        slope, intercept = np.polyfit(qs[:, m], ys[:, m], 1)
        assert fitted[m] == pytest.approx(slope * 76.5 + intercept, abs=1e-9)


def test_interpolate_hand_case():
    per_teacher = np.array([[76.0, 70.0], [74.0, np.nan]])
    out = finetuning.interpolate(per_teacher, np.array([77.0, 73.0]), 75.0)
    assert out[0] == pytest.approx(75.0)  # line through (77, 76) and (73, 74)
    assert np.isnan(out[1])  # one point is no line


def test_records_are_checked():
    with pytest.raises(ValueError, match="two records"):
        finetuning.arrays_from_records([next(_records())] * 2, AXES)
    with pytest.raises(ValueError, match="teacher 'x' is not in this table"):
        finetuning.arrays_from_records([{**next(_records()), "teacher": "x"}], AXES)
    with pytest.raises(ValueError, match="teacher 'self' takes model -1"):
        finetuning.Axes(("self",), (3,), (None,), (10,), (200,))


def test_arrays_need_their_attribute():
    arrays, attrs = structured_arrays()
    ft_arrays, _ = finetuning.arrays_from_records([], AXES)
    with pytest.raises(ValueError, match="go together"):
        store.write_store("memory://never", {**arrays, **ft_arrays}, attrs, progress=False)


def _with_version(src, dst, version):
    shutil.copytree(src, dst)
    meta = json.loads((dst / "zarr.json").read_text())
    meta["attributes"]["schema_version"] = version
    (dst / "zarr.json").write_text(json.dumps(meta))
    return dst


def test_schema_versions(small_store, tmp_path):
    old = Table(_with_version(small_store[0], tmp_path / "v1.zarr", 1))  # still readable
    assert old.test_acc(3) == pytest.approx(small_store[1]["test_top1"][0, 3])
    assert old.finetune_axes is None
    with pytest.raises(ValueError, match="has no fine-tuning arrays"):
        old.finetuned(3, "M1")
    with pytest.raises(store.StoreError, match="version 3 .*newer blox-gym: upgrade"):
        Table(_with_version(small_store[0], tmp_path / "v3.zarr", 3))
    with pytest.raises(store.StoreError, match="version 0 .*rebuild"):
        Table(_with_version(small_store[0], tmp_path / "v0.zarr", 0))


def test_costs_as_the_paper_counts():
    assert finetuning.distill_cost(10) == 9.0  # 60 blocks x 3 stages x 10 epochs / 200
    assert finetuning.distill_cost(10, space.N_BLOCKS) == 6.75
    assert finetuning.distill_cost(1) == 0.9
    # the paper: 90 units of fine-tuning evaluate 90, 360 and 1,800 models at FT200/50/10
    assert [90 / finetuning.finetune_cost(f) for f in (200, 50, 10)] == [90, 360, 1800]
