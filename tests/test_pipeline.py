"""The measurement pipeline on CPU: data, augmentation, recipes, resume, records, merging, CLI."""

import json
import pickle

import numpy as np
import pytest
import torch

from blox_gym import augment, models, space
from blox_gym.datasets import load_dataset, split_train
from blox_gym.formats.errors import FormatError
from blox_gym.pipeline import records
from blox_gym.pipeline.jobs import Job, run_job
from blox_gym.pipeline.merge import merge_runs
from blox_gym.pipeline.recipes import Distill, Finetune, Normal, recipe_from_settings
from blox_gym.pipeline.runtime import Options
from blox_gym.pipeline.train import train_normal

CONV = 9  # the single-conv block: the fastest network on a CPU
FAST = CONV + 45 * CONV + 2025 * CONV
SMALL = dict(epochs=1, batch_size=8, eval_batch_size=64)


@pytest.fixture(scope="module")
def tiny_npz(tmp_path_factory):
    """A 5-class dataset of 8x8 images: 30 train (27 / 3 after the split), 6 test."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, x_train=rng.integers(0, 256, (30, 8, 8, 3), dtype=np.uint8),
             y_train=rng.integers(0, 5, 30), x_test=rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8),
             y_test=np.arange(6) % 5)
    return str(path)


# ---------------------------------------------------------------- data

def _cifar_folder(root, n_train=20, n_test=5):
    folder = root / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name, n in (("train", n_train), ("test", n_test)):
        content = {b"filenames": [b"x.png"] * n, b"batch_label": b"training batch 1 of 1",
                   b"fine_labels": rng.integers(0, 100, n).tolist(),
                   b"coarse_labels": rng.integers(0, 20, n).tolist(),
                   b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(content, protocol=4))
    (folder / "meta").write_bytes(pickle.dumps({b"fine_label_names": [b"apple"] * 100}, protocol=4))
    return folder


def test_cifar_python_format_and_the_original_split(tmp_path):
    folder = _cifar_folder(tmp_path)
    data = load_dataset("cifar100", data_dir=tmp_path)
    raw = pickle.loads((folder / "train").read_bytes())
    images = raw[b"data"].reshape(-1, 3, 32, 32)
    order = np.random.RandomState(0).permutation(20)  # the original's split, seed 0, 0.9
    assert (len(data.train), len(data.val), len(data.test)) == (18, 2, 5)
    assert np.array_equal(data.train.images.numpy(), images[order[:18]])
    assert np.array_equal(data.val.labels.numpy(), np.asarray(raw[b"fine_labels"])[order[18:]])
    assert data.train.images.dtype == torch.uint8 and data.num_classes == 100
    assert load_dataset("cifar100", data_dir=folder).describe() == data.describe()


def test_cifar_loading_refuses_code_and_says_where_data_belongs(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-100-python"):
        load_dataset("cifar100", data_dir=tmp_path)
    folder = _cifar_folder(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    (folder / "train").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(FormatError, match="builtins.print"):
        load_dataset("cifar100", data_dir=tmp_path)


def test_fake_npz_and_bad_specs(tiny_npz, tmp_path):
    fake = load_dataset("fake:40")
    assert (len(fake.train), len(fake.test), fake.num_classes) == (40, 10, 100)
    assert torch.equal(fake.train.images, load_dataset("fake:40").train.images)
    data = load_dataset(tiny_npz)
    assert (len(data.train), len(data.val), data.num_classes, data.image_size) == (27, 3, 5, (8, 8))
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("imagenet")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.zeros((4, 8, 8, 3)), y_train=np.zeros(4, int),
             x_test=np.zeros((1, 8, 8, 3), np.uint8), y_test=np.zeros(1, int))
    with pytest.raises(FormatError, match="x_train must be uint8"):
        load_dataset(str(bad))
    with pytest.raises(ValueError, match="cannot be split"):
        split_train(np.zeros((1, 3, 2, 2), np.uint8), np.zeros(1, int))


# ---------------------------------------------------------------- augmentation

def test_randaugment_magnitudes_follow_torchvision_bins():
    # torchvision: linspace(0, max, 31)[14]; translate max 150/331 * width; posterize 8 - bin/7.5
    assert int(np.linspace(0, 150 / 331 * 32, 31)[14]) == 6
    assert int(8 - np.arange(31)[14] / 7.5) == 6
    x = torch.zeros(2, 3, 32, 32)
    x[:, :, 10, 10] = 1.0
    moved = augment.OPS["TranslateX"](x, torch.tensor([1.0, -1.0]))
    assert moved[0, 0, 10, 16] == 1 and moved[1, 0, 10, 4] == 1 and moved.sum() == 6
    level = torch.full((1, 3, 4, 4), 0.6)  # 153 >= 136: inverted
    assert torch.allclose(augment.OPS["Solarize"](level, torch.ones(1)), 1 - level)
    assert torch.equal(augment.OPS["Solarize"](level * 0.8, torch.ones(1)), level * 0.8)
    assert torch.allclose(augment.OPS["Posterize"](torch.full((1, 3, 4, 4), 255 / 255),
                                                   torch.ones(1)), torch.full((1, 3, 4, 4), 252 / 255))
    bright = augment.OPS["Brightness"](torch.full((2, 3, 4, 4), 0.5), torch.tensor([1.0, -1.0]))
    assert torch.allclose(bright[:, 0, 0, 0], torch.tensor([0.71, 0.29]))


def test_flip_crop_and_cutout_are_exact_per_image():
    g = torch.Generator().manual_seed(3)
    x = torch.arange(64 * 3 * 8 * 8, dtype=torch.float32).view(64, 3, 8, 8) + 1
    out = augment.flip_crop(x, g, pad=2)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(64):  # every output is one window of the (maybe flipped) padded image
        windows = [img[:, y:y + 8, z:z + 8] for img in (padded[i], padded[i].flip(-1))
                   for y in range(5) for z in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)
    holes = augment.cutout(torch.ones(64, 3, 32, 32), g) == 0
    for i in range(64):
        rows, cols = holes[i, 0].any(1).nonzero().flatten(), holes[i, 0].any(0).nonzero().flatten()
        assert 8 <= len(rows) <= 16 and 8 <= len(cols) <= 16
        assert holes[i, :].sum() == 3 * len(rows) * len(cols)  # one rectangle, every channel


def test_train_batch_is_seeded_and_normalised():
    images = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8)
    a = augment.train_batch(images, torch.Generator().manual_seed(0))
    b = augment.train_batch(images, torch.Generator().manual_seed(0))
    c = augment.train_batch(images, torch.Generator().manual_seed(1))
    assert a.dtype == torch.float32 and a.shape == images.shape
    assert torch.equal(a, b) and not torch.equal(a, c)
    e = augment.eval_batch(images)
    mean = torch.tensor(augment.CIFAR100_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(augment.CIFAR100_STD).view(1, 3, 1, 1)
    assert torch.allclose(e * std + mean, images.float() / 255, atol=1e-6)


# ---------------------------------------------------------------- recipes and loops

def test_recipes_carry_the_papers_defaults():
    n, d, f = Normal(), Distill(), Finetune()
    assert (n.epochs, n.batch_size, n.lr, n.momentum, n.weight_decay) == (200, 256, 0.01, 0.9, 5e-4)
    assert (d.lr, d.betas, d.weight_decay) == (0.005, (0.9, 0.999), 5e-4)
    assert (f.lr, f.alpha, f.temperature, f.weight_decay) == (5e-5, 0.9, 4.0, 5e-4)
    assert recipe_from_settings(json.loads(json.dumps(f.settings()))) == f
    assert n.key() != n.with_(epochs=1).key() and n.key() == Normal().key()
    with pytest.raises(ValueError, match="no setting"):
        n.with_(alpha=1)


def test_training_is_deterministic_and_a_killed_run_resumes_to_the_same_numbers(
        tiny_npz, tmp_path, monkeypatch, torch_one_thread):
    data = load_dataset(tiny_npz)
    recipe = Normal(epochs=2, batch_size=8, eval_batch_size=64)
    full, net = train_normal(FAST, data, recipe, seed=5)
    again, _ = train_normal(FAST, data, recipe, seed=5)
    other, _ = train_normal(FAST, data, recipe, seed=6)
    timing = {"train_time_s"}
    assert {k: v for k, v in full.items() if k not in timing} == \
        {k: v for k, v in again.items() if k not in timing}
    assert full["train_loss"] != other["train_loss"]
    assert len(full["val_top1"]) == 2 and 1 <= full["best_epoch"] <= 2
    assert all(v * 3 / 100 == round(v * 3 / 100) for v in full["val_top1"])  # 3 val images

    from blox_gym.pipeline import train as train_module
    real, calls = train_module.evaluate, []

    def dies_in_epoch_two(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed after epoch 1's checkpoint
        return real(*args, **kwargs)
    checkpoint = tmp_path / "run.ckpt"
    monkeypatch.setattr(train_module, "evaluate", dies_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        train_normal(FAST, data, recipe, seed=5, checkpoint=checkpoint)
    monkeypatch.setattr(train_module, "evaluate", real)
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 1
    resumed, resumed_net = train_normal(FAST, data, recipe, seed=5, checkpoint=checkpoint)
    assert {k: v for k, v in resumed.items() if k not in timing} == \
        {k: v for k, v in full.items() if k not in timing}
    for a, b in zip(net.state_dict().values(), resumed_net.state_dict().values()):
        assert torch.equal(a, b)


def test_a_killed_distillation_resumes_to_the_same_numbers(tiny_npz, tmp_path, monkeypatch,
                                                            torch_one_thread):
    from blox_gym.pipeline import distill as distill_module

    data = load_dataset(tiny_npz)
    torch.manual_seed(0)
    teacher = models.build_model(FAST, num_classes=5)  # any weights make a teacher
    recipe = Distill(epochs=2, teacher=FAST, blocks=(CONV,), batch_size=8, eval_batch_size=64)
    full, cells = distill_module.distill_blocks(teacher, data, recipe, seed=2)
    real, calls = distill_module.score_cells, []

    def dies_in_epoch_two(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed after epoch 1's checkpoint
        return real(*args, **kwargs)
    checkpoint = tmp_path / "distill.ckpt"
    monkeypatch.setattr(distill_module, "score_cells", dies_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        distill_module.distill_blocks(teacher, data, recipe, seed=2, checkpoint=checkpoint)
    scored = []
    monkeypatch.setattr(distill_module, "score_cells",
                        lambda *a, **k: scored.append(1) or real(*a, **k))
    resumed, resumed_cells = distill_module.distill_blocks(teacher, data, recipe, seed=2,
                                                           checkpoint=checkpoint)
    assert len(scored) == 1  # only epoch 2 ran again
    assert json.dumps({k: v for k, v in resumed.items() if k != "train_time_s"}) == \
        json.dumps({k: v for k, v in full.items() if k != "train_time_s"})
    for a, b in zip(cells.state_dict().values(), resumed_cells.state_dict().values()):
        assert torch.equal(a, b)


# ---------------------------------------------------------------- records, merge, CLI

def test_train_command_records_merge_and_open_as_a_table(tiny_npz, tmp_path, torch_one_thread):
    from blox_gym.cli import main
    from blox_gym.table import open_table

    runs, out = tmp_path / "runs", tmp_path / "measured.zarr"
    argv = ["train", f"#{FAST}", ",".join(map(str, space.CANONICAL[CONV])), "--dataset", tiny_npz,
            "--epochs", "1", "--batch-size", "8", "--seed", "0", "--runs", str(runs),
            "--out", str(out)]
    assert main(argv) == 0
    paths = records.find_records([runs])
    assert len(paths) == 2
    record = records.read_record(paths[0])
    assert record["model"] == CONV and record["dataset"]["num_classes"] == 5
    assert record["model_hash"] == space.model_hashes()[CONV] and len(record["env"]) == 12
    table = open_table(out)
    assert table.epochs == 1 and table.seeds == [0] and table.source["kind"] == "measured"
    history = record["history"]
    assert table.val_acc(CONV) == pytest.approx(history["val_top1"][0], abs=1e-3)
    assert table.test_acc(FAST) == pytest.approx(  # on the grid of 10,000 test images
        records.read_record(paths[1])["history"]["test_top1"], abs=0.005)
    assert np.isnan(table.test_acc(0))
    before = {name: table._root[name][:] for name in ("val_top1", "test_top1", "train_loss")}

    assert main(argv) == 0  # finished runs are skipped, the merge changes nothing
    again = merge_runs([runs], out)
    assert (again["added"], again["skipped"]) == (0, 2)
    table = open_table(out)
    for name, values in before.items():
        assert np.array_equal(table._root[name][:], values)
    assert not records.write_record(paths[0], {"schema": "other"})  # never lands twice
    other = Job(FAST, 0, Normal(epochs=1, batch_size=4), tiny_npz, str(tmp_path / "other"))
    run_job(other)
    with pytest.raises(ValueError, match="not recipe"):
        merge_runs([tmp_path / "other"], out)


def test_distill_and_finetune_commands(tiny_npz, tmp_path, torch_one_thread):
    from blox_gym.cli import main
    from blox_gym.pipeline.distill import cell_name
    from blox_gym.pipeline.finetune import build_student
    from blox_gym.table import open_table

    runs, out = tmp_path / "runs", tmp_path / "t.zarr"
    common = ["--dataset", tiny_npz, "--epochs", "1", "--batch-size", "8", "--teacher-epochs",
              "1", "--runs", str(runs)]
    assert main(["finetune", f"#{FAST}", "--teacher", f"#{FAST}", "--distill-epochs", "1",
                 "--distill-blocks", str(CONV), *common]) == 0
    assert main(["distill", "--teacher", f"#{FAST}", "--blocks", str(CONV), *common,
                 "--out", str(out)]) == 0
    found = {p.parent.name.split("-")[0]: records.read_record(p) for p in records.find_records([runs])}
    assert sorted(found) == ["distill", "finetune", "normal"]
    donna = np.array(found["distill"]["history"]["donna"])
    assert donna.shape == (3, 45) and np.isfinite(donna[:, CONV]).all()
    assert np.isnan(np.delete(donna, CONV, axis=1)).all()
    assert found["finetune"]["recipe"]["teacher"] == FAST
    assert 0 <= found["finetune"]["history"]["test_top1"] <= 100
    table = open_table(out)  # schema 2: the named teacher's signatures after D = 1 epoch
    assert "signatures" not in table._names and "signature_epochs" not in table.attrs
    assert table.finetune_axes.teachers == (f"#{FAST}",)
    assert table.finetune_axes.distill_epochs == (1,) and table.finetune_axes.finetune_epochs == ()
    stored = table.teacher_signatures(f"#{FAST}", 1)
    assert np.array_equal(stored[:, CONV], donna[:, CONV].astype(np.float32))
    assert np.isnan(np.delete(stored, CONV, axis=1)).all()
    assert np.array_equal(table.signatures(1), stored, equal_nan=True)  # the only teacher
    assert table.finetune_axes.teacher_test_top1[0] == table.test_acc(FAST)
    with pytest.raises(ValueError, match="not in this table"):
        table.finetuned(FAST, f"#{FAST}", 1, 200)

    # a store merged before schema 2 (one-teacher `signatures`, no fine-tuning arrays) stays
    # readable, and the runs merged into it fill the fine-tuning arrays beside it
    from blox_gym import finetuning, store
    from blox_gym.pipeline.merge import _existing

    arrays, attrs = _existing(str(out))
    arrays = {k: v for k, v in arrays.items() if k not in finetuning.ARRAYS}
    arrays["signatures"] = donna[:, :, None].astype(np.float32)
    attrs = {k: v for k, v in attrs.items() if k not in (finetuning.ATTR, "finetune_source")}
    legacy = tmp_path / "legacy.zarr"
    store.write_store(legacy, arrays, {**attrs, "signature_epochs": [1],
                                       "signature_teacher": [FAST]}, progress=False)
    meta = json.loads((legacy / "zarr.json").read_text())
    meta["attributes"]["schema_version"] = 1
    (legacy / "zarr.json").write_text(json.dumps(meta))
    assert open_table(legacy).finetune_axes is None
    assert merge_runs([runs], legacy)["added"] == 2  # distillation and fine-tuning
    old = open_table(legacy)
    assert old.attrs["schema_version"] == 2 and old.attrs["signature_teacher"] == [FAST]
    assert np.array_equal(old.signatures(1)[:, CONV], donna[:, CONV].astype(np.float32))
    assert np.array_equal(old.teacher_signatures(f"#{FAST}", 1), stored, equal_nan=True)
    assert old.finetuned(FAST, f"#{FAST}", 1, 1, "test") == round(
        found["finetune"]["history"]["test_top1"] * 100) / 100  # on the 10,000-image grid

    stem = records.run_stem(runs, Distill(epochs=1, teacher=FAST, blocks=(CONV,),
                                          batch_size=8), FAST, 0)
    cells = torch.load(stem.with_suffix(".pt"), weights_only=True)
    teacher_state = torch.load(records.run_stem(runs, Normal(epochs=1, batch_size=8), FAST, 0)
                               .with_suffix(".pt"), weights_only=True)
    teacher = models.build_model(FAST, num_classes=5)
    teacher.load_state_dict(teacher_state)
    student = build_student(FAST, teacher, cells, load_dataset(tiny_npz), 0, Options())
    for s in range(3):
        for key, value in cells[cell_name(s, CONV)].items():
            assert torch.equal(student.blocks[s].state_dict()[key], value)
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)


# ---------------------------------------------------------------- backends

def test_live_random_search_trains_three_models(tiny_npz, tmp_path, torch_one_thread):
    from agents.random_search import RandomSearch
    from blox_gym.core import Budget
    from blox_gym.pipeline.live import live_core

    recipe = Normal(epochs=2, batch_size=16, eval_batch_size=64)
    core = live_core(tiny_npz, recipe, seed=0, runs=tmp_path / "live")
    record = RandomSearch().run(core, Budget(3, "models"), seed=0)
    trained = np.unique(record["model_id"][record["charged_epochs"] > 0])
    assert len(trained) == 3 and core.cost["models"] == pytest.approx(3)
    finished = records.find_records([tmp_path / "live"])
    assert len(finished) == 3  # full fidelity: each run finished with a record
    best = int(record["best_model"][-1])
    best_record = records.read_record(records.record_path(tmp_path / "live", recipe, best, 0))
    assert record["best_val"][-1] == max(best_record["history"]["val_top1"])
    assert record["reported_test"][-1] == best_record["history"]["test_top1"]
    assert np.isnan(record["regret"]).all()

    low = live_core(tiny_npz, recipe, seed=0, runs=tmp_path / "partial")
    first = low.evaluate(FAST, fidelity=1)  # one epoch, checkpointed, no record yet
    assert records.find_records([tmp_path / "partial"]) == [] and low.cost["epochs"] == 1
    assert low.evaluate(FAST, fidelity=2, at_epoch=True) >= 0 and low.cost["epochs"] == 2
    full = records.read_record(records.record_path(tmp_path / "partial", recipe, FAST, 0))
    assert full["history"]["val_top1"][0] == first  # the resumed run is the same run


def test_ray_backend_trains_two_models_and_skips_finished(tiny_npz, tmp_path):
    ray = pytest.importorskip("ray")
    from blox_gym.pipeline.backends import run_jobs

    recipe = Normal(epochs=1, batch_size=16, eval_batch_size=64)
    jobs = [Job(m, 0, recipe, tiny_npz, str(tmp_path / "runs")) for m in (FAST, CONV)]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        outcome = run_jobs(jobs, backend="ray", progress=False)
        again = run_jobs(jobs, backend="ray", progress=False)
    finally:
        ray.shutdown()
    assert not outcome.failed and sorted(outcome.done) == sorted(j.record for j in jobs)
    assert (again.skipped, len(again.done)) == (2, 2)
    assert {records.read_record(j.record)["model"] for j in jobs} == {FAST, CONV}


@pytest.fixture(scope="module")
def grid_npz(tmp_path_factory):
    """A 4-class dataset of 8x8 images whose splits (45 train, 5 val, 10 test) put every
    accuracy on the table's 5,000 / 10,000-image grids exactly."""
    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("grid") / "grid.npz"
    np.savez(path, x_train=rng.integers(0, 256, (50, 8, 8, 3), dtype=np.uint8),
             y_train=np.arange(50) % 4, x_test=rng.integers(0, 256, (10, 8, 8, 3), dtype=np.uint8),
             y_test=np.arange(10) % 4)
    return str(path)


