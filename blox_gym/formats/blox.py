"""The ``.blox`` body (header ``format: custom``): a zlib-compressed, bit-packed row table.

Payload after ``zlib`` decompression: ``total_bits`` (u64 LE), ``rows`` (u32 LE), then the
rows; each row holds the columns in header order and every column value starts on a byte
boundary.  Column types (``column_types`` in the header):

* ``hash``: the 32-hex hash as a 128-bit little-endian integer (the hex byte pairs reversed);
* ``arch``: one byte per stage, ``(op0 * 3 + op1) << 3 | previous << 2 | input << 1 | skip``;
* ``int``: u32 LE;  ``float``: u24 LE micro-units (``numeric.to_micro``), 0..16.777215;
* ``str``: one length byte, then that many ASCII bytes;
* ``b_{lo}_{hi}_{B}``: an accuracy count minus ``lo`` in ``B`` bits (``ceil(B / 8)`` bytes);
* ``list[b_…]``: one count byte ``n``, then ``n`` values packed LSB-first (``bits.pack``);
  ``list[float]``: one count byte, then ``n`` u24 values.

``total_bits`` is written as the original writer computes it: 32 plus, for every column
value, its bit length plus that length modulo 8 (its padding step adds the bits already
used in the last byte rather than the bits missing).  This equals the true count for the
release layout (200-value lists, byte-multiple test fields); readers ignore it, as the
original's fast reader does.  Lists must have one length per column (the header's epochs).
"""

from __future__ import annotations

import struct
import zlib
from itertools import chain
from typing import Mapping

import numpy as np

from blox_gym import store
from blox_gym.formats import bits as bitpack
from blox_gym.formats.bloxtypes import ColumnType, parse_type
from blox_gym.formats.errors import FormatError, at, shown
from blox_gym.formats.numeric import to_micro

_PREFIX = struct.Struct("<QI")  # total_bits, rows


# ---------------------------------------------------------------- encoding

def encode(types: Mapping[str, str], data: Mapping[str, np.ndarray], where: str = "") -> bytes:
    """The zlib-compressed body for columns ``data`` of types ``types`` (in column order)."""
    names = list(types)
    rows = len(data[names[0]]) if names else 0
    blocks, total_bits = [], 32
    for name in names:
        kind = parse_type(types[name], where, name)
        values = data[name]
        if len(values) != rows:
            raise FormatError(f"{at(where, column=name)}: {len(values)} values, expected {rows}")
        block, nbits = _encode_column(kind, values, where, name)
        blocks.append(block)
        total_bits += int(np.sum(nbits + nbits % 8)) if isinstance(nbits, np.ndarray) \
            else rows * (nbits + nbits % 8)
    prefix = _PREFIX.pack(total_bits, rows)
    if all(isinstance(b, np.ndarray) for b in blocks):
        table = np.concatenate(blocks, axis=1) if blocks else np.zeros((0, 0), np.uint8)
        return zlib.compress(prefix + table.tobytes())
    pieces = [_row_pieces(b) for b in blocks]
    return zlib.compress(prefix + b"".join(chain.from_iterable(zip(*pieces))))


def _row_pieces(block) -> list[bytes]:
    if not isinstance(block, np.ndarray):
        return block
    width = block.shape[1]
    raw = block.tobytes()
    return [raw[i:i + width] for i in range(0, len(raw), width)] if width else [b""] * len(block)


def _encode_column(kind: ColumnType, values, where: str, name: str):
    """``(rows, size)`` uint8 (a list of bytes for str) and the bits the writer counts per row."""
    if kind.base == "str":
        return _encode_str(values, where, name)
    values = np.asarray(values)
    if kind.is_list:
        if values.ndim != 2 or values.shape[1] > 255:
            raise FormatError(f"{at(where, column=name)}: a list column needs a (rows, n) "
                              f"array with n < 256, got shape {values.shape}")
        n = values.shape[1]
        counts = np.full((len(values), 1), n, dtype=np.uint8)
        body = _encode_values(kind, values, where, name)
        return np.concatenate([counts, body], axis=1), kind.value_bits(n)
    return _encode_values(kind, values, where, name), kind.value_bits()


def _encode_values(kind: ColumnType, values: np.ndarray, where: str, name: str) -> np.ndarray:
    rows = len(values)
    if kind.base == "hash":
        return _hash_bytes(values, where, name)[:, ::-1]
    if kind.base == "arch":
        return _arch_bytes(values, where, name)
    if kind.base == "int":
        _check_range(values, 0, (1 << 32) - 1, where, name)
        return _le_bytes(values, 4)
    if kind.base == "float":
        return _le_bytes(to_micro(values, where, name), 3)
    _check_range(values, kind.lo, kind.hi, where, name)
    stored = (np.asarray(values, dtype=np.int64) - kind.lo).astype(np.uint32)
    if kind.is_list:
        return bitpack.pack(stored, kind.bits)
    return _le_bytes(stored, bitpack.packed_size(1, kind.bits))


