"""The error raised for a release file that cannot be read or written, and where it happened.

Messages quote values through :func:`shown`, which never expands a value beyond a few
hundred characters: a file can make a small object whose plain ``repr`` is gigabytes
(shared references from YAML aliases or the pickle memo).
"""

from __future__ import annotations

import reprlib

SHOWN_CHARS = 200  # longest quoted value in a message
MESSAGE_CHARS = 2000  # longest message


class FormatError(ValueError):
    """A Blox release file (``.blox``, ``.pickle`` or ``.csv``) is malformed or cannot hold a value."""

    def __init__(self, message: str):
        super().__init__(bounded(message))


def bounded(message: str, limit: int = MESSAGE_CHARS) -> str:
    """``message`` cut to ``limit`` characters, saying how much was left out."""
    message = str(message)
    if len(message) <= limit:
        return message
    return f"{message[:limit]}... ({len(message) - limit:,} more characters)"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 3, 6, 6, 6
_REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 6
_REPR.maxstring = _REPR.maxother = SHOWN_CHARS
_REPR.maxlong = 60


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A ``repr`` of ``value`` of at most about ``limit`` characters, whatever its size or depth."""
    return bounded(_REPR.repr(value), limit)


def at(file: str, row: int | None = None, column: str | None = None,
       epoch: int | None = None) -> str:
    """Location prefix such as ``blox-base-0.csv, row 3, column val_top1, epoch 7``.

    Rows count data rows from 0 (the header is not a row); epochs count from 1.
    """
    parts = [file]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {shown(column, 60) if not isinstance(column, str) else column[:80]}")
    if epoch is not None:
        parts.append(f"epoch {epoch}")
    return ", ".join(parts)
