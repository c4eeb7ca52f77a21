"""Kept for old imports: the vector env code now lives next to the single env's, in
:mod:`blox_gym.envs.base`."""

from blox_gym.envs.base import BloxVectorEnv, INFO_KEYS  # noqa: F401
