"""``memae demo``: the paper's one-class protocol on scikit-learn's embedded 8x8 digits, in a few minutes on a CPU.

Trains AE, MemAE-nonSpar and MemAE for every digit, prints per-class and mean ROC-AUC, and writes
``results.md``, ``results.csv``, ``roc.png`` and ``reconstructions.png`` to the run folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ExperimentConfig, load_config, save_config
from ..data.experiment import build_experiment_data
from ..models import check_model_section
from ..reporting import markdown_table, plot_reconstructions, plot_roc_curves, write_markdown
from .runner import fit_and_score, provenance, with_overrides, write_csv

CONFIG = Path(__file__).with_name("configs") / "demo.yaml"
METHODS = ("ae", "memae-nonspar", "memae")
LABELS = {"ae": "AE", "memae-nonspar": "MemAE-nonSpar", "memae": "MemAE"}
SMOKE_NOTE = "**Smoke run (`--quick`): a check that the pipeline runs, not a result.**\n\n"


def run_demo(run_dir: Path, *, classes: list[int] | None = None, epochs: int | None = None,
             overrides: list[str] | None = None, echo=print, smoke: bool = False,
             progress: bool = True) -> dict[str, Any]:
    """Run the demo; returns ``{"roc_auc": {method: {class: roc_auc}}, "mean": {method: mean roc_auc}, "seconds": ...}``.

    One progress bar counts every epoch of every model (classes x methods x epochs) with the time left.
    ``smoke``: a ``--quick`` run; its files say it is a smoke run, not a result.
    """
    from tqdm.auto import tqdm

    from ..console import show_progress

    base = load_config(CONFIG, overrides)
    check_model_section(base.model)  # a bad option name fails now, not after the data is read
    if epochs is not None:
        base.train.epochs = epochs
    classes = list(range(10)) if classes is None else classes
    save_config(base, run_dir / "config.yaml")
    tic = time.perf_counter()
    auc: dict[str, dict[int, float]] = {m: {} for m in METHODS}
    keep: dict[str, Any] = {}
    bar = tqdm(total=len(classes) * len(METHODS) * base.train.epochs, desc="demo", unit="epoch",
               disable=not show_progress(progress))
    for digit in classes:
        data = build_experiment_data(with_overrides(base, data={"normal_class": digit}).data, base.train.seed)
        for method in METHODS:
            config: ExperimentConfig = with_overrides(base, model={"variant": method}, data={"normal_class": digit})
            bar.set_postfix_str(f"digit {digit} {LABELS[method]}")
            outcome = fit_and_score(config, data, on_epoch=lambda record: bar.update(1))
            auc[method][digit] = outcome.metrics["roc_auc"]
            if digit == classes[0]:
                keep[method] = (outcome.model, outcome.test_scores)
        line = f"digit {digit}: " + "  ".join(f"{LABELS[m]} {auc[m][digit]:.4f}" for m in METHODS)
        bar.write(line) if show_progress(progress) else echo(line)  # above the bar, which keeps counting
        if digit == classes[0]:
            keep["data"] = data
    bar.close()
    seconds = time.perf_counter() - tic
    means = {m: float(np.mean(list(auc[m].values()))) for m in METHODS}

    header = ["method"] + [str(c) for c in classes] + ["mean"]
    rows = [[LABELS[m]] + [auc[m][c] for c in classes] + [means[m]] for m in METHODS]
    table = markdown_table(header, rows)
    echo("\nROC-AUC per normal digit (one-class protocol, scikit-learn 8x8 digits)\n" + table)
    smoke_note = SMOKE_NOTE if smoke else ""
    write_csv(run_dir / "results.csv", [{**dict(zip(header, row)), **({"smoke_run": 1} if smoke else {})} for row in rows])
    write_markdown(run_dir / "results.md", "# memae demo\n\n" + smoke_note + provenance(seconds) + "\n" + table)
    _figures(keep, classes[0], run_dir)
    return {"roc_auc": auc, "mean": means, "seconds": seconds, "run_dir": str(run_dir)}


def _figures(keep: dict[str, Any], digit: int, run_dir: Path) -> None:
    data = keep["data"]
    plot_roc_curves({LABELS[m]: (data.test_labels, keep[m][1]) for m in METHODS}, run_dir / "roc.png",
                    title=f"digit {digit} normal")
    normal = np.flatnonzero(~data.test_labels)[:3]
    anomalous = np.flatnonzero(data.test_labels)[:3]
    picks = np.r_[normal, anomalous]
    inputs = data.test[picks]
    recons = {}
    for method in ("ae", "memae"):
        model = keep[method][0]
        with torch.no_grad():
            recons[LABELS[method]] = model(torch.from_numpy(inputs))[0].numpy()
    plot_reconstructions(inputs, recons, run_dir / "reconstructions.png",
                         row_titles=["normal"] * len(normal) + ["anomaly"] * len(anomalous),
                         title=f"digit {digit} normal: AE vs MemAE")
