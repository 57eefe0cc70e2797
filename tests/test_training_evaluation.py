"""Evaluation equals training: BatchNorm recalibration, the logged eval-vs-batch-statistics gap, addressing sparsity,
early stopping, and a checkpoint whose size does not grow with the epoch count."""

import math

import numpy as np
import pytest
import torch

from memae import build_model
from memae.errors import ConfigError
from memae.training import TrainConfig, train
from memae.training.trainer import read_history, recalibrate_batch_norm


def digit_like(n=160, seed=0):
    """Two noisy blob shapes on 8x8: enough structure for a small MemAE to learn within a few epochs."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, 8, 8), np.float32)
    x[: n // 2, :, 1:5, 1:7] = 0.9
    x[n // 2:, :, 3:7, 2:6] = 0.7
    return np.clip(x + 0.08 * rng.standard_normal(x.shape), 0, 1).astype(np.float32)


def config(**kwargs):
    values = dict(epochs=6, batch_size=16, lr=3e-3, seed=0, progress=False, device="cpu")
    values.update(kwargs)
    return TrainConfig(**values)


@pytest.mark.parametrize("variant", ["memae", "ae"])
def test_eval_mode_validation_error_stays_within_a_few_percent_of_the_batch_statistics_one(variant):
    torch.manual_seed(0)
    result = train(build_model("digits", variant), digit_like(), digit_like(48, seed=1), config())
    gaps = [r["bn_gap"] for r in result.history]
    assert all(math.isfinite(g) for g in gaps)
    # eval mode is never more than a few percent worse (it may be better: small batches' statistics are noisy)
    assert max(gaps[1:]) < 0.05, gaps


def test_without_recalibration_the_memory_model_shows_the_gap_the_fix_removes():
    """The same run with running averages only: the gap is what recalibration removes (guards the measurement)."""
    torch.manual_seed(0)
    fixed = train(build_model("digits", "memae"), digit_like(), digit_like(48, seed=1), config())
    torch.manual_seed(0)
    raw = train(build_model("digits", "memae"), digit_like(), digit_like(48, seed=1), config(bn_recalibration=False))
    assert max(r["bn_gap"] for r in raw.history) > max(r["bn_gap"] for r in fixed.history[1:])


def test_recalibration_sets_running_statistics_to_the_training_set_average_and_keeps_the_rng():
    model = build_model("digits", "ae").eval()
    data = torch.utils.data.TensorDataset(torch.from_numpy(digit_like(64)))
    torch.manual_seed(5)
    expected_next = torch.rand(3)
    torch.manual_seed(5)
    recalibrate_batch_norm(model, data, config(batch_size=64), torch.device("cpu"))
    assert torch.equal(torch.rand(3), expected_next)  # the global RNG was left as it was
    first = model.encoder[1]  # Conv -> BN: the BN's mean is the per-channel mean of the conv output
    with torch.no_grad():
        conv_out = model.encoder[0](torch.from_numpy(digit_like(64)))
    torch.testing.assert_close(first.running_mean, conv_out.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    assert first.momentum == 0.1 and not model.training


def test_sparsity_is_logged_per_epoch_and_nonspar_is_denser_than_memae():
    stats = {}
    for variant in ("memae", "memae-nonspar"):
        torch.manual_seed(0)
        result = train(build_model("digits", variant), digit_like(), digit_like(48, seed=1), config(epochs=3))
        last = result.history[-1]
        assert 0 <= last["val_entropy"] <= math.log(50) + 1e-6
        assert 1 <= last["val_active_slots"] <= last["val_active_slots_p90"] <= 50
        stats[variant] = last
    assert stats["memae-nonspar"]["val_active_slots"] == 50  # a softmax without shrinkage addresses every slot
    assert stats["memae"]["val_active_slots"] < 50


def test_patience_stops_the_run_and_resume_does_not_train_past_it(tmp_path):
    torch.manual_seed(0)
    # lr far too small to improve after epoch 1 is not reliable; instead a huge epoch count with patience 2
    result = train(build_model("digits", "ae"), digit_like(), digit_like(48, seed=1),
                   config(epochs=10_000, patience=2, lr=0.05), run_dir=tmp_path)
    assert result.stopped_early and len(result.history) < 10_000
    assert len(result.history) - 1 - result.best_epoch == 2
    again = train(build_model("digits", "ae"), digit_like(), digit_like(48, seed=1),
                  config(epochs=10_000, patience=2, lr=0.05), run_dir=tmp_path, resume=True)
    assert len(again.history) == len(result.history) and again.best_epoch == result.best_epoch


def test_patience_needs_a_monitored_value():
    with pytest.raises(ConfigError, match="patience"):
        config(patience=3, select="last").validate()


def test_checkpoint_size_does_not_grow_with_epochs_and_history_reads_back(tmp_path):
    torch.manual_seed(0)
    train(build_model("digits", "ae"), digit_like(), digit_like(48, seed=1), config(epochs=2), run_dir=tmp_path / "a")
    torch.manual_seed(0)
    result = train(build_model("digits", "ae"), digit_like(), digit_like(48, seed=1), config(epochs=12),
                   run_dir=tmp_path / "b")
    small, large = (tmp_path / "a" / "last.pt").stat().st_size, (tmp_path / "b" / "last.pt").stat().st_size
    assert abs(large - small) < 512
    back = read_history(tmp_path / "b" / "history.csv")
    assert [r["val_loss"] for r in back] == [r["val_loss"] for r in result.history]
    assert [r["epoch"] for r in back] == list(range(12))
