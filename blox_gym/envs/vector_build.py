"""Kept for old imports: the vector env code now lives next to the single env's, in
:mod:`blox_gym.envs.build`."""

from blox_gym.envs.build import BloxBuildVectorEnv  # noqa: F401
