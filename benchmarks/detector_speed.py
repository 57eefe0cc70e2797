"""MemAEDetector.fit against PyOD's AutoEncoder.fit, side by side in one process, and full-size large tables.

``compare``: the same data and the same number of epochs; fits interleaved (MemAE, PyOD, MemAE, ...) so machine-load
drift hits both alike; medians.  Each at its library's default batch size (MemAE 256, PyOD 32) and both at one batch
size (--batch).  ``large``: fit and score ADBench's largest tables at full size, recording the process's peak
resident memory next to the table's own size (memory bounded by the batch: the network, one batch and the scores).

    python benchmarks/detector_speed.py compare --rows 20000 --features 20 --epochs 5 --repeats 3 --threads 1
    python benchmarks/detector_speed.py large --tables donors,http,cover --epochs 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from memae import MemAEDetector

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def compare(args: argparse.Namespace) -> dict:
    from pyod.models.auto_encoder import AutoEncoder

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(args.rows, 4)) @ rng.normal(size=(4, args.features))
         + 0.1 * rng.normal(size=(args.rows, args.features))).astype(np.float64)
    clock = CLOCKS[args.clock]
    settings = {
        "default batch sizes": (dict(), dict()),
        f"both batch {args.batch}": (dict(batch_size=args.batch), dict(batch_size=args.batch)),
    }
    out = {}
    for label, (memae_kw, pyod_kw) in settings.items():
        makers = {
            "MemAEDetector": lambda: MemAEDetector(epochs=args.epochs, device="cpu", random_state=0, **memae_kw),
            "PyOD AutoEncoder": lambda: AutoEncoder(epoch_num=args.epochs, device="cpu", random_state=0, verbose=0,
                                                    **pyod_kw),
        }
        times = {name: [] for name in makers}
        for _ in range(args.repeats):
            for name, make in makers.items():
                det = make()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tic = clock()
                    det.fit(X)
                    times[name].append(clock() - tic)
        med = {name: statistics.median(t) for name, t in times.items()}
        out[label] = {"median_seconds": med, "all_seconds": times,
                      "memae_over_pyod": med["MemAEDetector"] / med["PyOD AutoEncoder"]}
        print(f"{label}: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items())
              + f"; MemAE / PyOD = {out[label]['memae_over_pyod']:.2f}", flush=True)
    return out


def large(args: argparse.Namespace) -> dict:
    root = Path(args.data_root) / "classical"
    out = {}
    for name in args.tables.split(","):
        path = next(root.glob(f"*_{name}.npz"))
        with np.load(path) as data:
            X = np.asarray(data["X"], dtype=np.float32)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
        det = MemAEDetector(epochs=args.epochs, device="cpu", random_state=0, preprocessing="minmax")
        tic, cpu = time.perf_counter(), time.process_time()
        det.fit(X)
        fit_s, fit_cpu = time.perf_counter() - tic, time.process_time() - cpu
        tic, cpu = time.perf_counter(), time.process_time()
        scores = det.decision_function(X)
        score_s, score_cpu = time.perf_counter() - tic, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out[name] = {"rows": len(X), "features": X.shape[1], "epochs": args.epochs, "fit_seconds": fit_s,
                     "fit_cpu_seconds": fit_cpu, "cpu_seconds_per_epoch": fit_cpu / args.epochs,
                     "score_seconds": score_s, "score_cpu_seconds": score_cpu,
                     "rows_per_cpu_second_scored": len(X) / score_cpu, "table_mib_float32": X.nbytes / 2**20,
                     "peak_rss_mib_before": rss_before, "peak_rss_mib_after": peak, "finite": bool(np.isfinite(scores).all())}
        print(name, json.dumps(out[name]), flush=True)
        del X, det, scores
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("compare")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--clock", choices=CLOCKS, default="cpu")
    p = sub.add_parser("large")
    p.add_argument("--data-root", default="../shared/datasets/adbench")
    p.add_argument("--tables", default="donors,http,cover")
    p.add_argument("--epochs", type=int, default=1)
    for p in parser._subparsers._group_actions[0].choices.values():
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = compare(args) if args.what == "compare" else large(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
