"""Kept for old imports: the vector env code now lives next to the single env's, in
:mod:`blox_gym.envs.edit`."""

from blox_gym.envs.edit import BloxEditVectorEnv  # noqa: F401
