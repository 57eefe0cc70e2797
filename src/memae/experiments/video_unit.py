"""One unit of the video experiments: a model variant (at a memory size and seed) trained on a benchmark's clips and
scored on its test videos.

``memae reproduce table2|table4|fig7`` (:mod:`memae.experiments.video`) runs one :class:`Unit` per method, memory
size and seed; ``memae train`` with a video config runs one (:mod:`memae.experiments.video_run`).  Here: the check
of a video config, the video model a config builds, the per-clip error a method is scored by, and
:func:`run_unit`: train (resuming from the unit's ``last.pt``), score the test videos by both errors, write
``metrics.json`` and ``scores.npz``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ExperimentConfig
from ..data.video import ArrayVideo
from ..data.video_experiment import VideoData
from ..errors import ConfigError
from ..io import write_json
from ..models import VARIANTS, MemAE, build_model, check_model_section, option_defaults
from ..scoring.video import evaluate_frames
from ..scoring.video_stream import ERRORS, FrameCallback, score_video
from ..training import TrainConfig, drawing_from, resolve_device, seeded_generator, train

logger = logging.getLogger(__name__)

__all__ = ["LABELS", "Unit", "check_video_config", "video_model_options", "build_video_model", "unit_error",
           "score_test_videos", "run_unit"]


# how tables, figures and logs name the methods (model variants)
LABELS = {
    "ae": "AE", "ae-l1": "AE-l1", "memae-nonspar": "MemAE-nonSpar", "memae-noshrink": "MemAE w/o shrinkage",
    "memae-noentropy": "MemAE w/o entropy loss", "memae": "MemAE",
}


# ----------------------------------------------------------------------------------------------------------------
# Config and model
# ----------------------------------------------------------------------------------------------------------------


def check_video_config(config: ExperimentConfig) -> ExperimentConfig:
    """Check what only the video experiments require of a config (the rest was checked when it was built)."""
    if config.model.architecture != "video":
        raise ConfigError(f"a video experiment trains the video network: model.architecture must be video, "
                          f"not {config.model.architecture!r}")
    check_model_section(config.model)
    for key in ("input_size", "in_channels"):  # the clips decide them: data.clip_len x data.frame_size, grey
        if getattr(config.model.options, key) is not None:
            raise ConfigError(f"model.options.{key} is set by the video data (data.clip_len, data.frame_size; grey "
                              f"frames); remove it")
    return config


def video_model_options(config: ExperimentConfig) -> dict[str, Any]:
    """The model options a video run uses: the config's, and the architecture's defaults for those it leaves
    unset (what results.md reports and ``--reuse`` compares)."""
    return {**option_defaults("video"), **config.model.options.given()}


# ----------------------------------------------------------------------------------------------------------------
# Units of work: one (method, memory size, seed) each
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    method: str  # a model variant
    seed: int
    num_slots: int | None = None  # None: the config's

    @property
    def key(self) -> str:
        slots = f"-N{self.num_slots}" if self.num_slots is not None else ""
        return f"{self.method}{slots}-seed{self.seed}"

    @property
    def label(self) -> str:
        return LABELS.get(self.method, self.method) + (f" (N={self.num_slots})" if self.num_slots is not None else "")


def build_video_model(config: ExperimentConfig, variant: str, num_slots: int | None = None) -> MemAE:
    """The paper's video network in ``variant`` with the config's frame size, width and memory options
    (``num_slots``: Figure 7's memory size instead of the config's)."""
    d = config.data
    options = config.model.options.given()
    options["input_size"] = (d.clip_len, int(d.frame_size[0]), int(d.frame_size[1]))
    if num_slots:
        options["num_slots"] = int(num_slots)
    return build_model("video", variant, **options)


def unit_error(config: ExperimentConfig, method: str) -> str:
    """The per-clip error a method is scored by: ``score.error`` with a memory, ``score.ae_error`` without."""
    return config.score.error if VARIANTS[method][0] else config.score.ae_error


def score_test_videos(model: MemAE, config: ExperimentConfig, data: VideoData, error: str,
                      device: torch.device | str | None = None,
                      on_frame_for: Callable[[int], FrameCallback] | None = None) -> list[np.ndarray]:
    """Frame scores (NaN = unscored) of every test video, by the config's mode, stride and batch size.

    ``on_frame_for``: optional ``i -> on_frame`` giving test video ``i``'s per-frame callback (see
    :data:`memae.scoring.video_stream.FrameCallback`; e.g. :meth:`memae.scoring.metrics.PixelLocalisation.video`).
    """
    per_video = []
    for i, (name, video) in enumerate(zip(data.test_names, data.test_videos)):
        scored = score_video(model, ArrayVideo(video, name), error=error, mode=config.score.mode,
                             batch_size=config.score.batch_size, stride=config.data.test_stride, device=device,
                             progress=config.train.progress,
                             on_frame=on_frame_for(i) if on_frame_for is not None else None)
        per_video.append(scored.scores)
    return per_video


def run_unit(config: ExperimentConfig, data: VideoData, unit: Unit, unit_dir: Path,
             log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train one model (resuming from ``unit_dir/last.pt`` if present), score the test videos, write its files.

    Returns the unit's record (also written to ``unit_dir/metrics.json``, whose presence marks the unit done).
    ``log``: where progress lines go (a run's :class:`~memae.experiments.progress.RunLogger`); default: this module's
    logger.
    """
    log = log or logger.info
    unit_dir.mkdir(parents=True, exist_ok=True)
    with drawing_from(seeded_generator(unit.seed)):  # initial weights depend on the seed only
        model = build_video_model(config, unit.method, unit.num_slots)
    train_config = TrainConfig(**{**asdict(config.train), "seed": unit.seed})
    resume = (unit_dir / "last.pt").is_file()
    if resume:
        log(f"{unit.key}: resuming from {unit_dir / 'last.pt'}")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"{unit.key}: training {unit.label}, {n_params / 1e6:.2f} M parameters, {train_config.epochs} epochs, "
        f"batch {train_config.batch_size}, lr {train_config.lr:g}")
    result = train(model, data.train, data.val, train_config, unit_dir, resume=resume,
                   run_config={**config.to_dict(), "unit": asdict(unit)},
                   on_epoch=lambda r: log(_epoch_line(unit.key, train_config.epochs, r)))
    # train() has left the model with the weights of the best validation epoch
    device = resolve_device(config.train.device)
    _store_validation_errors(model, data, config, unit_dir, device)
    tic = time.perf_counter()
    error = unit_error(config, unit.method)
    by_error: dict[str, dict[str, Any]] = {}
    for name_of_error in (error, *(e for e in ERRORS if e != error)):  # both errors, so the choice is visible
        per_video = score_test_videos(model, config, data, name_of_error, device)
        by_error[name_of_error] = {"per_video": per_video, "metrics": _frame_metrics(per_video, data.test_labels)}
        if name_of_error == error:
            test_seconds = time.perf_counter() - tic
    per_video, metrics = by_error[error]["per_video"], by_error[error]["metrics"]
    record = {
        "key": unit.key, "method": unit.method, "label": unit.label, "seed": unit.seed,
        "num_slots": unit.num_slots or (video_model_options(config)["num_slots"] if VARIANTS[unit.method][0] else None),
        "error": error, "roc_auc": metrics["roc_auc"], "mean_video_roc_auc": metrics["mean_video_roc_auc"],
        "eer": metrics["eer"], "average_precision": metrics["average_precision"],
        **{f"{key}_{e}": by_error[e]["metrics"][key] for e in ERRORS for key in ("roc_auc", "mean_video_roc_auc")},
        "video_roc_aucs": metrics["video_roc_aucs"], "n_frames": metrics["n_frames"], "n_anomalous": metrics["n_anomalous"],
        "epochs": len(result.history), "best_epoch": (result.best_epoch + 1) if result.best_epoch is not None else None,
        "final_train_loss": result.history[-1]["train_loss"] if result.history else None,
        "best_val_loss": result.best_val,
        "train_seconds": float(sum(r["seconds"] for r in result.history)),
        "test_seconds": test_seconds,
        "test_frames_per_second": metrics["n_frames"] / test_seconds if test_seconds > 0 else None,
        "parameters": n_params,
        **({"note": metrics["note"]} if metrics.get("note") else {}),
    }
    np.savez_compressed(unit_dir / "scores.npz", **{f"video_{i:03d}": s for i, s in enumerate(per_video)})
    write_json(unit_dir / "metrics.json", record)
    if metrics.get("note"):
        log(f"{unit.key}: {metrics['note']}")
    log(f"{unit.key}: frame AUC {record['roc_auc']:.4f}, mean per-video AUC {record['mean_video_roc_auc']:.4f}, "
        f"EER {record['eer']:.4f}; train {record['train_seconds'] / 60:.1f} min, test {test_seconds / 60:.1f} min")
    return record


