"""The Blox search space: encodings, validity, canonical model ids, the official hash.

An architecture has three stages; each stage is ``[[op0], [op1, previous, input, skip]]``
(the *nested* form of the original code).  The *flat* form is the 15 integers
``[op0, op1, previous, input, skip] * 3``.  Ops: 0 = conv, 1 = mbconv, 2 = bconv.

There are 72 raw configurations per stage and 72**3 = 373,248 raw vectors, numbered by
``raw_index`` in the original enumeration order (flat component 0 changes fastest).  A
vector is invalid when some stage has ``(previous, input, skip) == (0, 0, 0)``.  Valid
vectors fall into 45 distinct blocks per stage and 45**3 = 91,125 models; the model id is
``k0 + 45*k1 + 2025*k2`` with ``k_s`` the rank of stage ``s``'s block in first-appearance
order, which is the original training-list order.

Every function takes one architecture (nested form, or a flat sequence of 15 ints) and
returns a scalar, or an ``(N, 15)`` integer array and returns arrays.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import NamedTuple

import numpy as np

OPS = ("conv", "mbconv", "bconv")
N_STAGES = 3
STAGE_RADIX = (3, 3, 2, 2, 2)
RADIX = np.array(STAGE_RADIX * N_STAGES, dtype=np.int64)
N_COMPONENTS = len(RADIX)
N_CONFIGS = int(np.prod(STAGE_RADIX))  # 72 raw configurations per stage
N_RAW = N_CONFIGS**N_STAGES  # 373,248
N_BLOCKS = 45
N_MODELS = N_BLOCKS**N_STAGES  # 91,125
N_ACTIONS = int(RADIX.sum())  # 36 "set component d to value v" edits

_FIELDS = ("op0", "op1", "previous", "input", "skip")
COMPONENT_NAMES = tuple(f"stage{s}.{f}" for s in range(N_STAGES) for f in _FIELDS)
_PLACE = np.cumprod(np.concatenate([[1], RADIX[:-1]]))  # mixed-radix weights, component 0 fastest

# Action a <-> (component, value): components in order, values 0..radix-1 within each.
ACTION_COMPONENT = np.repeat(np.arange(N_COMPONENTS), RADIX)
ACTION_VALUE = np.concatenate([np.arange(r) for r in RADIX])


class Block(NamedTuple):
    """One of the 45 distinct blocks of a stage."""

    k: int  # rank in first-appearance order (the per-stage digit of the model id)
    type: str  # ST1 (single op) .. ST6 (parallel), as in the original's connectivity figure
    ops: tuple[str, ...]  # ops of the surviving nodes, node 0 first
    config: tuple[int, int, int, int, int]  # canonical (first met) stage config, flat order
    n_raw: int  # raw stage configs that minimise to this block


# (previous, input, skip) -> block type; (0, 0, 0) is invalid.
_TYPES = {(0, 0, 1): "ST1", (0, 1, 0): "ST1", (1, 0, 0): "ST2", (1, 1, 0): "ST3",
          (1, 0, 1): "ST4", (1, 1, 1): "ST5", (0, 1, 1): "ST6"}


def _block_key(op0: int, op1: int, prev: int, inp: int, skip: int):
    kind = _TYPES.get((prev, inp, skip))
    if kind is None:
        return None
    if kind == "ST1":
        return kind, (op0 if skip else op1,)
    if kind == "ST6":
        return kind, tuple(sorted((op0, op1), reverse=True))
    return kind, (op0, op1)


def _stage_tables():
    """Per-stage config -> block rank (-1 invalid), and the 45 blocks."""
    config_to_block = np.full(N_CONFIGS, -1, dtype=np.int64)
    keys: dict = {}
    first: list = []
    counts: list = []
    for c in range(N_CONFIGS):
        digits = np.unravel_index(c, STAGE_RADIX[::-1])[::-1]  # op0 fastest
        key = _block_key(*map(int, digits))
        if key is None:
            continue
        if key not in keys:
            keys[key] = len(keys)
            first.append(tuple(int(d) for d in digits))
            counts.append(0)
        config_to_block[c] = keys[key]
        counts[keys[key]] += 1
    blocks = tuple(Block(k, kind, tuple(OPS[o] for o in ops), first[k], counts[k])
                   for (kind, ops), k in keys.items())
    return config_to_block, blocks


CONFIG_TO_BLOCK, BLOCKS = _stage_tables()
BLOCK_CONFIGS = np.array([b.config for b in BLOCKS], dtype=np.int64)  # (45, 5)
_STAGE_PLACE = np.array([1, 3, 9, 18, 36])
_RADIX_U = RADIX.astype(np.uint64)
_RADIX_REVERSED = tuple(int(r) for r in RADIX[::-1])  # ravel_multi_index: last axis fastest


def _stage_terms(stage: int) -> dict:
    """Nested dicts ``[op0][op1][previous][input][skip]`` -> the stage's term
    ``k * 45**stage`` of the model id, for the scalar fast path of :func:`model_id` (dicts,
    unlike lists, reject negative values); an invalid stage maps to -91,125, so any id
    that contains one is negative."""
    terms: dict = {}
    for c, k in enumerate(CONFIG_TO_BLOCK):
        *path, last = (int(d) for d in np.unravel_index(c, STAGE_RADIX[::-1])[::-1])
        level = terms
        for d in path:
            level = level.setdefault(d, {})
        level[last] = int(k) * N_BLOCKS**stage if k >= 0 else -N_MODELS
    return terms


_TERM0, _TERM1, _TERM2 = (_stage_terms(s) for s in range(N_STAGES))


def _build_raw_to_model() -> np.ndarray:
    k = CONFIG_TO_BLOCK
    ids = k[None, None, :] + N_BLOCKS * k[None, :, None] + N_BLOCKS**2 * k[:, None, None]
    invalid = (k[None, None, :] < 0) | (k[None, :, None] < 0) | (k[:, None, None] < 0)
    return np.where(invalid, -1, ids).astype(np.int32).ravel()


@lru_cache(maxsize=None)
def _raw_to_model() -> np.ndarray:
    """``RAW_TO_MODEL``, built on first use (a one-model query does not need it)."""
    table = _build_raw_to_model()
    table.flags.writeable = False
    return table



def block_indices(ids) -> np.ndarray:
    """The block (0..44, as ``BLOCKS``) in each stage of model ``ids``: ``(..., 3)`` int64
    (a model id is ``k_0 + 45 k_1 + 45^2 k_2``)."""
    ids = np.asarray(ids, dtype=np.int64)
    return (ids[..., None] // N_BLOCKS ** np.arange(N_STAGES)) % N_BLOCKS


@lru_cache(maxsize=None)
def _canonical() -> np.ndarray:
    """``CANONICAL``, built on first use: ``(91,125, 15)`` int8, the canonical flat vector of
    each model."""
    table = BLOCK_CONFIGS[block_indices(np.arange(N_MODELS))].reshape(N_MODELS, -1).astype(
        np.int8)
    table.flags.writeable = False
    return table


_LAZY = {"RAW_TO_MODEL": _raw_to_model, "CANONICAL": _canonical}


def __getattr__(name: str) -> np.ndarray:
    """``RAW_TO_MODEL`` (raw index -> model id, -1 when invalid; 373,248 int32) and
    ``CANONICAL`` are module constants built on first access, so importing the space stays
    cheap for commands that look up one model."""
    if name in _LAZY:
        value = globals()[name] = _LAZY[name]()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- parsing and conversions

def _nested_to_flat(arch, where: str = "") -> list[int]:
    if not isinstance(arch, (list, tuple)) or len(arch) != N_STAGES:
        raise ValueError(f"architecture{where} must have {N_STAGES} stages "
                         f"[[op0], [op1, previous, input, skip]], got {arch!r}")
    flat = []
    for s, stage in enumerate(arch):
        ok = (isinstance(stage, (list, tuple)) and len(stage) == 2
              and isinstance(stage[0], (list, tuple)) and len(stage[0]) == 1
              and isinstance(stage[1], (list, tuple)) and len(stage[1]) == 4)
        if not ok:
            raise ValueError(f"stage {s}{where} must be [[op0], [op1, previous, input, skip]], "
                             f"got {stage!r}")
        flat.extend([stage[0][0], *stage[1]])
    return flat


def _is_nested(x) -> bool:
    """True for one architecture in the nested form (a list of stages ``[[op0], [...]]``)."""
    return isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], (list, tuple)) \
        and len(x[0]) == 2 and isinstance(x[0][0], (list, tuple))


def _check_values(flat: np.ndarray) -> np.ndarray:
    bad = flat.view(np.uint64) >= _RADIX_U  # negatives wrap to huge unsigned values
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        where = f" (architecture {row})" if flat.shape[0] > 1 else ""
        raise ValueError(f"component {COMPONENT_NAMES[col]} (index {col}){where} has value "
                         f"{flat[row, col]}; allowed values are "
                         f"{', '.join(map(str, range(RADIX[col])))}")
    return flat


def _to_int_array(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iub":
        return a.astype(np.int64, copy=False)
    flat = np.empty(a.shape, dtype=np.int64)
    for (i, j), v in np.ndenumerate(a):
        integral = isinstance(v, (int, np.integer)) or (
            isinstance(v, (float, np.floating)) and float(v).is_integer())
        if not integral:
            raise ValueError(f"component {COMPONENT_NAMES[j]} (index {j}) must be an integer "
                             f"in 0..{RADIX[j] - 1}, got {v!r}")
        if not -2**63 <= int(v) < 2**63:  # beyond int64 (2**70): as _check_values says
            raise ValueError(f"component {COMPONENT_NAMES[j]} (index {j}) has value "
                             f"{_short(v)}; allowed values are "
                             f"{', '.join(map(str, range(RADIX[j])))}")
        flat[i, j] = int(v)
    return flat


def as_flat(arch) -> tuple[np.ndarray, bool]:
    """Parse ``arch`` into an ``(N, 15)`` int64 array; the flag says whether it was one.

    Accepts one nested architecture, a list of them, a flat sequence of 15 ints, or an
    ``(N, 15)`` array (an int64 array comes back as a view, not a copy).  Raises
    ``ValueError`` naming the bad component and allowed values.
    """
    flat, single = _parse(arch)
    return _check_values(flat), single


def _parse(arch) -> tuple[np.ndarray, bool]:
    """:func:`as_flat` without the range check of the values."""
    if _is_nested(arch):
        a, single = np.array([_nested_to_flat(arch)], dtype=object), True
    elif isinstance(arch, (list, tuple)) and len(arch) > 0 and _is_nested(arch[0]):
        a = np.array([_nested_to_flat(x, f" {i}") for i, x in enumerate(arch)], dtype=object)
        single = False
    else:
        a = arch if isinstance(arch, np.ndarray) else np.asarray(arch, dtype=object)
        if a.ndim not in (1, 2) or a.shape[-1] != N_COMPONENTS:
            raise ValueError(f"an architecture is the nested form [[[op0], [op1, previous, "
                             f"input, skip]]] * 3 or {N_COMPONENTS} integers; got shape "
                             f"{a.shape}: {_short(arch)}")
        single = a.ndim == 1
    return _to_int_array(a.reshape(-1, N_COMPONENTS)), single


def _raw_indices(flat: np.ndarray) -> np.ndarray:
    """Raw indices of an unchecked ``(N, 15)`` int array, range check included (one pass)."""
    try:
        return np.ravel_multi_index(tuple(flat.T[::-1]), _RADIX_REVERSED)
    except ValueError:
        _check_values(flat)  # raises, naming the component
        raise


def _short(x) -> str:
    text = repr(x)
    return text if len(text) < 120 else text[:117] + "..."


def _out(values: np.ndarray, single: bool):
    return values[0].item() if single and values.ndim == 1 else (values[0] if single else values)


def to_flat(arch) -> np.ndarray:
    """Flat int64 vector(s): ``(15,)`` for one architecture, ``(N, 15)`` for many."""
    flat, single = as_flat(arch)
    return flat[0] if single else flat


def to_nested(arch):
    """Nested list form ``[[[op0], [op1, previous, input, skip]]] * 3`` (a list of them for many)."""
    flat, single = as_flat(arch)
    nested = [[[[int(r[5 * s])], [int(v) for v in r[5 * s + 1:5 * s + 5]]]
               for s in range(N_STAGES)] for r in flat]
    return nested[0] if single else nested


def raw_index(arch):
    """Index 0..373,247 in the original enumeration order (component 0 fastest)."""
    flat, single = _parse(arch)
    return _out(_raw_indices(flat), single)


def from_raw_index(index) -> np.ndarray:
    """Flat vector(s) of raw index/indices; inverse of :func:`raw_index`."""
    idx = np.asarray(index)
    if idx.dtype.kind not in "iu" or ((idx < 0) | (idx >= N_RAW)).any():
        raise ValueError(f"raw index must be an integer in 0..{N_RAW - 1}, got {_short(index)}")
    flat = (idx.reshape(-1, 1) // _PLACE) % RADIX
    return flat[0] if idx.ndim == 0 else flat


def _stage_configs(flat: np.ndarray) -> np.ndarray:
    """(N, 3) per-stage config indices 0..71."""
    return flat.reshape(-1, N_STAGES, 5) @ _STAGE_PLACE


def is_valid(arch):
    """True unless some stage has (previous, input, skip) = (0, 0, 0)."""
    flat, single = as_flat(arch)
    return _out((CONFIG_TO_BLOCK[_stage_configs(flat)] >= 0).all(axis=1), single)


def model_id(arch):
    """Canonical model id 0..91,124, or -1 for an invalid architecture."""
    try:  # fast path for one architecture (about 0.4 us); anything else falls through
        if len(arch) == 3:
            (((a,), (b, c, d, e)), ((f,), (g, h, i, j)), ((k,), (l, m, n, o))) = arch
        else:
            a, b, c, d, e, f, g, h, i, j, k, l, m, n, o = arch
        mid = _TERM0[a][b][c][d][e] + _TERM1[f][g][h][i][j] + _TERM2[k][l][m][n][o]
        return mid if mid >= 0 else -1
    except (KeyError, TypeError, ValueError):
        pass
    flat, single = _parse(arch)
    return _out(_raw_to_model()[_raw_indices(flat)].astype(np.int64), single)


def canonical(arch) -> np.ndarray:
    """The canonical (first enumerated) flat vector of each architecture's model.

    Raises ``ValueError`` for invalid architectures.
    """
    ids = np.atleast_1d(model_id(arch))
    if (ids < 0).any():
        raise ValueError(f"invalid architecture (a stage has previous = input = skip = 0): "
                         f"{_short(arch)}")
    out = _canonical()[ids].astype(np.int64)
    return out[0] if np.ndim(model_id(arch)) == 0 else out


def model_ids_to_archs(ids) -> np.ndarray:
    """Canonical flat vector(s) for model id(s)."""
    arr = np.asarray(ids)
    if arr.dtype.kind not in "iu" or ((arr < 0) | (arr >= N_MODELS)).any():
        raise ValueError(f"model id must be an integer in 0..{N_MODELS - 1}, got {_short(ids)}")
    return _canonical()[arr].astype(np.int64)


# ---------------------------------------------------------------- neighbourhood

class Neighbours(NamedTuple):
    """All 36 "set component d to value v" edits; index ``a`` is the action id."""

    archs: np.ndarray  # (..., 36, 15)
    changed: np.ndarray  # (..., 36) False for the edits that keep the architecture
    valid: np.ndarray  # (..., 36)
    model_id: np.ndarray  # (..., 36) -1 where invalid


def apply_actions(flat: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Apply one edit per row: ``flat`` (N, 15), ``actions`` (N,) ints in 0..35."""
    out = flat.copy()
    out[np.arange(len(out)), ACTION_COMPONENT[actions]] = ACTION_VALUE[actions]
    return out


