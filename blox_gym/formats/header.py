"""The YAML header that opens every release file, read and written byte for byte.

A file is ``---\\n`` + a PyYAML block-style dump of the header + ``---\\n`` + the body.  The
closing marker must end within the first 1,024 bytes (the original reader looks no further).
Keys come in the original order: ``version``, ``search_space``, ``dataset_type``, ``columns``,
the kind's extra fields, ``format`` and, for ``.blox`` files, ``column_types`` (a mapping from
column name to type string).  ``search_space.shape`` repeats one list object three times, so
PyYAML writes it with an ``&id001`` anchor and two ``*id001`` aliases; building the dict the
same way and dumping it with PyYAML reproduces the original bytes exactly.
"""

from __future__ import annotations

from typing import Any

import yaml

from blox_gym import space
from blox_gym.formats.errors import FormatError

OPEN = b"---\n"
CLOSE = b"---\n"
HEADER_LIMIT = 1024  # bytes; the closing marker must end within them
MAX_ALIASES = 8  # YAML aliases a header may use (the original writer's use 2, for ``shape``)
VERSION = 1
DATASET = "cifar100"


def search_space() -> dict[str, Any]:
    """The ``search_space`` header field, with ``shape`` sharing one inner list three times."""
    stage = [[len(space.OPS)], [len(space.OPS), 2, 2, 2]]
    return {"shape": [stage] * space.N_STAGES, "nodes": 2, "stages": space.N_STAGES,
            "ops": list(space.OPS)}


def make_header(dataset_type: str, columns: list[str], **extra: Any) -> dict[str, Any]:
    """A header without ``format``: the common keys, then ``extra`` in the order given.

    ``extra`` is ``seed, epochs, dataset, part`` for training files, ``seed`` for env files,
    ``device`` for bench files and nothing for ``blox-info``.
    """
    return {"version": VERSION, "search_space": search_space(), "dataset_type": dataset_type,
            "columns": list(columns), **extra}


def dump_header(header: dict[str, Any]) -> bytes:
    """The header bytes, both ``---`` markers included, exactly as the original writer made them."""
    text = yaml.dump(header, explicit_start=True, sort_keys=False)
    data = text.encode("utf-8") + CLOSE
    if len(data) > HEADER_LIMIT:
        raise FormatError(f"the header takes {len(data)} bytes; readers look for its end "
                          f"within the first {HEADER_LIMIT}")
    return data


def split_header(data: bytes, where: str) -> tuple[dict[str, Any], memoryview]:
    """Parse the header at the start of ``data`` (a whole file); return it and the body (no copy)."""
    if not data.startswith(OPEN):
        raise FormatError(f"{where}: not a Blox release file: it must start with the YAML "
                          f"marker line '---'")
    end = data[:HEADER_LIMIT].find(CLOSE, len(OPEN) - 1)
    if end < 0:
        raise FormatError(f"{where}: no closing '---' line within the first {HEADER_LIMIT} "
                          f"bytes: the header is missing, too long or the file is truncated")
    try:
        text = data[:end].decode("utf-8")
        aliases = sum(isinstance(event, yaml.AliasEvent)
                      for event in yaml.parse(text, Loader=yaml.SafeLoader))
        if aliases > MAX_ALIASES:
            raise FormatError(f"{where}: the YAML header uses {aliases} aliases; at most "
                              f"{MAX_ALIASES} are allowed (the original writer uses 2)")
        header = yaml.load(text, Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise FormatError(f"{where}: malformed YAML header: {err}") from err
    if not isinstance(header, dict):
        raise FormatError(f"{where}: the YAML header must be a mapping, got "
                          f"{type(header).__name__}")
    return header, memoryview(data)[end + len(CLOSE):]
