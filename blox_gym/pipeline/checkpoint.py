"""Checkpoints: everything a run needs to continue with the same numbers, written atomically.

A checkpoint holds the epoch reached, the weights, optimizer and scheduler states, the data
generator's and torch's RNG states, the history so far and the best weights.  It is written
through a temporary file and a rename, so a kill during the write leaves the previous one.
"""

from __future__ import annotations

from pathlib import Path

import torch

from blox_gym.paths import atomic_write


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` (tensors, numbers, strings, lists and dicts of them) to ``path``."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> dict | None:
    """The state saved at ``path``, or None if there is none.  Only tensors and plain data
    are admitted (``weights_only``), so a checkpoint never runs code."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises several types for a damaged file
        raise ValueError(f"{path}: unreadable checkpoint ({type(err).__name__}: {err}); "
                         f"delete it to restart the run from scratch") from err


def rng_state(generator: torch.Generator) -> dict:
    """The data generator's state and torch's global CPU (and CUDA) RNG states."""
    state = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(generator: torch.Generator, state: dict) -> None:
    generator.set_state(state["generator"].cpu())
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