def neighbours(arch) -> Neighbours:
    """Every single-component edit of ``arch`` with its validity and model id (vectorized)."""
    flat, single = as_flat(arch)
    edits = np.repeat(flat[:, None, :], N_ACTIONS, axis=1)
    edits[:, np.arange(N_ACTIONS), ACTION_COMPONENT] = ACTION_VALUE
    changed = flat[:, ACTION_COMPONENT] != ACTION_VALUE
    ids = _raw_to_model()[edits @ _PLACE].astype(np.int64)
    result = Neighbours(edits, changed, ids >= 0, ids)
    return Neighbours(*(x[0] for x in result)) if single else result


# ---------------------------------------------------------------- graph view

N_NODES = 2 + 3 * N_STAGES  # input, (op0, op1, reduction) per stage, output
NODE_INPUT, NODE_OUTPUT = 0, N_NODES - 1


def _graph_arrays(flat: np.ndarray):
    """Minimised graphs with dangling nodes kept as zero rows: adjacency (N, 11, 11) uint8
    with ``A[src, dst] = 1``, and the kept-node mask (N, 11)."""
    n = len(flat)
    f = flat.reshape(n, N_STAGES, 5)
    prev, inp, skip = f[..., 2], f[..., 3], f[..., 4]
    keep0 = (prev | skip).astype(bool)
    keep1 = (prev | inp).astype(bool)
    valid = (keep0 | keep1).all(axis=1)
    adj = np.zeros((n, N_NODES, N_NODES), dtype=np.uint8)
    keep = np.zeros((n, N_NODES), dtype=bool)
    keep[:, NODE_INPUT] = keep[:, NODE_OUTPUT] = True
    for s in range(N_STAGES):
        b, n0, n1, r = (0 if s == 0 else 3 * s), 1 + 3 * s, 2 + 3 * s, 3 + 3 * s
        k0, k1 = keep0[:, s], keep1[:, s]
        keep[:, n0], keep[:, n1], keep[:, r] = k0, k1, True
        adj[:, b, n0] = k0
        adj[:, n0, n1] = prev[:, s]
        adj[:, b, n1] = inp[:, s]
        adj[:, n1, r] = k1
        adj[:, n0, r] = skip[:, s]
    adj[:, NODE_OUTPUT - 1, NODE_OUTPUT] = 1
    adj[~valid] = 0
    keep[~valid] = False
    return adj, keep


