"""Training throughput of the measurement pipeline, against a per-image DataLoader loop.

For the smallest, median and largest model by MACs, in ``--rounds`` alternating rounds
(medians reported): images/s of one pass of the Normal recipe's training step (augmentation, forward, backward, SGD step) over ``--images`` images,

* ``device``: blox-gym's pipeline (:func:`blox_gym.pipeline.train.train_epoch`): uint8
  data on the device, augmented there in whole batches;
* ``dataloader``: the same model, optimizer and augmentation ops applied per image in a
  ``torch.utils.data.Dataset`` behind a ``DataLoader`` with ``--workers`` processes (the
  original's structure), batches collated and moved to the device.

Also printed: the fraction of peak FLOP/s reached (a training step taken as 3 x the forward
MACs x 2 FLOPs; ``--peak-tflops`` names the peak), and the cost of 200 epochs per model and of
all 91,125 models, from a line fitted to seconds per image against MACs (train images plus
a third of the validation images per epoch).

    python benchmarks/bench_pipeline.py                       # CPU, 256 images, with baseline
    python benchmarks/bench_pipeline.py --device cuda --images 45000 --no-baseline
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from blox_gym import augment, costs, space
from blox_gym.datasets import Split, load_dataset
from blox_gym.pipeline.recipes import Normal
from blox_gym.pipeline.runtime import Options
from blox_gym.pipeline.train import build_network, train_epoch

TRAIN_IMAGES, VAL_IMAGES, EPOCHS = 45_000, 5_000, 200


def pick_models() -> dict[str, int]:
    """Smallest, median and largest model by ptflops MACs."""
    macs = costs.model_costs()[:, 2]
    order = np.argsort(macs, kind="stable")
    return {"smallest": int(order[0]), "median": int(order[len(order) // 2]),
            "largest": int(order[-1])}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_device(model: int, split: Split, recipe: Normal, options: Options, data) -> float:
    """Images/s of the device-side pipeline (one untimed warm-up batch first)."""
    net = build_network(model, data, 0, options)
    opt = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    loss = lambda logits, x, y: F.cross_entropy(logits, y)  # noqa: E731
    warm = Split(split.images[:recipe.batch_size], split.labels[:recipe.batch_size])
    generator = torch.Generator(device=split.labels.device).manual_seed(0)
    train_epoch(net, warm, opt, loss, recipe, generator, options)
    _sync(options.device)
    started = time.perf_counter()
    train_epoch(net, split, opt, loss, recipe, generator, options)
    _sync(options.device)
    return len(split) / (time.perf_counter() - started)


class PerImage(torch.utils.data.Dataset):
    """The same augmentation, one image at a time (as a torchvision transform would run)."""

    def __init__(self, split: Split):
        self.images, self.labels = split.images.cpu(), split.labels.cpu()
        self.generator = torch.Generator().manual_seed(0)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return augment.train_batch(self.images[i:i + 1], self.generator)[0], self.labels[i]


def time_dataloader(model: int, split: Split, recipe: Normal, options: Options, data,
                    workers: int) -> float:
    """Images/s of a plain loop over a per-image augmentation DataLoader."""
    net = build_network(model, data, 0, options)
    opt = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    loader = torch.utils.data.DataLoader(PerImage(split), batch_size=recipe.batch_size,
                                         shuffle=True, num_workers=workers,
                                         pin_memory=options.is_cuda,
                                         persistent_workers=workers > 0)

    def step(x, y):
        x, y = x.to(options.device, non_blocking=True), y.to(options.device, non_blocking=True)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    net.train()
    for x, y in loader:  # warm-up pass over one batch, untimed
        step(x, y)
        break
    _sync(options.device)
    started = time.perf_counter()
    for x, y in loader:
        step(x, y)
    _sync(options.device)
    return len(split) / (time.perf_counter() - started)


def project(rows: list[dict], peak_tflops: float | None) -> dict:
    """Fraction of peak, 200-epoch cost per model and of all models (seconds)."""
    macs_all = costs.model_costs()[:, 2].astype(np.float64)
    per_image = np.array([1 / r["device_img_s"] for r in rows])
    macs = np.array([r["macs"] for r in rows], dtype=np.float64)
    slope, intercept = np.polyfit(macs, per_image, 1) if len(rows) > 1 else (0.0, per_image[0])
    epoch_images = TRAIN_IMAGES + VAL_IMAGES / 3
    for r, s in zip(rows, per_image):
        r["epoch_s"] = s * epoch_images
        r["run_200_epochs_h"] = r["epoch_s"] * EPOCHS / 3600
        if peak_tflops:
            r["fraction_of_peak"] = 6 * r["macs"] * r["device_img_s"] / (peak_tflops * 1e12)
    total = float(np.sum(np.maximum(intercept + slope * macs_all, per_image.min()))) \
        * epoch_images * EPOCHS
    return {"all_models_200_epochs_device_hours": total / 3600,
            "fit_seconds_per_image": {"intercept": float(intercept), "per_mac": float(slope)}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--dataset", default=None, help="default: fake data of --images images")
    p.add_argument("--data-dir")
    p.add_argument("--images", type=int, default=256, help="training images timed per model")
    p.add_argument("--batch-size", type=int, default=Normal.batch_size)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="DataLoader workers of the baseline")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--rounds", type=int, default=3,
                   help="alternating rounds of both pipelines per model; medians (default 3)")
    p.add_argument("--models", nargs="+", default=["smallest", "median", "largest"])
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="the device's peak TFLOP/s for the fraction of peak")
    p.add_argument("--json", help="write the results to this file")
    args = p.parse_args(argv)
    options = Options(device=args.device, channels_last=args.channels_last, bf16=args.bf16)
    options.check()
    data = load_dataset(args.dataset or f"fake:{max(args.images, 10)}", args.data_dir)
    data = data.to(args.device)
    split = Split(data.train.images[:args.images], data.train.labels[:args.images])
    recipe = Normal(batch_size=args.batch_size)
    chosen = {k: v for k, v in pick_models().items() if k in args.models}
    rows = []
    for label, model in chosen.items():
        row = {"model": label, "id": model, "macs": int(costs.model_costs()[model, 2]),
               "blocks": [space.BLOCKS[k].ops for k in space.block_indices(model)]}
        device, loader = [], []
        for _ in range(args.rounds):  # alternating halves: a change of load hits both
            device.append(time_device(model, split, recipe, options, data))
            if not args.no_baseline:
                loader.append(time_dataloader(model, split, recipe, options, data,
                                              args.workers))
        row["device_img_s"] = float(np.median(device))
        if loader:
            row["dataloader_img_s"] = float(np.median(loader))
            row["speedup"] = row["device_img_s"] / row["dataloader_img_s"]
            row["rounds"] = {"device_img_s": device, "dataloader_img_s": loader}
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = project(rows, args.peak_tflops)
    result = {"device": args.device, "images": len(split), "batch_size": args.batch_size,
              "workers": args.workers, "torch_threads": torch.get_num_threads(),
              "loadavg": open("/proc/loadavg").read().split()[:3] if os.path.exists(
                  "/proc/loadavg") else None, "models": rows, **summary}
    print(json.dumps({k: v for k, v in result.items() if k != "models"}, indent=1))
    for r in rows:
        line = (f"{r['model']:>8} #{r['id']:<6} {r['macs'] / 1e6:6.1f} M MACs: "
                f"{r['device_img_s']:8.1f} img/s on-device")
        if "speedup" in r:
            line += f", {r['dataloader_img_s']:8.1f} img/s DataLoader, x{r['speedup']:.2f}"
        if "fraction_of_peak" in r:
            line += f", {100 * r['fraction_of_peak']:.1f}% of peak"
        print(line + f"; 200 epochs: {r['run_200_epochs_h']:.2f} h")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
