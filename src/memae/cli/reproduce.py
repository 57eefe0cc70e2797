"""``memae reproduce``: the argument parser; the experiments themselves take a typed
:class:`memae.experiments.ReproduceOptions`."""

from __future__ import annotations

import argparse
from dataclasses import fields

__all__ = ["add_reproduce_parser", "cmd_reproduce"]


def add_reproduce_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``reproduce`` to the ``memae`` command's sub-commands; sets ``func`` to :func:`cmd_reproduce`."""
    from ..experiments import EXPERIMENTS  # a plain dict: importing it loads no library

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
    p.set_defaults(func=cmd_reproduce)
    return p


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ..experiments import ReproduceOptions, reproduce

    return reproduce(ReproduceOptions(**{f.name: getattr(args, f.name) for f in fields(ReproduceOptions)}))
