"""benchmarks/memory_recipe_study.py: recipes reach the network, and the report counts wins over the AE."""

from __future__ import annotations


import numpy as np
import pytest


@pytest.fixture(scope="module")
def study(benchmark_script):
    return benchmark_script("memory_recipe_study")


def test_recipe_settings_reach_the_detector_network_and_schedule(study):
    X = np.random.default_rng(0).normal(size=(120, 6))
    recipe = study.CANDIDATES["cos,T=0.1+warmup=10"]
    det = study.make_detector(recipe, seed=0, epochs=3).fit(X)
    memory = det.model_.memory
    assert (memory.similarity, memory.temperature) == ("cosine", 0.1)
    # the warm-up ramps lambda up from 0: epoch e of 10 trains with e/10 of it
    assert [round(r["shrink_factor"], 2) for r in det.history_] == [0.0, 0.1, 0.2]
    plain = study.make_detector(study.CANDIDATES["memae"], seed=0, epochs=1).fit(X)
    assert plain.model_.memory.similarity == "dot" and "shrink_factor" not in plain.history_[0]
    assert study.make_detector(study.CANDIDATES["ae"], seed=0, epochs=1).fit(X).model_.memory is None


def test_image_only_recipes_are_skipped_on_tables(study):
    assert not study.applies_to(study.CANDIDATES["per-position"], "adbench")
    assert study.applies_to(study.CANDIDATES["per-position"], "digits")
    config = study.digits_config(study.CANDIDATES["per-position+cos,T=0.1"], digit=4, seed=1, epochs=2)
    assert config.model.options.flatten_latent is False and config.model.options.similarity == "cosine"
    assert (config.data.normal_class, config.train.seed, config.train.epochs) == (4, 1, 2)


def test_summary_counts_wins_and_gain_over_the_ae(study):
    aucs = {"ae": [0.5, 0.6, 0.7, 0.8], "memae": [0.6, 0.6, 0.6, 0.9]}
    rows = [{"bench": "digits", "dataset": str(d), "seed": 0, "candidate": c, "roc_auc": a}
            for c, values in aucs.items() for d, a in enumerate(values)]
    summary = {s["candidate"]: s for s in study.summarise(rows, "digits", ["ae", "memae"])}
    assert (summary["memae"]["wins_over_ae"], summary["memae"]["losses_to_ae"]) == (2, 1)
    assert summary["memae"]["gain_over_ae"] == pytest.approx(0.025)
    assert summary["memae"]["average_rank"] == pytest.approx(1.375, abs=0.01)  # ranks 1, 1.5, 2, 1 (rounded to 2 places)
