"""Report writers: Markdown/CSV tables and matplotlib figures (PNG).  Nothing here trains or scores."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .io import atomic_path, write_text

__all__ = ["pyplot", "save_figure", "markdown_table", "write_markdown", "plot_roc_curves", "plot_image_grid", "plot_reconstructions", "mean_std"]


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    return plt


def mean_std(values: Sequence[float], digits: int = 4) -> str:
    values = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "n/a" if math.isnan(value) else f"{value:.4f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_markdown(path: str | Path, text: str) -> Path:
    return write_text(path, text)


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as PNG atomically and close it."""
    plt = pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def plot_roc_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path, title: str = "ROC") -> Path:
    """One ROC curve per method; ``curves[name] = (labels, scores)`` with label 1 = anomaly."""
    from sklearn.metrics import roc_curve

    from .scoring.metrics import roc_auc

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (labels, scores) in curves.items():
        labels = np.asarray(labels).astype(bool)
        if labels.all() or not labels.any():
            continue
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc(labels, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title, xlim=(0, 1), ylim=(0, 1.01))
    if ax.get_legend_handles_labels()[1]:  # no curve (one class only): no legend, and no matplotlib warning
        ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, path)


def _to_hwc(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.transpose(image, (1, 2, 0))
    return np.clip(image, 0.0, 1.0)


def plot_image_grid(images: np.ndarray, path: str | Path, title: str = "", columns: int = 10) -> Path:
    """A grid of ``(K, C, H, W)`` images in [0, 1] (e.g. decoded memory slots)."""
    plt = pyplot()
    rows = max(1, math.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9 + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image in zip(axes.ravel(), images):
        ax.imshow(_to_hwc(image), cmap="gray", vmin=0, vmax=1)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_reconstructions(
    inputs: np.ndarray,
    reconstructions: Mapping[str, np.ndarray],
    path: str | Path,
    row_titles: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Input, then reconstruction and squared-error map per model, one row per image (paper Figure 3); the error
    maps of one row share a colour scale so that the models can be compared."""
    plt = pyplot()
    names = list(reconstructions)
    cols = 1 + 2 * len(names)
    fig, axes = plt.subplots(len(inputs), cols, figsize=(cols * 1.1, len(inputs) * 1.1 + 0.5), squeeze=False)
    for r, x in enumerate(inputs):
        axes[r, 0].imshow(_to_hwc(x), cmap="gray", vmin=0, vmax=1)
        errors = {name: ((np.asarray(reconstructions[name][r]) - np.asarray(x)) ** 2).mean(axis=0) for name in names}
        top = max(max(float(e.max()) for e in errors.values()), 1e-6)  # one scale per row: models comparable
        for k, name in enumerate(names):
            axes[r, 1 + 2 * k].imshow(_to_hwc(reconstructions[name][r]), cmap="gray", vmin=0, vmax=1)
            axes[r, 2 + 2 * k].imshow(errors[name], cmap="inferno", vmin=0, vmax=top)
        if row_titles:
            axes[r, 0].set_ylabel(row_titles[r], fontsize=7)
    headers = ["input"] + [t for name in names for t in (f"{name}", f"{name} error")]
    for ax, header in zip(axes[0], headers):
        ax.set_title(header, fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)
