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


# ---------------------------------------------------------------- 9: corrupt chunks, bad attrs

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny(tmp_path_factory.mktemp("tiny") / "tiny.zarr")


def test_corrupt_chunk_is_a_store_error_naming_array_and_chunk(tmp_path):
    from blox_gym.table import open_table

    path = write_tiny(tmp_path / "c.zarr")
    (Path(path) / "test_top1" / "c" / "0" / "0").write_bytes(b"garbage" * 10)
    with pytest.raises(store.StoreError, match=r"array 'test_top1', chunk c/0/0 is corrupt"):
        open_table(path).test_acc(np.arange(3))



@pytest.mark.parametrize("damage", [b"garbage" * 10, b""])
def test_corrupt_chunk_on_the_one_model_read_path_is_a_store_error(tmp_path, damage):
    from blox_gym.table import open_table

    path = write_tiny(tmp_path / "c.zarr")
    chunk = Path(path) / "test_top1" / "c" / "0" / "0"
    chunk.write_bytes(damage or chunk.read_bytes()[:-5])  # garbage, or a truncated frame
    with pytest.raises(store.StoreError, match=r"array 'test_top1', chunk c/0/0 is corrupt"):
        open_table(path).test_acc(0)  # one model: the zarr-free point read


@pytest.mark.parametrize("change, match", [
    (lambda a: a.pop("seeds"), "'seeds' must be a non-empty list"),
    (lambda a: a.update(seeds=[0, True]), "'seeds' must be"),
    (lambda a: a.update(epochs=-1), "'epochs' must be an integer in 1..10000"),
    (lambda a: a.update(epochs=7), r"imply \(1, 91125, 7\)"),
    (lambda a: a.update(extended=["val_loss"]), "missing array"),
])
def test_impossible_store_attrs_are_refused_at_open(tmp_path, change, match):
    import json

    path = Path(write_tiny(tmp_path / "a.zarr"))
    meta = json.loads((path / "zarr.json").read_text())
    change(meta["attributes"])
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(store.StoreError, match=match):
        store.open_store(path)


# ---------------------------------------------------------------- 10: unchecked numbers

def test_table_top_and_seed_refuse_impossible_numbers(tiny):
    from blox_gym.table import open_table

    table = open_table(tiny)
    for k in (-5, 2.5, True):
        with pytest.raises(ValueError, match="k must be a whole number"):
            table.top(k)
    assert len(table.top(0)) == 0 and len(table.top(np.int64(3))) == 3
    for seed in (1.5, True, "0"):
        with pytest.raises(ValueError, match="seed"):
            table.test_acc(0, seed=seed)
    assert np.isnan(table.test_acc(0, seed=np.int64(0)))


@pytest.mark.parametrize("call", [
    lambda t, big: space.model_id([big] + [0] * 14),
    lambda t, big: space.compute_hash([0] * 14 + [big]),
    lambda t, big: space.is_valid([[[0], [big, 1, 1, 1]]] * 3),
    lambda t, big: t.val_acc([0, 0, 0, big] + [0] * 11),
    lambda t, big: t.val_acc(big),
    lambda t, big: t.model_hash([0] * 9 + [big] + [0] * 5),
])
@pytest.mark.parametrize("big", [2**70, -2**70, 2**64])
def test_component_of_2_to_the_70_is_the_documented_value_error(tiny, call, big):
    from blox_gym.table import open_table

    with pytest.raises(ValueError, match=rf"(has value|model id) {big}\b.*(allowed values are "
                                         rf"0, 1|ids are 0..91124)"):
        call(open_table(tiny), big)


def test_pickle_row_with_a_bool_is_refused():
    kinds = schema.column_kinds("blox-base-0.pickle", list(schema.BASE))
    row = ["0" * 32, [10.0, 20.0], 50.0, True]
    with pytest.raises(FormatError, match="row 0, column train_time_s: expected a number, got "
                                          "(the boolean )?True"):
        columns_from_rows(kinds, [row], "blox-base-0.pickle")
    row = ["0" * 32, [False, 20.0], 50.0, 1000]
    with pytest.raises(FormatError, match="column val_top1, epoch 1: .*boolean False"):
        columns_from_rows(kinds, [row], "blox-base-0.pickle")


def test_uppercase_hashes_are_imported_as_queries_accept_them(tmp_path):
    src = release_copy(tmp_path, "csv")
    for path in src.iterdir():
        header_end = path.read_bytes().index(b"\n---\n") + 5
        data = path.read_bytes()
        body = b"\r\n".join(line[:32].upper() + line[32:] for line in data[header_end:].split(b"\r\n"))
        path.write_bytes(data[:header_end] + body)
    reference = import_release(RELEASE, tmp_path / "ref.zarr", prefer="csv", progress=False)
    upper = import_release(src, tmp_path / "upper.zarr", progress=False)
    a, b = store.open_store(reference), store.open_store(upper)
    assert np.array_equal(a["test_top1"][0], b["test_top1"][0]) and b["test_top1"].shape[0] == 1


# ---------------------------------------------------------------- 11: one-line CLI errors

@pytest.mark.parametrize("argv, match", [
    (["top", "-k", "-3"], "k must be a whole number"),
    (["query", f"{2**70},0,0,0,0,0,0,0,0,0,0,0,0,0,0"], ""),
    (["data", "export", "{tiny}", "--format", "csv", "--out", "{afile}"], ""),
])
def test_cli_user_errors_are_one_line_with_exit_code_2(tiny, tmp_path, capsys, argv, match):
    from blox_gym.cli import main

    (tmp_path / "afile").write_text("x")
    argv = [a.format(tiny=tiny, afile=tmp_path / "afile") for a in argv]
    if argv[0] in ("top", "query"):
        argv += ["--data", tiny]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("blox-gym: error: ") and err.count("\n") == 1 and match in err


def test_cli_ctrl_c_is_one_line(monkeypatch, capsys):
    from blox_gym import cli

    def interrupted(args):
        raise KeyboardInterrupt

    from blox_gym.commands import data_info

    monkeypatch.setattr(data_info, "run", interrupted)
    assert cli.main(["data", "info"]) == 130
    assert capsys.readouterr().err == "blox-gym: interrupted\n"
