"""blox-gym: the Blox macro NAS benchmark (91,125 CNNs on CIFAR-100) as a research instrument."""

from blox_gym._gymnasium import register_envs_on_import
from blox_gym._version import __version__
from blox_gym.table import Table, open_table

register_envs_on_import()  # the Gymnasium ids, without importing Gymnasium now

__all__ = ["Table", "__version__", "open_table"]
