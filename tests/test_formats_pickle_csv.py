"""Pickle and CSV bodies: the original rounding and layout, the restricted unpickler, parsing."""

import csv
import hashlib
import io
import os
import pickle

import numpy as np
import pytest

from blox_gym import space
from blox_gym.formats import FormatError, files, schema
from blox_gym.formats.header import dump_header, make_header, split_header

N = {"val": 5000, "test": 10000, "train": 45000}


def hashes(rows):
    return np.array([hashlib.md5(str(i).encode()).hexdigest() for i in range(rows)])


def header_for(stem_name, epochs=None):
    stem = schema.parse_stem(stem_name)
    return make_header(stem.dataset_type, list(stem.columns), **schema.extra_fields(stem, epochs))


def random_columns(stem_name, rows=6, epochs=7, seed=0):
    rng = np.random.default_rng(seed)
    columns = {"model_hash": hashes(rows)}
    for name in schema.parse_stem(stem_name).columns[1:]:
        kind = schema.KIND[name]
        shape = (rows, epochs) if kind.endswith("_list") else (rows,)
        if kind.startswith("acc"):
            images = next(v for k, v in N.items() if k in name)
            columns[name] = rng.integers(0, images + 1, shape).astype(np.uint32)
        elif kind.startswith("float"):
            columns[name] = rng.uniform(0, 9, shape)
        elif kind == "int":
            columns[name] = rng.integers(0, 2**31, shape)
        elif kind == "arch":
            columns[name] = space.CANONICAL[rng.integers(0, space.N_MODELS, rows)].astype(np.int64)
        else:
            columns[name] = np.array([f"v{i}-{name}" for i in range(rows)], dtype=object)
    return columns


def naive_rows(names, columns):
    """Rows after reference 2.3, value by value with Python's round."""
    rows = []
    for r in range(len(columns["model_hash"])):
        row = []
        for name in names:
            value = columns[name][r]
            if "top" in name:
                images = next(v for k, v in N.items() if k in name)
                pct = lambda c: round(int(c) / images * 100, 3)  # noqa: E731
                row.append(pct(value) if "test" in name else [pct(c) for c in value])
            elif "loss" in name:
                row.append(round(float(value), 6) if "test" in name
                           else [round(float(v), 6) for v in value])
            elif name == "arch_vec":
                row.append(space.to_nested([int(v) for v in value]))
            elif name in ("train_time_s", "params", "flops"):
                row.append(int(value))
            elif name == "latency":
                row.append(float(value))
            else:
                row.append(str(value))
        rows.append(row)
    return rows


def write(tmp_path, stem_name, fmt, columns, epochs=7):
    path = tmp_path / f"{stem_name}.{fmt}"
    files.write(path, header_for(stem_name, epochs), columns, fmt)
    return path


STEMS = ["blox-base-0", "blox-ext-3", "blox-info", "blox-env-1", "blox-bench-pixel-3"]


@pytest.mark.parametrize("stem_name", STEMS)
def test_bodies_equal_a_naive_writer(tmp_path, stem_name):
    columns = random_columns(stem_name)
    names = list(schema.parse_stem(stem_name).columns)
    rows = naive_rows(names, columns)
    pickled_body = split_header(write(tmp_path, stem_name, "pickle", columns).read_bytes(), "f")[1]
    assert pickled_body == pickle.dumps(rows)
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    csv_body = bytes(split_header(write(tmp_path, stem_name, "csv", columns).read_bytes(), "f")[1])
    assert csv_body == text.getvalue().encode()
    assert csv_body.count(b"\r\n") == len(rows)
    if any(schema.KIND[n].endswith("_list") or n == "arch_vec" for n in names):
        assert b',"[' in csv_body  # list reprs are quoted


@pytest.mark.parametrize("fmt", ["pickle", "csv", "blox"])
@pytest.mark.parametrize("stem_name", STEMS)
def test_read_returns_what_was_written(tmp_path, stem_name, fmt):
    columns = random_columns(stem_name)
    path = write(tmp_path, stem_name, fmt, columns)
    header, read = files.read(path.read_bytes(), path.name)
    assert header["format"] == schema.EXTENSIONS[fmt]
    for name, values in columns.items():
        want = values
        if schema.KIND[name].startswith("float") and (fmt == "blox" or "loss" in name):
            want = np.vectorize(lambda v: round(float(v), 6))(values)
        assert np.array_equal(read[name], want), name


