"""Zero-cost proxies: hand-computed cases on tiny networks, properties on real Blox networks,
resumable storage and the feature matrix."""

import math
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from blox_gym import proxies, proxy_store
from blox_gym.table import Table


def _probe(net, images, labels=None):
    return proxies.Probe(net, images, torch.zeros(len(images), dtype=torch.long)
                         if labels is None else labels)


def test_synflow_by_hand():
    net = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[-1.0, 2.0]]))
    # |w| = (1, 2), R = |w| . (1, 1) = 3, dR/dw = (1, 1): sum |w * dR/dw| = 3, data-free
    assert proxies.synflow(_probe(net, torch.randn(5, 2))) == pytest.approx(3.0)
    assert net.weight[0, 0] == -1.0  # the probe's network is left untouched


def test_naswot_by_hand():
    net = nn.Sequential(nn.Linear(1, 2, bias=False), nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
    # codes (1, 0) and (0, 1): K = [[2, 0], [0, 2]], log det K = 2 log 2
    value = proxies.naswot(_probe(net, torch.tensor([[1.0], [-1.0]])))
    assert value == pytest.approx(2 * math.log(2))


def test_blox_proxies_properties(torch_one_thread):
    images, labels = proxies.minibatch(4, seed=0)
    values = proxies.score(24519, batch=(images, labels))
    assert list(values) == list(proxies.PROXIES)
    assert values["grad_norm"] > 0 and values["snip"] > 0 and values["synflow"] > 0
    # log(v + k) + 1 / (v + k) >= 1 for every eigenvalue: jacob_cov <= -batch size
    assert values["jacob_cov"] <= -4
    order = torch.tensor([2, 0, 3, 1])
    shuffled = proxies.score(24519, batch=(images[order], labels[order]))
    for name in proxies.PROXIES:  # every proxy ignores the order of the batch
        assert shuffled[name] == pytest.approx(values[name], rel=1e-5), name
    other = proxies.minibatch(4, seed=1)
    assert proxies.score(24519, ["synflow"], batch=other)["synflow"] == values["synflow"]


def test_shared_pass_gives_each_proxy_its_value_alone(torch_one_thread):
    batch = proxies.minibatch(4, seed=3)
    for model in (0, 24519, 91124):
        together = proxies.score(model, proxies.PROXIES, batch)
        for name in proxies.PROXIES:  # alone: only its own pass (naswot: no gradients)
            alone = proxies.score(model, [name], batch)[name]
            assert together[name] == pytest.approx(alone, rel=1e-9, abs=0), (model, name)
    probe = proxies.Probe(nn.Linear(2, 2), torch.randn(3, 2), torch.zeros(3, dtype=torch.long),
                          names=["naswot"])
    with pytest.raises(ValueError, match="'loss_gradients' is not computed by this probe"):
        proxies.grad_norm(probe)


def test_agreements_count_exactly():
    codes = torch.rand(5, 3001, generator=torch.Generator().manual_seed(0)) > 0.5
    ones = codes.double()  # the definition: agreements on active plus on inactive units
    expected = ones @ ones.T + (1 - ones) @ (1 - ones).T
    assert torch.equal(proxies.agreements(codes), expected)
    assert torch.equal(torch.diagonal(expected), torch.full((5,), 3001.0))


def test_proxies_differ_between_models_and_repeat(torch_one_thread):
    batch = proxies.minibatch(4, seed=0)
    first = [proxies.score(m, ["synflow", "naswot"], batch) for m in (0, 24519, 91124)]
    again = proxies.score(91124, ["synflow", "naswot"], batch)
    assert again == first[2]
    assert len({round(v["synflow"], 6) for v in first}) == 3
    with pytest.raises(ValueError, match="unknown proxy 'zen'; proxies: synflow"):
        proxies.score(0, ["zen"])


def test_store_is_resumable_and_feeds_features(small_store, tmp_path, torch_one_thread):
    import predictors

    copy = tmp_path / "table.zarr"
    shutil.copytree(small_store[0], copy)
    assert proxy_store.compute(copy, np.array([5, 7]), ["synflow"], batch_size=4,
                               progress=False) == {"synflow": 2}
    assert proxy_store.compute(copy, np.array([5, 7, 9]), ["synflow"], batch_size=4, jobs=2,
                               progress=False) == {"synflow": 1}  # in a spawned worker
    with pytest.raises(ValueError, match=r"batch_size=4 \(asked 8\)"):
        proxy_store.compute(copy, np.array([5]), ["synflow"], batch_size=8, progress=False)
    table = Table(copy)
    assert table.proxy_names == ["synflow"]
    expected = proxies.score(9, ["synflow"], proxies.minibatch(4))["synflow"]
    assert table.proxy(9, "synflow") == expected and np.isnan(table.proxy(6, "synflow"))
    X, names = predictors.features(np.array([9, 6]), table, include=["proxies", "latency"])
    assert names == ["proxy.synflow", "latency.dev-a"]
    assert X[0, 0] == expected and X[1, 1] == table.latency(6, "dev-a")


def test_command_writes_a_proxies_store(tmp_path, torch_one_thread):
    import zarr

    from blox_gym import cli

    out = tmp_path / "proxies.zarr"
    assert cli.main(["proxies", "--proxy", "synflow", "--models", "3,5", "--batch-size", "2",
                     "--out", str(out)]) == 0
    values = zarr.open_group(out, mode="r")["proxies/synflow"][...]
    assert np.flatnonzero(~np.isnan(values)).tolist() == [3, 5]
    assert values[5] == proxies.score(5, ["synflow"], proxies.minibatch(2))["synflow"]
    assert cli.main(["proxies", "--proxy", "zen", "--models", "3", "--out", str(out)]) == 2


def test_ray_backend_gives_the_local_values(tmp_path, torch_one_thread):
    ray = pytest.importorskip("ray")
    out = tmp_path / "proxies.zarr"
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        counts = proxy_store.compute(out, np.array([3, 8, 5]), ["synflow", "naswot"],
                                     batch_size=2, backend="ray", chunk=2, progress=False)
    finally:
        ray.shutdown()
    assert counts == {"synflow": 3, "naswot": 3}
    import zarr

    group = zarr.open_group(out, mode="r")["proxies"]
    batch = proxies.minibatch(2)
    for model in (3, 5, 8):  # each computed here in this process: the same numbers
        expected = proxies.score(model, ["synflow", "naswot"], batch)
        assert group["synflow"][model] == expected["synflow"]
        assert group["naswot"][model] == expected["naswot"]
    with pytest.raises(ValueError, match="unknown backend 'dask'; backends: local, ray"):
        proxy_store.compute(out, np.array([1]), ["synflow"], batch_size=2, backend="dask")
