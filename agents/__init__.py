"""NAS agents for the Blox space: ``agents.make(name, **settings)`` and ``agents.available()``.

Every agent runs as ``agent.run(core, budget, seed) -> record`` on a
:class:`blox_gym.core.SearchCore`; see ``docs/agents.md``.  ``sb3:<ALGO>`` names a
Stable-Baselines3 agent from :mod:`agents.sb3` (e.g. ``sb3:PPO``, ``sb3:MaskablePPO``).
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from agents.base import Agent

_REGISTRY = {  # name -> "module:class", imported on first use (some need torch)
    "random": "agents.random_search:RandomSearch",
    "rea": "agents.evolution:RegularizedEvolution",
    "local": "agents.local_search:LocalSearch",
    "qlearning": "agents.qlearning:QLearning",
    "reinforce": "agents.reinforce:Reinforce",
    "hyperband": "agents.hyperband:Hyperband",
    "lana": "agents.lana:Lana",
}
SB3_PREFIX = "sb3:"


def available() -> list[str]:
    """Agent names for :func:`make`; ``sb3:<ALGO>`` is listed when :mod:`agents.sb3` exists."""
    names = list(_REGISTRY)
    if has_sb3():
        names.append(SB3_PREFIX + "<ALGO>")
    return names


def has_sb3() -> bool:
    return find_spec("agents.sb3") is not None


def make(name: str, **settings) -> Agent:
    """A new agent by name with its settings (keyword arguments of its dataclass)."""
    if name.startswith(SB3_PREFIX):
        if not has_sb3():
            raise ValueError(f"agent {name!r} needs agents/sb3.py, which this installation "
                             f"lacks; available: {', '.join(_REGISTRY)}")
        from agents import sb3

        return sb3.make_agent(name[len(SB3_PREFIX):], **settings)
    if name not in _REGISTRY:
        raise ValueError(f"unknown agent {name!r}; available: {', '.join(available())}")
    module, cls = _REGISTRY[name].split(":")
    agent_class = getattr(import_module(module), cls)
    try:
        return agent_class(**settings)
    except TypeError as err:
        raise ValueError(f"bad settings for agent {name!r}: {err}") from None
