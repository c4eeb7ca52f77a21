"""The .blox codec: reference facts, an independent bit-at-a-time oracle, round trips, bad bodies."""

import hashlib
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blox_gym.formats import FormatError, bits, blox, bloxtypes
from blox_gym.formats.numeric import to_micro

EXT_TYPES = {"model_hash": "hash", "train_top1": "list[b_2000_44999_16]",
             "train_loss": "list[float]", "train_top5": "list[b_2000_44999_16]",
             "val_loss": "list[float]", "val_top5": "list[b_300_5000_13]",
             "test_loss": "float", "test_top5": "b_6000_9990_16"}


# ---------------------------------------------------------------- an independent oracle

class NaiveWriter:
    """Bit-at-a-time writer after reference 2.4 (LSB-first, each value padded to a byte)."""

    def __init__(self):
        self.bits: list[int] = []
        self.total = 32  # the u32 row count

    def put(self, value: int, width: int) -> None:
        assert 0 <= value < 1 << width or width == 0 == value
        self.bits.extend((value >> i) & 1 for i in range(width))

    def end_value(self, written: int) -> None:
        while len(self.bits) % 8:
            self.bits.append(0)
        self.total += written + written % 8  # the original's padding step counts wpos

    def payload(self, rows: int) -> bytes:
        body = bytes(sum(b << i for i, b in enumerate(self.bits[k:k + 8]))
                     for k in range(0, len(self.bits), 8))
        return struct.pack("<QI", self.total, rows) + body


def original_micro(value: float) -> int:
    """The original writer's float rule: int(round(v, 6) * 1e6), then +1, else -1."""
    ref = round(value, 6)
    m = int(ref * 1e6)
    for step in (1, -2):
        if m / 1e6 != ref:
            m += step
    assert m / 1e6 == ref
    return m


def naive_payload(types: dict, data: dict) -> bytes:
    rows = len(next(iter(data.values())))
    w = NaiveWriter()
    for r in range(rows):
        for name, text in types.items():
            kind = bloxtypes.parse_type(text, "", name)
            value = data[name][r]
            start = len(w.bits)
            if kind.base == "hash":
                w.put(int(value, 16), 128)
            elif kind.base == "arch":
                for s in range(3):
                    op0, op1, prev, inp, skip = (int(v) for v in value[5 * s:5 * s + 5])
                    w.put(((op0 * 3 + op1) << 3) | (prev << 2) | (inp << 1) | skip, 8)
            elif kind.base == "int":
                w.put(int(value), 32)
            elif kind.base == "str":
                w.put(len(value), 8)
                for byte in value.encode("ascii"):
                    w.put(byte, 8)
            else:
                items = list(value) if kind.is_list else [value]
                if kind.is_list:
                    w.put(len(items), 8)
                for item in items:
                    if kind.base == "float":
                        w.put(original_micro(float(item)), 24)
                    else:
                        w.put(int(item) - kind.lo, kind.bits)
            w.end_value(len(w.bits) - start)
    return w.payload(rows)


# ---------------------------------------------------------------- random tables

KINDS = ("hash", "arch", "int", "float", "float_list", "str", "acc", "acc_list")
ACC_NAMES = ("val_top1", "test_top1", "train_top5", "test_top5", "val_top5", "train_top1")


@st.composite
def tables(draw, max_rows=8):
    rows = draw(st.integers(1, max_rows))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    data, kind_of = {}, {}
    for i, kind in enumerate(kinds):
        name = f"c{i}_" + (draw(st.sampled_from(ACC_NAMES)) if kind.startswith("acc") else kind)
        kind_of[name] = kind
        n = draw(st.integers(1 if kind == "acc_list" else 0, 40))
        if kind == "hash":
            data[name] = np.array([rng.bytes(16).hex() for _ in range(rows)])
        elif kind == "arch":
            data[name] = rng.integers(0, [3, 3, 2, 2, 2] * 3, (rows, 15))
        elif kind == "int":
            data[name] = rng.integers(0, 2**32, rows, dtype=np.int64)
        elif kind in ("float", "float_list"):
            shape = (rows, n) if kind == "float_list" else (rows,)
            data[name] = rng.uniform(0, 16.777215, shape)
        elif kind == "str":
            data[name] = np.array(["".join(map(chr, rng.integers(0, 128, rng.integers(0, 256))))
                                   for _ in range(rows)], dtype=object)
        else:
            lo = draw(st.integers(0, 45_000))
            span = draw(st.one_of(st.integers(0, 16), st.sampled_from([64, 256, 4096]),
                                  st.integers(0, 45_000)))
            shape = (rows, n) if kind == "acc_list" else (rows,)
            counts = rng.integers(lo, lo + span + 1, shape)
            counts.flat[0], counts.flat[-1] = lo, lo + span
            data[name] = counts
    return kind_of, data


