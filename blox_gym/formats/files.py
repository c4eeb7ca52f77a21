"""One release file: header plus body in any of the three encodings, read from bytes or written.

In memory a file is its header (a dict) and its columns (one numpy array per column, held
as ``schema`` describes).  The extension names the encoding (``.blox`` = ``format: custom``,
``.pickle``, ``.csv``) and must agree with the header's ``format``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping

import numpy as np

from blox_gym.formats import blox, bloxtypes, csvtext, pickled, pyrows, schema
from blox_gym.formats.errors import FormatError, at, shown
from blox_gym.formats.header import dump_header, split_header

CSV_CHUNK_ROWS = 4096  # rows turned into Python objects at a time when writing CSV

_BLOX_BASE = {"hash": ("hash", False), "arch": ("arch", False), "int": ("int", False),
              "float": ("float", False), "float_list": ("float", True), "str": ("str", False),
              "acc": ("b", False), "acc_list": ("b", True)}  # value kind -> (type base, is list)


def read(data: bytes, name: str, check_header: Callable[[dict], None] | None = None
         ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Header and columns of the file ``name`` whose whole content is ``data``.

    ``check_header`` is called with the parsed header before the body is decoded.  Extra
    columns after a file kind's own (``schema.column_kinds``) are checked for the row layout
    and then left out of the result.
    """
    header, body = split_header(data, name)
    if check_header is not None:
        check_header(header)
    fmt = schema.EXTENSIONS.get(Path(name).suffix.lstrip("."))
    if header.get("format") != fmt:
        raise FormatError(f"{name}: the header says format {shown(header.get('format'))} but the "
                          f"extension {shown(Path(name).suffix)} means {shown(fmt)}")
    kinds = schema.column_kinds(name, header.get("columns"))
    if fmt == "custom":
        columns = blox.decode(_column_types(header, kinds, name), body, name)
    elif fmt == "pickle":
        columns = pyrows.columns_from_rows(kinds, pickled.read_body(body, name), name)
    else:
        columns = csvtext.read_body(body, kinds, name)
    return header, {column: columns[column] for column, kind in kinds.items() if kind}


def _column_types(header: dict, kinds: Mapping[str, str | None], where: str) -> dict[str, str]:
    types = header.get("column_types")
    if not isinstance(types, dict) or list(types) != list(kinds):
        raise FormatError(f"{where}: column_types must map each column, in order, to its "
                          f"type; got {shown(types)}")
    for name, text in types.items():
        kind = bloxtypes.parse_type(text, where, name)
        if kinds[name] is None:  # an extra column: any valid type
            continue
        want = _BLOX_BASE[kinds[name]]
        if (kind.base, kind.is_list) != want:
            plain = ("b_LO_HI_BITS" if want[0] == "b" else want[0])
            raise FormatError(f"{at(where, column=name)}: type {shown(text)} does not hold this "
                              f"column; expected {'list[' + plain + ']' if want[1] else plain}")
    return types


def write(path: str | Path, header: Mapping[str, Any], columns: Mapping[str, np.ndarray],
          fmt: str, strict: bool = False) -> None:
    """Write one file in ``fmt`` (``blox``, ``pickle``, ``csv``) with the original's bytes.

    ``header`` is the header without ``format``; ``columns`` follow ``header['columns']``.
    ``strict`` makes ``.blox`` accuracy types fail where the original writer fails.
    """
    full = dict(header, format=schema.EXTENSIONS[fmt])
    kinds = schema.column_kinds(Path(path).name, list(header["columns"]))
    missing = [name for name, kind in kinds.items() if kind is None or name not in columns]
    if missing:
        raise FormatError(f"{Path(path).name}: no values for column(s) {shown(missing)}")
    ordered = {name: columns[name] for name in kinds}
    if fmt == "blox":
        full["column_types"] = bloxtypes.column_types(kinds, ordered, strict)
        body = blox.encode(full["column_types"], ordered, Path(path).name)
    with open(path, "wb") as file:
        file.write(dump_header(full))
        if fmt == "blox":
            file.write(body)
        elif fmt == "pickle":
            pickled.write_body(file, pyrows.python_rows(ordered, kinds))
        else:
            _write_csv(file, ordered, kinds)


def _write_csv(file: BinaryIO, columns: Mapping[str, np.ndarray],
               kinds: Mapping[str, str | None]) -> None:
    text = io.TextIOWrapper(file, encoding="utf-8", newline="", write_through=True)
    rows = len(next(iter(columns.values())))
    for start in range(0, rows, CSV_CHUNK_ROWS):
        csvtext.write_body(text, pyrows.python_rows(columns, kinds, start,
                                                    start + CSV_CHUNK_ROWS))
    text.detach()
