"""blox-gym: the Blox macro NAS benchmark (91,125 CNNs on CIFAR-100) as a research instrument."""

from typing import TYPE_CHECKING

from blox_gym._gymnasium import register_envs_on_import
from blox_gym._version import __version__

if TYPE_CHECKING:
    from blox_gym.table import Table, open_table

register_envs_on_import()  # the Gymnasium ids, without importing Gymnasium now

__all__ = ["Table", "__version__", "open_table"]


def __getattr__(name: str):
    """``Table`` and ``open_table`` from :mod:`blox_gym.table`, imported on first use (so
    ``import blox_gym.cli`` and ``blox-gym --help`` load no numpy)."""
    if name in ("Table", "open_table"):
        from blox_gym import table

        return getattr(table, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
