"""Query semantics of Table against values computed by hand from the arrays written."""

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

from blox_gym import space, store
from blox_gym.table import Table, open_table

README = [[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]]  # model 24519
README_HASH = "c3bc16e69893c8ea08f1e89e61f4caa5"


def test_metadata(small_table):
    assert small_table.seeds == [0, 3] and small_table.epochs == 20
    assert small_table.devices == ["dev-a"]
    assert small_table.extended == ["train_top1", "train_loss"] and not small_table.is_synthetic
    assert small_table.env(3) == {"python": "3.12"}
    assert small_table.attrs["missing_models"]["train_top1"] == space.N_MODELS  # seed 3 lacks ext
    assert small_table.attrs["missing_models"]["val_top1"] == 0


def test_model_spellings_agree(small_table, small_values):
    expected = small_values["test_top1"][0, 24519]
    flat = space.to_flat(README)
    for spec in (24519, np.int64(24519), README, flat.tolist(), tuple(flat.tolist()), README_HASH,
                 README_HASH.upper()):
        assert small_table.test_acc(spec) == expected
    many = [np.array([24519, 0]), flat[None].repeat(2, 0), [README, [[[0], [0, 1, 0, 0]]] * 3],
            [README_HASH, "39554afd1b33a44663e653ad10137b9a"]]
    for spec in many[1:3]:
        assert small_table.test_acc(spec)[0] == expected
    assert np.array_equal(small_table.test_acc(many[0]), small_table.test_acc(many[3]))
    # an isomorphic vector (single conv from op0 or from op1) gives the same answer
    assert small_table.val_acc([[[0], [0, 0, 0, 1]]] * 3) \
        == small_table.val_acc([[[2], [0, 0, 1, 0]]] * 3)


def test_val_acc_semantics(small_table, small_values):
    val = small_values["val_top1"]
    ids = np.array([0, 5, 24519, 91124])
    assert np.array_equal(small_table.val_acc(ids), val[0, ids].max(axis=1))
    assert np.array_equal(small_table.val_acc(ids, epoch=7), val[0, ids, :7].max(axis=1))
    assert np.array_equal(small_table.val_acc(ids, epoch=7, best=False), val[0, ids, 6])
    assert np.array_equal(small_table.val_acc(ids, seed=3), val[1, ids].max(axis=1))
    assert small_table.val_acc(5) == val[0, 5].max() and isinstance(small_table.val_acc(5), float)
    assert np.allclose(small_table.val_acc(ids, seed="mean"), val[:, ids].max(axis=2).mean(axis=0))
    everything = small_table.val_acc(np.arange(space.N_MODELS))
    assert np.array_equal(everything, val[0].max(axis=1))


def test_seed_generator_is_reproducible(small_table, small_values):
    ids = np.arange(1000)
    a = small_table.test_acc(ids, seed=np.random.default_rng(7))
    b = small_table.test_acc(ids, seed=np.random.default_rng(7))
    assert np.array_equal(a, b)
    choice = np.random.default_rng(7).integers(2, size=1000)
    assert np.array_equal(a, small_values["test_top1"][choice, ids])


def test_other_metrics(small_table, small_values):
    ids = np.array([3, 77])
    assert np.array_equal(small_table.train_time(ids), small_values["train_time_s"][0, ids])
    assert np.array_equal(small_table.train_time(ids, epoch=5),
                          small_values["train_time_s"][0, ids] * 5 / 20)
    assert np.array_equal(small_table.train_acc(ids, epoch=4),
                          small_values["train_top1"][0, ids, :4].max(1))
    loss = small_values["train_loss"][0, ids]
    assert np.array_equal(small_table.train_loss(ids), loss[:, -1])
    assert np.array_equal(small_table.train_loss(ids, epoch=3), loss[:, 2])
    assert np.array_equal(small_table.train_loss(ids, epoch=3, best=True), loss[:, :3].min(1))
    assert np.isnan(small_table.train_loss(ids, seed=3)).all()  # seed 3 has no extended data
    assert small_table.params(0) == int(small_values["params"][0])
    assert isinstance(small_table.params(0), int)
    assert small_table.params(91124) == 1_363_940 + 2 * (21_856 + 72_384 + 259_456)  # bconv x2 x3
    assert small_table.flops(ids).dtype == np.int64
    assert small_table.latency(3, "dev-a") == pytest.approx(float(small_values["latency/dev-a"][3]))
    assert np.array_equal(small_table.signatures(1), small_values["signatures"][:, :, 0])
    assert np.array_equal(small_table.signatures(), small_values["signatures"][:, :, 1])
    assert small_table.arch_vec(24519) == README
    assert np.array_equal(small_table.arch_vec(np.array([24519])), space.to_flat(README)[None])
    assert small_table.model_hash(24519) == README_HASH


