"""The command line: train/evaluate/score/demo end to end on tiny settings, DDP with 2 processes, bad input."""

import csv
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import yaml

from memae.cli.main import main
from memae.config import load_config

TINY = ["--dataset", "digits", "--architecture", "digits", "--epochs", "2", "--lr", "0.001",
        "--set", "train.progress=false"]




def test_train_evaluate_score_round_trip(only_run, run_cli, tmp_path):
    code, out, err = run_cli(["train", *TINY, "--normal-class", "3", "--out", tmp_path / "runs"])
    assert code == 0, err
    run = only_run(tmp_path / "runs")
    for name in ("config.yaml", "best.pt", "last.pt", "metrics.json", "history.csv", "test_scores.csv", "roc.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["roc_auc"] <= 1.0 and metrics["data"]["normal_class"] == 3
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["train"]["epochs"] == 2 and saved["data"]["normal_class"] == 3

    code, out, err = run_cli(["evaluate", run / "best.pt", "--out", tmp_path / "eval"])
    assert code == 0, err
    evaluated = json.loads((only_run(tmp_path / "eval") / "metrics.json").read_text())
    assert evaluated["roc_auc"] == pytest.approx(metrics["roc_auc"], abs=1e-9)  # same split, same weights

    samples = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", samples)
    code, out, err = run_cli(["score", run / "best.pt", tmp_path / "x.npy", "--out", tmp_path / "scores.csv"])
    assert code == 0, err
    rows = list(csv.DictReader(open(tmp_path / "scores.csv")))
    assert len(rows) == 5 and {"id", "score", "predicted_anomaly"} <= set(rows[0])


def test_second_run_never_overwrites_the_first(run_cli, tmp_path):
    for _ in range(2):
        assert run_cli(["train", *TINY, "--epochs", "1", "--out", tmp_path, "--name", "same"])[0] == 0
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("same-")]) == 2


def test_resume_from_cli(only_run, run_cli, tmp_path):
    assert run_cli(["train", *TINY, "--epochs", "1", "--out", tmp_path])[0] == 0
    run = only_run(tmp_path)
    code, out, err = run_cli(["train", "--resume", run, "--epochs", "2"])
    assert code == 0, err
    history = list(csv.DictReader(open(run / "history.csv")))
    assert [int(r["epoch"]) for r in history] == [1, 2]  # numbered as the progress bar shows them


def test_config_file_and_flag_overrides(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("name: exp\nmodel: {architecture: mnist, variant: ae}\ntrain: {epochs: 7}\n")
    config = load_config(path, ["train.epochs=3", "model.options.num_slots=42"])
    assert config.train.epochs == 3 and config.model.options.given() == {"num_slots": 42}
    assert config.model.architecture == "mnist" and config.train.lr == 1e-4  # paper default kept


@pytest.mark.slow
def test_demo_quick(only_run, run_cli, tmp_path, monkeypatch):
    import memae.console

    monkeypatch.setattr(memae.console, "show_progress", lambda requested=True: requested)  # as on a terminal
    code, out, err = run_cli(["demo", "--quick", "--out", tmp_path])
    assert code == 0, err
    run = only_run(tmp_path)
    assert "MemAE-nonSpar" in out and "mean" in out
    for name in ("results.md", "results.csv", "roc.png", "reconstructions.png", "config.yaml"):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader(open(run / "results.csv")))
    assert [r["method"] for r in rows] == ["AE", "MemAE-nonSpar", "MemAE"]
    assert all(0.0 <= float(r["mean"]) <= 1.0 for r in rows)
    assert all(r["smoke_run"] == "1" for r in rows) and "Smoke run" in (run / "results.md").read_text()
    assert "demo: 100%" in err and "18/18" in err  # one bar: 2 digits x 3 models x 3 epochs
    assert "smoke run" in out


def test_history_is_written_every_epoch_and_an_interrupt_names_the_run(only_run, run_cli, tmp_path, monkeypatch):
    import memae.training.trainer as trainer

    real = trainer._validation
    calls = []

    def interrupt_in_second_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "_validation", interrupt_in_second_epoch)
    code, _, err = run_cli(["train", *TINY, "--epochs", "3", "--out", tmp_path])
    run = only_run(tmp_path)
    assert code == 130 and f"memae train --resume {run}" in err
    assert [int(r["epoch"]) for r in csv.DictReader(open(run / "history.csv"))] == [1]  # the finished epoch


@pytest.mark.parametrize("args, message", [
    (["train", "--architecture", "resnet"], "unknown architecture 'resnet'"),
    (["train", "--variant", "memae-xl"], "unknown variant"),
    (["train", "--set", "train.epocs=3"], "unknown config key(s) epocs"),
    (["train", "--set", "train.epochs=many"], "train.epochs must be an integer"),
    (["train", "--set", "model.options.num_slots=0"], "num_slots"),
    (["train", "--set", "model.options.shrink_threshold=1.2"], "[0, 1)"),
    (["train", "--dataset", "mnist", "--data-root", "/nonexistent/mnist"], "/nonexistent/mnist"),
    (["train", "--dataset", "digits", "--architecture", "mnist"], "expected (B, 1, 28, 28)"),
    (["train", "--config", "/nonexistent.yaml"], "does not exist"),
    (["evaluate", "/nonexistent/best.pt"], "does not exist"),
    (["train", "--resume", "/nonexistent/run"], "cannot resume"),
    (["reproduce", "table99"], "unknown experiment"),
])
def test_bad_input_gives_one_line_error(run_cli, tmp_path, args, message):
    code, out, err = run_cli([*args, "--out", tmp_path] if args[0] == "train" else args)
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not any(p.suffix in (".pt", ".csv", ".json", ".tmp") for p in leftovers)  # no partial results


