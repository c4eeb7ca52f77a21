"""Issue 11: what the original reader accepts is imported, and nothing is lost on the way back."""

import csv
import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from blox_gym import space, store
from blox_gym.formats import FormatError, export_store, files, import_release, schema
from blox_gym.formats.header import dump_header, make_header
from blox_gym.table import open_table
from conftest import RELEASE, RELEASE_FORMATS as FORMATS
from fixtures.make_release_fixture import DEVICE, GPUS, fixture_models, fixture_store_inputs


def copy_release(tmp_path: Path, fmt: str) -> Path:
    src = tmp_path / f"src-{fmt}"
    src.mkdir()
    for path in RELEASE.glob(f"*.{fmt}"):
        shutil.copy(path, src)
    return src


def numpy_rows(header: dict, columns: dict) -> list[list]:
    """Rows as the original writer makes them from numpy values: numpy scalars throughout."""
    from blox_gym.formats.pyrows import python_rows

    kinds = {n: schema.KIND.get(n, "str") for n in header["columns"]}  # env columns: str
    rows = python_rows({n: columns[n] for n in header["columns"]}, kinds)

    def numpy(value):
        if isinstance(value, list):
            return [numpy(v) for v in value]
        if isinstance(value, str):
            return np.str_(value)
        return np.float64(value) if isinstance(value, float) else np.int64(value)

    return [[numpy(v) if not isinstance(v, list) or n != "arch_vec" else v
             for n, v in zip(header["columns"], row)] for row in rows]


# ---------------------------------------------------------------- 1: numpy scalars

@pytest.mark.parametrize("module", ["numpy._core.multiarray", "numpy.core.multiarray"])
def test_pickles_of_numpy_scalars_import_like_plain_values(tmp_path, release_imported, module):
    src = copy_release(tmp_path, "pickle")
    for path in src.iterdir():
        header, columns = files.read(path.read_bytes(), path.name)
        body = pickle.dumps(numpy_rows(header, columns), protocol=2)  # GLOBAL opcodes: text
        body = body.replace(b"cnumpy._core.multiarray\n", f"c{module}\n".encode())
        assert f"c{module}\n".encode() in body
        path.write_bytes(dump_header(header) + body)
    numpy_store = import_release(src, tmp_path / "numpy.zarr", prefer="pickle", progress=False)
    a, b = store.open_store(release_imported["pickle"]), store.open_store(numpy_store)
    for name in a.array_keys():
        assert np.array_equal(a[name][...], b[name][...], equal_nan=a[name].dtype.kind == "f"), name


def test_numpy_globals_beyond_scalars_are_still_refused():
    header = dump_header({"format": "pickle", "columns": ["model_hash"]})
    for payload in (np.arange(3), np.dtype("O"), [np.datetime64("2020-01-01")]):
        with pytest.raises(FormatError, match="pickle"):
            files.read(header + pickle.dumps([[payload]]), "blox-x.pickle")


# ---------------------------------------------------------------- 2: per-model env strings

def test_env_strings_are_kept_per_model_and_exported_byte_identical(tmp_path, release_imported):
    imported = release_imported["csv"]
    table = open_table(imported)
    arrays, attrs = fixture_store_inputs()
    for model in fixture_models()[:8]:
        for seed in (0, 1):
            want = {key: values[model] for key, values in attrs["env"][str(seed)].items()}
            assert table.env(seed, int(model)) == want
    gpus = {table.env(0, int(m))["gpu"] for m in fixture_models()}
    assert len(gpus) > 1 and gpus <= {gpu for gpu, _ in GPUS}
    assert table.env(0, 1) == {}  # a model without an env row
    for fmt in FORMATS:
        for path in export_store(imported, fmt, tmp_path / fmt, progress=False):
            if Path(path).name.startswith("blox-env"):
                assert Path(path).read_bytes() == (RELEASE / Path(path).name).read_bytes()


# ---------------------------------------------------------------- 3: other and extra columns