def node_labels() -> tuple:
    """Labels ``(op_name, stage)`` of the 11 unminimised nodes, as in the original graph."""
    labels = [("input", None)]
    for s in range(N_STAGES):
        labels += [("op0", s), ("op1", s), ("reduction", s)]
    return tuple(labels + [("output", None)])


def graph(arch):
    """Minimised graph of one architecture: ``(adjacency float64 (V, V), labels)``.

    Labels are ``(op_name, stage)``, ``("input", None)`` and ``("output", None)``, as in the
    original ``get_model_graph_np``.  An invalid architecture gives a 0x0 graph.
    """
    flat, single = as_flat(arch)
    if not single:
        raise ValueError("graph() takes one architecture; use graph_tensors() for many")
    adj, keep = _graph_arrays(flat)
    kept = np.flatnonzero(keep[0])
    labels = []
    for v in kept:
        if v in (NODE_INPUT, NODE_OUTPUT):
            labels.append(("input" if v == NODE_INPUT else "output", None))
        else:
            s, slot = divmod(int(v) - 1, 3)
            name = "reduction" if slot == 2 else OPS[flat[0, 5 * s + slot]]
            labels.append((name, s))
    return adj[0][np.ix_(kept, kept)].astype(np.float64), labels


# Node features of the BRP-NAS GCN (reference section 5): global 0, input 1, per stage
# mbconv, bconv, conv, reduction at 2+4s .. 5+4s, output 14.
N_GCN_FEATURES = 15
_GCN_OP_OFFSET = {1: 0, 2: 1, 0: 2}  # op index -> offset within the stage's 4 slots


