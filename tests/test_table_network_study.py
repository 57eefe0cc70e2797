"""benchmarks/table_network_study.py: each candidate network is the one it names, and PyOD runs at equal epochs."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def study(benchmark_script):
    return benchmark_script("table_network_study")


def test_candidates_build_the_network_they_name(study):
    x = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    layers = {}
    for name, kwargs in study.CANDIDATES.items():
        detector = study.MemAEDetector(**{"variant": "ae", **kwargs}, random_state=0, device="cpu", epochs=1)
        detector.fit(x)
        layers[name] = [type(m).__name__ for m in detector.model_.encoder]
        assert (detector.model_.memory is None) == (not name.startswith("MemAE "))  # the AE unless it says MemAE
    assert layers["today"] == ["Linear", "Tanh", "Linear"]  # 6 -> 3 -> 2: the paper's table network, halving
    assert layers["relu+bn+dropout"][:4] == ["Linear", "BatchNorm1d", "ReLU", "Dropout"]
    assert layers["pyod network"] == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]  # 6 -> 64 -> 32
    assert layers["MemAE pyod network"] == layers["pyod network"]  # the same network with the memory in between
    assert layers["MemAE today"] == layers["today"]


def test_pyod_reference_trains_as_many_epochs_as_the_candidates(study):
    from memae.config import TABLE_RECIPE

    assert study.EQUAL_EPOCHS == TABLE_RECIPE.epochs
