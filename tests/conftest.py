import os
import tempfile

# Keep the suite hermetic: caches and the default table live in one scratch folder per run,
# unless the caller points BLOX_GYM_DATA somewhere on purpose.
os.environ.setdefault("BLOX_GYM_DATA", tempfile.mkdtemp(prefix="blox-gym-tests-"))

import numpy as np
import pytest

from blox_gym import costs, space, store

SMALL_EPOCHS = 20


def small_arrays(seed: int = 0) -> tuple[dict, dict]:
    """A full-size table with short curves and random values on the release's grids.

    Two seeds; extended train metrics for seed 0 only; one latency device; signatures.
    """
    rng = np.random.default_rng(seed)
    n, e = space.N_MODELS, SMALL_EPOCHS
    val = rng.integers(1500, 4000, (2, n, e)) / 50
    train_top1 = rng.integers(10_000, 40_000, (2, n, e)) / 450
    train_top1[1] = np.nan
    loss = np.round(rng.uniform(0.5, 4.5, (2, n, e)), 6)
    loss[1] = np.nan
    arrays = {
        "val_top1": val,
        "test_top1": rng.integers(6500, 7800, (2, n)) / 100,
        "train_time_s": rng.integers(1500, 6000, (2, n)).astype(float),
        "train_top1": np.round(train_top1, 3),
        "train_loss": loss,
        "params": costs.model_costs()[:, 0],
        "flops": costs.model_costs()[:, 2],
        "latency/dev-a": rng.uniform(1, 10, n).astype(np.float32),
        "signatures": rng.uniform(0, 1, (3, 45, 2)).astype(np.float32),
    }
    attrs = {"name": "test-table", "seeds": [0, 3], "source": {"kind": "test"},
             "licence": "none", "signature_epochs": [1, 10],
             "env": {0: {"python": "3.11"}, 3: {"python": "3.12"}}}
    return arrays, attrs


@pytest.fixture(scope="session")
def small_store(tmp_path_factory):
    arrays, attrs = small_arrays()
    path = tmp_path_factory.mktemp("stores") / "small.zarr"
    store.write_store(path, arrays, attrs, progress=False)
    return str(path), arrays


def structured_arrays(seed: int = 0) -> tuple[dict, dict]:
    """A small table with learnable structure: accuracy = additive block effects + noise.

    Curves rise over 20 epochs to the model's final accuracy; one seed; one latency device.
    """
    rng = np.random.default_rng(seed)
    n, e = space.N_MODELS, SMALL_EPOCHS
    effects = rng.normal(0, 1.0, (3, 45))
    ids = np.arange(n)
    k = np.stack([(ids // 45**s) % 45 for s in range(3)])
    final = 72 + effects[0, k[0]] + effects[1, k[1]] + effects[2, k[2]] + rng.normal(0, 0.2, n)
    rise = 1 - np.exp(-np.arange(1, e + 1) / 4)
    val = np.round((final[:, None] * rise[None, :]) * 50) / 50
    arrays = {
        "val_top1": val[None],
        "test_top1": (np.round((final + rng.normal(0, 0.1, n)) * 100) / 100)[None],
        "train_time_s": np.round(costs.model_costs()[:, 2] / 1e5)[None].astype(float),
        "latency/dev-a": (costs.model_costs()[:, 2] / 3e7).astype(np.float32),
    }
    attrs = {"name": "structured-test-table", "seeds": [0], "source": {"kind": "test"},
             "licence": "none"}
    return arrays, attrs


@pytest.fixture(scope="session")
def structured_store(tmp_path_factory):
    arrays, attrs = structured_arrays()
    path = tmp_path_factory.mktemp("stores") / "structured.zarr"
    store.write_store(path, arrays, attrs, progress=False)
    return str(path), arrays


@pytest.fixture(scope="session")
def ft_table(tmp_path_factory):
    """The structured test table plus block signatures and a fine-tuning world drawn on it."""
    from blox_gym import synthetic_accuracy as accuracy
    from blox_gym import synthetic_finetune
    from blox_gym.table import Table

    arrays, attrs = structured_arrays()
    test0 = arrays["test_top1"][0]
    k = accuracy.stage_digits()
    effect = np.stack([np.bincount(k[s], weights=test0, minlength=45) / 2025 for s in range(3)])
    world = accuracy.World(test0, effect - test0.mean())
    rng = np.random.default_rng(0)
    legacy = accuracy.signatures(world, rng)
    ft_arrays, ft_attrs = synthetic_finetune.generate(world, test0, rng, legacy)
    path = tmp_path_factory.mktemp("stores") / "blockwise.zarr"
    store.write_store(path, {**arrays, **ft_arrays, "signatures": legacy},
                      {**attrs, **ft_attrs, "signature_epochs": [1, 10]}, progress=False)
    return Table(path)


@pytest.fixture()
def torch_one_thread():
    """Torch on one thread: small models train faster and steadier on a busy 2-core machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
