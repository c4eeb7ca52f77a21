"""Regression tests for the bad-input and fault defects of issue 17, one test per defect."""

import os
import pickle
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from blox_gym import paths, space, store
from blox_gym.formats import FormatError, import_release, schema
from blox_gym.formats.errors import MESSAGE_CHARS
from blox_gym.formats.header import split_header
from blox_gym.formats.pyrows import columns_from_rows

RELEASE = Path(__file__).parent / "fixtures" / "release"
BOUND = MESSAGE_CHARS + 100  # longest message any bad input may produce


def tiny_store_inputs(name: str = "tiny") -> tuple[dict, dict]:
    """The smallest valid store: one seed, one epoch, every value missing."""
    n = space.N_MODELS
    arrays = {"val_top1": np.full((1, n, 1), np.nan), "test_top1": np.full((1, n), np.nan),
              "train_time_s": np.full((1, n), np.nan), "params": np.zeros(n, np.int64),
              "flops": np.zeros(n, np.int64)}
    return arrays, {"name": name, "seeds": [0], "source": {"kind": "test"}, "licence": "none"}


def write_tiny(path, name: str = "tiny", overwrite: bool = False) -> str:
    arrays, attrs = tiny_store_inputs(name)
    return store.write_store(path, arrays, attrs, overwrite=overwrite, progress=False)


def release_copy(tmp_path: Path, fmt: str, stems=("blox-base-0", "blox-info")) -> Path:
    src = tmp_path / f"release-{fmt}"
    src.mkdir()
    for stem in stems:
        shutil.copy(RELEASE / f"{stem}.{fmt}", src)
    return src


# ---------------------------------------------------------------- 1: memory blow-up

def alias_bomb_header(levels: int = 9) -> bytes:
    lines = ["---", "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for level in range(1, levels + 1):
        ref = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([ref] * 9)}]")
    return ("\n".join(lines) + "\n---\n").encode()


def test_header_with_nested_yaml_aliases_is_refused_quickly():
    data = alias_bomb_header()
    assert len(data) < 1024
    start = time.perf_counter()
    with pytest.raises(FormatError, match="aliases") as err:
        split_header(data + b"body", "bomb.csv")
    assert time.perf_counter() - start < 1.0 and len(str(err.value)) < BOUND


def test_error_for_a_pickle_cell_of_shared_nested_lists_is_bounded():
    nested = [1.0] * 10
    for _ in range(8):  # 10**9 numbers when expanded, a few hundred bytes pickled
        nested = [nested] * 10
    body = pickle.dumps([["0" * 32, nested, 50.0, 1000]])
    assert len(body) < 2000
    start = time.perf_counter()
    with pytest.raises(FormatError) as err:
        columns_from_rows(schema.column_kinds("blox-base-0.pickle", list(schema.BASE)),
                          pickle.loads(body), "blox-base-0.pickle")
    assert time.perf_counter() - start < 2.0 and len(str(err.value)) < BOUND


def test_long_header_values_are_quoted_as_bounded_excerpts(tmp_path):
    src = release_copy(tmp_path, "csv", ("blox-base-0",))
    data = (src / "blox-base-0.csv").read_bytes()
    header_end = data.index(b"\n---\n") + 1
    bad = data[:header_end].replace(b"part: base", b"part: " + b"x" * 500) + data[header_end:]
    (src / "blox-base-0.csv").write_bytes(bad)
    with pytest.raises(FormatError, match="header part") as err:
        import_release(src, tmp_path / "out.zarr", progress=False)
    assert "x" * 201 not in str(err.value) and len(str(err.value)) < BOUND


# ---------------------------------------------------------------- 2: --overwrite deletes any folder

