"""Configs in the layout of older video runs, read into the current one (:func:`upgrade_config_dict`).

Run folders and checkpoints of ``memae reproduce table2|table4|fig7`` and video ``memae train`` written before the
video settings joined :class:`~memae.config.ExperimentConfig` keep working through this translation.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MOVED_KEYS", "upgrade_config_dict"]


# Keys of the old video layout, for the hint in an unknown-key error (its files are translated, flags are not).
MOVED_KEYS = {
    ("", "fig7_num_slots"): "fig7_num_slots is now reproduce.fig7_num_slots",
    **{("model", k): f"{k} is now model.options.{k}" for k in (
        "width", "num_slots", "shrink_threshold", "similarity", "temperature", "entropy_weight", "latent_l1_weight")},
}


# The model settings of the old video layout, which are build_model options in this one.
_OLD_VIDEO_MODEL_KEYS = tuple(k for section, k in MOVED_KEYS if section == "model")


def upgrade_config_dict(values: dict[str, Any]) -> dict[str, Any]:
    """A config mapping in the current layout; the layout of older video runs is translated, any other is returned
    unchanged.

    Run folders and checkpoints of ``memae reproduce table2|table4|fig7`` and video ``memae train`` written before
    the video settings joined :class:`ExperimentConfig` store ``preset`` and ``fig7_num_slots`` at the top level and
    ``model: {variant, width, num_slots, ...}`` without architecture and options.  They become
    ``reproduce: {preset, fig7_num_slots}`` and ``model: {architecture: video, variant, options: {width, ...}}``;
    every value is kept as it was, so a resumed or reused run trains and scores exactly as before.  (Image and table
    configs have not changed layout: their ``model.options`` keys are the typed options' names.)
    """
    if not isinstance(values, dict) or "preset" not in values:  # only the old video layout had a top-level preset
        return values
    new = {k: v for k, v in values.items() if k not in ("preset", "fig7_num_slots")}
    reproduce = {"preset": values["preset"]}
    if "fig7_num_slots" in values:
        reproduce["fig7_num_slots"] = values["fig7_num_slots"]
    new["reproduce"] = {**reproduce, **(values.get("reproduce") or {})}
    model = dict(values.get("model") or {})
    options = {k: model.pop(k) for k in _OLD_VIDEO_MODEL_KEYS if k in model}
    new["model"] = {"architecture": "video", **model, "options": {**options, **(model.get("options") or {})}}
    return new