def expected(kind: str, values: np.ndarray) -> np.ndarray:
    if kind.startswith("float"):
        return np.vectorize(lambda v: round(float(v), 6), otypes=[float])(values) \
            if values.size else values
    return values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_round_trip_and_oracle_bytes(table):
    kinds, data = table
    types = bloxtypes.column_types(kinds, data)
    body = blox.encode(types, data)
    assert zlib.decompress(body) == naive_payload(types, data)
    assert body == zlib.compress(naive_payload(types, data))  # byte-identical body
    decoded = blox.decode(types, body)
    for name, kind in kinds.items():
        want = expected(kind, data[name])
        assert decoded[name].shape == want.shape
        assert (decoded[name] == want).all(), name


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 32), st.integers(0, 70), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_bit_packing_matches_python_integers(width, n, rows, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 1 << width, (rows, n), dtype=np.uint64)
    packed = bits.pack(values, width)
    assert packed.shape == (rows, bits.packed_size(n, width))
    for r in range(rows):
        number = sum(int(v) << (k * width) for k, v in enumerate(values[r]))
        assert packed[r].tobytes() == number.to_bytes(packed.shape[1], "little")
    assert (bits.unpack(packed, n, width) == values).all()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.lists(st.sampled_from(
    ["hash", "arch", "int", "float", "str", "b_0_9_4", "list[b_3_70_7]", "list[float]"]),
    min_size=1, max_size=4))
def test_garbage_payloads_raise_format_error_only(payload, type_list):
    types = {f"c{i}": t for i, t in enumerate(type_list)}
    try:
        blox.decode(types, zlib.compress(payload))
    except FormatError:
        pass


# ---------------------------------------------------------------- reference facts

def test_row_sizes_before_zlib_match_the_reference():
    rng = np.random.default_rng(0)
    rows, hashes = 5, np.array([hashlib.md5(str(i).encode()).hexdigest() for i in range(5)])

    def counts(lo, hi, shape):
        c = rng.integers(lo, hi + 1, shape)
        c.flat[0], c.flat[-1] = lo, hi
        return c

    base = {"model_hash": hashes, "val_top1": counts(50, 3900, (rows, 200)),
            "test_top1": counts(3008, 7794, rows), "train_time_s": rng.integers(101, 9999, rows)}
    base_types = bloxtypes.column_types({"model_hash": "hash", "val_top1": "acc_list",
                                    "test_top1": "acc", "train_time_s": "int"}, base)
    assert base_types == {"model_hash": "hash", "val_top1": "list[b_50_3900_12]",
                          "test_top1": "b_3008_7794_16", "train_time_s": "int"}
    assert len(zlib.decompress(blox.encode(base_types, base))) == 12 + rows * 323

    ext = {"model_hash": hashes, "train_top1": counts(2000, 44999, (rows, 200)),
           "train_loss": rng.uniform(0, 5, (rows, 200)),
           "train_top5": counts(2000, 44999, (rows, 200)),
           "val_loss": rng.uniform(0, 5, (rows, 200)), "val_top5": counts(300, 5000, (rows, 200)),
           "test_loss": rng.uniform(0, 5, rows), "test_top5": counts(6000, 9990, rows)}
    assert len(zlib.decompress(blox.encode(EXT_TYPES, ext))) == 12 + rows * 2351

    info = {"model_hash": hashes, "params": rng.integers(0, 2**32, rows),
            "flops": rng.integers(0, 2**32, rows), "arch_vec": np.zeros((rows, 15), int) + 1}
    info_types = {"model_hash": "hash", "params": "int", "flops": "int", "arch_vec": "arch"}
    assert len(zlib.decompress(blox.encode(info_types, info))) == 12 + rows * 27