def test_overwrite_refuses_a_folder_that_is_not_a_store(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a blox-gym store"):
        write_tiny(victim, overwrite=True)
    with pytest.raises(FileExistsError, match="not a blox-gym store"):
        import_release(release_copy(tmp_path, "csv"), victim, overwrite=True, progress=False)
    assert (victim / "notes.txt").read_text() == "keep me"
    plain = tmp_path / "afile"
    plain.write_text("keep me too")
    with pytest.raises(FileExistsError, match="not a blox-gym store"):
        write_tiny(plain, overwrite=True)
    assert plain.read_text() == "keep me too"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_overwrite_replaces_a_store_or_an_empty_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_tiny(empty, name="first", overwrite=True)
    write_tiny(empty, name="second", overwrite=True)
    assert store.open_store(empty).attrs["name"] == "second"
    with pytest.raises(FileExistsError, match="overwrite"):
        write_tiny(empty, name="third")


# ---------------------------------------------------------------- 3: URL outputs

def test_overwrite_false_is_respected_for_url_outputs():
    url = f"memory://reliability-{os.getpid()}/imp.zarr"
    write_tiny(url, name="first")
    with pytest.raises(FileExistsError, match="exists"):
        write_tiny(url, name="second")
    with pytest.raises(FileExistsError, match="exists"):
        import_release(RELEASE, url, prefer="csv", progress=False)
    assert store.open_store(url).attrs["name"] == "first"
    write_tiny(url, name="third", overwrite=True)
    assert store.open_store(url).attrs["name"] == "third"


# ---------------------------------------------------------------- 4: races between writers

def test_second_writer_of_a_new_target_fails_clearly(tmp_path, monkeypatch):
    """Another writer finishes between our early check and our rename: ours must fail, theirs stay."""
    target = tmp_path / "race.zarr"
    real_check = store.check_target
    calls = []

    def check_then_lose_the_race(path, overwrite):
        real_check(path, overwrite)
        if not calls:
            calls.append(path)
            monkeypatch.setattr(store, "check_target", real_check)
            write_tiny(target, name="winner")  # the other process, finishing first
            monkeypatch.setattr(store, "check_target", check_then_lose_the_race)

    monkeypatch.setattr(store, "check_target", check_then_lose_the_race)
    with pytest.raises(FileExistsError, match="exists"):
        write_tiny(target, name="loser")
    assert store.open_store(target).attrs["name"] == "winner"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".race.zarr.lock", "race.zarr"]


def test_two_imports_into_one_new_folder_one_fails(tmp_path):
    src = release_copy(tmp_path, "blox")
    out = tmp_path / "same.zarr"
    code = ("import sys; from blox_gym.cli import main; "
            f"sys.exit(main(['data', 'import', {str(src)!r}, '--out', {str(out)!r}]))")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "exists" in loser and "Traceback" not in loser
    store.open_store(out)
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name or ".old-" in p.name]


# ---------------------------------------------------------------- 5: files written 0600

@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_atomic_write_applies_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        paths.atomic_write(tmp_path / "config.json", lambda tmp: Path(tmp).write_text("{}"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o666 & ~mask


# ---------------------------------------------------------------- 6: truncated CSV

def test_csv_cut_inside_its_last_row_is_refused(tmp_path):
    src = release_copy(tmp_path, "csv")
    path = src / "blox-base-0.csv"
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(FormatError, match="truncated"):
        import_release(src, tmp_path / "out.zarr", progress=False)
    assert not (tmp_path / "out.zarr").exists()


def test_csv_cut_at_a_row_boundary_is_reported_with_model_counts(tmp_path):
    from blox_gym.formats.importer import summary_lines

    src = release_copy(tmp_path, "csv")
    path = src / "blox-base-0.csv"
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join(lines[:-3]) + b"\r\n")  # two rows gone (the last part is b"")
    with pytest.warns(UserWarning, match="fewer models"):
        out = import_release(src, tmp_path / "out.zarr", progress=False)
    source = store.open_store(out).attrs["source"]
    assert source["incomplete_files"] == {"blox-base-0.csv": "38 of 40 models"}
    assert [entry["models"] for entry in source["files"]] == [38, 40]
    assert "SHORT" in summary_lines(source)[0] and "SHORT" not in summary_lines(source)[1]


# ---------------------------------------------------------------- 12: leftovers after kills

def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_dead_writers_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "t.zarr"
    dead, alive = dead_pid(), os.getpid()
    for name in (f".t.zarr.partial-{dead}-0123abcd", f".t.zarr.old-{dead}-0123abcd",
                 f".t.zarr.partial-{alive}-0123abcd"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "zarr.json").write_text("{}")
    (tmp_path / f".notes.txt.{dead}-ab_cd.tmp").write_text("half")
    write_tiny(target)
    paths.atomic_write(tmp_path / "notes.txt", lambda tmp: Path(tmp).write_text("done"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        f".t.zarr.partial-{alive}-0123abcd", ".t.zarr.lock", "notes.txt", "t.zarr"])
