"""Experiments: orchestration only (the data comes from :mod:`memae.data`, the training from :mod:`memae.training`).

:mod:`.runner` is the one pipeline of ``memae train`` and ``memae evaluate`` for every kind of data (video through
:mod:`.video_run`, one unit of :mod:`.video_unit`); the paper's tables and figures are one thin module each, a YAML
config plus a loop over ``fit_and_score`` (images, tables) or over video units (:mod:`.video`: Tables 2, 4 and
Figure 7).

``memae reproduce NAME`` (parsed in :mod:`memae.cli.reproduce`) calls :func:`reproduce` with a typed
:class:`ReproduceOptions`; Python code can do the same without a command line::

    from memae.experiments import ReproduceOptions, reproduce
    reproduce(ReproduceOptions("table3", data_root="../shared/datasets/kddcup99", quick=True))

May import: config, data, models, training, scoring, baselines, reporting, io, errors; never cli, the package
root or argparse (``lint-imports`` checks this; see ``pyproject.toml``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import ConfigError, UnknownNameError

__all__ = ["EXPERIMENTS", "VIDEO_EXPERIMENTS", "ReproduceOptions", "reproduce"]

EXPERIMENTS = {
    "table1": ("memae.experiments.table1", "Table 1: one-class MNIST / CIFAR-10 / image folders, all methods"),
    "table3": ("memae.experiments.table3", "Table 3: KDDCUP99 precision/recall/F1 over 20 runs"),
    "table2": ("memae.experiments.video", "Table 2: video frame-level AUC (AE, MemAE-nonSpar, MemAE)"),
    "table4": ("memae.experiments.video", "Table 4: Ped2 ablation (AE, AE-l1, no shrinkage, no entropy, MemAE)"),
    "fig7": ("memae.experiments.video", "Figure 7: AUC against memory size N"),
}
VIDEO_EXPERIMENTS = ("table2", "table4", "fig7")


@dataclass
class ReproduceOptions:
    """The settings of one ``memae reproduce`` call; None (or empty) means "the experiment's default".

    Lists stay comma-separated strings (``methods="memae,ae"``, ``seeds="0,1"``), as on the command line, so a
    resumed run stores and compares them the same way.
    """

    experiment: str
    dataset: str | None = None
    data_root: str | None = None
    methods: str | None = None
    seeds: str | None = None
    classes: str | None = None
    epochs: int | None = None
    preset: str | None = None
    device: str | None = None
    quick: bool = False
    out: str = "runs"
    resume: str | None = None
    reuse: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)


def reproduce(options: ReproduceOptions) -> int:
    """Run the experiment ``options.experiment`` (a key of :data:`EXPERIMENTS`); returns the exit status."""
    if options.experiment not in EXPERIMENTS:
        raise UnknownNameError(f"unknown experiment {options.experiment!r}; choose one of {', '.join(EXPERIMENTS)}")
    if options.reuse and options.experiment not in VIDEO_EXPERIMENTS:
        raise ConfigError(f"--reuse is for the video experiments ({', '.join(VIDEO_EXPERIMENTS)}), "
                          f"not {options.experiment}")
    module = importlib.import_module(EXPERIMENTS[options.experiment][0])
    return int(module.main(options) or 0)