@pytest.mark.parametrize("name, lo, hi, text", [
    ("val_top1", 50, 3900, "list[b_50_3900_12]"),
    ("test_top1", 3008, 7794, "b_3008_7794_16"),
    ("val_top5", 300, 5000, "list[b_300_5000_13]"),
    ("train_top5", 2000, 44999, "list[b_2000_44999_16]"),
])
def test_example_type_strings(name, lo, hi, text):
    values = np.array([[lo, hi, (lo + hi) // 2]]) if text.startswith("list") else np.array([lo, hi])
    assert bloxtypes.quantised_type(name, values) == text
    assert bloxtypes.quantised_type(name, values, strict=True) == text


def test_hash_is_stored_as_reversed_bytes():
    digest = hashlib.md5(b"0").hexdigest()
    assert digest.startswith("cfcd2084") and digest.endswith("98764da")
    payload = zlib.decompress(blox.encode({"model_hash": "hash"}, {"model_hash": np.array([digest])}))
    stored = payload[12:28]
    assert stored[:4] == bytes([0xDA, 0x64, 0x87, 0xF9]) and stored[-2:] == bytes([0xCD, 0xCF])
    assert stored == bytes.fromhex(digest)[::-1]


def test_arch_byte_formula_and_decoding():
    flat = np.array([[0, 0, 0, 1, 0, 2, 1, 1, 1, 1, 1, 2, 1, 0, 1]])
    payload = zlib.decompress(blox.encode({"a": "arch"}, {"a": flat}))
    assert list(payload[12:15]) == [(0 * 3 + 0) << 3 | 0 << 2 | 1 << 1 | 0,
                                    (2 * 3 + 1) << 3 | 1 << 2 | 1 << 1 | 1,
                                    (1 * 3 + 2) << 3 | 1 << 2 | 0 << 1 | 1]
    assert (blox.decode({"a": "arch"}, zlib.compress(payload))["a"] == flat).all()


def test_u24_floats_use_the_plus_minus_one_adjustment():
    micro = np.arange(0, 1 << 20)
    values = micro / 1e6
    assert (np.trunc(values * 1e6) != micro).any()  # the adjustment is needed somewhere
    assert (to_micro(values, "f", "test_loss") == micro).all()
    tricky = [4.35, 0.29, 1.1, 16.777215, 2.0000005, 3.4999994999]
    assert to_micro(np.array(tricky), "f", "x").tolist() == [original_micro(v) for v in tricky]


@pytest.mark.parametrize("value, fragment", [(16.7772155, "does not fit"), (-0.5, "does not fit"),
                                             (float("nan"), "not a finite")])
def test_floats_outside_24_bits_are_refused(value, fragment):
    with pytest.raises(FormatError, match=fragment) as err:
        to_micro(np.array([1.0, value]), "blox-bench-x.blox", "latency")
    assert "blox-bench-x.blox, row 1, column latency" in str(err.value)


# ---------------------------------------------------------------- the encoder's choice of B

@pytest.mark.parametrize("name, lo, hi, ours, original_fails", [
    ("val_top1", 7, 7, "list[b_7_7_1]", True),           # hi - lo = 0: log2(0)
    ("val_top1", 7, 8, "list[b_7_8_1]", True),           # 1 = 2**0: B = 0 is one bit short
    ("val_top1", 0, 4096, "list[b_0_4096_13]", True),    # power of two: B = 12 is short
    ("val_top1", 0, 4097, "list[b_0_4097_13]", False),
    ("test_top1", 0, 16, "b_0_16_8", False),             # 4 bits, rounded up to 8: fine
    ("test_top1", 0, 256, "b_0_256_16", True),           # 8 bits stay 8: short
    ("test_top1", 5, 5, "b_5_5_8", True),
])
def test_bit_width_edge_cases(name, lo, hi, ours, original_fails):
    counts = np.array([[lo, hi]]) if ours.startswith("list") else np.array([lo, hi])
    assert bloxtypes.quantised_type(name, counts) == ours
    if original_fails:
        with pytest.raises(FormatError, match="original writer"):
            bloxtypes.quantised_type(name, counts, strict=True)
    else:
        assert bloxtypes.quantised_type(name, counts, strict=True) == ours
    types = {name: ours}
    assert (blox.decode(types, blox.encode(types, {name: counts}))[name] == counts).all()


# ---------------------------------------------------------------- bad bodies

def good_body():
    data = {"model_hash": np.array([hashlib.md5(b"1").hexdigest(), hashlib.md5(b"2").hexdigest()]),
            "val_top1": np.array([[1, 2, 3], [4, 5, 6]]), "test_top1": np.array([10, 20])}
    types = bloxtypes.column_types({"model_hash": "hash", "val_top1": "acc_list",
                               "test_top1": "acc"}, data)
    return types, zlib.decompress(blox.encode(types, data))


@pytest.mark.parametrize("mutate, fragment", [
    (lambda p: b"not zlib at all", "not valid zlib"),
    (lambda p: zlib.compress(p)[:-6], "ends early"),
    (lambda p: zlib.compress(p)[:2] + bytes(b ^ 0x5A for b in zlib.compress(p)[2:]), "zlib"),
    (lambda p: zlib.compress(p) + b"junk", "follow the .blox body"),
    (lambda p: zlib.compress(p[:7]), "prefix: truncated"),
    (lambda p: zlib.compress(p[:-3]), "truncated"),
    (lambda p: zlib.compress(p + b"\0\0"), "trailing"),
    (lambda p: zlib.compress(p[:12 + 16] + b"\x02" + p[29:]), "every row needs the same length"),
    (lambda p: zlib.compress(p[:-1] + b"\xff"), "above the column maximum"),
])
def test_bad_bodies_are_named(mutate, fragment):
    types, payload = good_body()
    with pytest.raises(FormatError, match=fragment) as err:
        blox.decode(types, mutate(payload), "blox-base-0.blox")
    assert "blox-base-0.blox" in str(err.value)


def test_string_layout_errors():
    types = {"a": "str", "b": "str"}
    body = blox.encode(types, {"a": np.array(["xy", "z"], dtype=object),
                               "b": np.array(["", "uvw"], dtype=object)})
    assert blox.decode(types, body)["b"].tolist() == ["", "uvw"]
    payload = zlib.decompress(body)
    with pytest.raises(FormatError, match="row 1.*truncated"):
        blox.decode(types, zlib.compress(payload[:-2]), "f")
    with pytest.raises(FormatError, match="bytes follow the last row"):
        blox.decode(types, zlib.compress(payload + b"\x00"), "f")
    with pytest.raises(FormatError, match="not ASCII"):
        blox.decode(types, zlib.compress(payload[:12] + b"\x01\xe9" + payload[15:]), "f")


@pytest.mark.parametrize("text, fragment", [
    ("list[str]", "unsupported"), ("b_10_5_3", "inconsistent"), ("b_0_9_3", "inconsistent"),
    ("b_0_9_40", "inconsistent"), ("list[b_0_9_4", "unknown column type"), ("double", "unknown"),
    (7, "unknown column type"),
])
def test_bad_type_strings(text, fragment):
    with pytest.raises(FormatError, match=fragment):
        bloxtypes.parse_type(text, "f.blox", "val_top1")


@pytest.mark.parametrize("types, values, fragment", [
    ({"h": "hash"}, np.array(["abc"]), "not a 32-digit hex hash"),
    ({"h": "hash"}, np.array(["z" * 32]), "not a 32-digit hex hash"),
    ({"i": "int"}, np.array([2**32]), "outside 0..4294967295"),
    ({"i": "int"}, np.array([1.5]), "needs integers"),
    ({"s": "str"}, np.array(["x" * 256], dtype=object), "at most 255"),
    ({"s": "str"}, np.array(["é"], dtype=object), "not an ASCII string"),
    ({"l": "list[float]"}, np.zeros((1, 256)), "n < 256"),
    ({"a": "arch"}, np.full((1, 15), 3), "outside"),
    ({"q": "b_10_20_4"}, np.array([21]), "outside 10..20"),
])
def test_encoder_refuses_values_it_cannot_hold(types, values, fragment):
    with pytest.raises(FormatError, match=fragment):
        blox.encode(types, {next(iter(types)): values}, "f.blox")
