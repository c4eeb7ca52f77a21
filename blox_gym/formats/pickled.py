"""The ``.pickle`` body: ``pickle.dump`` of the row lists, read back by a restricted unpickler.

The original reader calls ``pickle.loads`` on the body, which runs whatever the file names.
This reader admits only what plain data needs (lists, tuples, dicts, sets, strings, bytes,
numbers, booleans, None): every global reference (a class, a function such as
``os.system``) and every persistent id is refused before anything is called.  Datasets
(CIFAR-100's python files) may also hold numpy arrays: ``numpy_arrays=True`` admits exactly
the array constructor, ``ndarray`` and ``dtype``, which build data and call nothing else.
"""

from __future__ import annotations

import io
import pickle
from typing import BinaryIO, Mapping

import numpy as np

from blox_gym.formats.errors import FormatError


class _PlainUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, where: str, allowed: Mapping[tuple[str, str], object] = {},
                 encoding: str = "ASCII"):
        super().__init__(file, encoding=encoding)
        self._where, self._allowed = where, allowed

    def find_class(self, module: str, name: str):
        if (module, name) in self._allowed:
            return self._allowed[(module, name)]
        raise FormatError(f"{self._where}: the pickle refers to the global '{module}.{name}'; "
                          f"release files may hold only plain lists, numbers and strings, so "
                          f"it was refused without being loaded or called")

    def persistent_load(self, pid):
        raise FormatError(f"{self._where}: the pickle holds a persistent id {pid!r}; refused")


def write_body(file: BinaryIO, rows: list) -> None:
    """Pickle ``rows`` with the default protocol, as the original writer does."""
    pickle.dump(rows, file)


def _numpy_globals() -> dict[tuple[str, str], object]:
    """The three globals a pickled plain ``numpy.ndarray`` refers to (numpy 1 and 2 names)."""
    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]
    return {(module, name): value for module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")
            for name, value in (("_reconstruct", reconstruct), ("ndarray", np.ndarray),
                                ("dtype", np.dtype))}


def read_body(body: bytes | memoryview, where: str, numpy_arrays: bool = False,
              encoding: str = "ASCII") -> object:
    """Unpickle ``body`` allowing plain containers and scalars only (and, with
    ``numpy_arrays``, numpy arrays); the whole body must be used.  ``encoding`` decodes
    Python 2 strings (``"bytes"`` keeps them as bytes)."""
    stream = io.BytesIO(body)
    allowed = _numpy_globals() if numpy_arrays else {}
    try:
        rows = _PlainUnpickler(stream, where, allowed, encoding).load()
    except FormatError:
        raise
    except Exception as err:  # truncated or corrupt data raises many types
        raise FormatError(f"{where}: corrupt or truncated pickle body "
                          f"({type(err).__name__}: {err})") from err
    if stream.tell() != len(body):
        raise FormatError(f"{where}: {len(body) - stream.tell()} bytes follow the pickle body")
    return rows
