"""Gymnasium environments over a Blox table; importing this package registers their ids.

Only the ids are registered here, with string entry points, so importing it loads neither
the table reader (zarr) nor torch.  ``gymnasium.make(ENV_ID, table=...)`` builds a single
environment, ``gymnasium.make_vec(ENV_ID, num_envs=N)`` the native vector environment.
"""

from gymnasium.envs.registration import register, registry

EDIT_ID = "blox_gym/BloxEdit-v0"
BUILD_ID = "blox_gym/BloxBuild-v0"
ENV_IDS = (EDIT_ID, BUILD_ID)

_ENTRY_POINTS = {
    EDIT_ID: ("blox_gym.envs.edit:BloxEditEnv", "blox_gym.envs.edit:BloxEditVectorEnv"),
    BUILD_ID: ("blox_gym.envs.build:BloxBuildEnv", "blox_gym.envs.build:BloxBuildVectorEnv"),
}


def register_envs() -> None:
    """Register :data:`ENV_IDS` with Gymnasium (once; later calls do nothing)."""
    for env_id, (entry_point, vector_entry_point) in _ENTRY_POINTS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point, vector_entry_point=vector_entry_point)


register_envs()