def _frame_metrics(per_video: list[np.ndarray], labels: list[np.ndarray]) -> dict[str, Any]:
    """:func:`evaluate_frames`, or NaN metrics with a ``note`` where there is nothing to rank: no test videos (own
    footage without a ``test/`` folder) or test frames of one class only."""
    n = int(sum(int(np.isfinite(s).sum()) for s in per_video))
    n_anomalous = int(sum(int(y[np.isfinite(s)].sum()) for s, y in zip(per_video, labels)))
    if per_video and 0 < n_anomalous < n:
        return evaluate_frames(per_video, labels)
    nan = float("nan")
    note = ("no test videos: frame AUC needs a test/ folder with labels" if not per_video else
            f"no frame AUC: the {n} scored test frames are {'all anomalous' if n_anomalous else 'all normal'}")
    return {"roc_auc": nan, "average_precision": nan, "eer": nan, "mean_video_roc_auc": nan,
            "video_roc_aucs": [nan] * len(per_video),
            "n_frames": n, "n_anomalous": n_anomalous, "note": note}


def _store_validation_errors(model: MemAE, data: VideoData, config: ExperimentConfig, unit_dir: Path,
                             device: torch.device) -> None:
    """After training: the best weights' clip errors on the validation clips go into ``best.pt``, so that
    ``memae score-video`` can tell a video unlike the training data (a clip's error is its centre frame's score)."""
    from ..scoring.distribution import store_score_distribution
    from ..scoring.reconstruction import reconstruction_errors

    best = unit_dir / "best.pt"
    if data.val is None or not len(data.val) or not best.is_file():
        return
    errors = reconstruction_errors(model, data.val, error=config.score.error, batch_size=config.score.batch_size,
                                   device=device)
    store_score_distribution(best, errors, config.score.error)


def _epoch_line(key: str, epochs: int, r: dict[str, float]) -> str:
    line = (f"{key}: epoch {int(r['epoch']) + 1}/{epochs}: train loss {r['train_loss']:.5f} (rec {r['train_rec']:.5f}, "
            f"entropy {r['train_entropy']:.4f}), val {r['val_loss']:.5f}")
    if "val_zero_queries" in r:  # collapse diagnostics: queries whose weights all shrank to zero, slots in use
        line += f", zero queries {100 * r['val_zero_queries']:.1f} %, slots used {100 * r['val_used_slots']:.1f} %"
    if "shrink_factor" in r:
        line += f", lambda x{r['shrink_factor']:.2f}"
    return line + f", {r['seconds']:.0f} s"
