"""NAS agents for the Blox space: ``agents.make(name, **settings)``, ``agents.available()`` and
``agents.register(name, entry_point)`` for your own.

Every agent runs as ``agent.run(core, budget, seed) -> record`` on a
:class:`blox_gym.core.SearchCore`; see ``docs/agents.md``.  ``sb3:<ALGO>`` names a
Stable-Baselines3 or sb3-contrib algorithm (e.g. ``sb3:PPO``, ``sb3:MaskablePPO``), run by
:class:`agents.sb3_agent.SB3Agent` when Stable-Baselines3 and sb3-contrib are installed;
``syne:<SCHEDULER>`` a Syne Tune scheduler (e.g. ``syne:ASHA``), run by
:class:`agents.syne_tune_agent.SyneTuneAgent` with the extra ``syne-tune``.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from importlib.util import find_spec
from typing import TYPE_CHECKING

from agents.base import Agent
from blox_gym.registry import Registry

if TYPE_CHECKING:
    from agents.sb3_agent import SB3Agent

REGISTRY: Registry[Agent] = Registry("agent", Agent)
_BUILT_IN = {  # imported on first use (some need torch)
    "random": "agents.random_search:RandomSearch",
    "rea": "agents.evolution:RegularizedEvolution",
    "local": "agents.local_search:LocalSearch",
    "qlearning": "agents.qlearning:QLearning",
    "reinforce": "agents.reinforce:Reinforce",
    "hyperband": "agents.hyperband:Hyperband",
    "brp_nas": "agents.brp_nas:BrpNas",
    "donna": "agents.donna:Donna",
    "lana": "agents.lana:Lana",
    "donna_gcn": "agents.blockwise:DonnaGcn",
    "blockwise": "agents.blockwise:Blockwise",
    "iterative": "agents.blockwise:Iterative",
}
for _name, _entry_point in _BUILT_IN.items():
    REGISTRY.register(_name, _entry_point)
SB3_PREFIX = "sb3:"
SYNE_PREFIX = "syne:"


def register(name: str, entry_point: str | type[Agent]) -> None:
    """Make ``make(name)`` build ``entry_point``: an :class:`Agent` subclass whose class
    attribute ``name`` is ``name``, or ``"module:Class"`` (imported on first use).
    Registering the same entry point again does nothing."""
    REGISTRY.register(name, entry_point)


def available() -> list[str]:
    """Agent names for :func:`make`; ``sb3:<ALGO>`` is listed when SB3 is installed."""
    names = list(_BUILT_IN) + [n for n in REGISTRY.available() if n not in _BUILT_IN]
    if has_sb3():
        names.append(SB3_PREFIX + "<ALGO>")
    if find_spec("syne_tune") is not None:
        names.append(SYNE_PREFIX + "<SCHEDULER>")
    return names


def has_sb3() -> bool:
    """Whether ``sb3:<ALGO>`` agents can run here (Stable-Baselines3 and sb3-contrib)."""
    return find_spec("stable_baselines3") is not None and find_spec("sb3_contrib") is not None


def make(name: str, **settings) -> Agent | SB3Agent:
    """A new agent by name with its settings (keyword arguments of its dataclass); an unknown
    setting fails naming the close match and the agent's settings."""
    implied = ""  # the setting that the name itself gives (sb3:PPO -> algo="PPO")
    if name.startswith(SB3_PREFIX):
        if not has_sb3():
            raise ValueError(f"agent {name!r} needs stable-baselines3 and sb3-contrib, which "
                             f"this installation lacks; available: {', '.join(available())}")
        from agents.sb3_agent import SB3Agent

        factory, implied = SB3Agent, "algo"
        settings = {implied: name[len(SB3_PREFIX):], **settings}
    elif name.startswith(SYNE_PREFIX):
        if find_spec("syne_tune") is None:
            raise ValueError(f"agent {name!r} needs Syne Tune: pip install 'blox-gym[syne-tune]'")
        from agents.syne_tune_agent import SyneTuneAgent

        factory, implied = SyneTuneAgent, "scheduler"
        settings = {implied: name[len(SYNE_PREFIX):], **settings}
    elif name in REGISTRY:
        factory = REGISTRY.load(name)
    else:
        raise REGISTRY.unknown(name, available())
    allowed = [a for a in settings_of(factory) if a != implied]
    for key in settings:
        if key == implied:
            continue
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown setting {key!r} of agent {name!r}{hint}; its settings: "
                             f"{', '.join(allowed) or 'none'}")
    try:
        return factory(**settings)
    except TypeError as err:
        raise ValueError(f"bad settings for agent {name!r}: {err}") from None


def settings_of(factory) -> list[str]:
    """The setting names an agent class takes: its dataclass init fields, else the keyword
    parameters of its constructor."""
    if dataclasses.is_dataclass(factory):
        return [f.name for f in dataclasses.fields(factory) if f.init]
    return [n for n, p in inspect.signature(factory).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
