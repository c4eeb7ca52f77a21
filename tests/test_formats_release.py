"""Import and export of whole releases against the committed fixture (tests/fixtures/release)."""

import csv
import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from blox_gym import costs, space, store
from blox_gym.formats import FormatError, export_store, files, import_release
from blox_gym.table import open_table
from conftest import RELEASE, RELEASE_FORMATS as FORMATS
from fixtures.make_release_fixture import DEVICE, N_MODELS, fixture_models


def committed(fmt):
    return sorted(p.name for p in RELEASE.glob(f"blox-*.{fmt}"))


def test_fixture_is_small_and_complete():
    assert sum(p.stat().st_size for p in RELEASE.iterdir()) < 1_000_000
    for fmt in FORMATS:
        assert committed(fmt) == sorted(f"{stem}.{fmt}" for stem in (
            "blox-base-0", "blox-base-1", "blox-ext-0", "blox-info", "blox-env-0", "blox-env-1",
            f"blox-bench-{DEVICE}"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_reproduces_the_committed_files_byte_for_byte(release_source, tmp_path, fmt):
    written = export_store(release_source, fmt, tmp_path, progress=False)
    assert sorted(Path(p).name for p in written) == committed(fmt)
    for path in written:
        assert Path(path).read_bytes() == (RELEASE / Path(path).name).read_bytes(), path
    assert sorted(p.name for p in tmp_path.iterdir()) == committed(fmt)  # no temporary left


@pytest.mark.parametrize("fmt", FORMATS)
def test_import_of_the_export_equals_the_store(release_source, release_imported, fmt):
    a, b = store.open_store(release_source), store.open_store(release_imported[fmt])
    assert sorted(a.array_keys()) == sorted(b.array_keys())
    for name in a.array_keys():
        assert np.array_equal(a[name][...], b[name][...], equal_nan=a[name].dtype.kind == "f"), name
    x, y = a[f"latency/{DEVICE}"][...], b[f"latency/{DEVICE}"][...]
    assert np.array_equal(np.isnan(x), np.isnan(y))
    tolerance = 5.1e-4 if fmt == "blox" else 0  # .blox: seconds at 6 decimals (ms)
    assert np.nanmax(np.abs(x - y)) <= tolerance
    for key in ("seeds", "epochs", "devices", "extended", "env", "missing_models"):
        assert a.attrs[key] == b.attrs[key], key


def test_import_attrs_and_counts(release_imported):
    attrs = dict(store.open_store(release_imported["csv"]).attrs)
    assert attrs["name"] == "blox-official" and attrs["licence"] == "CC BY-NC 4.0"
    assert attrs["seeds"] == [0, 1] and attrs["epochs"] == 20
    source = attrs["source"]
    assert source["kind"] == "official" and source["params_flops"] == "blox-info"
    assert source["params_flops_from_costs"] == space.N_MODELS - N_MODELS
    assert sorted(f["name"] for f in source["files"]) == committed("csv")
    for entry in source["files"]:
        data = (RELEASE / entry["name"]).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    absent = space.N_MODELS - N_MODELS
    assert attrs["missing_models"]["val_top1"] == 2 * absent  # two seeds
    assert attrs["missing_models"]["train_top1"] == absent + space.N_MODELS  # ext: seed 0 only
    assert attrs["env"]["1"]["cuda"] == "11.2"


def test_export_of_a_subset_keeps_model_id_order(release_source, tmp_path):
    ids = fixture_models()
    subset = [int(ids[7]), int(ids[3]), 5, int(ids[30])]  # 5 is not in the store: skipped
    for path in export_store(release_source, "pickle", tmp_path, models=subset, progress=False):
        name = Path(path).name
        header, columns = files.read(Path(path).read_bytes(), name)
        expected = space.model_hashes()[sorted([ids[3], ids[7], ids[30]])]
        assert columns["model_hash"].tolist() == expected.tolist(), name
    with pytest.raises(ValueError, match="model ids"):
        export_store(release_source, "csv", tmp_path, models=[-1])
    with pytest.raises(ValueError, match="unknown format"):
        export_store(release_source, "xml", tmp_path)


def test_preference_picks_one_encoding_per_stem(tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("blox-base-0.csv", "blox-base-0.pickle", "blox-base-1.blox", "blox-info.csv"):
        shutil.copy(RELEASE / name, mixed / name)
    (mixed / "README.txt").write_text("not a release file")
    from blox_gym.formats.importer import _choose, _preference
    picked = {s.name: p.name for s, p in _choose(mixed, _preference("pickle,csv,blox")).items()}
    assert picked == {"blox-base-0": "blox-base-0.pickle", "blox-base-1": "blox-base-1.blox",
                      "blox-info": "blox-info.csv"}
    picked = {s.name: p.name for s, p in _choose(mixed, _preference([".csv"])).items()}
    assert picked == {"blox-base-0": "blox-base-0.csv", "blox-info": "blox-info.csv"}
    with pytest.raises(ValueError, match="prefer"):
        _preference(("blox", "json"))


def test_missing_info_uses_analytic_costs_and_env_disagreement_is_recorded(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(RELEASE / "blox-base-0.csv", src)
    shutil.copy(RELEASE / "blox-env-0.csv", src)
    rewrite(src / "blox-env-0.csv", set_field(-1, 3, "10.2"))  # column 3 is cuda
    attrs = dict(store.open_store(import_release(src, tmp_path / "out.zarr", progress=False)).attrs)
    root = store.open_store(tmp_path / "out.zarr")
    assert "no blox-info" in attrs["source"]["params_flops"]
    assert np.array_equal(root["params"][...], costs.model_costs()[:, 0])
    assert np.array_equal(root["flops"][...], costs.model_costs()[:, 2])
    assert attrs["seeds"] == [0] and attrs["env"]["0"]["cuda"] == "11.1"  # the common value
    table = open_table(tmp_path / "out.zarr")
    last = int(fixture_models()[-1])  # the file's last row, in model-id order
    assert table.env(0, last)["cuda"] == "10.2" and table.env(0, 0)["cuda"] == "11.1"


# ---------------------------------------------------------------- refused imports

def release_copy(tmp_path, fmt="csv"):
    src = tmp_path / "src"
    src.mkdir()
    for name in committed(fmt):
        shutil.copy(RELEASE / name, src / name)
    return src


def edit(path, old, new):
    data = path.read_bytes()
    assert old in data, old
    path.write_bytes(data.replace(old, new, 1))


def rewrite(path, change):
    """Apply ``change`` to the CSV body's rows (lists of field strings) and write them back."""
    data = path.read_bytes()
    end = data.index(b"---\n", 4) + 4
    rows = list(csv.reader(io.StringIO(data[end:].decode(), newline="")))
    change(rows)
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    path.write_bytes(data[:end] + text.getvalue().encode())


def set_field(row, column, value):
    def change(rows):
        rows[row][column] = value(rows[row][column]) if callable(value) else value
    return change


def first_item(new):
    return lambda field: "[" + new + field[field.index(","):]


def refused(src, tmp_path):
    with pytest.raises(FormatError) as err:
        import_release(src, tmp_path / "out.zarr", progress=False)
    assert not (tmp_path / "out.zarr").exists()
    assert not any(p.name.startswith(".out.zarr") for p in tmp_path.iterdir())
    return str(err.value)


@pytest.mark.parametrize("change, fragment", [
    (lambda s: edit(s / "blox-base-0.csv", b"format: csv", b"format: pickle"),
     "blox-base-0.csv: the header says format 'pickle' but the extension '.csv' means 'csv'"),
    (lambda s: edit(s / "blox-base-1.csv", b"dataset_type: training", b"dataset_type: static"),
     "blox-base-1.csv: header dataset_type is 'static', expected 'training'"),
    (lambda s: edit(s / "blox-base-1.csv", b"epochs: 20", b"epochs: 21"),
     "blox-base-1.csv: header epochs is 21, expected 20"),
    (lambda s: edit(s / "blox-info.csv", b"stages: 3", b"stages: 4"),
     "blox-info.csv: header search_space is"),
    (lambda s: edit(s / "blox-ext-0.csv", b"- val_loss\n- val_top5", b"- val_top5\n- val_loss"),
     "blox-ext-0.csv: the columns must start with model_hash, train_top1, train_loss"),
    (lambda s: edit(s / "blox-env-1.csv", b"seed: 1", b"seed: 0"),
     "blox-env-1.csv: header seed is 0, expected 1"),
    (lambda s: edit(s / f"blox-bench-{DEVICE}.csv", b"device: gtx", b"device: rtx"),
     "header device is 'rtx-1080ti', expected 'gtx-1080ti'"),
    (lambda s: (s / "blox-base-1.csv").rename(s / "blox-base-7.csv"),
     "blox-base-7.csv: header seed is 1, expected 7"),
    (lambda s: (s / "blox-base-0.csv").unlink() or (s / "blox-base-1.csv").unlink(),
     "no blox-base-{seed} file"),
    (lambda s: (s / "blox-base-0.csv").unlink(), "blox-ext-0.csv: there is no blox-base-0 file"),
    (lambda s: shutil.copy(s / "blox-base-0.csv", s / "blox-base-00.csv"),
     "blox-base-0.csv and blox-base-00.csv hold the same base 0"),
    (lambda s: (s / "blox-base-0.csv").write_bytes(b"version: 1\n---\n"),
     "blox-base-0.csv: not a Blox release file: it must start with the YAML marker line"),
])
def test_header_and_layout_mismatches(tmp_path, change, fragment):
    src = release_copy(tmp_path)
    change(src)
    assert fragment in refused(src, tmp_path)


@pytest.mark.parametrize("name, change, fragment", [
    ("blox-base-1.csv", set_field(4, 1, first_item("33.33")),
     "blox-base-1.csv, row 4, column val_top1, epoch 1: 33.33 is off the accuracy grid of 5,000"),
    ("blox-base-0.csv", set_field(6, 2, "100.01"),
     "blox-base-0.csv, row 6, column test_top1: 100.01 is not an accuracy in 0..100"),
    ("blox-base-0.csv", set_field(2, 3, "ten"),
     "blox-base-0.csv, row 2, column train_time_s: 'ten' is not a number"),
    ("blox-ext-0.csv", set_field(9, 7, "0.003"),
     "blox-ext-0.csv, row 9, column test_top5: 0.003 is off the accuracy grid of 10,000"),
    ("blox-ext-0.csv", lambda rows: [row.__setitem__(2, "[1.0, " + row[2][1:]) for row in rows],
     "blox-ext-0.csv, row 0, column train_loss: lists of 21 values, but the header says 20"),
    ("blox-ext-0.csv", set_field(3, 4, first_item("-1.5")),
     "blox-ext-0.csv, row 3, column val_loss, epoch 1: -1.5 is not a number in 0..4294.97"),
    ("blox-base-0.csv", set_field(3, 0, "0" * 32),
     "blox-base-0.csv: 1 hash(es) are not Blox models: row 3 " + "0" * 32),
    ("blox-base-0.csv", lambda rows: rows.__setitem__(5, list(rows[2])),
     "appears in rows 2, 5; each model may appear once"),
    ("blox-base-1.csv", lambda rows: rows.pop(0),
     "blox-base-1.csv: seeds disagree on the model set: 39 models here, 40 for seed 0; e.g. "),
    ("blox-ext-0.csv", lambda rows: rows.append(list(rows[0])),
     "blox-ext-0.csv: hash"),
    ("blox-info.csv", set_field(2, 3, str(space.to_nested(space.CANONICAL[1].tolist()))),
     "blox-info.csv, row 2, column arch_vec: the vector is model 1, but the row's hash is model"),
    ("blox-info.csv", lambda rows: rows.pop(0), "blox-info lacks params/flops for 1 model(s)"),
])
def test_bad_rows_name_file_row_and_column(tmp_path, name, change, fragment):
    src = release_copy(tmp_path)
    rewrite(src / name, change)
    assert fragment in refused(src, tmp_path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_files_are_refused(tmp_path, fmt):
    src = release_copy(tmp_path, fmt)
    path = src / f"blox-ext-0.{fmt}"
    path.write_bytes(path.read_bytes()[:-50])
    assert f"blox-ext-0.{fmt}" in refused(src, tmp_path)


def test_blox_column_type_that_does_not_fit_the_column(tmp_path):
    src = release_copy(tmp_path, "blox")
    header = (src / "blox-base-0.blox").read_bytes()[:1024].decode("latin-1")
    val_type = header.split("val_top1: ")[-1].split("\n")[0]
    edit(src / "blox-base-0.blox", f"val_top1: {val_type}\n".encode(), b"val_top1: list[float]\n")
    assert ("blox-base-0.blox, column val_top1: type 'list[float]' does not hold this column; "
            "expected list[b_LO_HI_BITS]") in refused(src, tmp_path)


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "out.zarr"
    out.mkdir()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        import_release(RELEASE, out, progress=False)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        import_release(tmp_path / "nowhere", tmp_path / "x.zarr", progress=False)
