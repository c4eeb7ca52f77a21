"""The ``.pickle`` body: ``pickle.dump`` of the row lists, read back by a restricted unpickler.

The original reader calls ``pickle.loads`` on the body, which runs whatever the file names.
This reader admits plain data (lists, tuples, dicts, sets, strings, bytes, numbers,
booleans, None) and numpy scalars such as ``np.float64`` or ``np.str_``, which a writer fed
numpy values produces: they are rebuilt from their bytes by this module (never by calling
numpy's unpickling functions) and become plain Python values.  Every other global reference
(a class, a function such as ``os.system``) and every persistent id is refused before
anything is called.
"""

from __future__ import annotations

import io
import pickle
import re
import struct
from typing import BinaryIO

from blox_gym.formats.errors import FormatError, shown

_SCALAR_DTYPE = re.compile(r"(b1|[iu][1248]|f[248]|[US][0-9]{1,4})")  # what a scalar may be


class _DType:
    """Stands in for ``numpy.dtype(spec, align, copy)`` while unpickling; checks ``spec``."""

    def __init__(self, spec: object, align: object = False, copy: object = False):
        if not isinstance(spec, str) or not _SCALAR_DTYPE.fullmatch(spec):
            raise FormatError(f"a numpy dtype {shown(spec)} in a pickle; only booleans, "
                              f"integers, floats and strings are allowed")
        self.spec, self.order = spec, "<"
        self.size = int(spec[1:]) * (4 if spec[0] == "U" else 1)  # bytes of one value
        self._convert = None

    def __setstate__(self, state: object) -> None:  # (version, byte order, ...)
        order = state[1] if isinstance(state, tuple) and len(state) > 1 else None
        if order not in ("<", ">", "|", "="):
            raise FormatError(f"a numpy dtype state {shown(state)} in a pickle is not valid")
        self.order, self._convert = ("<" if order in "|=" else order), None

    def convert(self, data: bytes):
        """The plain Python value of a scalar of this dtype stored as ``data``."""
        if self._convert is None:  # the pickle memo shares one dtype among many scalars
            kind = self.spec[0]
            if kind == "U":
                codec = "utf-32-le" if self.order == "<" else "utf-32-be"
                self._convert = lambda raw: raw.decode(codec).rstrip("\x00")
            elif kind == "S":
                self._convert = lambda raw: raw.rstrip(b"\x00")
            else:
                code = {"b1": "?", "i1": "b", "i2": "h", "i4": "i", "i8": "q", "u1": "B",
                        "u2": "H", "u4": "I", "u8": "Q", "f2": "e", "f4": "f", "f8": "d"}
                unpack = struct.Struct(self.order + code[self.spec]).unpack
                self._convert = lambda raw: unpack(raw)[0]
        if len(data) != self.size:
            raise FormatError(f"a numpy {self.spec} scalar in a pickle holds {len(data)} bytes, "
                              f"not {self.size}")
        return self._convert(data)


def _scalar(dtype: object, data: object = None):
    """``numpy._core.multiarray.scalar(dtype, bytes)`` as a plain Python value."""
    if not isinstance(dtype, _DType) or not isinstance(data, bytes):
        raise FormatError(f"a numpy scalar in a pickle with arguments {shown((dtype, data))}; "
                          f"expected a dtype and its bytes")
    try:
        return dtype.convert(data)
    except (UnicodeDecodeError, struct.error) as err:
        raise FormatError(f"a numpy {dtype.spec} scalar in a pickle is corrupt "
                          f"({shown(str(err))})") from None


def _latin1(text: object, encoding: object = None) -> bytes:
    """``_codecs.encode(text, 'latin1')``, which protocol 2 uses to spell bytes."""
    if not isinstance(text, str) or encoding != "latin1":
        raise FormatError(f"_codecs.encode{shown((text, encoding))} in a pickle; only latin1 "
                          f"text is allowed")
    return text.encode("latin1")


_ALLOWED = {("numpy._core.multiarray", "scalar"): _scalar,
            ("numpy.core.multiarray", "scalar"): _scalar,  # numpy < 2
            ("numpy", "dtype"): _DType,
            ("_codecs", "encode"): _latin1}


class _PlainUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, where: str):
        super().__init__(file)
        self._where = where

    def find_class(self, module: str, name: str):
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            raise FormatError(f"{self._where}: the pickle refers to the global "
                              f"{shown(f'{module}.{name}')}; release files may hold only plain "
                              f"lists, numbers, strings and numpy scalars, so it was refused "
                              f"without being loaded or called")
        return allowed

    def persistent_load(self, pid):
        raise FormatError(f"{self._where}: the pickle holds a persistent id {shown(pid)}; refused")


def write_body(file: BinaryIO, rows: list) -> None:
    """Pickle ``rows`` with the default protocol, as the original writer does."""
    pickle.dump(rows, file)


def read_body(body: bytes | memoryview, where: str) -> object:
    """Unpickle ``body`` allowing plain values and numpy scalars; the whole body must be used."""
    stream = io.BytesIO(body)
    try:
        rows = _PlainUnpickler(stream, where).load()
    except FormatError as err:
        text = str(err)
        raise FormatError(text if text.startswith(where) else f"{where}: {text}") from None
    except Exception as err:  # truncated or corrupt data raises many types
        raise FormatError(f"{where}: corrupt or truncated pickle body "
                          f"({type(err).__name__}: {shown(str(err))})") from err
    if stream.tell() != len(body):
        raise FormatError(f"{where}: {len(body) - stream.tell()} bytes follow the pickle body")
    return rows
