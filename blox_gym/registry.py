"""Named plug-ins: a name maps to an entry point ``"module:Class"``, imported on first use.

One helper behind :func:`predictors.register` and :func:`agents.register` (and anything that
later needs names).  The entry point string is a plug-in's stored identity (configs save
it, so a saved object can be rebuilt in another process); registering the same entry point
under the same name again does nothing, another one under a taken name is an error.

>>> AGENTS = Registry("agent", Agent)
>>> AGENTS.register("rea", "agents.evolution:RegularizedEvolution")
>>> AGENTS.make("rea", population=32)
"""

from __future__ import annotations

import difflib
import importlib
import re
from typing import Any, Generic, TypeVar

T = TypeVar("T")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")  # ":" is kept for prefixes such as "sb3:PPO"
ENTRY_POINT = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def entry_point_of(cls: type) -> str:
    """``"module:QualifiedName"`` of a class, the form :meth:`Registry.register` stores."""
    return f"{cls.__module__}:{cls.__qualname__}"


def import_entry_point(entry_point: str) -> Any:
    """The object an entry point ``"module:Attribute"`` names (ValueError if malformed)."""
    if not isinstance(entry_point, str) or not ENTRY_POINT.fullmatch(entry_point):
        raise ValueError(f"entry point {entry_point!r} must look like 'package.module:Class'")
    module_name, _, attribute = entry_point.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"entry point {entry_point!r}: {module_name} has no "
                             f"{attribute!r}") from None
    return obj


class Registry(Generic[T]):
    """Names of ``base`` subclasses whose class attribute ``name`` equals the registered name."""

    def __init__(self, kind: str, base: type[T]):
        self.kind = kind
        self.base = base
        self._entry_points: dict[str, str] = {}
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str, entry_point: str | type[T], overwrite: bool = False) -> None:
        """Make ``make(name)`` build ``entry_point``: a class, or ``"module:Class"`` (imported
        on first use, so registering imports nothing); ``overwrite`` replaces another entry
        point registered under ``name``."""
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"{self.kind} name {name!r} must be letters, digits, '_', '.' "
                             f"or '-', starting with a letter")
        cls = None
        if isinstance(entry_point, type):
            cls = self._checked(name, entry_point, entry_point_of(entry_point))
            entry_point = entry_point_of(entry_point)
        elif not isinstance(entry_point, str) or not ENTRY_POINT.fullmatch(entry_point):
            raise ValueError(f"entry point {entry_point!r} of {self.kind} {name!r} must be a "
                             f"{self.base.__name__} subclass or 'package.module:Class'")
        old = self._entry_points.get(name)
        if old is not None and old != entry_point:
            if not overwrite:
                raise ValueError(f"{self.kind} name {name!r} is already registered as {old}; "
                                 f"choose another name for {entry_point} or pass "
                                 f"overwrite=True")
            self._classes.pop(name, None)
        self._entry_points[name] = entry_point
        if cls is not None:
            self._classes[name] = cls

    def entry_point(self, name: str) -> str:
        """The entry point registered as ``name``: the identity to store in configs."""
        self._known(name)
        return self._entry_points[name]

    def load(self, name: str) -> type[T]:
        """The class registered as ``name`` (imported now if it was given as a string)."""
        self._known(name)
        if name not in self._classes:
            entry_point = self._entry_points[name]
            self._classes[name] = self._checked(name, import_entry_point(entry_point),
                                                entry_point)
        return self._classes[name]

    def make(self, name: str, /, **kwargs: Any) -> T:
        """A new instance of the class registered as ``name``, built with ``kwargs``."""
        return self.load(name)(**kwargs)

    def available(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entry_points)

    def __contains__(self, name: object) -> bool:
        return name in self._entry_points

    def unknown(self, name: str, allowed: list[str] | None = None) -> ValueError:
        """The error for an unknown ``name``: the close match, if any, and what is allowed
        (``allowed``, default :meth:`available`)."""
        allowed = self.available() if allowed is None else allowed
        close = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return ValueError(f"unknown {self.kind} {name!r}{hint}; available: {', '.join(allowed)}")

    def _known(self, name: str) -> None:
        if name not in self._entry_points:
            raise self.unknown(name)

    def _checked(self, name: str, cls: Any, entry_point: str) -> type[T]:
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise ValueError(f"{entry_point} is not a {self.base.__name__} subclass")
        if getattr(cls, "name", None) != name:
            raise ValueError(f"{entry_point} must have the class attribute name = {name!r} "
                             f"to be registered as {name!r} (it has "
                             f"{getattr(cls, 'name', None)!r})")
        return cls
