"""Experiment configs: typed dataclasses, loaded from YAML, overridden by ``key=value`` flags.

Unknown keys and values of the wrong type are errors that name the key.  A setting that takes one of a few names is
annotated ``Literal[...]``, and one check reads those annotations (:func:`check_choices`, also run by every
section's ``validate``), so a loaded config is a valid one.  The resolved config is saved next to the results
(``config.yaml``) and inside every checkpoint.

One schema serves images, tables and video (``memae reproduce table2`` and ``memae train --config video_cpu``
read the same sections; video adds the ``data`` fields of clips and frames, the ``score`` fields of frame scoring
and the ``reproduce`` section).  Every default is stated once, in :mod:`.schema` or, for model options left at None,
by the architecture in :mod:`memae.models.registry`.

The package is split by job, and every public name is importable from ``memae.config``:

* :mod:`.schema`: the section dataclasses, the ``Literal`` names and :func:`check_choices`;
* :mod:`.loading`: YAML files (or a video preset's name), mappings and overrides to a checked config (the coercer),
  and back to YAML (:func:`save_config`, the one writer of ``config.yaml``);
* :mod:`.legacy`: the translation of older video configs (:func:`upgrade_config_dict`);
* :mod:`.run_dirs`: fresh run folders.

Example YAML::

    name: mnist-memae
    model: {architecture: mnist, variant: memae, options: {num_slots: 100}}
    data: {dataset: mnist, root: ../shared/datasets/mnist, normal_class: 0}
    train: {epochs: 30, batch_size: 64, lr: 0.0001, seed: 0}
    score: {error: mse}

Configs written before the video settings joined this schema (run folders and checkpoints of ``memae reproduce
table2`` and video ``memae train``) are read through :func:`upgrade_config_dict`.
"""

from __future__ import annotations

from .legacy import upgrade_config_dict
from .loading import (
    apply_overrides,
    build_dataclass,
    config_from_dict,
    VIDEO_PRESETS,
    load_config,
    parse_int_list,
    preset_path,
    read_yaml,
    save_config,
)
from .run_dirs import fresh_run_dir, new_run_dir
from .schema import (
    SCORE_ERRORS,
    SCORE_MODES,
    SELECT_CRITERIA,
    Activation,
    DataProtocol,
    DataSection,
    EpochLog,
    ExperimentConfig,
    ModelOptions,
    ModelSection,
    OutputActivation,
    Padding,
    ReproduceSection,
    Resample,
    ScoreError,
    ScoreMode,
    ScoreSection,
    Select,
    SelectData,
    Similarity,
    TABLE_RECIPE,
    TableRecipe,
    TrainConfig,
    check_choices,
)

__all__ = [
    "TrainConfig", "TableRecipe", "TABLE_RECIPE", "SELECT_CRITERIA", "SCORE_ERRORS", "SCORE_MODES", "check_choices", "ModelOptions", "ModelSection",
    "DataSection", "ScoreSection", "ReproduceSection", "ExperimentConfig", "load_config", "config_from_dict",
    "upgrade_config_dict", "apply_overrides", "save_config", "VIDEO_PRESETS", "preset_path", "new_run_dir", "fresh_run_dir", "parse_int_list",
    # the names a setting may take (Literal types)
    "Select", "SelectData", "EpochLog", "ScoreError", "ScoreMode", "DataProtocol", "Resample", "Similarity",
    "Activation", "Padding", "OutputActivation",
]
