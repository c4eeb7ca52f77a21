"""The software behind a result: blox-gym, Python, the platform and other packages' versions."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Iterable

from blox_gym._version import __version__

PACKAGES = ("numpy", "scipy", "pandas", "pyarrow", "zarr", "torch", "torch-geometric",
            "gymnasium", "stable-baselines3", "sb3-contrib", "ray", "matplotlib")


def versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """``{"blox-gym": .., "python": .., "platform": .., package: version}``; packages that
    are not installed are left out."""
    found = {"blox-gym": __version__, "python": platform.python_version(),
             "platform": platform.platform()}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found
