"""The video experiments' config: memory options reach the model as the memory module defines them."""

import yaml

from memae.config import load_config
from memae.experiments.video import comparable_settings
from memae.experiments.video_unit import build_video_model, check_video_config
from memae.memory import DEFAULT_TEMPERATURE


def video_config(ref, overrides=None):
    """A video config as ``memae train --config`` and ``memae reproduce`` read it: the one loader, then the video check."""
    return check_video_config(load_config(ref, overrides))


def _config_file(tmp_path, model=None):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({"data": {"frame_size": [16, 16], "clip_len": 8},
                                    "model": {"architecture": "video",
                                              "options": {"width": 0.25, "num_slots": 20, **(model or {})}}}))
    return path


def test_cosine_gets_the_memory_modules_default_temperature(tmp_path):
    # Bug fixed: the video config used to pass temperature 1.0 always, so cosine addressing (weights within
    # e^{+-1} of each other) could never pass a 1/N shrink threshold for large N.
    path = _config_file(tmp_path)
    cosine = video_config(path, ["model.options.similarity=cosine"])
    assert cosine.model.options.temperature is None
    assert build_video_model(cosine, "memae").memory.temperature == DEFAULT_TEMPERATURE["cosine"] == 0.1
    assert build_video_model(video_config(path), "memae").memory.temperature == 1.0  # dot: as before
    explicit = video_config(path, ["model.options.similarity=cosine", "model.options.temperature=0.5"])
    assert build_video_model(explicit, "memae").memory.temperature == 0.5


def test_an_unset_temperature_compares_equal_to_its_default_when_reusing_runs(tmp_path):
    unset = video_config(_config_file(tmp_path))
    stated = video_config(_config_file(tmp_path, {"temperature": 1.0}))
    assert comparable_settings(unset) == comparable_settings(stated)
    assert comparable_settings(unset) != comparable_settings(video_config(_config_file(tmp_path, {"temperature": 0.5})))