def graph_tensors(arch) -> tuple[np.ndarray, np.ndarray]:
    """The BRP-NAS GCN input: adjacency (N, 12, 12) and one-hot features (N, 12, 15), float32.

    Node 0 is a global node connected to every node; nodes 1..11 are the original graph
    with dangling nodes zeroed (their feature row is zero, their self-loop kept).
    """
    flat, single = as_flat(arch)
    adj, keep = _graph_arrays(flat)
    n = len(flat)
    big = np.zeros((n, N_NODES + 1, N_NODES + 1), dtype=np.float32)
    big[:, 1:, 1:] = adj
    big[:, 0, :] = 1
    big[:, np.arange(N_NODES + 1), np.arange(N_NODES + 1)] = 1
    feats = np.zeros((n, N_NODES + 1, N_GCN_FEATURES), dtype=np.float32)
    feats[:, 0, 0] = 1
    feats[:, 1, 1] = keep[:, NODE_INPUT]
    feats[:, N_NODES, N_GCN_FEATURES - 1] = keep[:, NODE_OUTPUT]
    rows = np.arange(n)
    for s in range(N_STAGES):
        for slot in (0, 1):
            node = 2 + 3 * s + slot
            col = 2 + 4 * s + np.vectorize(_GCN_OP_OFFSET.get)(flat[:, 5 * s + slot])
            feats[rows, node, col] = keep[:, node - 1]
        feats[:, 4 + 3 * s, 5 + 4 * s] = keep[:, 3 + 3 * s]
    return (big[0], feats[0]) if single else (big, feats)


