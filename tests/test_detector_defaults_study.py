"""benchmarks/detector_defaults_study.py: the choice is by mean rank, and the leave-tables-out check holds tables out."""

from __future__ import annotations


import pytest


@pytest.fixture(scope="module")
def study(benchmark_script):
    return benchmark_script("detector_defaults_study")


def _rows(auc_of):
    return [{"block": "classical", "table": f"t{t}", "seed": s, "method": m, "roc_auc": auc_of(t, s, m)}
            for t in range(6) for s in (1, 2) for m in ("defaults", "a", "b", "IForest")]


def test_rank_choice_is_not_swayed_by_one_table(study):
    # "b" wins hugely on one table and loses slightly everywhere else: the mean AUC would pick it, the rank does not
    def auc(t, s, m):
        return {"defaults": 0.70, "a": 0.72, "b": 0.99 if t == 0 else 0.71, "IForest": 0.9}[m]

    text = study.report(_rows(auc), ["defaults", "a", "b"], folds=3, seeds=[1, 2])
    assert "Choice by mean rank over every table and seed: `a`" in text
    assert "| IForest | 0.9000 | (reference) |" in text


def test_leave_tables_out_scores_each_group_with_a_choice_made_without_it(study):
    # "a" is best on tables 0-2, "b" on 3-5: folds by name order modulo 2 mix them, so each fold's choice is scored
    # on tables it was not chosen on, and the held-out gain is below the in-sample one
    def auc(t, s, m):
        best = "a" if t < 3 else "b"
        return {"defaults": 0.70, "IForest": 0.5}.get(m, 0.80 if m == best else 0.60)

    text = study.report(_rows(auc), ["defaults", "a", "b"], folds=2, seeds=[1, 2])
    held = [line for line in text.splitlines() if line.startswith("| 0 |") or line.startswith("| 1 |")]
    assert len(held) == 2
    assert "held out" in text and "in sample" in text
