"""Training lowers the loss, checkpoints round-trip safely, resume is exact, Ctrl-C leaves a usable checkpoint."""

import numpy as np
import pytest
import torch

from memae import build_model
from memae.errors import CheckpointError, ConfigError, DataError
from memae.functional import reconstruction_error
from memae.scoring.metrics import (METRIC_ALIASES, canonical_metrics, detection_report, threshold_metrics,
                                  top_fraction_threshold)
from memae.scoring.reconstruction import reconstruction_errors
from memae.training import TrainConfig, load_checkpoint, load_model, save_checkpoint, train


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    base = np.zeros((1, 8, 8), np.float32)
    base[:, 2:6, 2:6] = 0.8
    return np.clip(base + 0.05 * rng.standard_normal((n, 1, 8, 8)), 0, 1).astype(np.float32)


def quick_config(**kwargs):
    defaults = dict(epochs=3, batch_size=16, lr=1e-3, seed=0, progress=False, device="cpu")
    defaults.update(kwargs)
    return TrainConfig(**defaults)


def test_short_training_lowers_the_loss():
    torch.manual_seed(0)
    model = build_model("digits", "memae")
    result = train(model, blobs(), blobs(32, seed=1), quick_config(epochs=8))
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < 0.5 * losses[0]
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert result.best_epoch == int(np.argmin([r["val_loss"] for r in result.history]))



def test_a_diverging_run_stops_with_one_line_that_names_the_learning_rate(tmp_path):
    from memae.errors import DivergenceError

    torch.manual_seed(0)
    model = build_model("digits", "memae")
    with pytest.raises(DivergenceError, match=r"loss became (nan|inf) at epoch 1; lower train.lr \(now 1e\+38\)"):
        train(model, blobs() * 1e30, None, quick_config(lr=1e38), run_dir=tmp_path)
    assert not (tmp_path / "last.pt").exists()  # no checkpoint of a poisoned model

def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = build_model("mnist", "memae", num_slots=20)
    path = save_checkpoint(tmp_path / "model.pt", model, epoch=3, config={"name": "x"})
    restored = load_model(path)
    assert restored.memory.num_slots == 20
    for (name, a), b in zip(model.state_dict().items(), restored.state_dict().values()):
        assert torch.equal(a, b), name
    x = torch.rand(2, 1, 28, 28)
    model.eval()
    assert torch.allclose(model(x)[0], restored(x)[0])
    assert load_checkpoint(path)["epoch"] == 3


def test_resume_ends_where_an_uninterrupted_run_would(tmp_path):
    data, val = blobs(), blobs(24, seed=2)
    torch.manual_seed(0)
    full = build_model("digits", "memae")
    train(full, data, val, quick_config(epochs=4), tmp_path / "full")

    torch.manual_seed(0)
    part = build_model("digits", "memae")
    train(part, data, val, quick_config(epochs=2), tmp_path / "part")
    torch.manual_seed(123)  # a fresh process would start from other weights: the checkpoint must win
    resumed = build_model("digits", "memae")
    result = train(resumed, data, val, quick_config(epochs=4), tmp_path / "part", resume=True)
    assert [r["epoch"] for r in result.history] == [0, 1, 2, 3]
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), name


def test_ctrl_c_leaves_the_last_completed_epoch(tmp_path, monkeypatch):
    model = build_model("digits", "memae")
    calls = {"n": 0}
    original = type(model).loss

    def interrupting_loss(self, x):
        calls["n"] += 1
        if calls["n"] == 10:  # during the second epoch (6 batches per epoch)
            raise KeyboardInterrupt
        return original(self, x)

    monkeypatch.setattr(type(model), "loss", interrupting_loss)
    with pytest.raises(KeyboardInterrupt):
        train(model, blobs(), None, quick_config(epochs=5), tmp_path)
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["epoch"] == 0
    assert not list(tmp_path.glob("*.tmp"))  # nothing half-written
    monkeypatch.undo()
    result = train(build_model("digits", "memae"), blobs(), None, quick_config(epochs=2), tmp_path, resume=True)
    assert [r["epoch"] for r in result.history] == [0, 1]


def test_corrupt_missing_and_foreign_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a memae checkpoint"):
        load_checkpoint(foreign)