# ---------------------------------------------------------------- the official hash

def _hash_label(v: int, flat_row: np.ndarray) -> int:
    if v == NODE_INPUT:
        return -1
    if v == NODE_OUTPUT:
        return -2
    s, slot = divmod(v - 1, 3)
    return (3 if slot == 2 else int(flat_row[5 * s + slot])) + 4 * s



def _graph_hash(edges: list[tuple[int, int]], labels: list[int]) -> str:
    """The NAS-Bench-101 ``hash_module`` scheme on a minimised graph (reference 1.4).

    ``edges`` are (src, dst) pairs over nodes ``0..len(labels)-1``.  Degrees are formatted
    as floats, as the original sums a float64 matrix.
    """
    n = len(labels)
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for src, dst in edges:
        succs[src].append(dst)
        preds[dst].append(src)
    md5 = hashlib.md5
    hashes = [md5(str((float(len(succs[v])), float(len(preds[v])), labels[v])).encode()).hexdigest()
              for v in range(n)]
    for _ in range(n):
        hashes = [md5(("".join(sorted([hashes[w] for w in preds[v]])) + "|"
                       + "".join(sorted([hashes[w] for w in succs[v]])) + "|"
                       + hashes[v]).encode()).hexdigest() for v in range(n)]
    return md5(str(sorted(hashes)).encode()).hexdigest()


