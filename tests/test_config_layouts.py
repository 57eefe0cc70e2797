"""One config for images, tables and video: typed model options, checks at load time, and the old video layout.

The fixtures are configs as the code before the merge wrote them (``yaml.safe_dump(config.to_dict())``): a video
run's ``config.yaml`` (``memae reproduce table2 --preset cpu --quick``) and an image run's checkpoint config.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from memae.config import (
    ExperimentConfig,
    ModelOptions,
    config_from_dict,
    load_config,
    save_config,
    upgrade_config_dict,
)
from memae.errors import ConfigError, UnknownNameError
from memae.experiments.progress import RunStore
from memae.experiments.video import comparable_settings, reuse_units
from memae.experiments.video_unit import Unit, build_video_model, check_video_config
from memae.experiments.video_run import is_video_checkpoint, is_video_experiment
from memae.models import build_model, check_model_section
from memae.models.registry import OVERRIDES

FIXTURES = Path(__file__).with_name("fixtures")
OLD_VIDEO = FIXTURES / "old_video_config.yaml"
OLD_IMAGE = FIXTURES / "old_image_config.yaml"
# The overrides that made the old video fixture from the cpu preset, in today's key names.
SAME_AS_OLD_VIDEO = ["data.frame_size=[32, 32]", "data.max_train_videos=2", "model.options.width=0.25",
                     "reproduce.fig7_num_slots=[100, 1000]", "data.root=/data/ped2"]


def video_config(ref, overrides=None):
    """A video config as ``memae train --config`` and ``memae reproduce`` read it: the one loader, then the video check."""
    return check_video_config(load_config(ref, overrides))


def _old_video() -> dict:
    return yaml.safe_load(OLD_VIDEO.read_text())


# ------------------------------------------------------------------------------------------------ the old video layout


def test_old_video_layout_is_translated_value_for_value():
    old = _old_video()
    new = upgrade_config_dict(old)
    assert "preset" not in new and "fig7_num_slots" not in new
    assert new["reproduce"] == {"preset": "cpu", "fig7_num_slots": [100, 1000]}
    assert new["model"] == {"architecture": "video", "variant": "memae", "options": {
        "width": 0.25, "num_slots": 2000, "shrink_threshold": 0.0025, "similarity": "dot", "temperature": None,
        "entropy_weight": 0.0002, "latent_l1_weight": 0.0002}}
    assert {k: new[k] for k in ("name", "data", "train", "score")} == {k: old[k] for k in ("name", "data", "train", "score")}
    assert old == _old_video()  # the input is left as it was
    assert upgrade_config_dict(new) == new  # the current layout passes unchanged


def test_old_video_run_folder_loads_like_the_preset_it_came_from():
    old = video_config(OLD_VIDEO)  # what `reproduce --resume RUN` and `--reuse RUN` read
    new = video_config("cpu", SAME_AS_OLD_VIDEO)
    assert old.model.architecture == "video" and old.reproduce.preset == "cpu"
    assert old.reproduce.fig7_num_slots == [100, 1000]
    assert old.data == new.data and old.train == new.train and old.score == new.score
    assert old.model.options == new.model.options
    assert build_video_model(old, "memae").config == build_video_model(new, "memae").config
    # resume overrides use today's keys
    assert video_config(OLD_VIDEO, ["train.progress=false"]).train.progress is False


def test_reuse_sees_an_old_run_with_the_same_settings_as_the_same(tmp_path):
    old, new = video_config(OLD_VIDEO), video_config("cpu", SAME_AS_OLD_VIDEO)
    assert comparable_settings(old) == comparable_settings(new)
    # an option left to its default compares equal to the default stated
    unstated = video_config("cpu", [*SAME_AS_OLD_VIDEO, "model.options.entropy_weight=null"])
    assert unstated.model.options.entropy_weight is None and comparable_settings(unstated) == comparable_settings(old)
    changed = video_config("cpu", [*SAME_AS_OLD_VIDEO, "model.options.width=0.5"])
    assert comparable_settings(changed)["model.options.width"] != comparable_settings(old)["model.options.width"]

    source, run_dir = tmp_path / "old-run", tmp_path / "new-run"
    (source / "memae-seed1").mkdir(parents=True)
    (source / "config.yaml").write_text(OLD_VIDEO.read_text())
    (source / "memae-seed1" / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    run_dir.mkdir()
    reuse_units(source, RunStore(run_dir, "table4"), new, [Unit("memae", 1)])
    assert (run_dir / "memae-seed1" / "metrics.json").is_file()
    with pytest.raises(ConfigError, match="differs in model.options.width"):
        reuse_units(source, RunStore(run_dir, "table4"), changed, [Unit("memae", 1)])


def test_old_video_checkpoints_are_recognised_and_evaluated_with_their_settings(tmp_path):
    values = {**_old_video(), "unit": {"method": "ae", "seed": 1, "num_slots": None}}
    state = {"model_config": {"architecture": "video"}, "config": values}
    assert is_video_checkpoint(state)
    values.pop("unit")
    config = check_video_config(config_from_dict(values, ["data.root=/elsewhere"]))
    assert config.data.root == "/elsewhere" and config.model.options.width == 0.25 and config.score.error == "mae"
    assert is_video_experiment(load_config(OLD_VIDEO))
    new_file = tmp_path / "config.yaml"
    save_config(config, new_file)  # what runs write now: recognised too, and read back unchanged
    assert is_video_experiment(load_config(new_file)) and video_config(new_file) == config
    assert not is_video_checkpoint({"model_config": {}, "config": yaml.safe_load(OLD_IMAGE.read_text())})


def test_old_image_checkpoint_config_still_loads():
    values = yaml.safe_load(OLD_IMAGE.read_text())
    config = config_from_dict(values)
    assert config.model.options.given() == {"num_slots": 42, "shrink_threshold": "1/N"}
    assert upgrade_config_dict(values) is values
    assert config_from_dict(config.to_dict()) == config  # what runs write now reads back unchanged


# ------------------------------------------------------------------------------------------------ typed model options


def test_model_options_are_exactly_what_build_model_accepts():
    assert OVERRIDES == tuple(ModelOptions.__dataclass_fields__)
    assert all(value is None for value in vars(ModelOptions()).values())  # None = the architecture's default
    with pytest.raises(ConfigError, match="unknown model option"):
        build_model("mnist", num_slotz=3)


@pytest.mark.parametrize("override, message", [
    ("model.options.num_slotz=3", r"unknown config key\(s\) num_slotz in section 'model.options'"),
    ("model.options.num_slots=lots", "model.options.num_slots must be an integer"),
    ("model.options.num_slots=0", "model.options.num_slots must be >= 1"),
    ("model.options.temperature=cold", "model.options.temperature must be a number"),
    ("model.options.hidden=[8, x]", r"model.options.hidden\[\] must be an integer"),
    ("model.options.flatten_latent=maybe", "must be true or false"),
    ("model.width=0.5", "width is now model.options.width"),
    ("fig7_num_slots=[1]", "fig7_num_slots is now reproduce.fig7_num_slots"),
    ("score.mode=middle", "score.mode must be one of center, mean, got 'middle'"),
    ("data.clip_len=0", "data.clip_len must be >= 1"),
    ("model.options.activation=swish", "model.options.activation must be one of relu, leaky_relu, tanh, got 'swish'"),
    ("model.options.padding=full", "model.options.padding must be one of same, valid, got 'full'"),
    ("model.options.similarity=l2", "model.options.similarity must be one of dot, cosine, got 'l2'"),
    ("model.options.output_activation=relu6", "model.options.output_activation must be one of none, sigmoid, tanh"),
    ("model.options.padding=1", "model.options.padding must be one of same, valid, got 1"),
    ("data.protocol=nsl", "data.protocol must be one of paper, official-test, dagmm-code, got 'nsl'"),
    ("data.resample=cubic", "data.resample must be one of bilinear, area, got 'cubic'"),
    ("train.select=auc", "train.select must be one of val_loss, last, separation, got 'auc'"),
    ("train.log=wandb", "train.log must be one of csv, tensorboard, got 'wandb'"),
    ("score.ae_error=l1", "score.ae_error must be one of mse, mae, got 'l1'"),
])
def test_bad_keys_and_types_fail_when_the_config_loads(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


@pytest.mark.parametrize("override, message", [
    ("model.options.shrink_threshold=2/M", "model.options.shrink_threshold"),
    ("model.options.shrink_threshold=1.5", r"\[0, 1\)"),
])
def test_bad_option_values_fail_when_the_model_section_is_checked(override, message):
    config = load_config(None, [override])
    with pytest.raises(ConfigError, match=message):
        check_model_section(config.model)


def test_bad_names_fail_for_video_configs_at_load():
    with pytest.raises(UnknownNameError, match="model.variant must be one of"):
        video_config("cpu", ["model.variant=memae-big"])
    with pytest.raises(ConfigError, match="model.options.activation"):
        video_config("cpu", ["model.options.activation=swish"])
    with pytest.raises(ConfigError, match="model.architecture must be video"):
        video_config("cpu", ["model.architecture=mnist"])
    with pytest.raises(ConfigError, match="set by the video data"):
        video_config("cpu", ["model.options.input_size=[8, 32, 32]"])


def test_one_schema_and_the_video_presets_state_the_video_values():
    defaults = ExperimentConfig()
    cpu = video_config("cpu")
    assert type(cpu) is ExperimentConfig
    assert defaults.score.error == "mse" and cpu.score.error == "mae"  # the authors' video code
    assert defaults.score.batch_size == 256 and cpu.score.batch_size == 8
    assert cpu.data.dataset == "ped2" and cpu.reproduce.preset == "cpu"


def test_every_literal_setting_is_checked_when_a_config_is_built_or_validated():
    """One check reads the Literal annotations: on loading (every key given) and in validate() (every field)."""
    import dataclasses
    import typing

    from memae.config import ExperimentConfig, check_choices

    config = ExperimentConfig()
    sections = {"": config, "model": config.model, "model.options": config.model.options, "data": config.data,
                "train": config.train, "score": config.score, "reproduce": config.reproduce}
    checked = []
    for prefix, section in sections.items():
        hints = typing.get_type_hints(type(section))
        for f in dataclasses.fields(section):
            if "Literal" not in str(hints[f.name]):
                continue
            key = f"{prefix}.{f.name}" if prefix else f.name
            checked.append(key)
            with pytest.raises(ConfigError, match=rf"^{re.escape(key)} must be one of .*, got 'bogus'$"):
                load_config(None, [f"{key}=bogus"])
            good = getattr(section, f.name)
            setattr(section, f.name, "bogus")
            with pytest.raises(ConfigError, match=rf"^{re.escape(key)} must be one of "):
                config.validate()
            setattr(section, f.name, good)
            check_choices(section, prefix)
    assert len(checked) == 12 and "data.protocol" in checked and "model.options.padding" in checked


def test_config_names_match_what_the_code_implements():
    """The names a config may give are the names the models, the memory and the video reader take."""
    import typing

    from memae import config as cfg
    from memae.data.experiment import IMAGE_PROTOCOLS
    from memae.data.splits import KDD_PROTOCOLS
    from memae.data.video import RESAMPLE_MODES
    from memae.functional import SIMILARITIES
    from memae.models import conv, mlp, registry

    names = lambda alias: set(typing.get_args(alias))  # noqa: E731
    assert names(cfg.Similarity) == set(SIMILARITIES)
    assert names(cfg.Activation) == set(conv.ACTIVATIONS) == set(mlp.ACTIVATIONS)
    assert names(cfg.Padding) == set(conv.PADDINGS)
    assert names(cfg.OutputActivation) == set(registry.OUTPUT_ACTIVATIONS)
    assert names(cfg.Resample) == set(RESAMPLE_MODES)
    assert names(cfg.DataProtocol) == set(IMAGE_PROTOCOLS) | set(KDD_PROTOCOLS)