def test_nan_in_data_is_a_clear_error(only_run, run_cli, tmp_path):
    samples = np.full((3, 1, 8, 8), np.nan, np.float32)
    np.save(tmp_path / "x.npy", samples)
    assert run_cli(["train", *TINY, "--epochs", "1", "--out", tmp_path / "r"])[0] == 0
    run = only_run(tmp_path / "r")
    code, out, err = run_cli(["score", run / "best.pt", tmp_path / "x.npy", "--out", tmp_path / "s.csv"])
    assert code == 1 and "NaN" in err and not (tmp_path / "s.csv").exists()


def test_corrupt_checkpoint_from_cli(run_cli, tmp_path):
    bad = tmp_path / "best.pt"
    bad.write_bytes(b"garbage")
    code, out, err = run_cli(["score", bad, tmp_path, "--out", tmp_path / "s.csv"])
    assert code == 1 and "corrupt" in err


@pytest.mark.parametrize("command", ["train", "evaluate", "score", "demo", "reproduce", "score-video"])
def test_help_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0 and f"usage: memae {command}" in capsys.readouterr().out


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "memae", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "reproduce" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_process_ddp_training(only_run, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", f"--master-port={_free_port()}",
           "-m", "memae", "train", *TINY, "--normal-class", "1", "--out", str(tmp_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("run folder:") == 1  # rank 0 alone reports
    run = only_run(tmp_path)
    assert (run / "best.pt").is_file() and (run / "metrics.json").is_file()
    scores = list(csv.DictReader(open(run / "test_scores.csv")))
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(scores) == metrics["data"]["n_test"]  # every test sample scored once, none duplicated
    assert [int(r["index"]) for r in scores] == list(range(len(scores)))

    resume = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", f"--master-port={_free_port()}",
              "-m", "memae", "train", "--resume", str(run), "--epochs", "3"]
    result = subprocess.run(resume, capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("run folder:") == 1
    assert [int(r["epoch"]) for r in csv.DictReader(open(run / "history.csv"))] == [1, 2, 3]


def test_train_on_a_normal_anomalous_image_folder(only_run, run_cli, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for kind, count in (("normal", 30), ("anomalous", 6)):
        (tmp_path / "imgs" / kind).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 40, (8, 8)).astype(np.uint8)
            if kind == "anomalous":
                pixels[2:6, 2:6] = 250
            Image.fromarray(pixels).save(tmp_path / "imgs" / kind / f"{i}.png")
    code, out, err = run_cli(["train", "--dataset", "folder", "--data-root", tmp_path / "imgs", "--architecture", "digits",
                              "--epochs", "2", "--set", "train.progress=false", "--out", tmp_path / "runs"])
    assert code == 0, err
    metrics = json.loads((only_run(tmp_path / "runs") / "metrics.json").read_text())
    assert metrics["data"]["protocol"] == "normal/anomalous folders"
    scores = list(csv.DictReader(open(only_run(tmp_path / "runs") / "test_scores.csv")))
    assert sum(int(r["is_anomaly"]) for r in scores) == 6  # every anomalous image is in the test set


def test_resume_refuses_a_different_model_and_evaluate_refuses_a_new_split(only_run, run_cli, tmp_path):
    assert run_cli(["train", *TINY, "--epochs", "1", "--out", tmp_path])[0] == 0
    run = only_run(tmp_path)
    code, out, err = run_cli(["train", "--resume", run, "--variant", "ae"])
    assert code == 1 and "--resume continues the same model" in err
    code, out, err = run_cli(["evaluate", run / "best.pt", "--set", "train.seed=5"])
    assert code == 1 and "train.seed" in err


@pytest.mark.parametrize("args, message", [
    (["demo", "--set", "train.epocs=1"], "unknown config key(s) epocs"),
    (["reproduce", "table3", "--data-root", "/nonexistent/kdd"], "/nonexistent/kdd"),
    (["reproduce", "table1", "--dataset", "digits", "--seeds", "a,b"], "--seeds must be comma-separated integers"),
    (["train", "--set", "score.error=l1"], "score.error must be one of mse, mae"),
])
def test_bad_experiment_input_leaves_no_run_folder(run_cli, tmp_path, args, message):
    code, out, err = run_cli([*args, "--out", tmp_path])
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert not any(tmp_path.iterdir())


def test_tensorboard_log_option(only_run, run_cli, tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    code, _, err = run_cli(["train", *TINY, "--epochs", "2", "--log", "tensorboard", "--out", tmp_path])
    assert code == 0, err
    run = only_run(tmp_path)
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    assert [e.step for e in events.Scalars("val_loss")] == [1, 2]  # numbered like history.csv
    assert "train_loss" in events.Tags()["scalars"]

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # the package missing
    code, _, err = run_cli(["train", *TINY, "--epochs", "1", "--log", "tensorboard", "--out", tmp_path / "b"])
    assert code == 1 and "pip install 'memae[tensorboard]'" in err and "Traceback" not in err
