"""Command modules of the ``blox-gym`` command line (see ``blox_gym.cli.DELEGATED``)."""