def _le_bytes(values: np.ndarray, width: int) -> np.ndarray:
    """``(rows[, n])`` unsigned values below ``2**(8 * width)`` -> ``(rows, n * width)`` bytes."""
    raw = np.ascontiguousarray(values, dtype="<u4").view(np.uint8).reshape(*values.shape, 4)
    per_row = width * (values.shape[1] if values.ndim > 1 else 1)
    return raw[..., :width].reshape(len(values), per_row)


def _check_range(values, lo: int, hi: int, where: str, name: str) -> None:
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        raise FormatError(f"{at(where, column=name)}: needs integers, got {values.dtype}")
    bad = (values < lo) | (values > hi)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        epoch = index[1] + 1 if len(index) > 1 else None
        raise FormatError(f"{at(where, index[0], name, epoch)}: {int(values[index])} is "
                          f"outside {lo}..{hi}")


def _hash_bytes(values, where: str, name: str) -> np.ndarray:
    hashes = np.asarray(values, dtype=str)
    lengths = np.char.str_len(hashes) if hashes.size else np.zeros(0, int)
    bad = np.flatnonzero(lengths != 32)
    if bad.size == 0:
        try:
            return store.hash_bytes(hashes)
        except ValueError:
            bad = np.array([i for i, h in enumerate(hashes.tolist()) if not _is_hex(h)])
    raise FormatError(f"{at(where, int(bad[0]), name)}: {shown(hashes[bad[0]])} is not a 32-digit "
                      f"hex hash")


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _arch_bytes(values, where: str, name: str) -> np.ndarray:
    flat = np.asarray(values)
    if flat.ndim != 2 or flat.shape[1] != 15:
        raise FormatError(f"{at(where, column=name)}: needs (rows, 15) flat vectors, got "
                          f"shape {flat.shape}")
    _check_range(flat.reshape(len(flat), 3, 5)[:, :, :2], 0, 2, where, name)
    _check_range(flat.reshape(len(flat), 3, 5)[:, :, 2:], 0, 1, where, name)
    f = flat.reshape(len(flat), 3, 5).astype(np.uint8)
    return ((f[..., 0] * 3 + f[..., 1]) << 3 | f[..., 2] << 2 | f[..., 3] << 1 | f[..., 4])


def _encode_str(values, where: str, name: str) -> tuple[list[bytes], np.ndarray]:
    pieces = []
    for row, text in enumerate(values):
        try:
            raw = text.encode("ascii")
        except (AttributeError, UnicodeEncodeError) as err:
            raise FormatError(f"{at(where, row, name)}: {shown(text)} is not an ASCII string") from err
        if len(raw) > 255:
            raise FormatError(f"{at(where, row, name)}: strings hold at most 255 bytes, got "
                              f"{len(raw)}")
        pieces.append(bytes([len(raw)]) + raw)
    return pieces, np.array([8 * len(p) for p in pieces], dtype=np.int64)


# ---------------------------------------------------------------- decoding

def decode(types: Mapping[str, str], body: bytes | memoryview, where: str = "") -> dict[str, np.ndarray]:
    """Columns of a ``.blox`` body, held as described in ``schema`` (counts for accuracies)."""
    payload = _inflate(body, where)
    if len(payload) < _PREFIX.size:
        raise FormatError(f"{where}: the .blox payload has {len(payload)} bytes, fewer than its "
                          f"{_PREFIX.size}-byte prefix: truncated file")
    rows = _PREFIX.unpack_from(payload)[1]
    data = np.frombuffer(payload, dtype=np.uint8, offset=_PREFIX.size)
    kinds = {name: parse_type(text, where, name) for name, text in types.items()}
    if any(k.base == "str" for k in kinds.values()):
        blocks = _walk_rows(kinds, payload, rows, where)
    else:
        blocks = _fixed_rows(kinds, data, rows, where)
    return {name: _decode_block(kinds[name], block, n, where, name)
            for name, (block, n) in blocks.items()}


