"""The YAML header: byte-exact writing (anchors, key order, 444-byte base header) and reading."""

import pytest
import yaml

from blox_gym.formats import FormatError, schema
from blox_gym.formats.header import dump_header, make_header, split_header

BASE_TYPES = {"model_hash": "hash", "val_top1": "list[b_50_3900_12]",
              "test_top1": "b_3008_7794_16", "train_time_s": "int"}


def base_header(fmt="custom"):
    stem = schema.parse_stem("blox-base-0")
    header = make_header("training", list(stem.columns), **schema.extra_fields(stem, 200))
    header["format"] = fmt
    if fmt == "custom":
        header["column_types"] = dict(BASE_TYPES)
    return header


def test_base_header_is_444_bytes_with_anchor_and_aliases():
    data = dump_header(base_header())
    assert len(data) == 444  # reference 2.2, example column types of 2.4
    text = data.decode()
    assert text.startswith("---\nversion: 1\nsearch_space:\n  shape:\n  - &id001\n")
    assert text.count("*id001") == 2
    assert text.endswith("column_types:\n  model_hash: hash\n  val_top1: list[b_50_3900_12]\n"
                         "  test_top1: b_3008_7794_16\n  train_time_s: int\n---\n")
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys == ["version", "search_space", "dataset_type", "columns", "seed", "epochs",
                    "dataset", "part", "format", "column_types"]


def test_dump_matches_pyyaml_of_a_hand_built_original_dict():
    stage = [[3], [3, 2, 2, 2]]
    original = {"version": 1, "search_space": {"shape": [stage] * 3, "nodes": 2, "stages": 3,
                                               "ops": ["conv", "mbconv", "bconv"]},
                "dataset_type": "benchmarking", "columns": ["model_hash", "latency"],
                "device": "pixel-3", "format": "pickle"}
    ours = make_header("benchmarking", ["model_hash", "latency"], device="pixel-3")
    ours["format"] = "pickle"
    assert dump_header(ours) == (yaml.dump(original, explicit_start=True, sort_keys=False)
                                 + "---\n").encode()


def test_split_round_trip_and_body():
    header, body = split_header(dump_header(base_header("csv")) + b"abc\r\n", "f.csv")
    assert header == base_header("csv")
    assert header["search_space"]["shape"][0] is header["search_space"]["shape"][2]
    assert body == b"abc\r\n"


@pytest.mark.parametrize("data, fragment", [
    (b"version: 1\n---\n", "must start with the YAML marker"),
    (b"", "must start with the YAML marker"),
    (b"---\nversion: 1\n", "no closing '---' line within the first 1024 bytes"),
    (b"---\nkey: '" + b"x" * 1100 + b"'\n---\nbody", "no closing '---' line"),
    (b"---\nversion: [1, 2\n---\n", "malformed YAML header"),
    (b"---\n- just\n- a list\n---\n", "must be a mapping"),
    (b"---\nkey: \xff\xfe\n---\n", "malformed YAML header"),
])
def test_bad_headers_are_named(data, fragment):
    with pytest.raises(FormatError, match=fragment) as err:
        split_header(data, "blox-base-0.blox")
    assert "blox-base-0.blox" in str(err.value)


def test_closing_marker_must_end_within_1024_bytes():
    pad = b"---\nk: '" + b"x" * 1010 + b"'\n"
    assert len(pad + b"---\n") == 1024
    assert split_header(pad + b"---\n", "f")[0]["k"].startswith("x")  # ends at byte 1024
    with pytest.raises(FormatError, match="within the first 1024"):
        split_header(pad + b"\n---\n", "f")  # one byte later


def test_too_long_header_is_refused_when_writing():
    header = make_header("env", ["model_hash"] + ["x" * 60] * 20, seed=0)
    with pytest.raises(FormatError, match="first 1024"):
        dump_header(header)