def test_finetune_runs_fill_the_fine_tuning_arrays(grid_npz, tmp_path, torch_one_thread):
    from blox_gym.cli import main
    from blox_gym.core import FineTune, SearchCore
    from blox_gym.table import open_table

    runs, out = tmp_path / "runs", tmp_path / "t.zarr"
    assert main(["finetune", f"#{FAST}", "--teacher", f"#{FAST}", "--distill-epochs", "1",
                 "--distill-blocks", str(CONV), "--dataset", grid_npz, "--epochs", "1",
                 "--batch-size", "16", "--teacher-epochs", "1", "--runs", str(runs),
                 "--out", str(out)]) == 0
    found = {p.parent.name.split("-")[0]: records.read_record(p) for p in records.find_records([runs])}
    tuned, teacher = found["finetune"]["history"], found["normal"]["history"]
    table = open_table(out)
    axes = table.finetune_axes
    assert (axes.teachers, axes.teacher_models) == ((f"#{FAST}",), (FAST,))
    assert (axes.distill_epochs, axes.finetune_epochs) == ((1,), (1,))
    assert axes.teacher_test_top1 == (teacher["test_top1"],) == (tuned["teacher_test_top1"],)
    assert table.finetuned(FAST, f"#{FAST}", 1, 1, "val") == tuned["val_top1"][0]
    assert table.finetuned(FAST, f"#{FAST}", 1, 1, "test") == tuned["test_top1"]
    assert np.isnan(table.finetuned(CONV, f"#{FAST}", 1, 1))
    assert table.test_acc(FAST) == teacher["test_top1"]  # the teacher's own Normal run
    core = SearchCore(table)  # what the blockwise agents call
    assert core.finetune_model(FAST, FineTune(f"#{FAST}", 1, 1)) == tuned["val_top1"][0]
    assert np.array_equal(core.signatures(1, f"#{FAST}")[:, CONV],
                          np.float32(found["distill"]["history"]["donna"])[:, CONV])

    meta = (out / "zarr.json").read_bytes()
    again = merge_runs([runs], out)  # a no-op: nothing added, the store untouched
    assert (again["records"], again["added"], again["skipped"]) == (3, 0, 3)
    assert (out / "zarr.json").read_bytes() == meta

    path = records.find_records([runs / next(p.name for p in runs.iterdir()
                                             if p.name.startswith("finetune-"))])[0]
    conflict = json.loads(path.read_text())
    conflict["history"]["test_top1"] = 100.0 - tuned["test_top1"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / path.name).write_text(json.dumps(conflict))
    with pytest.raises(ValueError, match="conflicts with"):
        merge_runs([tmp_path / "other"], out)
    conflict["seed"], conflict["model"] = 0, CONV  # a new student of the same setting lands
    conflict["history"]["test_top1"] = 30.0
    (tmp_path / "other" / path.name).write_text(json.dumps(conflict))
    assert merge_runs([tmp_path / "other"], out)["added"] == 1
    assert open_table(out).finetuned(CONV, f"#{FAST}", 1, 1, "test") == 30.0
    conflict["history"]["teacher_test_top1"] = 1.0  # another teacher under the same name
    (tmp_path / "other" / path.name).write_text(json.dumps(conflict))
    with pytest.raises(ValueError, match="other weights"):
        merge_runs([tmp_path / "other"], out)
    import zarr  # what `blox-gym proxies` writes in place is never dropped by a merge

    zarr.open_group(str(out), mode="a").require_group("proxies").create_array(
        "synflow", shape=(space.N_MODELS,), dtype="float64")
    with pytest.raises(ValueError, match="proxies/ .*which a merge would drop"):
        merge_runs([runs], out)
