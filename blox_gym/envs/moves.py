"""The edit rule of ``BloxEdit-v0`` as small look-up tables, shared by the single env, the
vector env and the action masks.

A stage's five components form a mixed-radix *stage code* 0..71 (``space.STAGE_RADIX``), and
a model id is ``k_0 + 45 k_1 + 45^2 k_2`` with ``k_s = space.CONFIG_TO_BLOCK[code_s]``.  An
edit changes one component, hence one stage, so everything about action ``a`` taken in a
state whose edited stage has code ``c`` is read at ``key = a * 72 + c``: the stage's new code,
the edited component's new value and the change of the model id (:data:`INVALID_DELTA`
when the new stage is invalid, so the new id is negative).  No gather in the 373,248-entry raw
index is needed.

The masks work per stage: the 12 (absolute) or 7 (relative) actions of a stage are bits of
an int, the same bits in every stage, so a state's masks are three small-table look-ups plus
a few integer operations for each visited model.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from blox_gym import space

N_CODES = int(np.prod(space.STAGE_RADIX))  # 72 stage codes
STAGE_PLACE = np.array([int(np.prod(space.STAGE_RADIX[:j])) for j in range(5)])
BLOCK = space.CONFIG_TO_BLOCK.astype(np.int64)  # block of each stage code, -1 if invalid
STAGE_WEIGHT = space.N_BLOCKS ** np.arange(space.N_STAGES)  # a model id is blocks @ this
CODE_PLACE = N_CODES ** np.arange(space.N_STAGES)  # a raw index is stage codes @ this
INVALID_DELTA = -(2 ** 40)  # added to a model id: negative, whatever the id
#: the stage's digits (one row per code, int8): an encoding is three rows side by side
DIGITS = ((np.arange(N_CODES)[:, None] // STAGE_PLACE) % space.STAGE_RADIX).astype(np.int8)
#: the same rows as single 5-byte items, so that one flat ``take`` writes a whole stage
STAGE_DIGITS = DIGITS.view(np.dtype((np.void, 5))).reshape(N_CODES)
#: relative actions: component and step (1..radix-1), components in order
REL_COMPONENT = np.repeat(np.arange(space.N_COMPONENTS), space.RADIX - 1)
REL_STEP = np.concatenate([np.arange(1, r) for r in space.RADIX])


def codes_of_raw(raw: np.ndarray) -> np.ndarray:
    """Stage codes ``(n, 3)`` int64 of raw encoding indices ``(n,)``."""
    return (np.asarray(raw, dtype=np.int64)[:, None] // CODE_PLACE) % N_CODES


def model_of_codes(code: np.ndarray) -> np.ndarray:
    """Model ids ``(n,)`` int64 of valid stage codes ``(n, 3)``."""
    return BLOCK.take(code) @ STAGE_WEIGHT


#: a start state: its stage codes and model id in one 8-byte record (one gather; 2 MB for
#: all 250,047 valid encodings, so that it stays in cache)
START_RECORD = np.dtype({"names": ["code", "mid"],
                         "formats": [(np.uint8, space.N_STAGES), np.int32],
                         "offsets": [0, 4], "itemsize": 8})


def start_records(raw: np.ndarray) -> np.ndarray:
    """:data:`START_RECORD` records of raw encoding indices ``raw`` (all valid)."""
    code = codes_of_raw(raw)
    out = np.zeros(len(raw), dtype=START_RECORD)
    out["code"] = code
    out["mid"] = model_of_codes(code)
    return out


class EditTables:
    """The tables of one action mode (``relative`` or absolute).

    Per action: ``component``, ``stage``, ``key_base`` (``a * 72``).  Per key: ``new_code``,
    ``new_value``, ``delta``.  Per stage code (bits over a stage's actions): ``change_bits``
    (edits that change the encoding), ``valid_bits`` (those that also give a valid stage),
    ``noop_bits``, ``same_bits`` (changes to another encoding of the same block).
    ``reach[c * 45 + k]``: the actions that turn code ``c`` into one of block ``k`` (one
    extra zero entry at the end).  ``bools[bits]``: the bits as a row of bools
    (``bool_rows``: the same rows as single items, for a fast flat ``take``).  The ``*_l``
    attributes are plain lists for the single env's scalar step.
    """

    def __init__(self, relative: bool):
        comp = REL_COMPONENT if relative else space.ACTION_COMPONENT.astype(np.int64)
        self.n_actions = n = len(comp)
        self.per_stage = n // space.N_STAGES
        self.component, self.stage = comp, comp // 5
        self.key_base = np.arange(n) * N_CODES
        j = comp % 5  # the component within its stage
        codes = np.arange(N_CODES)
        old = DIGITS[:, j].T.astype(np.int64)  # (actions, codes)
        if relative:
            new = (old + REL_STEP[:, None]) % space.RADIX[comp][:, None]
        else:
            new = np.broadcast_to(space.ACTION_VALUE[:, None], old.shape).astype(np.int64)
        new_code = codes + (new - old) * STAGE_PLACE[j][:, None]
        ok = (BLOCK[new_code] >= 0) & (BLOCK[codes] >= 0)
        delta = (BLOCK[new_code] - BLOCK[codes]) * STAGE_WEIGHT[self.stage][:, None]
        self.new_code = new_code.ravel()
        self.new_value = new.astype(np.int8).ravel()
        self.delta = np.where(ok, delta, INVALID_DELTA).ravel()
        for name in ("component", "stage", "key_base", "new_code", "new_value", "delta"):
            setattr(self, name + "_l", getattr(self, name).tolist())
        # the masks, over stage 0's actions (every stage has the same layout)
        first = slice(0, self.per_stage)
        weights = 1 << np.arange(self.per_stage)
        change = (new_code[first] != codes).T  # (codes, stage actions)
        self.change_bits = change @ weights
        self.valid_bits = (change & ok[first].T) @ weights
        self.noop_bits = (~change) @ weights
        same = (BLOCK[new_code[first]] == BLOCK[codes]).T & change
        self.same_bits = same @ weights
        target = np.where(ok[first], BLOCK[new_code[first]], -1).T  # (codes, stage actions)
        reach = (target[:, None, :] == np.arange(space.N_BLOCKS)[None, :, None]) @ weights
        self.reach = np.append(reach.ravel(), 0)
        self.no_reach = len(self.reach) - 1
        self.bools = (np.arange(2 ** self.per_stage)[:, None] & weights) != 0
        self.bool_rows = self.bools.view(np.dtype((np.void, self.per_stage)))[:, 0]
        # bits a mask starts from: [exclude invalid, exclude revisits (the current model's
        # other encodings)]
        self.start_bits = np.array([[self.change_bits, self.change_bits & ~self.same_bits],
                                    [self.valid_bits, self.valid_bits & ~self.same_bits]])


@lru_cache(maxsize=2)
def edit_tables(relative: bool) -> EditTables:
    """The (cached) tables of relative or absolute actions."""
    return EditTables(relative)


def _stage_blocks() -> np.ndarray:
    """Each model's three blocks as the bytes of one uint32 (the fourth byte 0), and two extra
    entries, at indices -2 and -1, that differ from every model in every stage."""
    blocks = np.zeros((space.N_MODELS + 2, 4), dtype=np.uint8)
    blocks[:space.N_MODELS, :space.N_STAGES] = space.block_indices(np.arange(space.N_MODELS))
    blocks[space.N_MODELS:, :space.N_STAGES] = 255
    return blocks.view(np.uint32).reshape(-1)


MODEL_BLOCKS = _stage_blocks()
#: 3 "stage differs" flags as bits 0..2 -> the one stage that differs, or -1
_ONE_STAGE = np.array([-1, 0, 1, -1, 2, -1, -1, -1])


def edit_masks(code: np.ndarray, mid: np.ndarray, visited: np.ndarray | None, relative: bool,
               feasible_model: np.ndarray | None, exclude_invalid: bool) -> np.ndarray:
    """Allowed actions ``(n, 36 or 21)`` of ``n`` states (``code``: their stage codes, ``mid``:
    their model ids): never a no-op; with ``exclude_invalid`` none to an invalid model; with
    ``feasible_model`` (a hardware mask constraint) none to a valid model outside it; none to
    a model id in the state's row of ``visited`` (whose rows must hold the current model, as
    the envs' do; other entries: model ids, or -2 for none).  A state left with nothing allows
    its no-ops (absolute) or every action (relative)."""
    t = edit_tables(relative)
    n = len(code)
    bits = t.start_bits[int(exclude_invalid), int(visited is not None)].take(code)  # (n, 3)
    if visited is not None:  # a model one edit away differs from the current one in one stage
        flat_bits, flat_code = bits.reshape(-1), code.reshape(-1)
        rows3, rows4 = np.arange(0, 3 * n, 3), np.arange(0, 4 * n, 4)
        own = MODEL_BLOCKS.take(mid).view(np.uint8).reshape(n, 4)
        for j in range(visited.shape[1]):
            other = MODEL_BLOCKS.take(visited[:, j]).view(np.uint8)
            differs = (other.reshape(n, 4) != own).view("<u4").reshape(n)  # a byte per stage
            stage = _ONE_STAGE.take((differs * 0x4081 >> 14) & 7)  # bytes 0..2 -> bits 14..16
            where = rows3 + np.maximum(stage, 0)
            key = flat_code.take(where) * space.N_BLOCKS + other.take(rows4 + stage)
            key[stage < 0] = t.no_reach
            flat_bits[where] = flat_bits.take(where) & ~t.reach.take(key)
    mask = t.bool_rows.take(bits).view(bool).reshape(n, t.n_actions)
    if feasible_model is not None:
        target = mid[:, None] + t.delta.reshape(t.n_actions, N_CODES)[
            np.arange(t.n_actions), code.take(t.stage, axis=1)]
        inside = feasible_model.take(np.maximum(target, 0))
        mask &= inside | (target < 0)  # invalid ones: kept or dropped by exclude_invalid
        empty = ~mask.any(axis=1)
    else:
        empty = (bits[:, 0] | bits[:, 1] | bits[:, 2]) == 0
    if empty.any():
        mask[empty] = True if relative else t.bools.take(t.noop_bits.take(code[empty]),
                                                         axis=0).reshape(-1, t.n_actions)
    return mask
