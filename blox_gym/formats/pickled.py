"""The ``.pickle`` body: ``pickle.dump`` of the row lists, read back by a restricted unpickler.

The original reader calls ``pickle.loads`` on the body, which runs whatever the file names.
This reader admits only what plain data needs (lists, tuples, dicts, sets, strings, bytes,
numbers, booleans, None): every global reference (a class, a function such as
``os.system``) and every persistent id is refused before anything is called.
"""

from __future__ import annotations

import io
import pickle
from typing import BinaryIO

from blox_gym.formats.errors import FormatError, shown


class _PlainUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, where: str):
        super().__init__(file)
        self._where = where

    def find_class(self, module: str, name: str):
        raise FormatError(f"{self._where}: the pickle refers to the global '{module}.{name}'; "
                          f"release files may hold only plain lists, numbers and strings, so "
                          f"it was refused without being loaded or called")

    def persistent_load(self, pid):
        raise FormatError(f"{self._where}: the pickle holds a persistent id {shown(pid)}; refused")


def write_body(file: BinaryIO, rows: list) -> None:
    """Pickle ``rows`` with the default protocol, as the original writer does."""
    pickle.dump(rows, file)


def read_body(body: bytes | memoryview, where: str) -> object:
    """Unpickle ``body`` allowing plain containers and scalars only; the whole body must be used."""
    stream = io.BytesIO(body)
    try:
        rows = _PlainUnpickler(stream, where).load()
    except FormatError:
        raise
    except Exception as err:  # truncated or corrupt data raises many types
        raise FormatError(f"{where}: corrupt or truncated pickle body "
                          f"({type(err).__name__}: {err})") from err
    if stream.tell() != len(body):
        raise FormatError(f"{where}: {len(body) - stream.tell()} bytes follow the pickle body")
    return rows
