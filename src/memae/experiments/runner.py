"""The training pipeline: data -> model -> train -> scores -> metrics -> files.

``memae train`` calls :func:`check_training_config` and :func:`run_training`, and ``memae evaluate`` calls
:func:`evaluate_checkpoint`, for every kind of data: images and tables here, video (a config with
``model.architecture: video`` or a video dataset) through :mod:`memae.experiments.video_run`, which runs one unit of
the video experiments (:mod:`memae.experiments.video_unit`).  The demo, Table 1's autoencoder rows and Table 3 are thin
loops over configs that call :func:`fit_and_score` (their baseline rows fit :mod:`memae.baselines` detectors).  None
has its own training loop: all train through :func:`memae.training.train`.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..config import ExperimentConfig, config_from_dict, new_run_dir, save_config
from ..console import EPOCH_LOGGER, show_progress
from ..data.experiment import AUTO_ARCHITECTURE, ExperimentData, build_experiment_data, infer_architecture
from ..errors import ConfigError, MemAEError
from ..io import write_csv, write_json  # write_csv is re-exported: the table modules import it from here
from ..models import ARCHITECTURES, MemAE, build_model, check_model_section
from ..scoring.metrics import detection_report, top_fraction_threshold
from ..scoring.distribution import DISTRIBUTION_KEY, summarise_scores
from ..scoring.reconstruction import reconstruction_errors
from ..training import drawing_from, seeded_generator, train
from ..training.distributed import DistInfo
from ..training.checkpoint import PREPROCESSOR_KEY, load_model, update_checkpoint

from .provenance import git_commit, machine_info, provenance  # re-exported: experiments and benchmarks import them from here
from .video_unit import check_video_config
from .video_run import (
    PIXEL_KEYS,
    evaluate_video_checkpoint,
    is_video_checkpoint,
    is_video_experiment,
    run_video_training,
)

logger = logging.getLogger(__name__)
__all__ = ["RunOutcome", "EvaluateOutcome", "model_for_data", "fit_and_score", "check_training_config", "run_training",
           "evaluate_checkpoint", "machine_info", "git_commit", "provenance", "write_csv"]


@dataclass
class RunOutcome:
    model: MemAE | None  # None after a video run (its model is the run folder's best.pt)
    metrics: dict[str, Any]
    test_scores: np.ndarray | None
    val_scores: np.ndarray
    threshold: float
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    summary: dict[str, Any] | None = None  # what `memae train` shows (None: the metrics)
    note: str | None = None  # said in words where there is nothing to rank (own footage without labelled tests)


@dataclass
class EvaluateOutcome:
    """What :func:`evaluate_checkpoint` wrote and what ``memae evaluate`` shows: ``report`` holds metric mappings
    (shown as ``k=v``) and lines of text, in order."""

    run_dir: Path
    metrics: dict[str, Any]
    report: list[dict[str, Any] | str]


def model_for_data(config: ExperimentConfig, data: ExperimentData) -> MemAE:
    """Build the configured model, filling in the input width of table models from the data."""
    options = config.model.options.given()
    arch = ARCHITECTURES.get(config.model.architecture)
    if arch is not None and arch.kind == "mlp" and "in_features" not in options and len(data.input_shape) == 1:
        options["in_features"] = data.input_shape[0]
    with drawing_from(seeded_generator(config.train.seed)):  # initial weights depend on the seed only
        return build_model(config.model.architecture, config.model.variant, **options)


def fit_and_score(
    config: ExperimentConfig,
    data: ExperimentData,
    run_dir: Path | None = None,
    *,
    resume: bool = False,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> RunOutcome:
    """Train on ``data.train`` (the epoch kept by ``train.select``), then score validation and test samples.

    The decision threshold is the ``1 - contamination`` quantile of the *validation normals'* scores, so it never
    looks at test labels.
    """
    tic = time.perf_counter()
    model = model_for_data(config, data)
    model.check_input(torch.from_numpy(data.train[:1]))  # fail before training, with the fix in the message
    select_data = data.test if config.train.select_data == "test" else None  # transductive: the protocol must allow it
    result = train(model, data.train, data.val if len(data.val) else None, config.train, run_dir,
                   resume=resume, run_config=config.to_dict(), select_data=select_data, on_epoch=on_epoch)
    # train() ends with the weights of the selected epoch (train.select), not the last epoch's
    if result.still_improving:
        logger.warning("the last epoch (%d) was still the best: the model may be under-trained; raise train.epochs "
                       "(with train.patience to stop once the validation error stops falling)", len(result.history))
    error, batch = config.score.error, config.score.batch_size
    info = current_dist_info()  # under torchrun each process scores its shard; no sample is scored twice
    val_scores = reconstruction_errors(model, data.val if len(data.val) else data.train, error=error, batch_size=batch,
                                       dist_info=info)
    threshold = top_fraction_threshold(val_scores, config.score.contamination) if len(val_scores) > 1 else float("inf")
    best_epoch = result.best_epoch + 1 if result.best_epoch is not None else None  # 1-based, as bars and history.csv
    # without validation data the trainer's "best" is a training loss: claim no validation loss
    metrics: dict[str, Any] = {"best_epoch": best_epoch, "best_val_loss": result.best_val if len(data.val) else None,
                               "select": config.train.select}
    if config.train.patience:
        metrics["stopped_early"] = result.stopped_early
    test_scores = None
    if len(data.test):
        test_scores = reconstruction_errors(model, data.test, error=error, batch_size=batch, dist_info=info)
        if data.test_labels is not None:
            metrics.update(detection_report(data.test_labels, test_scores, threshold))
    if run_dir is not None and info.is_main and result.best_path is not None and Path(result.best_path).is_file():
        extra = {"threshold": threshold, "error": error, "contamination": config.score.contamination,
                 # the raw error scale of held-out normals, so that scoring can flag input unlike the training data
                 DISTRIBUTION_KEY: summarise_scores(val_scores, error)}
        if data.preprocessor_state is not None:
            extra[PREPROCESSOR_KEY] = data.preprocessor_state  # `memae score` preprocesses new tables the same way
        update_checkpoint(result.best_path, **extra)
    return RunOutcome(model, metrics, test_scores, val_scores, threshold, result.history, time.perf_counter() - tic)


def check_training_config(config: ExperimentConfig, *, choose_architecture: bool = False,
                          image_table_flags: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """What ``memae train`` checks of a config before any data is read or a run folder made; returns it.

    ``choose_architecture``: images and tables get ``model.architecture`` from the data once it is read (the user
    chose none); a video config always trains the video network.  ``image_table_flags``: the options given that
    only images and tables read (``--normal-class``, ...), an error for a video config.  ``data.root`` is stored
    resolved, so that evaluate and ``--resume`` from another folder find the same data.
    """
    if is_video_experiment(config):
        if image_table_flags:
            raise MemAEError(f"{', '.join(image_table_flags)} are for images and tables, not for a video config")
        if config.model.architecture != "video":
            raise ConfigError(f"a video config trains the video network, not {config.model.architecture!r}; "
                              "drop --architecture")
        check_video_config(config)
    else:
        check_model_section(config.model)  # names and option values
        if choose_architecture:
            config.model.architecture = AUTO_ARCHITECTURE  # chosen from the data once it is read (not always digits)
    if config.data.root is not None and not Path(config.data.root).is_absolute():
        config.data.root = str(Path(config.data.root).resolve())
    return config


def run_training(config: ExperimentConfig, run_dir: Path, *, resume: bool = False) -> RunOutcome:
    """``memae train``: build the data, train, evaluate on the test split if labelled, write everything to ``run_dir``.

    Video (see :func:`check_training_config`) trains ``model.variant`` as one unit of the video experiments
    (:func:`memae.experiments.video_run.run_video_training`); its outcome has the metrics of ``metrics.json``.
    """
    if is_video_experiment(config):
        return _run_video(config, run_dir, resume)
    data = build_experiment_data(config.data, config.train.seed)
    if config.model.architecture == AUTO_ARCHITECTURE:  # `memae train` without --architecture: fit the data
        config.model.architecture = infer_architecture(data, config.data.dataset)
    is_main = current_dist_info().is_main
    if is_main:
        save_config(config, run_dir / "config.yaml")
    # bars asked for but stderr is a log file: one line per epoch instead of hundreds of redrawn bars
    log_epochs = is_main and config.train.progress and not show_progress(config.train.progress)
    outcome = fit_and_score(config, data, run_dir, resume=resume,
                            on_epoch=(lambda record: log_epoch(record, config.train.epochs)) if log_epochs else None)
    if not is_main:
        return outcome  # rank 0 alone writes files
    write_json(run_dir / "metrics.json", {**outcome.metrics, "data": data.info, "seconds": outcome.seconds,
                                           "threshold": outcome.threshold, "machine": machine_info(), "commit": git_commit()})
    if outcome.test_scores is not None:
        ids = data.test_ids or [str(i) for i in range(len(outcome.test_scores))]
        rows = [{"index": i, "id": ids[i], "score": float(s), **({"is_anomaly": int(data.test_labels[i])} if data.test_labels is not None else {}),
                 "predicted_anomaly": int(s > outcome.threshold)} for i, s in enumerate(outcome.test_scores)]
        write_csv(run_dir / "test_scores.csv", rows)
        if data.test_labels is not None and 0 < int(np.sum(data.test_labels)) < len(data.test_labels):
            from ..reporting import plot_roc_curves  # a ROC curve needs both classes in the test split

            plot_roc_curves({config.model.variant: (data.test_labels, outcome.test_scores)}, run_dir / "roc.png")
    return outcome


def _run_video(config: ExperimentConfig, run_dir: Path, resume: bool) -> RunOutcome:
    metrics = run_video_training(config, run_dir, resume=resume)
    note = metrics.get("note")  # own footage without a labelled test folder: nothing to rank, said in words
    summary = ({"best_epoch": metrics.get("best_epoch")} if note else
               {k: metrics.get(k) for k in ("roc_auc", "mean_video_roc_auc", "eer", "average_precision", "best_epoch")})
    return RunOutcome(None, metrics, None, np.empty(0), float("nan"), seconds=metrics.get("train_seconds", 0.0),
                      summary=summary, note=note)


def evaluate_checkpoint(checkpoint: str | os.PathLike[str], state: dict[str, Any], overrides: list[str] | None = None,
                        *, pixel: bool = True) -> EvaluateOutcome:
    """``memae evaluate``: re-create the training run's test split from the checkpoint's config, score it, write
    ``config.yaml``, ``metrics.json`` and the scores into a new ``NAME-evaluate-*`` folder.

    ``state``: the checkpoint as :func:`memae.training.load_checkpoint` read it; ``overrides``: ``data.root=``,
    ``train.device=``, ``score.*``, ``name=`` and ``output_dir=`` (default: the folder holding the checkpoint's run
    folder).  Video checkpoints are scored on their test videos
    (:func:`memae.experiments.video_run.evaluate_video_checkpoint`; ``pixel``: also the pixel-level figures where
    the benchmark has pixel masks).
    """
    if is_video_checkpoint(state):  # pooled and per-video frame AUC on the test videos of its config
        run_dir, metrics = evaluate_video_checkpoint(checkpoint, state, overrides, pixel=pixel)
        return EvaluateOutcome(run_dir, metrics, _video_report(metrics))
    items = list(overrides or [])
    if not any(o.split("=", 1)[0].strip() == "output_dir" for o in items):  # beside the run it evaluates
        items.append(f"output_dir={json.dumps(str(Path(checkpoint).resolve().parent.parent))}")
    config = config_from_dict(state["config"], items)
    model = load_model(checkpoint, state=state)
    data = build_experiment_data(config.data, config.train.seed)  # the stored seed: the same split as in training
    if data.test_labels is None:
        raise MemAEError("the configured data has no labelled test split; use 'memae score' to score unlabelled data")
    scores = reconstruction_errors(model, data.test, error=config.score.error, batch_size=config.score.batch_size)
    threshold = state.get("extra", {}).get("threshold")
    metrics = detection_report(data.test_labels, scores, threshold)
    run_dir = new_run_dir(config.output_dir, f"{config.name}-evaluate")
    save_config(config, run_dir / "config.yaml")
    write_json(run_dir / "metrics.json", {**metrics, "checkpoint": str(checkpoint), "data": data.info})
    write_csv(run_dir / "test_scores.csv", [{"index": i, "score": float(s), "is_anomaly": int(y)}
                                           for i, (s, y) in enumerate(zip(scores, data.test_labels))])
    return EvaluateOutcome(run_dir, metrics, [metrics])


def _video_report(metrics: dict[str, Any]) -> list[dict[str, Any] | str]:
    report: list[dict[str, Any] | str] = [{k: metrics[k] for k in ("roc_auc", "mean_video_roc_auc", "eer", "average_precision")}]
    if "pixel" in metrics:  # the benchmark's pixel masks were found: where the anomalies are, next to when
        pixel = metrics["pixel"]
        size = "x".join(map(str, pixel["pixel_resolution"] or []))
        report += [{k: pixel[k] for k in PIXEL_KEYS},
                   f"pixel-level: pixel_auc over the pixels of the {pixel['pixel_frames']} anomalous frames at {size} "
                   f"(error maps smoothed and upsampled as --heatmaps); ucsd_pixel_*: a frame is found when "
                   f"{pixel['ucsd_coverage']:.0%} of its anomalous pixels are"]
    report.append("per-video AUC: " + ", ".join(f"{name} {'-' if auc is None or auc != auc else f'{auc:.4f}'}"
                                                for name, auc in zip(metrics["test_videos"], metrics["video_roc_aucs"])))
    return report


def log_epoch(record: dict[str, Any], epochs: int) -> None:
    """One ``epoch 3/10: train_loss=... val_loss=...`` line (logger ``memae.progress``)."""
    shown = "  ".join(f"{k}={v:.5g}" for k, v in record.items()
                      if k != "epoch" and isinstance(v, float) and v == v)
    EPOCH_LOGGER.info("epoch %d/%d: %s", int(record["epoch"]) + 1, epochs, shown)  # 1-based, as history.csv


def load_baseline_params(path: Path, method: str) -> dict[str, Any]:
    """The settings of baseline ``method`` from a table's baseline YAML (a mapping ``method -> {param: value}``)."""
    import yaml

    params = (yaml.safe_load(Path(path).read_text()) or {}).get(method)
    if params is None:
        raise ConfigError(f"{path.name} has no settings for baseline {method!r}; add a '{method}: {{...}}' entry")
    return dict(params)


def current_dist_info() -> DistInfo:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return DistInfo()


def with_overrides(config: ExperimentConfig, **sections: dict[str, Any]) -> ExperimentConfig:
    """A deep copy of ``config`` with some section fields replaced, e.g. ``model={"variant": "ae"}``."""
    new = copy.deepcopy(config)
    for section, values in sections.items():
        target = getattr(new, section)
        for key, value in values.items():
            setattr(target, key, value)
    return new
