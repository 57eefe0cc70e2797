"""Issue 23: ``memae score`` gives the same answer for every input form, says when input is unlike the training
data, and fails fast and in the user's terms; tiny data and logs are reported honestly."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest


pd = pytest.importorskip("pandas")
SRC = Path(__file__).resolve().parents[1] / "src"


def _table(n: int = 240, seed: int = 0) -> "pd.DataFrame":
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    label = (rng.random(n) < 0.15).astype(int)
    # anomalies sit far from the normal cloud, so that a one-epoch model ranks them (the AUC test needs both classes)
    return pd.DataFrame({"a": a * 3 + 10 + 6 * label, "b": b * 0.5 - 2, "c": a + b, "label": label})


@pytest.fixture(scope="module")
def table_run(only_run, tmp_path_factory):
    """A table run trained through the CLI on a CSV whose columns have very different scales (so that skipping the
    stored standardisation changes every score)."""
    root = tmp_path_factory.mktemp("table-run")
    frame = _table()
    frame.to_csv(root / "train.csv", index=False)
    from memae.cli.main import main

    code = main(["train", "--dataset", "table", "--data-root", str(root / "train.csv"), "--label-column", "label",
                 "--architecture", "mlp", "--epochs", "2", "--set", "train.progress=false", "--out", str(root / "runs")])
    assert code == 0
    return only_run(root / "runs"), frame, root


def _read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(open(path)))


def test_every_input_form_gets_the_same_scores(run_cli, table_run, tmp_path):
    run, frame, _ = table_run
    features = frame.drop(columns=["label"])
    features.to_csv(tmp_path / "rows.csv", index=False)
    pytest.importorskip("pyarrow")
    features.to_parquet(tmp_path / "rows.parquet", index=False)
    np.save(tmp_path / "rows.npy", features.to_numpy())
    outputs = {}
    for name in ("rows.csv", "rows.parquet", "rows.npy"):
        code, out, err = run_cli(["score", run / "best.pt", tmp_path / name, "--out", tmp_path / f"{name}.scores.csv",
                                  "--chunk-rows", "50"])
        assert code == 0, err
        outputs[name] = _read(tmp_path / f"{name}.scores.csv")
    from memae.scoring.stream import TableScorer

    from_frame = TableScorer(run / "best.pt").score(features)
    columns = {name: list(rows[0]) for name, rows in outputs.items()}
    assert len({tuple(c) for c in columns.values()}) == 1, columns
    assert columns["rows.csv"][:3] == ["id", "score", "score_normalised"]
    for name, rows in outputs.items():
        np.testing.assert_allclose([float(r["score"]) for r in rows], from_frame, rtol=1e-6, err_msg=name)
        assert [r["predicted_anomaly"] for r in rows] == [r["predicted_anomaly"] for r in outputs["rows.csv"]]
        normalised = np.array([float(r["score_normalised"]) for r in rows])
        assert normalised.min() == 0.0 and normalised.max() == 1.0


def test_an_array_that_does_not_fit_the_stored_preprocessing_is_refused(run_cli, table_run, tmp_path):
    run, frame, _ = table_run
    np.save(tmp_path / "wide.npy", np.zeros((4, 7)))
    code, out, err = run_cli(["score", run / "best.pt", tmp_path / "wide.npy", "--out", tmp_path / "s.csv"])
    assert code == 1 and err.count("\n") == 1 and "stored preprocessing" in err and "(a, b, c)" in err
    assert not (tmp_path / "s.csv").exists()


def test_out_of_distribution_warning_for_every_form(run_cli, table_run, tmp_path):
    run, frame, _ = table_run
    shifted = frame.drop(columns=["label"]) * 10 + 5
    shifted.to_csv(tmp_path / "far.csv", index=False)
    np.save(tmp_path / "far.npy", shifted.to_numpy())
    for name in ("far.csv", "far.npy"):
        code, out, err = run_cli(["score", run / "best.pt", tmp_path / name, "--out", tmp_path / "o.csv"])
        assert code == 0, err
        assert "looks unlike the training data" in err and "OUT OF DISTRIBUTION" in out, name
    # the training rows themselves are not flagged
    frame.drop(columns=["label"]).to_csv(tmp_path / "same.csv", index=False)
    code, out, err = run_cli(["score", run / "best.pt", tmp_path / "same.csv", "--out", tmp_path / "o.csv"])
    assert code == 0 and "looks unlike" not in err and "raw error: median" in out


def test_running_median_sample():
    from memae.scoring.stream import _Reservoir

    values = np.random.default_rng(3).exponential(size=50_000)
    small = _Reservoir(size=100_000)
    big = _Reservoir(size=5_000)
    for chunk in np.array_split(values, 37):
        small.add(chunk)
        big.add(chunk)
    assert np.median(small.sample()) == np.median(values)  # exact while the stream fits
    assert len(big.sample()) == 5_000
    assert abs(np.median(big.sample()) - np.median(values)) < 0.05 * np.median(values)
    assert big.sample().max() > np.quantile(values, 0.99)  # drawn from the whole stream, not its start


def test_score_with_labels_prints_the_auc(run_cli, table_run):
    run, frame, root = table_run
    code, out, err = run_cli(["score", run, root / "train.csv", "--label-column", "label", "--out",
                              root / "labelled.csv"])  # the run folder stands for its best.pt
    assert code == 0, err
    rows = _read(root / "labelled.csv")
    from memae.scoring.metrics import roc_auc

    expected = roc_auc(np.array([int(r["label"]) for r in rows]), np.array([float(r["score"]) for r in rows]))
    assert f"roc_auc={expected:.4f}" in out


def test_label_column_typo_suggests_the_nearest_name(run_cli, table_run):
    run, _, root = table_run
    code, out, err = run_cli(["score", run / "best.pt", root / "train.csv", "--label-column", "Label", "--out",
                              root / "x.csv"])
    assert code == 1 and "did you mean 'label'?" in err and err.count("\n") == 1


def test_checkpoint_mistakes_are_one_line(run_cli, tmp_path):
    (tmp_path / "x.pt").write_text("hello\n")
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    code, out, err = run_cli(["score", tmp_path / "x.pt", tmp_path / "rows.csv", "--out", tmp_path / "o.csv"])
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1 and "not a PyTorch file" in err
    import torch

    from memae.models import build_model
    from memae.training import save_checkpoint

    save_checkpoint(tmp_path / "v" / "best.pt", build_model("video", "memae", input_size=(8, 24, 24), width=0.25,
                                                            num_slots=20), config={"score": {"error": "mse"}})
    code, out, err = run_cli(["score", tmp_path / "v", tmp_path / "rows.csv", "--out", tmp_path / "o.csv"])
    assert code == 1 and "is a video model" in err and "memae score-video" in err and err.count("\n") == 1
    del torch


def test_a_failing_score_fails_before_torch_loads(tmp_path):
    """`memae score missing.pt x.csv` answers without importing torch (benchmarks/cli_startup.py times it)."""
    (tmp_path / "x.csv").write_text("a\n1\n")
    code = ("import sys; from memae.cli.main import main; "
            f"rc = main(['score', {str(tmp_path / 'missing.pt')!r}, {str(tmp_path / 'x.csv')!r}, '--out', "
            f"{str(tmp_path / 'o.csv')!r}]); print(rc, 'torch' in sys.modules, 'pandas' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(SRC), "PATH": ""})
    assert proc.stdout.split() == ["1", "False", "False"], proc.stderr
    assert proc.stderr.startswith("Error: checkpoint") and proc.stderr.count("\n") == 1


def test_tiny_table_warns_and_claims_no_validation(only_run, run_cli, tmp_path):
    rng = np.random.default_rng(0)
    lines = ["a,b,label"] + [f"{rng.normal():.4f},{rng.normal():.4f},{int(i % 4 == 0)}" for i in range(12)]
    (tmp_path / "tiny.csv").write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run_cli(["train", "--dataset", "table", "--data-root", tmp_path / "tiny.csv",
                                  "--label-column", "label", "--architecture", "mlp", "--epochs", "2",
                                  "--set", "train.progress=false", "--out", tmp_path / "runs"])
    assert code == 0, err
    assert [line for line in err.splitlines() if line.startswith("Warning: ")][0].count("validation samples") == 1
    assert "nan" not in out.lower() and "best_val_loss" not in out
    metrics = json.loads((only_run(tmp_path / "runs") / "metrics.json").read_text())
    assert metrics["best_val_loss"] is None and metrics["data"]["n_val"] == 0
    assert not [w for w in caught if "matplotlib" in (w.filename or "") or "legend" in str(w.message)]


def test_print_metrics_says_undefined_auc_in_words(capsys):
    from memae.cli.main import print_metrics

    print_metrics({"roc_auc": float("nan"), "precision": 0.0, "best_epoch": 2, "best_val_loss": None})
    out = capsys.readouterr().out
    assert "nan" not in out and "precision" not in out.split("\n")[-2] and "best_epoch=2" in out
    assert "one class only" in out


def test_progress_bars_only_on_a_terminal(monkeypatch):
    from memae.console import show_progress

    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.setattr(sys, "stderr", Stream(False))
    assert not show_progress(True)
    monkeypatch.setattr(sys, "stderr", Stream(True))
    assert show_progress(True) and not show_progress(False)


def test_piped_training_logs_one_line_per_epoch(run_cli, tmp_path):
    code, out, err = run_cli(["train", "--dataset", "digits", "--architecture", "digits", "--normal-class", "1",
                              "--epochs", "2", "--out", tmp_path])  # progress on, stderr captured: no tty
    assert code == 0, err
    lines = err.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("epoch ")] == ["epoch 1/2", "epoch 2/2"]
    assert "\r" not in err and "it/s" not in err


def test_an_error_after_a_bar_starts_on_its_own_line(monkeypatch, capsys):
    import io

    from tqdm import tqdm

    from memae.cli import main as cli
    from memae.errors import DataError

    stream = io.StringIO()

    def failing(args):  # noqa: ANN001
        bar = tqdm(total=10, file=stream)
        bar.update(1)
        raise DataError("boom")

    monkeypatch.setattr(cli, "cmd_score", failing)
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    for action in parser._subparsers._group_actions[0].choices.values():
        if action.prog.endswith(" score"):
            action.set_defaults(func=failing)
    assert cli.main(["score", "a.pt", "b.csv", "--out", "o.csv"]) == 1
    assert stream.getvalue().endswith("\n")  # the bar was closed before the error line


def test_demo_quick_says_smoke_run(run_cli, monkeypatch, tmp_path):
    import memae.experiments.demo as demo

    monkeypatch.setattr(demo, "run_demo", lambda run_dir, **kw: {"mean": {"AE": 0.5}, "seconds": 1.0})
    code, out, err = run_cli(["demo", "--quick", "--out", tmp_path])
    assert code == 0 and "smoke run" in out
    code, out, err = run_cli(["demo", "--out", tmp_path])
    assert code == 0 and "smoke run" not in out