def test_full_info_layout(small_table, small_values):
    info = small_table.full_info(README)
    assert list(info) == ["val_top1", "test_top1", "train_time_s", "train_top1", "train_loss",
                          "model_hash", "seed", "dev-a", "info", "env"]
    assert info["val_top1"] == small_values["val_top1"][0, 24519].tolist()
    assert isinstance(info["train_time_s"], int)
    assert info["info"] == {"params": small_table.params(24519), "flops": small_table.flops(24519),
                            "arch_vec": README}
    json.dumps(info)


def test_top(small_table, small_values):
    best = small_values["val_top1"][0].max(axis=1)
    top = small_table.top(5)
    assert np.all(np.diff(best[top]) <= 0) and best[top[0]] == best.max()
    winner = small_table.top(1, by="test")[0]
    assert small_table.test_acc(winner) == small_values["test_top1"][0].max()


@pytest.mark.parametrize("call, message", [
    (lambda t: t.val_acc([[[0], [0, 0, 0, 0]]] * 3), "invalid architecture"),
    (lambda t: t.val_acc(np.array([0, 91125])), "model id 91125 is out of range"),
    (lambda t: t.val_acc([1, 2, 3]), "use a numpy int array"),
    (lambda t: t.val_acc("ff" * 16), "is not the hash of a Blox model"),
    (lambda t: t.val_acc(1, seed=1), "available: [0, 3]"),
    (lambda t: t.val_acc(1, seed="median"), "'mean'"),
    (lambda t: t.val_acc(1, epoch=21), "epoch must be an int in 1..20"),
    (lambda t: t.val_acc(1, epoch=0), "epoch must be an int in 1..20"),
    (lambda t: t.val_top5(1), "no 'val_top5'"),
    (lambda t: t.latency(1, "phone"), "available: ['dev-a']"),
    (lambda t: t.signatures(3), "available: [1, 10]"),
    (lambda t: t.top(by="loss"), "'val' or 'test'"),
])
def test_bad_queries(small_table, call, message):
    with pytest.raises(ValueError) as err:
        call(small_table)
    assert message in str(err.value)


def test_pickles_by_path(small_table):
    clone = pickle.loads(pickle.dumps(small_table))
    assert clone.path == small_table.path and clone.val_acc(9) == small_table.val_acc(9)


def test_memory_url_round_trip():
    arrays = {"val_top1": np.full((1, space.N_MODELS, 3), 50.0),
              "test_top1": np.full((1, space.N_MODELS), 60.01),
              "train_time_s": np.full((1, space.N_MODELS), 1234.0)}
    url = "memory://blox-gym-tests/table.zarr"
    store.write_store(url, arrays, {"name": "m", "seeds": [0], "source": {"kind": "test"},
                                    "licence": "none"}, progress=False)
    t = open_table(url)
    assert t.test_acc(4) == 60.01 and t.val_acc(np.arange(3)).tolist() == [50.0] * 3
    assert t.train_time(0, epoch=1) == pytest.approx(1234 / 3)


# ------------------------------------------------------------------ faults

def _copy(small_store, tmp_path):
    dst = tmp_path / "copy.zarr"
    shutil.copytree(small_store[0], dst)
    return dst


