"""``memae benchmark NAME``: the argparse side of the benchmarks (the library code takes typed arguments)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

DEFAULT_DATA_ROOT = Path("..") / "shared" / "datasets" / "adbench"


def add_benchmark_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmark", help="standard benchmarks: 'adbench' (MemAEDetector vs PyOD on ADBench's tables)",
                       description="adbench: ADBench's unsupervised protocol on its classical tables and the MVTec-AD "
                       "ResNet-18 embeddings; resumes from the CSV in --out.")
    p.add_argument("benchmark", choices=("adbench",))
    p.add_argument("--data-root", default=str(DEFAULT_DATA_ROOT),
                   help="folder with classical/*.npz and cv_resnet18/*.npz (default: ../shared/datasets/adbench)")
    p.add_argument("--out", default="docs/results", help="folder for adbench.csv/.md and the diagrams")
    p.add_argument("--name", default=None, help="file stem (default: adbench, or adbench_quick with --quick)")
    p.add_argument("--tables", help="comma-separated table names, e.g. cardio,MVTec-AD_bottle (default: all)")
    p.add_argument("--detectors", help="comma-separated detector names (default: all nine)")
    p.add_argument("--seeds", help="comma-separated seeds (default: 1,2,3 as ADBench)")
    p.add_argument("--quick", action="store_true", help="a handful of small tables, seed 1")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1, as the published times)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_benchmark)


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def cmd_benchmark(args: argparse.Namespace) -> int:
    import torch

    from ..errors import ConfigError
    from ..experiments.adbench import DETECTORS, QUICK_TABLES, SEEDS, run_adbench

    tables = _split(args.tables) or (list(QUICK_TABLES) if args.quick else None)
    try:
        seeds = [int(s) for s in _split(args.seeds)] if args.seeds else ([1] if args.quick else list(SEEDS))
    except ValueError:
        raise ConfigError(f"--seeds takes comma-separated integers, not {args.seeds!r}") from None
    torch.set_num_threads(max(1, args.threads))
    flags = [("--data-root", args.data_root), ("--out", args.out), ("--name", args.name), ("--tables", args.tables),
             ("--detectors", args.detectors), ("--seeds", args.seeds)]
    command = " ".join(["memae benchmark adbench"] + [f"{k} {shlex.quote(str(v))}" for k, v in flags if v is not None]
                       + (["--quick"] if args.quick else []) + ([f"--threads {args.threads}"] if args.threads != 1 else []))
    result = run_adbench(args.data_root, args.out, tables=tables, detectors=_split(args.detectors) or DETECTORS,
                         seeds=seeds, name=args.name or ("adbench_quick" if args.quick else "adbench"),
                         progress=not args.no_progress, command=command)
    state = "complete" if result["complete"] else "PARTIAL"
    print(f"{result['rows_done']} fits in {result['seconds'] / 60:.1f} min; report ({state}): {result['markdown']}")
    return 0
