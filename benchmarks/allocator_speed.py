"""Video training speed under three memory allocators: glibc's default, the memae CLI's glibc setting, jemalloc.

PyTorch's CPU tensors come from ``malloc``.  glibc serves a block above its mmap threshold (at most 32 MiB) with a
fresh ``mmap`` and unmaps it on ``free``, so the video network's large activation buffers are faulted in page by
page at every step: on a 2-core machine that showed as about 54,000 minor page faults a second and a fifth of the
time in the kernel.  This script runs ``benchmarks/video_speed.py`` (one thread, the ``cpu`` preset) in a child
process per allocator, in interleaved rounds so that a change of load hits every allocator alike, and prints the
median training step, the minor page faults per step and the ratio to glibc's default:

* ``glibc``: no setting;
* ``glibc-heap``: what every ``memae`` command does at start (:func:`memae.cli.allocator.keep_freed_memory`):
  ``mallopt`` serves every block from the heap and keeps up to 1 GiB of freed heap for the next step;
* ``jemalloc``: ``LD_PRELOAD`` of ``libjemalloc.so.2`` with purging off, where the library is installed
  (Debian: ``apt-get install libjemalloc2``).

The allocator changes no arithmetic: the last training step's loss must be equal under all three (checked).

    python benchmarks/allocator_speed.py --rounds 3 --json allocator.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
JEMALLOC_PATHS = ("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
                  "/usr/lib64/libjemalloc.so.2", "/usr/local/lib/libjemalloc.so.2")


def allocators() -> dict[str, tuple[dict[str, str], list[str]]]:
    """Allocator name -> (environment additions, ``video_speed.py`` flags); jemalloc where its library is found."""
    found = {"glibc": ({}, []), "glibc-heap": ({}, ["--keep-freed-memory"])}
    jemalloc = next((p for p in JEMALLOC_PATHS if Path(p).exists()), None)
    if jemalloc:
        found["jemalloc"] = ({"LD_PRELOAD": jemalloc, "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}, [])
    return found


def run_child(extra_env: dict[str, str], flags: list[str], args: argparse.Namespace) -> dict:
    """One ``video_speed.py`` run: its training step time, last loss, page faults and kernel share."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "LD_PRELOAD"}
    env = {**inherited, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **extra_env}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speed.json"
        subprocess.run([sys.executable, str(HERE / "video_speed.py"), "--presets", args.preset, "--threads", "1",
                        "--repeats", "1", "--warmup", "0", "--train-warmup", "1",
                        "--train-repeats", str(args.steps), "--json", str(out), *flags],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        row = json.loads(out.read_text())["rows"][0]
    return {key: row[key] for key in ("train_s_per_step", "train_last_loss", "train_minor_faults_per_step",
                                      "train_kernel_share")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="cpu", help="video preset to time (default: cpu)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is over them (default 3)")
    p.add_argument("--steps", type=int, default=3, help="timed training steps per child (default 3)")
    p.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    setups = allocators()
    runs: dict[str, list[dict]] = {name: [] for name in setups}
    for round_index in range(args.rounds):
        for name, (extra_env, flags) in setups.items():
            runs[name].append(run_child(extra_env, flags, args))
            print(f"round {round_index + 1}: {name:>14} {runs[name][-1]['train_s_per_step']:.2f} s/step", flush=True)
    base = statistics.median(r["train_s_per_step"] for r in runs["glibc"])
    losses = {r["train_last_loss"] for rs in runs.values() for r in rs}
    summary = {}
    print(f"\n{'allocator':>14} {'s/step':>7} {'vs glibc':>8} {'faults/step':>11} {'kernel':>7}")
    for name, rs in runs.items():
        t = statistics.median(r["train_s_per_step"] for r in rs)
        summary[name] = {"train_s_per_step": t, "speedup_vs_glibc": base / t,
                         "minor_faults_per_step": statistics.median(r["train_minor_faults_per_step"] for r in rs),
                         "kernel_share": statistics.median(r["train_kernel_share"] for r in rs)}
        s = summary[name]
        print(f"{name:>14} {t:7.2f} {s['speedup_vs_glibc']:7.2f}x {s['minor_faults_per_step']:11.0f} {s['kernel_share']:7.1%}")
    print(f"last training loss equal under every allocator: {len(losses) == 1} ({sorted(losses)})")
    if args.json:
        sys.path.insert(0, str(HERE.parent / "src"))
        from memae.experiments.runner import machine_info
        from memae.io import write_json

        write_json(args.json, {"machine": machine_info(), "args": vars(args) | {"json": str(args.json)},
                               "summary": summary, "runs": runs, "losses_equal": len(losses) == 1})
    return 0 if len(losses) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
