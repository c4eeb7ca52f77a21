"""One feature matrix per model for predictors, with named columns.

>>> X, names = predictors.features(ids, table)          # every group the table supports
>>> X, names = predictors.features(ids, include=["costs", "blocks"])

Groups (in this order; raw values, float64, not standardised):

* ``components``: one-hot of the 15 canonical components, 36 columns ``stage0.op0=conv``, ...;
* ``blocks``: each stage's block id 0..44 (``space.BLOCKS``), 3 columns ``stage0.block``, ...;
* ``stage_costs``: parameters and ptflops MACs of each stage's block, ``stage0.params``,
  ``stage0.macs``, ...;
* ``costs``: the whole network's ``params`` and ``flops`` (ptflops MACs, 3x32x32 input);
* ``latency``: ``latency.<device>`` in milliseconds, per device of the table;
* ``signatures``: the block signature of each stage's block after each stored number of
  distillation epochs ``e``, ``stage0.signature@e``, ... (lower = closer to the teacher);
* ``proxies``: zero-cost proxies stored with the table, ``proxy.<name>`` (NaN = not computed).

The first four need no table.  ``include=None`` takes every group the table has.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from blox_gym import costs, space
from predictors.encodings import block_choices, model_ids, onehot_components

GROUPS = ("components", "blocks", "stage_costs", "costs", "latency", "signatures", "proxies")
TABLE_GROUPS = ("latency", "signatures", "proxies")


def _component_names() -> list[str]:
    names = []
    for c, radix in zip(space.COMPONENT_NAMES, space.RADIX):
        values = space.OPS if c.endswith(("op0", "op1")) else range(radix)
        names += [f"{c}={v}" for v in values]
    return names


def features(models, table=None, include: Sequence[str] | None = None
             ) -> tuple[np.ndarray, list[str]]:
    """``(X, names)``: ``X`` float64 ``(N, F)`` for model ids or ``(N, 15)`` encodings
    ``models``; ``table`` (default: the default table) supplies the table groups."""
    ids = model_ids(models)
    groups = list(GROUPS if include is None else include)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown feature group {unknown[0]!r}; groups: {', '.join(GROUPS)}")
    if table is None and any(g in TABLE_GROUPS for g in groups):
        from blox_gym.table import open_table

        table = open_table()
    columns: list[np.ndarray] = []
    names: list[str] = []

    def add(values, labels):
        columns.append(np.asarray(values, dtype=np.float64).reshape(len(ids), -1))
        names.extend(labels)

    stages = range(space.N_STAGES)
    for group in groups:
        if group == "components":
            add(onehot_components(ids), _component_names())
        elif group == "blocks":
            add(block_choices(ids), [f"stage{s}.block" for s in stages])
        elif group == "stage_costs":
            blocks, k = costs.block_costs(), block_choices(ids)
            for s in stages:
                add(blocks[s, k[:, s]][:, [0, 2]], [f"stage{s}.params", f"stage{s}.macs"])
        elif group == "costs":
            add(costs.model_costs()[ids][:, [0, 2]], ["params", "flops"])
        elif group == "latency":
            for device in table.devices:
                add(table.latency(ids, device), [f"latency.{device}"])
        elif group == "signatures":
            k = block_choices(ids)
            for epochs in table.signature_epochs:
                signatures = table.signatures(epochs)
                add(np.stack([signatures[s, k[:, s]] for s in stages], axis=1),
                    [f"stage{s}.signature@{epochs}" for s in stages])
        else:
            for name in table.proxy_names:
                add(table.proxy(ids, name), [f"proxy.{name}"])
    X = np.concatenate(columns, axis=1) if columns else np.zeros((len(ids), 0))
    return X, names