def with_extra_column(path: Path, name: str, values: list) -> None:
    """Rewrite a release file with one more trailing column ``name`` holding ``values``."""
    header, columns = files.read(path.read_bytes(), path.name)
    header = {k: v for k, v in header.items() if k not in ("format", "column_types")}
    header["columns"] = header["columns"] + [name]
    fmt = path.suffix[1:]
    if fmt == "blox":
        from blox_gym.formats import blox, bloxtypes

        kinds = schema.column_kinds(path.name, header["columns"][:-1])
        types = bloxtypes.column_types(kinds, columns) | {name: "int"}
        body = blox.encode(types, {**columns, name: np.asarray(values)}, path.name)
        data = dump_header({**header, "format": "custom", "column_types": types}) + body
    else:
        from blox_gym.formats.pyrows import python_rows

        rows = python_rows(columns, schema.column_kinds(path.name, list(columns)))
        rows = [row + [value] for row, value in zip(rows, values)]
        if fmt == "pickle":
            body = pickle.dumps(rows)
        else:
            text = io.StringIO(newline="")
            csv.writer(text).writerows(rows)
            body = text.getvalue().encode()
        data = dump_header({**header, "format": fmt}) + body
    path.write_bytes(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_extra_trailing_columns_are_accepted_and_reported(tmp_path, release_imported, fmt):
    src = copy_release(tmp_path, fmt)
    for stem in ("blox-base-0", "blox-info", f"blox-bench-{DEVICE}"):
        with_extra_column(src / f"{stem}.{fmt}", "run_id", list(range(40)))
    out = import_release(src, tmp_path / "out.zarr", prefer=fmt, progress=False)
    a, b = store.open_store(release_imported[fmt]), store.open_store(out)
    for name in a.array_keys():
        assert np.array_equal(a[name][...], b[name][...], equal_nan=a[name].dtype.kind == "f"), name
    entries = {e["name"]: e for e in b.attrs["source"]["files"]}
    assert entries[f"blox-base-0.{fmt}"]["ignored_columns"] == ["run_id"]
    assert entries[f"blox-base-0.{fmt}"]["columns"] == list(schema.BASE)
    assert "ignored_columns" not in entries[f"blox-base-1.{fmt}"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_env_files_with_any_columns_round_trip(tmp_path, fmt):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(RELEASE / f"blox-base-0.{fmt}", src)
    ids = fixture_models()
    hashes = space.model_hashes()[ids]
    hosts = ["node0", "node1", "node2"]  # one str object per value, as the exporter shares them
    columns = {"model_hash": hashes, "hostname": np.array([hosts[i % 3] for i in ids], object),
               "gpu": np.array(["Tesla P40"] * len(ids), object)}
    header = make_header("env", list(columns), seed=0)
    files.write(src / f"blox-env-0.{fmt}", header, columns, fmt)
    out = import_release(src, tmp_path / "out.zarr", prefer=fmt, progress=False)
    assert open_table(out).env(0, int(ids[4])) == {"hostname": f"node{ids[4] % 3}",
                                                   "gpu": "Tesla P40"}
    written = export_store(out, fmt, tmp_path / "again", progress=False)
    env_file = next(Path(p) for p in written if Path(p).name.startswith("blox-env"))
    assert env_file.read_bytes() == (src / f"blox-env-0.{fmt}").read_bytes()


# ---------------------------------------------------------------- 4: latency unit

def store_with_latency(path: Path, ms: float, kind: str = "test") -> str:
    arrays, attrs = fixture_store_inputs()
    arrays[f"latency/{DEVICE}"] = np.where(np.isnan(arrays[f"latency/{DEVICE}"]), np.nan,
                                           np.float32(ms))
    attrs = dict(attrs, source={"kind": kind})
    return store.write_store(path, arrays, attrs, progress=False)


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory):
    """A store labelled synthetic whose latencies (18.477123 ms) exceed 16.78 ms."""
    return store_with_latency(tmp_path_factory.mktemp("syn") / "syn.zarr", 18.477123,
                              kind="synthetic")


def test_latency_above_16_ms_exports_as_blox_in_seconds(tmp_path, synthetic_store):
    written = export_store(synthetic_store, "blox", tmp_path / "out", progress=False)
    bench = next(Path(p) for p in written if Path(p).name.startswith("blox-bench"))
    assert np.all(files.read(bench.read_bytes(), bench.name)[1]["latency"] == 0.018477)
    table = open_table(import_release(tmp_path / "out", tmp_path / "back.zarr", progress=False))
    assert table.latency(int(fixture_models()[0]), DEVICE) == pytest.approx(18.477, abs=1e-4)
    assert table.is_synthetic  # provenance, point 5


def test_latency_beyond_the_blox_range_fails_before_writing(tmp_path):
    path = store_with_latency(tmp_path / "slow.zarr", 20_000.0)  # 20 s a batch
    with pytest.raises(FormatError, match="column latency.*pickle or csv"):
        export_store(path, "blox", tmp_path / "out", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".slow.zarr.lock", "slow.zarr"]
    assert len(export_store(path, "csv", tmp_path / "out", progress=False)) == 7


# ---------------------------------------------------------------- 5: provenance

def test_provenance_survives_a_round_trip(tmp_path, synthetic_store):
    original = open_table(synthetic_store)
    for fmt in ("pickle", "csv"):
        export_store(synthetic_store, fmt, tmp_path / fmt, models=fixture_models()[:10],
                     progress=False)
        table = open_table(import_release(tmp_path / fmt, tmp_path / f"{fmt}.zarr",
                                          progress=False))
        assert table.is_synthetic and table.name == original.name
        assert table.attrs["licence"] == original.attrs["licence"]
        assert "SYNTHETIC" in table.label


def test_files_of_different_tables_are_not_mixed(tmp_path, synthetic_store):
    export_store(synthetic_store, "csv", tmp_path / "files", models=fixture_models()[:10],
                 progress=False)
    shutil.copy(RELEASE / "blox-info.csv", tmp_path / "files")  # official, no provenance
    with pytest.raises(FormatError, match="different tables"):
        import_release(tmp_path / "files", tmp_path / "back.zarr", progress=False)


# ---------------------------------------------------------------- checks of issue 11

def test_consistency_of_the_three_formats_like_test_datasets(release_source, tmp_path):
    """The original ``tools/test_datasets.py``: the same rows from .blox, .csv and .pickle."""
    folders = {fmt: tmp_path / fmt for fmt in FORMATS}
    for fmt in FORMATS:
        export_store(release_source, fmt, folders[fmt], progress=False)
    for path in sorted(folders["pickle"].iterdir()):
        reference = files.read(path.read_bytes(), path.name)[1]
        for fmt in ("blox", "csv"):
            other = files.read((folders[fmt] / f"{path.stem}.{fmt}").read_bytes(),
                               f"{path.stem}.{fmt}")[1]
            assert list(other) == list(reference)
            for name, values in reference.items():
                if name == "latency" and fmt == "blox":  # seconds at 6 decimals
                    assert np.allclose(values, other[name], rtol=0, atol=5.1e-7)
                else:
                    assert np.array_equal(values, other[name]), (path.stem, fmt, name)
