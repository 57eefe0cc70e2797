"""train.select: the epoch a run keeps, with and without labels (issue 10)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import memae
from memae.config import TrainConfig, load_config
from memae.errors import ConfigError
from memae.training.selection import separation


def planted_collapse(n_normal: int, n_anomalous: int, seed: int):
    """Normals on a 2-d plane in 10-d; 10 % anomalies in one tight cluster off the plane, mixed into the data.

    A 3-d autoencoder first learns the plane (anomalies rebuilt badly), then spends its third code unit on the
    cluster: from then on it rebuilds the anomalies too while its reconstruction loss keeps falling.
    """
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(10, 10)))[0]
    normal = rng.normal(size=(n_normal, 2)) @ basis[:2]
    anomalous = 2.0 * basis[5] + 0.05 * rng.normal(size=(n_anomalous, 10))
    return np.r_[normal, anomalous].astype(np.float32), np.r_[np.zeros(n_normal), np.ones(n_anomalous)]


def _run(select: str):
    train_x, _ = planted_collapse(1800, 200, 0)
    val_x, val_y = planted_collapse(450, 50, 2)  # unlabelled held-out part of the same contaminated data
    torch.manual_seed(0)
    model = memae.build_model("mlp", "ae", in_features=10, hidden=(8, 3))
    config = TrainConfig(epochs=10, batch_size=64, lr=3e-3, select=select, select_share=0.1, progress=False)
    result = memae.train(model, train_x, val_x, config)
    with torch.no_grad():
        scores = ((model(torch.from_numpy(val_x))[0] - torch.from_numpy(val_x)) ** 2).mean(1).numpy()
    return result, roc_auc_score(val_y, scores)


def test_separation_stops_before_a_planted_collapse_where_val_loss_does_not():
    by_loss, auc_loss = _run("val_loss")
    by_separation, auc_separation = _run("separation")
    losses = [r["val_loss"] for r in by_loss.history]
    assert losses[-1] < losses[2]  # the collapse is invisible to the loss: it keeps falling
    assert by_loss.best_epoch >= 8
    assert by_separation.best_epoch <= 4
    assert auc_separation > 0.95 and auc_separation > auc_loss + 0.05
    assert all("separation" in r and "monitor" in r for r in by_separation.history)


def test_last_keeps_the_last_epoch_and_resume_agrees(tmp_path):
    x = np.random.default_rng(0).random((64, 6), dtype=np.float32)
    model = memae.build_model("mlp", "memae", in_features=6, hidden=(4, 2))
    config = TrainConfig(epochs=3, batch_size=16, lr=1e-3, select="last", progress=False)
    result = memae.train(model, x, x[:16], config, run_dir=tmp_path)
    assert result.best_epoch == 2
    config.epochs = 4
    resumed = memae.train(memae.build_model("mlp", "memae", in_features=6, hidden=(4, 2)), x, x[:16], config,
                          run_dir=tmp_path, resume=True)
    assert resumed.best_epoch == 3


def test_separation_statistic():
    bulk = np.linspace(1.0, 1.1, 90)
    assert separation(np.r_[bulk, np.full(10, 10.0)], 0.1) > separation(np.r_[bulk, np.full(10, 1.2)], 0.1) > 0
    assert separation(np.ones(50), 0.1) == 0.0
    assert math.isnan(separation(np.ones(1), 0.1))
    assert math.isfinite(separation(np.r_[bulk, np.zeros(10)], 0.1))  # zero errors are floored, never NaN


def test_bad_select_settings_are_one_line_config_errors(tmp_path):
    for key, value, message in (("select", "auc", "train.select must be one of val_loss, last, separation"),
                                ("select_share", 1.5, "train.select_share must be in"),
                                ("select_data", "train", "train.select_data must be one of val, test, got 'train'")):
        with pytest.raises(ConfigError, match=message):
            TrainConfig(**{key: value}).validate()
    path = tmp_path / "c.yaml"
    path.write_text("train: {select: separation, select_share: 0.2, select_data: test}\n")
    assert load_config(path).train.select_data == "test"
    model = memae.build_model("mlp", "ae", in_features=4, hidden=(2,))
    with pytest.raises(ConfigError, match="needs unlabelled selection data"):
        memae.train(model, np.zeros((8, 4), np.float32), None, TrainConfig(epochs=1, select="separation", progress=False))


def test_detector_select_option_stops_before_the_planted_collapse():
    from memae import MemAEDetector

    x, y = planted_collapse(1800, 200, 0)
    # the paper's tanh network, pinned: the planted collapse was built against it
    common = dict(hidden=[8, 3], variant="ae", activation="tanh", batch_norm=False, dropout=0.0, epochs=10,
                  batch_size=64, lr=3e-3, preprocessing=None, random_state=0, contamination=0.1)
    by_loss = MemAEDetector(**common).fit(x)
    by_separation = MemAEDetector(**common, select="separation").fit(x)
    assert by_separation.best_epoch_ < by_loss.best_epoch_
    assert roc_auc_score(y, by_separation.decision_scores_) > roc_auc_score(y, by_loss.decision_scores_)
    no_holdout = MemAEDetector(**common, select="separation", validation_fraction=0.0).fit(x)
    assert "separation" in no_holdout.history_[0]
    with pytest.raises(ValueError, match="select"):
        MemAEDetector(select="auc").fit(x)
