"""Register the environment ids with Gymnasium without importing Gymnasium first.

``import blox_gym`` promises the ids of :mod:`blox_gym.envs`; importing Gymnasium for that
would slow every command that needs no environment.  So when Gymnasium is not imported yet,
a finder on ``sys.meta_path`` waits for its import and registers the ids right after it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType


class _RegisterAfterImport:
    """A ``sys.meta_path`` finder (the protocol needs no base class; ``importlib.abc`` costs a
    tenth of a second to import): run the import of ``gymnasium``, then import
    :mod:`blox_gym.envs` (which registers)."""

    def find_spec(self, name, path=None, target=None):
        if name != "gymnasium":
            return None
        sys.meta_path.remove(self)  # once: the normal finders locate Gymnasium itself
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def exec_then_register(module: ModuleType) -> None:
                exec_module(module)
                importlib.import_module("blox_gym.envs")

            spec.loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


def register_envs_on_import() -> None:
    """Register the ids now if Gymnasium is loaded, else as soon as it is imported."""
    if "gymnasium" in sys.modules:
        importlib.import_module("blox_gym.envs")
    elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())
