"""blox-gym: the Blox macro NAS benchmark (91,125 CNNs on CIFAR-100) as a research instrument."""

from blox_gym import envs as _envs  # registers the Gymnasium ids (cheap: no zarr, no torch)
from blox_gym._version import __version__
from blox_gym.table import Table, open_table

__all__ = ["Table", "__version__", "open_table"]