def compute_hash(arch):
    """Compute the official model hash from scratch (about 0.1 ms per architecture).

    Returns the 32-hex string, or ``None`` for an invalid architecture; for many
    architectures an object array.  Queries should use :func:`model_hash`, which looks
    the hash up in the cached table instead.
    """
    flat, single = as_flat(arch)
    adj, keep = _graph_arrays(flat)
    out = np.empty(len(flat), dtype=object)
    for i in range(len(flat)):
        kept = np.flatnonzero(keep[i])
        if len(kept) == 0:
            out[i] = None
            continue
        position = {int(v): j for j, v in enumerate(kept)}
        src, dst = np.nonzero(adj[i])
        edges = [(position[a], position[b]) for a, b in zip(src.tolist(), dst.tolist())]
        out[i] = _graph_hash(edges, [_hash_label(int(v), flat[i]) for v in kept])
    return out[0] if single else out


@lru_cache(maxsize=1)
def model_hashes() -> np.ndarray:
    """The official hash of every model, ``(91,125,)`` of ``'<U32'``, indexed by model id.

    Computed once (about 10 s) and cached on disk in :func:`blox_gym.paths.cache_dir`.
    """
    from blox_gym import paths

    path = paths.cache_dir() / "model_hashes-v1.npy"
    if path.exists():
        hashes = np.load(path)
        if hashes.shape == (N_MODELS,) and hashes.dtype == np.dtype("<U32"):
            return hashes
    hashes = _compute_all_hashes()
    paths.atomic_save_npy(path, hashes)
    return hashes


def _compute_all_hashes() -> np.ndarray:
    import os
    from concurrent.futures import ProcessPoolExecutor

    from blox_gym.progress import progress_bar

    chunks = np.array_split(_canonical().astype(np.int64), 64)
    workers = max(1, min(4, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        parts = list(progress_bar(pool.map(compute_hash, chunks), total=len(chunks),
                                  desc="hashing the 91,125 Blox models (once)", unit="chunk"))
    return np.concatenate(parts).astype("<U32")


@lru_cache(maxsize=1)
def _hash_to_id() -> dict:
    return {h: i for i, h in enumerate(model_hashes().tolist())}


def model_hash(arch):
    """Official 32-hex model hash, ``None`` when invalid (an object array for many)."""
    ids = np.atleast_1d(model_id(arch))
    hashes = model_hashes()
    out = np.array([hashes[i] if i >= 0 else None for i in ids.tolist()], dtype=object)
    return out[0] if np.ndim(model_id(arch)) == 0 else out


def model_from_hash(h):
    """Model id of a hash string (or an array of ids for a sequence); ``ValueError`` if unknown."""
    lookup = _hash_to_id()
    single = isinstance(h, str)
    items = [h] if single else list(h)
    missing = [x for x in items if x not in lookup]
    if missing:
        raise ValueError(f"{len(missing)} hash(es) are not Blox models, e.g. "
                         f"{', '.join(map(repr, missing[:5]))}")
    ids = np.array([lookup[x] for x in items], dtype=np.int64)
    return int(ids[0]) if single else ids
