"""The official Blox release files (``.blox``, ``.pickle``, ``.csv``): import, export, codecs."""

from blox_gym.formats.errors import FormatError
from blox_gym.formats.exporter import export_store
from blox_gym.formats.importer import import_release

__all__ = ["FormatError", "export_store", "import_release"]