def _inflate(body: bytes | memoryview, where: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(body)
    except zlib.error as err:
        raise FormatError(f"{where}: the .blox body is not valid zlib data ({err})") from err
    if not inflater.eof:
        raise FormatError(f"{where}: the .blox body's zlib stream ends early: truncated file")
    if inflater.unused_data:
        raise FormatError(f"{where}: {len(inflater.unused_data)} bytes follow the .blox body's "
                          f"zlib stream")
    return payload


def _fixed_rows(kinds: dict[str, ColumnType], data: np.ndarray, rows: int, where: str):
    """Blocks of a layout without strings: every row has the size of row 0."""
    offsets, lengths, pos = {}, {}, 0
    for name, kind in kinds.items():
        n = 1
        if kind.is_list:
            if rows and pos >= len(data):
                raise FormatError(f"{at(where, 0, name)}: the payload ends here: truncated file")
            n = int(data[pos]) if rows else 0
        offsets[name], lengths[name] = pos, n
        pos += kind.value_size(n)
    row_size = pos
    for name, kind in kinds.items():
        if kind.is_list and rows:
            within = min(rows, len(data) // max(row_size, 1) + 1)  # rows the payload can hold
            starts = np.arange(within, dtype=np.int64) * row_size + offsets[name]
            starts = starts[starts < len(data)]
            bad = np.flatnonzero(data[starts] != lengths[name])
            if bad.size:
                raise FormatError(f"{at(where, int(bad[0]), name)}: a list of "
                                  f"{int(data[starts[bad[0]]])} values, but row 0 has "
                                  f"{lengths[name]}; every row needs the same length")
    if len(data) != rows * row_size:
        raise FormatError(f"{where}: the payload holds {len(data)} bytes of rows but {rows} "
                          f"rows of {row_size} bytes need {rows * row_size}: "
                          + ("truncated file" if len(data) < rows * row_size else
                             "unexpected trailing bytes or wrong column types"))
    table = data.reshape(rows, row_size) if rows else np.zeros((0, row_size), np.uint8)
    return {name: (table[:, offsets[name]:offsets[name] + kind.value_size(lengths[name])],
                   lengths[name]) for name, kind in kinds.items()}


def _walk_rows(kinds: dict[str, ColumnType], payload: bytes, rows: int, where: str):
    """Blocks of a layout with strings: walk the rows to find where each value starts."""
    names = list(kinds)
    end = len(payload)
    lengths: dict[str, int] = {}
    starts: list[int] = []
    pos = _PREFIX.size
    for row in range(rows):
        for name in names:
            kind = kinds[name]
            if pos + (1 if kind.base == "str" or kind.is_list else kind.value_size()) > end:
                raise FormatError(f"{at(where, row, name)}: the payload ends here: truncated file")
            starts.append(pos)
            if kind.base == "str":
                pos += 1 + payload[pos]
            elif kind.is_list:
                n = lengths.setdefault(name, payload[pos])
                if payload[pos] != n:
                    raise FormatError(f"{at(where, row, name)}: a list of {payload[pos]} values, "
                                      f"but row 0 has {n}; every row needs the same length")
                pos += kind.value_size(n)
            else:
                pos += kind.value_size()
        if pos > end:
            raise FormatError(f"{at(where, row)}: the payload ends inside this row: truncated file")
    if pos != end:
        raise FormatError(f"{where}: {end - pos} bytes follow the last row ({rows} rows): "
                          f"unexpected trailing bytes or wrong column types")
    where_at = np.array(starts, dtype=np.int64).reshape(rows, len(names))
    data = np.frombuffer(payload, dtype=np.uint8)
    blocks = {}
    for c, name in enumerate(names):
        kind = kinds[name]
        if kind.base == "str":
            blocks[name] = (_read_strings(payload, where_at[:, c], where, name), 1)
            continue
        n = lengths.get(name, 0 if kind.is_list else 1)
        size = kind.value_size(n)
        blocks[name] = (data[where_at[:, c, None] + np.arange(size)], n)
    return blocks


def _read_strings(payload: bytes, starts: np.ndarray, where: str, name: str) -> np.ndarray:
    out = np.empty(len(starts), dtype=object)
    for row, start in enumerate(starts.tolist()):
        raw = payload[start + 1:start + 1 + payload[start]]
        try:
            out[row] = raw.decode("ascii")
        except UnicodeDecodeError as err:
            raise FormatError(f"{at(where, row, name)}: {shown(raw)} is not ASCII") from err
    return out


def _decode_block(kind: ColumnType, block, n: int, where: str, name: str) -> np.ndarray:
    if kind.base == "str":
        return block
    rows = len(block)
    if kind.is_list:
        block = block[:, 1:]
    if kind.base == "hash":
        return store.hash_strings(block[:, ::-1])
    if kind.base == "arch":
        op = block >> 3
        parts = (op // 3, op % 3, (block >> 2) & 1, (block >> 1) & 1, block & 1)
        return np.stack(parts, axis=2).reshape(rows, 15).astype(np.int64)
    if kind.base == "int":
        return _from_le(block, 4).astype(np.int64)
    if kind.base == "float":
        micro = _from_le(block.reshape(rows, n, 3), 3) / 1e6
        return micro if kind.is_list else micro[:, 0]
    if kind.is_list:
        counts = bitpack.unpack(block, n, kind.bits)
    else:
        counts = _from_le(block, block.shape[1])
    counts += np.uint32(kind.lo)
    above = counts > kind.hi
    if above.any():
        index = tuple(int(i) for i in np.argwhere(above)[0])
        epoch = index[1] + 1 if len(index) > 1 else None
        raise FormatError(f"{at(where, index[0], name, epoch)}: count {int(counts[index])} is "
                          f"above the column maximum {kind.hi}: corrupt file")
    return counts


def _from_le(block: np.ndarray, width: int) -> np.ndarray:
    """Little-endian unsigned integers of ``width`` <= 4 bytes along the last axis -> uint32."""
    wide = np.zeros(block.shape[:-1] + (4,), dtype=np.uint8)
    wide[..., :width] = block
    return wide.view("<u4")[..., 0]