def test_checkpoint_loading_never_unpickles_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "memae-checkpoint-v1", "payload": Evil()}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="nothing to resume"):
        train(build_model("digits", "ae"), blobs(), None, quick_config(), tmp_path, resume=True)


def test_bad_train_config():
    with pytest.raises(ConfigError, match="epochs"):
        train(build_model("digits", "ae"), blobs(), None, quick_config(epochs=0))
    with pytest.raises(ConfigError, match="device"):
        train(build_model("digits", "ae"), blobs(), None, quick_config(device="tpu:9"))


def test_scores_separate_planted_anomalies():
    torch.manual_seed(0)
    model = build_model("digits", "memae")
    train(model, blobs(128), None, quick_config(epochs=15))
    normal = blobs(40, seed=5)
    anomalous = 1.0 - blobs(20, seed=6)  # inverted pattern
    scores = reconstruction_errors(model, np.concatenate([normal, anomalous]))
    labels = np.r_[np.zeros(40), np.ones(20)]
    report = detection_report(labels, scores, top_fraction_threshold(scores, 1 / 3))
    assert report["roc_auc"] > 0.95
    assert report["f1"] > 0.8
    mae = reconstruction_errors(model, normal, error="mae")
    assert mae.shape == (40,) and np.all(mae > 0)


def test_threshold_metrics_hand_values():
    labels = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.2, 0.9, 0.3, 0.8, 0.95])
    m = threshold_metrics(labels, scores, 0.5)  # predicted: idx 2, 4, 5
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert top_fraction_threshold(np.arange(101.0), 0.2) == pytest.approx(80.0)


def test_old_metric_names_read_as_the_vocabulary():
    old = {"auc": 0.9, "ap": 0.5, "mean_video_auc": 0.8, "video_aucs": [0.7], "auc_mae": 0.91, "auc_pr": 0.4,
           "mean_video_auc_mse": 0.6, "eer": 0.2, "paper_auc": 0.95, "pixel_auc": 0.3}
    assert canonical_metrics(old) == {"roc_auc": 0.9, "average_precision": 0.4, "mean_video_roc_auc": 0.8,
                                      "video_roc_aucs": [0.7], "roc_auc_mae": 0.91, "mean_video_roc_auc_mse": 0.6,
                                      "eer": 0.2, "paper_auc": 0.95, "pixel_auc": 0.3}
    assert canonical_metrics({"auc": 0.1, "roc_auc": 0.9}) == {"roc_auc": 0.9}  # the new name wins
    assert set(METRIC_ALIASES.values()) <= {"roc_auc", "average_precision", "mean_roc_auc", "mean_video_roc_auc",
                                            "video_roc_aucs"}


def test_one_reconstruction_error():
    x, r = torch.zeros(2, 1, 2, 2), torch.tensor([1.0, -2.0]).view(2, 1, 1, 1).expand(2, 1, 2, 2)
    assert reconstruction_error(r, x).tolist() == [1.0, 4.0]
    assert reconstruction_error(r, x, "mae").tolist() == [1.0, 2.0]
    assert reconstruction_error(r, x, "mae", reduce=False).shape == (2, 1, 2, 2)
    with pytest.raises(ValueError, match="error must be one of"):
        reconstruction_error(r, x, "l3")


def test_nan_in_training_data_is_refused():
    data = blobs(20)
    data[7, 0, 3, 3] = np.nan
    with pytest.raises(DataError, match="NaN/inf value.*sample 7"):
        train(build_model("digits", "ae"), data, None, quick_config())


def test_training_ends_with_the_best_validation_epoch(tmp_path):
    torch.manual_seed(0)
    model = build_model("digits", "memae")
    result = train(model, blobs(), blobs(24, seed=3), quick_config(epochs=4, lr=0.05), tmp_path)  # lr high: noisy
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == result.best_epoch
    for name, value in model.state_dict().items():
        assert torch.equal(value, best["model"][name]), name
    assert result.best_state is not None
    assert "val_zero_queries" in result.history[0] and 0 <= result.history[0]["val_used_slots"] <= 1
    plain = build_model("digits", "memae")
    train(plain, blobs(), blobs(24, seed=3), quick_config(epochs=2))  # no run_dir: best weights kept in memory
    assert all(torch.isfinite(p).all() for p in plain.parameters())


