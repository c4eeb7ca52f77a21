"""A Ray instance for one call: joined if one is running, else started and shut down after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def ray_session(address: str | None = None) -> Iterator[Any]:
    """The ``ray`` module, initialised: the running instance if there is one, else one
    started at ``address`` (``None`` or ``"local"``: a new local instance; anything else is
    passed to ``ray.init``, e.g. ``"auto"`` for the running cluster), which is shut down when
    the block ends."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()
