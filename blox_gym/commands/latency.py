"""``blox-gym latency``: measure latency on this machine (or a Ray cluster) into a table."""

from __future__ import annotations

import argparse
import os

from blox_gym.latency import backends, protocol


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--out", required=True,
                        help="an existing table (Zarr store) to add latency/<device> to; "
                             "measured models are skipped, so rerunning resumes")
    parser.add_argument("--create", action="store_true",
                        help="if --out does not exist, create a table holding latencies only")
    parser.add_argument("--device", choices=backends.DEVICES, default="cpu",
                        help="where the networks run (default cpu)")
    parser.add_argument("--backend", choices=list(backends.BACKENDS), default="eager",
                        help="the inference runtime: eager PyTorch (default), TorchScript, "
                             "torch.compile or ONNX Runtime")
    parser.add_argument("--batch", type=int, default=1, help="images per inference (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    parser.add_argument("--runs", type=int, default=protocol.RUNS,
                        help=f"timed runs per model (default {protocol.RUNS}, the paper's)")
    parser.add_argument("--warmup", type=int, default=protocol.WARMUP,
                        help=f"untimed runs first (default {protocol.WARMUP})")
    parser.add_argument("--interleave", type=int, default=1, metavar="K",
                        help="time K models in turns of 10 runs each, so that a shared "
                             "machine's drift slows all of them alike (default 1: one model "
                             "after another, as the paper)")
    parser.add_argument("--models", default="all",
                        help="ids (0,45,91124), ranges (0-999), sample:N or all (default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of sample:N (default 0)")
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="spread the models over a Ray cluster ('auto', 'local' or an "
                             "address), one model at a time per node")
    parser.add_argument("--chunk", type=int, default=16,
                        help="models per Ray task (default 16)")
    parser.add_argument("--node-type", type=int, metavar="I",
                        help="on a mixed Ray cluster, measure on node type I only")
    parser.add_argument("--additive", action="store_true",
                        help="time the 3 x 45 cells and the fixed part once and write their "
                             "sums for all models as latency/<device>-additive")
    return parser


def run(args: argparse.Namespace) -> int:
    from blox_gym.latency.measure import Settings
    from blox_gym.modelspec import parse_models

    settings = Settings(args.device, args.backend, args.batch, args.threads, args.runs,
                        args.warmup, interleave=args.interleave)
    settings.name  # validates the settings before any work
    if args.create and not os.path.exists(args.out):
        from blox_gym.latency.measure import create_latency_table

        create_latency_table(args.out)
    if args.additive:
        from blox_gym.latency.additive import write_additive

        name = write_additive(args.out, settings)
        print(f"wrote {name} (fixed part + 3 cells, 136 timings) for all models to {args.out}")
        return 0
    ids = parse_models(args.models, seed=args.seed)
    if args.ray:
        from blox_gym.latency.cluster import measure_on_ray

        name, done = measure_on_ray(args.out, ids, settings, address=args.ray,
                                    chunk=args.chunk, node_type=args.node_type)
    else:
        from blox_gym.latency.measure import measure_into

        name, done = measure_into(args.out, ids, settings)
    print(f"latency/{name}: measured {done} model(s), {len(ids) - done} already present, "
          f"in {args.out}")
    return 0
