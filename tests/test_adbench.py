"""``memae benchmark adbench``: the protocol on generated tables, resuming, and the report (fast: tiny tables)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from memae.cli.main import main
from memae.errors import UnknownNameError
from memae.experiments.adbench import find_tables, split_table, write_report

pytest.importorskip("pyod")  # the benchmark compares with PyOD's detectors


def write_tables(root, names=("1_tiny", "2_small")) -> None:
    """Tiny ADBench-style .npz tables: normal rows near a line, 10 % anomalies off it; one MVTec-style table."""
    rng = np.random.default_rng(0)
    for folder, stem, n, d in [("classical", names[0], 60, 4), ("classical", names[1], 90, 5),
                               ("cv_resnet18", "MVTec-AD_fake", 50, 8)]:
        t = rng.normal(size=(n, 1))
        X = t @ rng.normal(size=(1, d)) + 0.05 * rng.normal(size=(n, d))
        y = np.zeros(n, dtype=int)
        y[: n // 10] = 1
        X[y == 1] = 2 * rng.normal(size=(n // 10, d))
        (root / folder).mkdir(parents=True, exist_ok=True)
        np.savez(root / folder / f"{stem}.npz", X=X, y=y)


def test_split_follows_the_protocol():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12_000, 3)) * 5, (rng.random(12_000) < 0.1).astype(int)
    X_train, X_test, y_train, y_test = split_table(X, y, seed=1)
    assert len(X_train) == 7000 and len(X_test) == 3000  # sub-sampled to 10,000, then 70/30
    assert X_train.min() == 0 and X_train.max() == 1  # min-max fitted on the training part only
    assert abs(y_train.mean() - y_test.mean()) < 0.01  # stratified
    again = split_table(X, y, seed=1)
    np.testing.assert_array_equal(again[0], X_train)
    assert not np.array_equal(split_table(X, y, seed=2)[0], X_train)


@pytest.mark.slow
def test_quick_run_resumes_and_reports(tmp_path, capsys):
    root, out = tmp_path / "data", tmp_path / "out"
    write_tables(root)
    args = ["benchmark", "adbench", "--data-root", str(root), "--out", str(out), "--seeds", "1",
            "--detectors", "MemAE,IForest,ECOD", "--tables", "tiny,MVTec-AD_fake", "--no-progress"]
    assert main(args) == 0
    rows = list(csv.DictReader(open(out / "adbench.csv")))
    assert len(rows) == 6 and {r["detector"] for r in rows} == {"MemAE", "IForest", "ECOD"}
    assert all(0 <= float(r["roc_auc"]) <= 1 and not r["error"] for r in rows)
    assert {r["n_train"] for r in rows if r["table"] == "tiny"} == {"42"}
    # a second invocation adds a table and recomputes nothing already in the CSV
    assert main(args[:-3] + ["--tables", "tiny,small,MVTec-AD_fake", "--no-progress"]) == 0
    rows = list(csv.DictReader(open(out / "adbench.csv")))
    assert len(rows) == 9 and len({(r["table"], r["detector"]) for r in rows}) == 9
    report = (out / "adbench.md").read_text()
    assert "## classical" in report and "## MVTec-AD" in report and "PARTIAL" not in report
    assert report.count("- command: `memae benchmark adbench") == 2 and "commit `" in report and "wall time" in report
    assert "average rank" in report and "fit s" in report
    assert (out / "adbench_cd_classical.png").is_file()  # 2 tables x 3 detectors: a Friedman test is possible
    assert "fits in" in capsys.readouterr().out


@pytest.mark.parametrize("ap_column", ["average_precision", "auc_pr"])  # auc_pr: adbench.csv files written before
def test_partial_report_is_marked(tmp_path, ap_column):
    path = tmp_path / "r.csv"
    with open(path, "w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["block", "table", "seed", "detector", "n_train", "n_test", "n_features", "anomaly_share",
                    "roc_auc", ap_column, "fit_seconds", "predict_seconds", "error"])
        w.writerow(["classical", "a", 1, "MemAE", 7, 3, 2, 0.1, 0.9, 0.5, 1.0, 0.1, ""])
        w.writerow(["classical", "a", 1, "IForest", 7, 3, 2, 0.1, 0.8, 0.4, 1.0, 0.1, ""])
        w.writerow(["classical", "b", 1, "MemAE", 7, 3, 2, 0.1, 0.7, 0.5, 1.0, 0.1, ""])
    result = write_report(path, tmp_path / "r.md", seeds=[1], detectors=["MemAE", "IForest"])
    text = (tmp_path / "r.md").read_text()
    assert not result["complete"] and "PARTIAL" in text and "unfinished, left out below: b" in text
    assert "| MemAE | 0.900 |" in text and "| 0.500 |" in text  # the AUC-PR column read under either name


def test_unknown_table_and_detector(tmp_path):
    write_tables(tmp_path)
    with pytest.raises(UnknownNameError, match="nope"):
        find_tables(tmp_path, ["nope"])
    assert main(["benchmark", "adbench", "--data-root", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--detectors", "Magic"]) == 1