def test_csv_parsing_rules():
    arch = space.to_nested(space.CANONICAL[7].tolist())
    body = f'{H},12,123.0,"{arch}"\r\n'.encode()  # flops as a float, as the original reads it
    data = dump_header(dict(header_for("blox-info"), format="csv")) + body
    columns = files.read(data, "blox-info.csv")[1]
    assert columns["params"].tolist() == [12] and columns["flops"].tolist() == [123]
    assert columns["flops"].dtype == np.int64
    assert columns["arch_vec"].tolist() == [space.CANONICAL[7].tolist()]


def test_csv_latency_is_coerced_to_a_number(tmp_path):
    path = write(tmp_path, "blox-bench-pixel-3", "csv", random_columns("blox-bench-pixel-3"))
    columns = files.read(path.read_bytes(), path.name)[1]
    assert columns["latency"].dtype == np.float64
    bad = path.read_bytes().replace(b",", b",fast", 1)
    with pytest.raises(FormatError, match=r"row 0, column latency: 'fast[0-9.]*' is not a number"):
        files.read(bad, path.name)


# ---------------------------------------------------------------- the restricted unpickler

class Custom:
    def __init__(self):
        self.value = 1


class Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def pickle_file(obj):
    return (b"---\n" + b"format: pickle\ncolumns: [model_hash]\n---\n") + pickle.dumps(obj)


@pytest.mark.parametrize("obj, name", [(os.system, "system"), (Custom(), "Custom"),
                                       (np.arange(2), "numpy"), (complex(1, 2), "complex")])
def test_unpickler_refuses_globals(obj, name):
    with pytest.raises(FormatError, match=f"refers to the global '.*{name}.*'") as err:
        files.read(pickle_file([[obj]]), "blox-x.pickle")
    assert "blox-x.pickle" in str(err.value)


