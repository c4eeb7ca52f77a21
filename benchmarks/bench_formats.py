"""Benchmark: export and import of the default table in the three official formats.

Exports the default (synthetic) table as ``.blox``, ``.pickle`` and ``.csv``, imports each
export back, and measures per format the wall time and the peak resident memory (RSS) of
each step, each in a fresh process.  Then it checks the round trip (every array of the
import equals the table's; ``.blox`` holds latency in seconds at 6 decimals, so latencies
agree to 0.5 us there), the consistency check of the original ``tools/test_datasets.py``
(the same rows from ``.blox``, ``.csv`` and ``.pickle``), and times reading each file
(header, body, columns) against the original reader's load times (its README).

Run from the repository root:  ``PYTHONPATH=. python benchmarks/bench_formats.py``
(builds the default table first if it is not in the cache).  The result replaces this
benchmark's section of ``BENCHMARKS.md`` (``--no-write`` skips that).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FORMATS = ("blox", "pickle", "csv")
# the original reader's load times on its author's machine (README), s: .blox, .pickle, .csv
PUBLISHED = {"blox-info": (0.40, 2.36, 2.88), "blox-env-0": (0.13, 0.065, 0.46),
             "blox-base-0": (1.10, 3.22, 4.92), "blox-ext-0": (4.86, 4.20, 18.74)}
SECTION = "## Official formats: import, export, decode (issue: formats)"
COMMAND = "PYTHONPATH=. python benchmarks/bench_formats.py"
_STEP = """
import json, resource, sys, time
from blox_gym.formats import export_store, import_release
kind, src, fmt, out = sys.argv[1:]
start = time.perf_counter()
if kind == "export":
    export_store(src, fmt, out, progress=False)
else:
    import_release(src, out, prefer=(fmt,), progress=False)
print(json.dumps({"s": time.perf_counter() - start,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def step(kind: str, src: str, fmt: str, out: str) -> dict:
    """Wall seconds and peak RSS (MB) of one export or import, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _STEP, kind, src, fmt, out], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def read_seconds(path: Path) -> float:
    from blox_gym.formats import files

    start = time.perf_counter()
    files.read(path.read_bytes(), path.name)
    return time.perf_counter() - start


def round_trip_differences(a_path: str, b_path: str, fmt: str) -> list[str]:
    """Arrays of ``b`` that differ from ``a`` (latency: beyond 0.5 us for ``.blox``); block
    signatures and fine-tuning arrays have no place in the release files and are not compared."""
    from blox_gym import store

    a, b = store.open_store(a_path), store.open_store(b_path)
    carried = set(store.TRAINING + store.DERIVED + store.STATIC)  # what release files hold
    names = sorted(carried & set(a.array_keys()) | {f"latency/{d}" for d in a.attrs["devices"]})
    bad = []
    for name in names:
        x, y = a[name][...], b[name][...]
        if name.startswith("latency/") and fmt == "blox":
            same = np.allclose(x, y, rtol=0, atol=5.1e-4, equal_nan=True)
        else:
            same = np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        if not same:
            bad.append(name)
    return bad


def consistency_failures(folders: dict[str, Path]) -> list[str]:
    """Files whose columns differ between the three formats (``tools/test_datasets.py``)."""
    from blox_gym.formats import files

    failures = []
    for path in sorted(folders["pickle"].iterdir()):
        columns = {fmt: files.read((folders[fmt] / f"{path.stem}.{fmt}").read_bytes(),
                                   f"{path.stem}.{fmt}")[1] for fmt in FORMATS}
        for fmt in ("blox", "csv"):
            for name, reference in columns["pickle"].items():
                other = columns[fmt][name]
                same = (np.allclose(reference, other, rtol=0, atol=5.1e-7)
                        if name == "latency" and fmt == "blox" else np.array_equal(reference, other))
                if not same:
                    failures.append(f"{path.stem}.{fmt} {name}")
    return failures


def run(workdir: Path) -> tuple[str, list[str]]:
    from blox_gym.table import open_table

    table = open_table()  # the default table; built on first use
    source = table.path
    rows, problems = [], []
    folders = {fmt: workdir / fmt for fmt in FORMATS}
    for fmt in FORMATS:
        exported = step("export", source, fmt, str(folders[fmt]))
        imported = step("import", str(folders[fmt]), fmt, str(workdir / f"{fmt}.zarr"))
        size = sum(p.stat().st_size for p in folders[fmt].iterdir())
        bad = round_trip_differences(source, str(workdir / f"{fmt}.zarr"), fmt)
        problems += [f"round trip .{fmt}: {name} differs" for name in bad]
        rows.append((fmt, size, exported, imported, "every array equal" if not bad else
                     f"{len(bad)} arrays differ"))
        print(f"{fmt}: export {exported}, import {imported}, round trip bad: {bad}", flush=True)
    problems += [f"consistency: {f}" for f in consistency_failures(folders)]
    reads = {stem: [read_seconds(folders[fmt] / f"{stem}.{fmt}") for fmt in FORMATS]
             for stem in PUBLISHED}
    return report(table.label, rows, reads, problems), problems


def report(label: str, rows: list, reads: dict, problems: list[str]) -> str:
    lines = [f"Table: {label}, exported whole (3 seeds of base files, the extended seed, info, "
             f"env, one bench file per device).", "",
             "| format | files, MB | export s | export peak RSS, MB | import s | "
             "import peak RSS, MB | round trip |", "|---|---:|---:|---:|---:|---:|---|"]
    for fmt, size, ex, im, trip in rows:
        lines.append(f"| .{fmt} | {size / 1e6:,.0f} | {ex['s']:.1f} | {ex['rss_mb']:,.0f} | "
                     f"{im['s']:.1f} | {im['rss_mb']:,.0f} | {trip} |")
    lines += ["", "Consistency check of `tools/test_datasets.py` (every column of every file "
              "equal in the three formats): " + ("passed" if not any(
                  p.startswith("consistency") for p in problems) else "FAILED"), "",
              "| read one file (header + body -> columns), s | .blox ours / original | "
              ".pickle ours / original | .csv ours / original |", "|---|---:|---:|---:|"]
    for stem, ours in reads.items():
        cells = [f"{o:.2f} / {p:.2f} ({p / o:.1f}x)" for o, p in zip(ours, PUBLISHED[stem])]
        lines.append(f"| {stem} | " + " | ".join(cells) + " |")
    lines += ["", "Original: the README's load times of its reader on its author's machine "
              "(not measured here; the ratio is original / ours, above 1 = ours faster)."]
    return "\n".join(lines)


def write_section(body: str, load: str) -> None:
    path = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
               f"Python {platform.python_version()}, numpy {np.__version__}")
    section = (f"{SECTION}\n\nCommand: `{COMMAND}`  \nMachine: {machine}, CPU only, shared with "
               f"other jobs (load average {load}), so wall times vary by tens of percent. "
               f"Each export and import runs in a fresh process; import times include writing "
               f"the Zarr store.\n\n{body}\n")
    if SECTION in text:  # replace only this section, keep the others
        head, rest = text.split(SECTION, 1)
        following = rest.find("\n## ")
        text = head + section + ("\n" + rest[following + 1:] if following >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
    print(f"updated {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        body, problems = run(Path(tmp))
    load = f"{before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(body)
    print(f"load average: {load}")
    if not args.no_write:
        write_section(body, load)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
