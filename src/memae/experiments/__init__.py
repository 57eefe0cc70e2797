"""Experiments: one thin module per paper table/figure, each a YAML config plus a loop over ``fit_and_score``.

``memae reproduce NAME`` dispatches here.
"""

from __future__ import annotations

import argparse
import importlib

from ..errors import ConfigError, UnknownNameError

EXPERIMENTS = {
    "table1": ("memae.experiments.table1", "Table 1: one-class MNIST / CIFAR-10 / image folders, all methods"),
    "table3": ("memae.experiments.table3", "Table 3: KDDCUP99 precision/recall/F1 over 20 runs"),
    "table2": ("memae.experiments.video", "Table 2: video frame-level AUC (AE, MemAE-nonSpar, MemAE)"),
    "table4": ("memae.experiments.video", "Table 4: Ped2 ablation (AE, AE-l1, no shrinkage, no entropy, MemAE)"),
    "fig7": ("memae.experiments.video", "Figure 7: AUC against memory size N"),
}


def add_reproduce_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="reproduce a paper table or figure with one command",
                       description="; ".join(f"{k}: {v[1]}" for k, v in EXPERIMENTS.items()))
    p.add_argument("experiment", help=", ".join(EXPERIMENTS))
    p.add_argument("--dataset", help="table1: mnist, fashion-mnist, cifar10, folder, digits; table2: ped2, avenue, shanghaitech")
    p.add_argument("--data-root", help="folder holding the dataset (never downloaded)")
    p.add_argument("--methods", help="comma-separated method names (default: the table's rows)")
    p.add_argument("--seeds", help="comma-separated seeds (default: the table's protocol)")
    p.add_argument("--classes", help="table1: comma-separated normal classes (default: all)")
    p.add_argument("--epochs", type=int, help="epochs for the deep models")
    p.add_argument("--preset", help="video: paper or cpu")
    p.add_argument("--device", help="auto, cpu, cuda")
    p.add_argument("--quick", action="store_true", help="a smoke run: few classes/seeds/epochs")
    p.add_argument("--out", default="runs", help="parent folder of the run folder (default: runs)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted reproduction in RUN_DIR")
    p.add_argument("--reuse", metavar="RUN_DIR", action="append", default=[],
                   help="video: take finished methods with the same config from another run (Table 4 shares AE and "
                   "MemAE with Table 2); repeat to merge several runs")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the experiment's config")
    p.set_defaults(func=lambda args: reproduce(args))


def reproduce(args: argparse.Namespace) -> int:
    if args.experiment not in EXPERIMENTS:
        raise UnknownNameError(f"unknown experiment {args.experiment!r}; choose one of {', '.join(EXPERIMENTS)}")
    if getattr(args, "reuse", None) and args.experiment not in ("table2", "table4", "fig7"):
        raise ConfigError(f"--reuse is for the video experiments (table2, table4, fig7), not {args.experiment}")
    module = importlib.import_module(EXPERIMENTS[args.experiment][0])
    return int(module.main(args) or 0)
