"""Kept for old imports: the vector env code now lives next to the single env's, in
:mod:`blox_gym.envs.ledger`."""

from blox_gym.envs.ledger import VectorLedger  # noqa: F401