def test_not_a_store(tmp_path):
    with pytest.raises(store.StoreError, match="no such store"):
        Table(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(store.StoreError, match="not a blox-gym Zarr store"):
        Table(tmp_path / "empty")


def test_missing_array(small_store, tmp_path):
    dst = _copy(small_store, tmp_path)
    shutil.rmtree(dst / "test_top1")
    with pytest.raises(store.StoreError, match="missing array.*test_top1"):
        Table(dst)


def test_missing_chunk(small_store, tmp_path):
    dst = _copy(small_store, tmp_path)
    chunk = next(p for p in sorted((dst / "test_top1").rglob("*")) if p.is_file()
                 and p.name != "zarr.json")
    chunk.unlink()
    t = Table(dst)
    with pytest.raises(store.StoreError, match="test_top1.* chunk c/0/0 missing"):
        t.test_acc(0)  # a one-model read touches only the missing chunk
    with pytest.raises(store.StoreError, match="test_top1.*1 of 2 chunks missing"):
        t.test_acc(np.arange(2))


def test_unknown_schema_version(small_store, tmp_path):
    dst = _copy(small_store, tmp_path)
    meta = json.loads((dst / "zarr.json").read_text())
    meta["attributes"]["schema_version"] = 99
    (dst / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(store.StoreError, match="schema version 99 is not supported.*newer"):
        Table(dst)


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    arrays = {"val_top1": np.full((1, space.N_MODELS, 2), 50.0),
              "test_top1": np.full((1, space.N_MODELS), 60.0),
              "train_time_s": np.full((1, space.N_MODELS), 100.0)}
    calls = []

    def failing(name, values):
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(name, values)

    real = store.encode
    monkeypatch.setattr(store, "encode", failing)
    with pytest.raises(KeyboardInterrupt):
        store.write_store(tmp_path / "t.zarr", arrays, {"name": "m", "seeds": [0], "licence": "x",
                                                        "source": {"kind": "test"}}, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_write_validation(tmp_path):
    good = {"val_top1": np.full((1, space.N_MODELS, 2), 50.0),
            "test_top1": np.full((1, space.N_MODELS), 60.0),
            "train_time_s": np.full((1, space.N_MODELS), 100.0)}
    attrs = {"name": "m", "seeds": [0], "licence": "x", "source": {"kind": "test"}}
    off_grid = dict(good, val_top1=np.full((1, space.N_MODELS, 2), 50.01))
    with pytest.raises(ValueError, match=r"val_top1\[0, 0, 0\] = 50.01 is not an accuracy on the "
                                         r"grid of 5,000 images"):
        store.write_store(tmp_path / "a.zarr", off_grid, attrs, progress=False)
    with pytest.raises(ValueError, match="has shape"):
        store.write_store(tmp_path / "b.zarr", dict(good, test_top1=np.zeros((2, 3))), attrs)
    with pytest.raises(ValueError, match=r"device name 'a b' must match"):
        store.write_store(tmp_path / "c.zarr", dict(good, **{"latency/a b": np.zeros(91125)}), attrs)
    store.write_store(tmp_path / "d.zarr", good, attrs, progress=False)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        store.write_store(tmp_path / "d.zarr", good, attrs, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".d.zarr.lock", "d.zarr"]


def test_accuracy_encoding_is_exact():
    for name, n in (("val_top1", 5000), ("test_top1", 10000), ("train_top5", 45000)):
        counts = np.arange(n + 1)
        values = np.array([round(c / n * 100, 3) for c in counts.tolist()])
        assert np.array_equal(store.decode(name, store.encode(name, values)), values)
    micro = np.array([0.0, 1.234567, 12.345678, 4.5])
    assert np.array_equal(store.decode("val_loss", store.encode("val_loss", micro)), micro)


def test_default_table_is_built_once_in_blox_gym_data(tmp_path, monkeypatch, small_store):
    from blox_gym import synthetic, table as table_module

    builds = []

    def fake_build(path, **_):
        builds.append(path)
        shutil.copytree(small_store[0], path)
        return str(path)

    monkeypatch.setenv("BLOX_GYM_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(synthetic, "build", fake_build)
    first = open_table()
    second = open_table()
    assert builds == [tmp_path / "cache" / table_module.DEFAULT_NAME]
    assert first.path == second.path == str(builds[0]) and second.val_acc(3) == first.val_acc(3)


def _read_in_process(path):
    return Table(path).val_acc(np.arange(0, space.N_MODELS, 997)).tolist()


def test_many_processes_read_one_store(small_store):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.map(_read_in_process, [small_store[0]] * 3)
    expected = small_store[1]["val_top1"][0, ::997].max(axis=1).tolist()
    assert results == [expected] * 3
