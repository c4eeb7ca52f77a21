"""The official Blox release files (``.blox``, ``.pickle``, ``.csv``): import, export, codecs."""

from blox_gym.formats.errors import FormatError

__all__ = ["FormatError"]
