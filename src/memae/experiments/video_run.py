"""Video, one data kind of the training pipeline: one video model in an ordinary run folder.

:func:`memae.experiments.runner.run_training` and :func:`~memae.experiments.runner.evaluate_checkpoint` (what
``memae train`` and ``memae evaluate`` call for every kind of data) come here for a video config or checkpoint
(:func:`is_video_experiment`, :func:`is_video_checkpoint`).
``memae train --config video_cpu.yaml --data-root DIR`` (or ``--config video_cpu``) trains the config's
``model.variant`` (default ``memae``) with the same data assembly, training and scoring as
``memae reproduce table2`` (:func:`memae.data.video_experiment.build_video_data` and
:func:`~memae.experiments.video_unit.run_unit`); the run folder holds ``config.yaml``, ``log.txt``, ``best.pt``,
``last.pt``, ``history.csv``, ``scores.npz`` and ``metrics.json`` (pooled frame ROC-AUC ``roc_auc``, ``mean_video_roc_auc``,
``eer``, ``ap`` and the per-video AUCs).  ``memae evaluate RUN/best.pt`` re-reads the test videos the checkpoint's
config names, scores them and writes ``metrics.json`` and ``scores.npz`` into a new ``NAME-evaluate-*`` folder beside
the run; where the benchmark has pixel masks (Ped2: ``ground_truth/ped2_pixel_masks.npz``) it also scores where the
anomalies are, ``pixel_auc`` and ``ucsd_pixel_auc`` (:class:`memae.scoring.metrics.PixelLocalisation`; ``--no-pixel``
skips them).  The checkpoints of ``memae reproduce`` units evaluate the same way.  ``--dataset videos`` trains on a folder
of your own footage instead of a benchmark (:mod:`memae.data.footage`); its ``test/`` folder, if any, is what
evaluate scores.

May import what :mod:`memae.experiments` may; never cli or argparse.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..config import ExperimentConfig, config_from_dict, new_run_dir, save_config, upgrade_config_dict
from ..data.benchmarks import VIDEO_DATASETS
from ..data.video_experiment import build_video_data, read_test_videos
from ..errors import DataError
from ..io import write_json
from ..scoring.metrics import PixelLocalisation
from ..scoring.video import evaluate_frames
from ..training import resolve_device
from ..training.checkpoint import load_model
from .progress import RunLogger
from .provenance import git_commit, machine_info
from .video_unit import Unit, check_video_config, run_unit, score_test_videos, unit_error

logger = logging.getLogger(__name__)

__all__ = ["is_video_experiment", "run_video_training", "is_video_checkpoint", "evaluate_video_checkpoint",
           "PIXEL_KEYS"]
_RESULT_KEYS = ("roc_auc", "mean_video_roc_auc", "eer", "average_precision")
#: the pixel-level figures evaluate copies to the top of metrics.json (all of them are under its "pixel" key)
PIXEL_KEYS = ("pixel_auc", "mean_video_pixel_auc", "ucsd_pixel_auc", "ucsd_pixel_eer")


def is_video_experiment(config: ExperimentConfig) -> bool:
    """Whether a loaded config is a video experiment's: ``model.architecture`` ``video`` or a video dataset."""
    return _is_video_dict(config.to_dict())


def _is_video_dict(values: dict[str, Any]) -> bool:
    values = upgrade_config_dict(values)
    model, data = values.get("model"), values.get("data")
    architecture = model.get("architecture") if isinstance(model, dict) else None
    dataset = str(data.get("dataset", "")).lower() if isinstance(data, dict) else ""
    return architecture == "video" or dataset in VIDEO_DATASETS


def _pop_key(overrides: list[str], key: str) -> tuple[list[str], Any]:
    """``overrides`` without the ``key=value`` items, and the last such value (parsed as YAML; None if absent)."""
    rest, value = [], None
    for item in overrides:
        if item.split("=", 1)[0].strip() == key:
            value = yaml.safe_load(item.split("=", 1)[1])
        else:
            rest.append(item)
    return rest, value


