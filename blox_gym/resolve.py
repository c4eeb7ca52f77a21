"""Which models?  The one reading of a *models* argument, for every query of blox-gym.

``Table`` queries, ``SearchCore``, the agents' evaluator and the predictors all read their
*models* argument with :func:`resolve`; ``docs/models-argument.md`` tables every accepted
form (ids, ``'#<id>'``, hashes, flat and nested architectures, arrays, pandas).  One model
gives a plain Python scalar answer (``float``, ``int``, ``str``), many a numpy array.

**The rule for ints:** a Python list or tuple of ints is *one architecture* (15
components); a numpy integer array is *model ids*.  So ``[3, 7]`` is an error that says so,
and ``np.array([3, 7])`` is models 3 and 7.  Where exactly one model is expected
(``one=True``: ``SearchCore.evaluate``, ``Table.full_info``), a 1-D array of 15 ints can
only be an architecture and is read as one.  Isomorphic architectures have the same id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple, Union

import numpy as np

from blox_gym import space

#: Anything :func:`resolve` reads (``docs/models-argument.md``): typed loosely on purpose.
Models = Any
#: Forms that always mean one model (queries answer a Python scalar).
OneModel = Union[int, np.integer[Any], str, list[int], tuple[int, ...]]
#: Forms that always mean many models (queries answer an array); a 0-d array is the exception.
ManyModels = Union[np.ndarray, list[str], tuple[str, ...]]
#: Maps lower-case 32-hex hashes to model ids (int64 array), raising ``ValueError`` for
#: an unknown hash.
HashLookup = Callable[[list[str]], np.ndarray]

LIST_OF_INTS = ("a list or tuple of ints is read as one architecture (15 components); to pass "
                "model ids, use a numpy int array, e.g. np.array([3, 7])")


class NotOneModel(ValueError):
    """Several models where exactly one is expected (``one=True``)."""


class Resolved(NamedTuple):
    """Model ids (int64, ``(N,)``; -1 for an invalid architecture where marked) and whether
    one model was passed (the answer is then a scalar)."""

    ids: np.ndarray
    single: bool


def official_hashes(hashes: list[str]) -> np.ndarray:
    """Model ids of official hashes through :func:`blox_gym.space.model_hashes` (computed
    once per machine); tables use their stored hashes instead."""
    return np.atleast_1d(space.model_from_hash(hashes))


def resolve(models: Models, hashes: HashLookup = official_hashes, invalid: Literal[
        "raise", "mark"] = "raise", one: bool = False) -> Resolved:
    """Read ``models`` (module docstring) into model ids.

    ``hashes`` looks up hash strings; ``invalid="raise"`` raises ``ValueError`` for invalid
    architectures, ``"mark"`` gives them id -1; ``one=True`` requires exactly one model.
    Ids out of 0..91,124, unknown hashes and other shapes raise ``ValueError``.
    """
    if type(models) is int or (isinstance(models, np.integer) and not isinstance(models, bool)):
        if not 0 <= models < space.N_MODELS:  # before int64: 2**70 does not fit
            raise _out_of_range(int(models))
        return Resolved(np.array([models], dtype=np.int64), True)
    if isinstance(models, str):
        return Resolved(_strings([models], hashes), True)
    if isinstance(models, (list, tuple)):
        if models and isinstance(models[0], str) and all(isinstance(m, str) for m in models):
            return _one(Resolved(_strings(list(models), hashes), False), one)
        return _one(_architectures(models, invalid), one)
    if hasattr(models, "to_numpy") and type(models).__module__.startswith("pandas"):
        models = models.to_numpy()  # a pandas Index or Series: its values
    if isinstance(models, np.ndarray) and models.ndim <= 1:
        kind = models.dtype.kind
        if kind in "iu" and (not one or len(models.reshape(-1)) != space.N_COMPONENTS):
            return _one(Resolved(check_ids(models.reshape(-1).astype(np.int64)),
                                 models.ndim == 0), one)
        if kind in "iu":  # one model wanted: 15 ints can only be an architecture
            models = models.tolist()
        elif kind in "UO" and all(isinstance(m, str) for m in models.reshape(-1).tolist()):
            return _one(Resolved(_strings(models.reshape(-1).tolist(), hashes),
                                 models.ndim == 0), one)
    return _one(_architectures(models, invalid), one)


def check_ids(ids: np.ndarray) -> np.ndarray:
    """``ids`` unchanged if all are in 0..91,124, else ``ValueError`` naming one."""
    bad = (ids < 0) | (ids >= space.N_MODELS)
    if bad.any():
        raise _out_of_range(int(ids[bad][0]))
    return ids


def _out_of_range(model_id: int) -> ValueError:
    return ValueError(f"model id {model_id} is out of range; ids are 0..{space.N_MODELS - 1}")


def _strings(items: list[str], hashes: HashLookup) -> np.ndarray:
    """Ids of ``'#<id>'`` strings and hashes, in order."""
    ids = np.empty(len(items), dtype=np.int64)
    named = [i for i, s in enumerate(items) if not s.startswith("#")]
    for i, text in enumerate(items):
        if text.startswith("#"):
            if not text[1:].isdigit():
                raise ValueError(f"{space.short_repr(text)}: a model id is '#' followed by "
                                 f"digits, e.g. '#24519'")
            ids[i] = int(text[1:])
    if named:
        ids[named] = hashes([items[i].lower() for i in named])
    return check_ids(ids)


def _architectures(models: Any, invalid: str) -> Resolved:
    try:
        ids = space.model_id(models)
    except ValueError as err:
        if isinstance(models, (list, tuple)) and models and all(
                isinstance(m, (int, np.integer)) for m in models):
            raise ValueError(f"{err} ({LIST_OF_INTS})") from None
        raise
    if type(ids) is int:  # one architecture (the common case, kept fast)
        if ids >= 0 or invalid == "mark":
            return Resolved(np.array([ids], dtype=np.int64), True)
    single = np.ndim(ids) == 0
    ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
    if invalid == "raise" and (ids < 0).any():
        flat = space.to_flat(models).reshape(-1, space.N_COMPONENTS)
        bad = flat[np.flatnonzero(ids < 0)[0]]
        empty = np.flatnonzero(~bad.reshape(space.N_STAGES, 5)[:, 2:].any(axis=1)).tolist()
        raise ValueError(f"{int((ids < 0).sum())} invalid architecture(s), e.g. {bad.tolist()}: "
                         f"stage(s) {empty} have previous = input = skip = 0, so nothing "
                         f"connects the stage input to its output")
    return Resolved(ids, single)


def _one(resolved: Resolved, one: bool) -> Resolved:
    if not one or resolved.single:
        return resolved
    if len(resolved.ids) != 1:
        raise NotOneModel(f"expected one model, got {len(resolved.ids)}")
    return Resolved(resolved.ids, True)
