"""LSB-first packing of fixed-width unsigned integers, vectorized over rows.

A row of ``n`` values of ``bits`` bits is stored in ``ceil(n * bits / 8)`` bytes: value ``k``
occupies bits ``[k * bits, (k + 1) * bits)`` of the little-endian integer formed by the
row's bytes, and the last byte is zero-padded.  ``bits`` is at most 32.
"""

from __future__ import annotations

import numpy as np

MAX_BITS = 32
CHUNK_ROWS = 16384  # rows per pass; bounds the temporaries to a few tens of MB
_WHOLE_BYTES = {8: "<u1", 16: "<u2", 32: "<u4"}  # widths readable as plain integers


def packed_size(n: int, bits: int) -> int:
    """Bytes that ``n`` values of ``bits`` bits take."""
    return (n * bits + 7) // 8


def _positions(n: int, bits: int) -> tuple[np.ndarray, np.ndarray, int]:
    """First byte and bit shift of each value, and how many bytes one value can touch."""
    start = np.arange(n, dtype=np.int64) * bits
    span = (7 + bits + 7) // 8
    return start >> 3, start & 7, span


def pack(values: np.ndarray, bits: int) -> np.ndarray:
    """``(rows, n)`` unsigned ints below ``2**bits`` -> ``(rows, packed_size(n, bits))`` uint8.

    The caller guarantees the range.  Values ``k`` and ``k + 8`` start exactly ``bits``
    bytes apart, so each residue class of ``k`` modulo 8 writes disjoint bytes and can be
    OR-ed in with one fancy-indexed operation per byte it touches.
    """
    values = np.asarray(values)
    rows, n = values.shape
    size = packed_size(n, bits)
    first, shift, span = _positions(n, bits)
    out = np.zeros((rows, size + span), dtype=np.uint8)
    for lo in range(0, rows, CHUNK_ROWS):
        chunk = values[lo:lo + CHUNK_ROWS].astype(np.uint64)
        block = out[lo:lo + CHUNK_ROWS]
        for residue in range(min(8, n)):
            ks = slice(residue, n, 8)
            word = chunk[:, ks] << shift[ks].astype(np.uint64)
            for j in range(span):
                block[:, first[ks] + j] |= ((word >> np.uint64(8 * j)) & np.uint64(0xFF)).astype(np.uint8)
    return out[:, :size]


def unpack(packed: np.ndarray, n: int, bits: int) -> np.ndarray:
    """``(rows, >= packed_size(n, bits))`` uint8 -> ``(rows, n)`` uint32; inverse of :func:`pack`."""
    rows = packed.shape[0]
    size = packed_size(n, bits)
    if bits in _WHOLE_BYTES:  # byte-aligned values: a plain little-endian view
        return np.ascontiguousarray(packed[:, :size]).view(_WHOLE_BYTES[bits]).astype(np.uint32)
    first, shift, span = _positions(n, bits)
    wide = np.uint64 if bits + 7 > 32 else np.uint32
    mask = wide((1 << bits) - 1)
    shift = shift.astype(wide)
    out = np.empty((rows, n), dtype=np.uint32)
    for lo in range(0, rows, CHUNK_ROWS):
        chunk = packed[lo:lo + CHUNK_ROWS, :size]
        padded = np.zeros((len(chunk), size + span), dtype=np.uint8)
        padded[:, :size] = chunk
        word = padded[:, first].astype(wide)
        for j in range(1, span):
            word |= padded[:, first + j].astype(wide) << wide(8 * j)
        out[lo:lo + CHUNK_ROWS] = (word >> shift) & mask
    return out