def run_video_training(config: ExperimentConfig, run_dir: Path, *, resume: bool = False,
                       log=None) -> dict[str, Any]:
    """Train ``config.model.variant`` at ``config.train.seed`` into ``run_dir`` and score the test videos.

    ``resume``: continue from ``run_dir/last.pt`` (with the run's config, read from ``run_dir/config.yaml``).
    Returns the metrics also written to ``run_dir/metrics.json``.
    """
    run_dir = Path(run_dir)
    log = log or RunLogger(run_dir / "log.txt")
    save_config(config, run_dir / "config.yaml")
    held: list[str] = []  # the data is read first, so that bad footage is the only line printed
    data = build_video_data(config.data, progress=config.train.progress, log=held.append)
    log(f"{'resuming' if resume else 'training'} {config.model.variant} on {config.data.dataset} in {run_dir} "
        f"(preset {config.reproduce.preset}; commit {git_commit()})")
    for line in held:
        log(line)
    record = run_unit(config, data, Unit(config.model.variant, config.train.seed), run_dir, log)
    metrics = {**record, "test_videos": data.test_names, "data": data.info, "machine": machine_info(),
               "commit": git_commit()}
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def _pixel_localisation(data) -> PixelLocalisation | None:
    """A pixel-metric accumulator if every test video used has pixel masks, else None."""
    masks = data.benchmark.pixel_masks
    if not masks or any(m is None for m in masks[: len(data.test_names)]):
        return None
    return PixelLocalisation()


def _pixel_masks(data, i: int) -> np.ndarray:
    masks = data.benchmark.load_pixel_mask(i)
    if masks.shape[0] != data.test_videos[i].shape[0]:
        raise DataError(f"test video {data.test_names[i]}: {masks.shape[0]} pixel masks but "
                        f"{data.test_videos[i].shape[0]} frames; check that the frames and masks belong together")
    return masks


def is_video_checkpoint(state: dict[str, Any]) -> bool:
    """Whether a checkpoint (as :func:`memae.training.load_checkpoint` reads it) holds a video experiment's model."""
    config = state.get("config") or {}
    return "model_config" in state and isinstance(config, dict) and _is_video_dict(config)


def evaluate_video_checkpoint(checkpoint: str | os.PathLike[str], state: dict[str, Any],
                              overrides: list[str] | None = None, *, pixel: bool = True) -> tuple[Path, dict[str, Any]]:
    """Score the test videos of a video checkpoint's config with its model; pooled and per-video frame AUC.

    ``overrides``: ``data.root=``, ``train.device=``, ``score.*``, ``name=`` and ``output_dir=`` (default: the folder
    holding the checkpoint's run folder).  Writes ``config.yaml``, ``metrics.json`` and ``scores.npz`` into a new
    ``NAME-evaluate-*`` folder and returns it with the metrics.

    ``pixel``: when the benchmark has pixel masks for every test video used (UCSD Ped2: ``ground_truth/
    ped2_pixel_masks.npz``), also the pixel-level localisation figures of
    :class:`memae.scoring.metrics.PixelLocalisation` (``pixel_auc``, ``ucsd_pixel_auc``, ...), computed in the same
    pass over the test frames; one video's masks are in memory at a time.  False, or no masks: frame metrics only.
    """
    items, output_dir = _pop_key(list(overrides or []), "output_dir")
    values = dict(state["config"])
    unit = values.pop("unit", None) or {}
    config = check_video_config(config_from_dict(values, items))
    if unit.get("method"):  # a `memae reproduce` unit: its method, whatever model.variant says
        config.model.variant = unit["method"]
    config.validate()
    device = resolve_device(config.train.device)
    model = load_model(checkpoint, device, state=state)
    data = read_test_videos(config.data, progress=config.train.progress)
    error = unit_error(config, config.model.variant)
    localisation = _pixel_localisation(data) if pixel else None
    on_frame_for = None
    if localisation is not None:
        logger.info(f"pixel masks found for the {len(data.test_names)} test videos of {data.benchmark.name}: pixel-level "
            "localisation is scored too (--no-pixel skips it)")
        for i in range(len(data.test_names)):  # every video's masks checked before the first is scored
            _pixel_masks(data, i)

        def on_frame_for(i: int):
            return localisation.video(_pixel_masks(data, i), data.test_labels[i])

    per_video = score_test_videos(model, config, data, error, device, on_frame_for=on_frame_for)
    frames = evaluate_frames(per_video, data.test_labels)
    metrics = {
        "variant": config.model.variant, "error": error, **{k: frames[k] for k in _RESULT_KEYS},
        "video_roc_aucs": frames["video_roc_aucs"], "test_videos": data.test_names, "n_frames": frames["n_frames"],
        "n_anomalous": frames["n_anomalous"], "score_mode": config.score.mode, "checkpoint": str(checkpoint),
        "data": data.info, "commit": git_commit(),
    }
    if localisation is not None:
        metrics["pixel"] = localisation.result()
        metrics.update({k: metrics["pixel"][k] for k in PIXEL_KEYS})
    parent = output_dir if output_dir is not None else Path(checkpoint).resolve().parent.parent
    run_dir = new_run_dir(parent, f"{config.name}-evaluate")
    save_config(config, run_dir / "config.yaml")
    np.savez_compressed(run_dir / "scores.npz", **{f"video_{i:03d}": s for i, s in enumerate(per_video)})
    write_json(run_dir / "metrics.json", metrics)
    return run_dir, metrics