def test_shrink_warmup_rescues_a_memory_that_starts_collapsed():
    # 200 slots, lambda = 5/N: the fresh softmax is near 1/N everywhere, so shrinkage zeroes every query and the
    # decoder sees only zeros.  With the paper's schedule the model stays there; ramping lambda up escapes.
    def run(warmup):
        torch.manual_seed(0)
        model = build_model("digits", "memae", num_slots=200, shrink_threshold="5/N")
        config = quick_config(epochs=6, lr=1e-2, batch_size=8, shrink_warmup_epochs=warmup)
        return model, train(model, blobs(), blobs(32, seed=1), config).history

    _, plain = run(0)
    model, warmed = run(3)
    assert [h["val_zero_queries"] for h in plain] == [1.0] * 6  # collapsed throughout
    assert "shrink_factor" not in plain[0]
    assert [h["shrink_factor"] for h in warmed] == pytest.approx([0, 1 / 3, 2 / 3, 1, 1, 1])
    assert warmed[-1]["val_zero_queries"] == 0.0  # validated at the full lambda, every query addressed
    assert warmed[-1]["val_loss"] < 0.2 * plain[-1]["val_loss"]
    assert model.memory.shrink_threshold == pytest.approx(0.025)  # the schedule never leaks into the model


def test_shrink_warmup_factor_and_restore():
    from memae.training.trainer import shrink_warmup, shrink_warmup_factor

    assert [shrink_warmup_factor(e, 4) for e in range(6)] == [0, 0.25, 0.5, 0.75, 1, 1]
    assert shrink_warmup_factor(0, 0) == 1.0
    model = build_model("digits", "memae", shrink_threshold=0.01)
    with pytest.raises(RuntimeError), shrink_warmup(model, 0.5):
        assert model.memory.shrink_threshold == pytest.approx(0.005)
        raise RuntimeError("interrupted")
    assert model.memory.shrink_threshold == pytest.approx(0.01)  # restored even on error
    with pytest.raises(ConfigError, match="shrink_warmup_epochs"):
        TrainConfig(shrink_warmup_epochs=-1).validate()


# -- random streams ------------------------------------------------------------------------------------------------


class _Noisy(torch.nn.Module):
    """A network whose loss draws noise (as a VAE's does) and which uses dropout: train's generator drives both."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.Dropout(0.3),
                                       torch.nn.Linear(16, 64))

    def loss(self, x):
        noisy = x + 0.1 * torch.randn_like(x)
        return (self.net(noisy) - x.flatten(1)).pow(2).mean()

    def sample_errors(self, x):
        return (self.net(x) - x.flatten(1)).pow(2).mean(1)


def _noisy_model():
    torch.manual_seed(0)
    return _Noisy()


def test_train_leaves_the_global_random_states_alone():
    import random

    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    expected = random.random(), np.random.rand(), torch.rand(1).item()
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    model = _noisy_model()  # re-seeds torch itself: start the check after it
    torch.manual_seed(3)
    train(model, blobs(), blobs(32, seed=1), quick_config(epochs=2))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_the_generator_drives_the_noise_and_defaults_to_the_seed():
    from memae.training import seeded_generator

    def weights(**kwargs):
        model = _noisy_model()
        train(model, blobs(), blobs(32, seed=1), quick_config(epochs=2), **kwargs)
        return model.state_dict()

    default = weights()
    given = seeded_generator(0)
    same = weights(generator=given)
    other = weights(generator=seeded_generator(1))
    for key in default:
        torch.testing.assert_close(same[key], default[key], rtol=0, atol=0)  # default: seeded with config.seed
    assert not all(torch.equal(other[k], default[k]) for k in default)  # another stream, other noise and dropout
    assert not torch.equal(given.get_state(), seeded_generator(0).get_state())  # advanced in place


@pytest.mark.skipif(not torch.cuda.is_available(), reason="a CUDA generator is the other device type there is")
def test_a_generator_on_another_device_type_is_refused():
    with pytest.raises(ConfigError, match="the generator is on cuda"):  # training on the CPU (quick_config)
        train(_noisy_model(), blobs(), None, quick_config(epochs=1), generator=torch.Generator(device="cuda"))