def test_unpickler_never_runs_a_reduce_payload(tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(FormatError, match="posix.system|nt.system"):
        files.read(pickle_file([[Exploit(target)]]), "blox-x.pickle")
    assert not target.exists()


def test_unpickler_admits_plain_data_and_checks_structure():
    plain = [["a" * 32, {"k": (1, 2.5, None, True, b"x")}]]
    with pytest.raises(FormatError, match="row 0: a row must be a list of 1 values"):
        files.read(pickle_file(plain), "blox-x.pickle")
    with pytest.raises(FormatError, match="must be a list of rows, got dict"):
        files.read(pickle_file({"rows": []}), "blox-x.pickle")


def test_truncated_and_padded_pickles(tmp_path):
    path = write(tmp_path, "blox-base-0", "pickle", random_columns("blox-base-0"))
    data = path.read_bytes()
    with pytest.raises(FormatError, match="corrupt or truncated pickle"):
        files.read(data[:-40], path.name)
    with pytest.raises(FormatError, match="3 bytes follow the pickle body"):
        files.read(data + b"abc", path.name)


# ---------------------------------------------------------------- wrong types and values

def pickled_base(rows):
    header = dict(header_for("blox-base-0", 2), format="pickle")
    return dump_header(header) + pickle.dumps(rows)


H = "0" * 32


@pytest.mark.parametrize("row, fragment", [
    ([H, [1.0, "2.0"], 50.0, 1000], "row 1, column val_top1, epoch 2: expected a number, got '2.0'"),
    ([H, 1.0, 50.0, 1000], "row 1, column val_top1: expected a list of numbers, got 1.0"),
    ([H, [1.0], 50.0, 1000], "row 1, column val_top1: a list of 1 values, but row 0 has 2"),
    ([H, [1.0, 2.0], "50", 1000], "row 1, column test_top1: expected a number, got '50'"),
    ([H, [1.0, 2.0], 50.0, 10.5], "row 1, column train_time_s: 10.5 is not a non-negative whole"),
    ([H[:31], [1.0, 2.0], 50.0, 1000], "row 1, column model_hash: expected a 32-digit hex hash"),
    ([5, [1.0, 2.0], 50.0, 1000], "row 1, column model_hash: expected a 32-digit hex hash"),
    ([H, [1.0, 2.01], 50.0, 1000], "row 1, column val_top1, epoch 2: 2.01 is off the accuracy grid"),
    ([H, [1.0, 100.02], 50.0, 1000], "row 1, column val_top1, epoch 2: 100.02 is not an accuracy in"),
    ([H, [1.0, 2.0], 50.005, 1000], "row 1, column test_top1: 50.005 is off the accuracy grid"),
    ([H, [1.0, 2.0], -0.01, 1000], "row 1, column test_top1: -0.01 is not an accuracy"),
    ([H, [1.0, 2.0], 50.0], "row 1: a row must be a list of 4 values"),
])
def test_pickle_type_and_value_errors_name_row_and_column(row, fragment):  # row 1 is bad
    with pytest.raises(FormatError) as err:
        files.read(pickled_base([["f" * 32, [1.0, 2.0], 50.0, 1000], row]), "blox-base-0.pickle")
    assert f"blox-base-0.pickle, {fragment}" in str(err.value)


def test_train_grid_is_one_450th_of_a_percent():
    header = dict(header_for("blox-ext-0", 1), format="pickle")
    row = [H, [0.002], [0.5], [0.004], [0.1], [0.02], 0.3, 0.01]
    columns = files.read(dump_header(header) + pickle.dumps([row]), "blox-ext-0.pickle")[1]
    assert columns["train_top1"].tolist() == [[1]] and columns["train_top5"].tolist() == [[2]]
    row[1] = [0.003]
    with pytest.raises(FormatError, match="epoch 1: 0.003 is off the accuracy grid of 45,000"):
        files.read(dump_header(header) + pickle.dumps([row]), "blox-ext-0.pickle")


@pytest.mark.parametrize("body, fragment", [
    (b'x,"[1.0, 2.0]",50.0,1000\r\n', "row 0, column model_hash: expected a 32-digit"),
    (H.encode() + b',"[1.0, 2.0]",50.0\r\n', "row 0: 3 fields, expected 4"),
    (H.encode() + b',"1.0, 2.0",50.0,1000\r\n', "row 0, column val_top1: expected a list"),
    (H.encode() + b',"[1.0, x]",50.0,1000\r\n', "row 0, column val_top1, epoch 2: ' x' is not a"),
    (H.encode() + b',"[1.0, 2.0]",fifty,1000\r\n', "row 0, column test_top1: 'fifty' is not a"),
    (H.encode() + b',"[1.0, 2.0]",50.0,1e3x\r\n', "column train_time_s: '1e3x' is not a number"),
    (H.encode() + b',"[1.0, 2.0]",50.0,1000\r\n' + H.encode() + b',"[1.0]",50.0,1000\r\n',
     "row 1, column val_top1: a list of 1 values, but row 0 has 2"),
    (b'\xff\xfe,"[1.0]"\r\n', "malformed CSV body"),
])
def test_csv_errors_name_row_and_column(body, fragment):
    data = dump_header(dict(header_for("blox-base-0", 2), format="csv")) + body
    with pytest.raises(FormatError) as err:
        files.read(data, "blox-base-0.csv")
    assert fragment in str(err.value)


def test_strict_blox_writing_fails_where_the_original_writer_fails(tmp_path):
    columns = random_columns("blox-base-0")
    columns["test_top1"][:] = 4321  # one value for the whole column: log2(0) in the original
    files.write(tmp_path / "ours.blox", header_for("blox-base-0", 7), columns, "blox")
    read = files.read((tmp_path / "ours.blox").read_bytes(), "ours.blox")[1]
    assert (read["test_top1"] == 4321).all()
    with pytest.raises(FormatError, match="column test_top1: every count is 4321"):
        files.write(tmp_path / "strict.blox", header_for("blox-base-0", 7), columns, "blox",
                    strict=True)
