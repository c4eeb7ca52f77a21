"""Point reads from a local Zarr v3 store without importing zarr.

Importing zarr costs about half a second and its async layer decompresses whole chunks
through a thread pool; a one-model query needs a few rows.  This module follows the Zarr v3
specification (``zarr.json`` metadata, the ``regular`` chunk grid, the ``default`` chunk
key encoding and the ``bytes``, ``zstd`` and ``gzip`` codecs, which is what
:func:`blox_gym.store.write_store` writes) for local directories only.  Anything else raises
:class:`Unsupported`, and callers fall back to zarr.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np


class Unsupported(Exception):
    """The array uses a feature this reader does not implement; use zarr instead."""


class CorruptChunk(Exception):
    """A chunk that cannot be decoded; the message names the array and the chunk key."""


def metadata(path: str | os.PathLike) -> dict:
    """The parsed ``zarr.json`` of a group or array; ``FileNotFoundError`` when absent."""
    with open(Path(path) / "zarr.json", encoding="utf-8") as handle:
        return json.load(handle)


def array_names(root: str | os.PathLike, prefix: str = "") -> set[str]:
    """Names (``a`` or ``group/a``) of the arrays under the group ``root``."""
    found = set()
    for child in os.scandir(root):
        if not child.is_dir() or not os.path.exists(os.path.join(child.path, "zarr.json")):
            continue
        kind = metadata(child.path).get("node_type")
        if kind == "array":
            found.add(prefix + child.name)
        elif kind == "group":
            found |= array_names(child.path, f"{prefix}{child.name}/")
    return found


def _zstd_decompress(data: bytes) -> bytes | np.ndarray:
    """Decompress one zstd frame: libzstd through ctypes when the system has it (no import
    cost; straight into an uninitialised array, no copies), else numcodecs (zarr's own codec
    library)."""
    lib = _libzstd()
    if lib is None:
        from numcodecs import Zstd

        return bytes(Zstd().decode(data))
    size = lib.ZSTD_getFrameContentSize(data, len(data))
    if size >= 2**64 - 2:  # ZSTD_CONTENTSIZE_UNKNOWN / _ERROR
        from numcodecs import Zstd

        return bytes(Zstd().decode(data))
    out = np.empty(size, dtype=np.uint8)
    written = lib.ZSTD_decompress(out.ctypes.data, size, data, len(data))
    if lib.ZSTD_isError(written):
        raise ValueError(f"corrupt zstd chunk: {lib.ZSTD_getErrorName(written).decode()}")
    return out[:written]


@lru_cache(maxsize=1)
def _libzstd():
    try:  # the usual soname first: find_library runs ldconfig in a subprocess
        lib = ctypes.CDLL("libzstd.so.1")
    except OSError:
        from ctypes.util import find_library

        name = find_library("zstd")
        try:
            lib = ctypes.CDLL(name) if name else None
        except OSError:
            lib = None
    if lib is None:
        return None
    lib.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
    lib.ZSTD_getFrameContentSize.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
    lib.ZSTD_decompress.restype = ctypes.c_size_t
    lib.ZSTD_decompress.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                    ctypes.c_size_t)
    lib.ZSTD_isError.restype = ctypes.c_uint
    lib.ZSTD_isError.argtypes = (ctypes.c_size_t,)
    lib.ZSTD_getErrorName.restype = ctypes.c_char_p
    lib.ZSTD_getErrorName.argtypes = (ctypes.c_size_t,)
    return lib


class LocalArray:
    """One array of a local Zarr v3 store: ``shape``, ``dtype`` and :meth:`row`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        meta = metadata(self.path)
        if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
            raise Unsupported(f"{self.path} is not a Zarr v3 array")
        grid, keys = meta["chunk_grid"], meta["chunk_key_encoding"]
        if grid.get("name") != "regular" or keys.get("name") != "default" or meta.get(
                "storage_transformers"):
            raise Unsupported(f"{self.path}: chunk grid {grid.get('name')!r} / key encoding "
                              f"{keys.get('name')!r}")
        self.shape = tuple(meta["shape"])
        self.chunks = tuple(grid["configuration"]["chunk_shape"])
        self._separator = keys.get("configuration", {}).get("separator", "/")
        endian, self._compression = "little", None
        for codec in meta["codecs"]:
            name, config = codec["name"], codec.get("configuration", {})
            if name == "bytes":
                endian = config.get("endian", "little")
            elif name in ("zstd", "gzip") and self._compression is None:
                self._compression = name
            else:
                raise Unsupported(f"{self.path}: codec {name!r}")
        self.dtype = np.dtype(meta["data_type"]).newbyteorder("<" if endian == "little" else ">")

    def _chunk(self, coords: tuple[int, ...]) -> np.ndarray:
        key = self._separator.join(["c", *map(str, coords)])
        try:
            raw = (self.path / key).read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"array {self.path.name!r} has chunk {key} missing") from None
        try:
            if self._compression == "zstd":
                raw = _zstd_decompress(raw)
            elif self._compression == "gzip":
                raw = zlib.decompress(raw, wbits=31)
            return np.frombuffer(raw, dtype=self.dtype).reshape(self.chunks)
        except Exception as err:  # the codecs raise many types
            raise CorruptChunk(f"array {self.path.name!r}, chunk {key} is corrupt or unreadable "
                               f"({type(err).__name__}: {str(err)[:200]})") from None

    def row(self, *index: int) -> np.ndarray:
        """``array[index]`` for integer indices on the leading axes, the rest whole."""
        lead = len(index)
        for i, n in zip(index, self.shape):
            if not 0 <= i < n:
                raise IndexError(f"index {index} is out of bounds for shape {self.shape}")
        rest, rest_chunks = self.shape[lead:], self.chunks[lead:]
        out = np.empty(rest, dtype=self.dtype.newbyteorder("="))
        within = tuple(i % c for i, c in zip(index, self.chunks))
        fixed = tuple(i // c for i, c in zip(index, self.chunks))
        counts = [-(-n // c) for n, c in zip(rest, rest_chunks)]
        for coords in itertools.product(*(range(k) for k in counts)):
            block = self._chunk(fixed + coords)[within]
            target = tuple(slice(k * c, min((k + 1) * c, n))
                           for k, c, n in zip(coords, rest_chunks, rest))
            out[target] = block[tuple(slice(0, t.stop - t.start) for t in target)]
        return out

