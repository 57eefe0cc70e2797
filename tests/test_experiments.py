"""The reproduction commands end to end on tiny data: Table 1 (digits, CIFAR-format files) and Table 3 (KDD format)."""

import csv
import gzip
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from memae.cli.main import main
from memae.data.kdd import KDD_FEATURES



@pytest.mark.slow
def test_table1_quick_on_digits_with_every_method(only_run, tmp_path, capsys):
    code = main(["reproduce", "table1", "--dataset", "digits", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    run = only_run(tmp_path)
    for name in ("results.md", "runs.csv", "summary.json", "roc.png", "memory_slots.png", "reconstructions.png"):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader(open(run / "runs.csv")))
    methods = {r["method"] for r in rows}
    assert methods == {"ocsvm", "kde", "pca", "vae", "pixelcnn", "dsebm", "ae", "memae-nonspar", "memae", "memae-memscore"}
    assert len(rows) == 10 * 2  # two classes, one seed
    assert all(0.0 <= float(r["roc_auc"]) <= 1.0 for r in rows)
    text = (run / "results.md").read_text()
    assert "command:" in text and "commit:" in text and "wall time" in text
    assert "Smoke run (`--quick`)" in text  # a --quick table says it is not a result
    assert "PixCNN" in out


def write_cifar(root: Path, per_class: int = 12) -> None:
    """Tiny CIFAR-10 'python version' batches: class c is a flat image of brightness ~c/10 plus noise."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(n_per_class):
        labels = np.repeat(np.arange(10), n_per_class)
        base = (labels[:, None] * 25 + 10).astype(np.float64)
        data = np.clip(base + rng.normal(0, 8, (len(labels), 3072)), 0, 255).astype(np.uint8)
        return {b"batch_label": b"x", b"data": data, b"labels": labels.tolist(),
                b"filenames": [b"f%d.png" % i for i in range(len(labels))]}

    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch(per_class // 6 + 1), protocol=2))
    (folder / "test_batch").write_bytes(pickle.dumps(batch(per_class // 6 + 1), protocol=2))


@pytest.mark.slow
def test_table1_cifar_pipeline_on_files_in_the_official_format(only_run, tmp_path, capsys):
    write_cifar(tmp_path / "cifar")
    code = main(["reproduce", "table1", "--dataset", "cifar10", "--data-root", str(tmp_path / "cifar"), "--quick",
                 "--methods", "ae,memae,ocsvm", "--classes", "3", "--out", str(tmp_path / "runs")])
    assert code == 0, capsys.readouterr().err
    run = only_run(tmp_path / "runs")
    rows = list(csv.DictReader(open(run / "runs.csv")))
    assert {r["method"] for r in rows} == {"ae", "memae", "memae-memscore", "ocsvm"}
    # brightness separates the classes: the classic detector must find it
    assert float(next(r for r in rows if r["method"] == "ocsvm")["roc_auc"]) > 0.9


def write_kdd(path: Path, n: int = 600, seed: int = 0) -> None:
    """KDD Cup 99 rows: attacks (the 'normal' class of the protocol) are small icmp/ecr_i packets, 'normal.' rows
    (the anomalies, ~20 %) are http sessions with large byte counts."""
    rng = np.random.default_rng(seed)
    names = [n for n, _ in KDD_FEATURES]
    lines = []
    for i in range(n):
        fields = {name: "0" for name in names}
        if rng.random() < 0.2:
            fields.update(protocol_type="tcp", service="http", flag="SF", src_bytes=str(int(rng.integers(200, 400))),
                          dst_bytes=str(int(rng.integers(2000, 6000))), logged_in="1", count=str(int(rng.integers(1, 10))))
            label = "normal."
        else:
            fields.update(protocol_type="icmp", service="ecr_i", flag="SF", src_bytes=str(int(rng.integers(500, 1100))),
                          count=str(int(rng.integers(400, 511))), srv_count=str(int(rng.integers(400, 511))))
            label = "smurf."
        lines.append(",".join(fields[name] for name in names) + "," + label)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_table3_quick_and_resume(only_run, tmp_path, capsys):
    write_kdd(tmp_path / "kdd" / "kddcup.data_10_percent.gz")
    args = ["reproduce", "table3", "--data-root", str(tmp_path / "kdd"), "--quick", "--methods", "ocsvm,ae,memae",
            "--seeds", "0", "--set", "train.batch_size=32", "--out", str(tmp_path / "runs")]
    assert main(args) == 0, capsys.readouterr().err
    run = only_run(tmp_path / "runs")
    rows = list(csv.DictReader(open(run / "runs.csv")))
    assert [r["method"] for r in rows] == ["ocsvm", "ae", "memae"]
    for row in rows:
        assert 0 <= float(row["precision"]) <= 1 and 0 <= float(row["f1"]) <= 1
    assert float(rows[0]["f1"]) > 0.8  # the planted anomalies are easy for OC-SVM
    summary = json.loads((run / "summary.json").read_text())["summary"]
    assert set(summary) == {"ocsvm", "ae", "memae"}

    capsys.readouterr()
    assert main([*args[:-2], "--resume", str(run)]) == 0  # everything done already: nothing re-run
    err = capsys.readouterr().err
    assert "seed  0" not in err and "3 of 3 runs already done" in err
    assert len(list(csv.DictReader(open(run / "runs.csv")))) == 3
    state = json.loads((run / "run.json").read_text())
    assert state["experiment"] == "table3" and len(state["commits"]) == 2
    assert state["command"].startswith("memae reproduce table3 --data-root") and "--quick" in state["command"]
    assert "resuming table3" in (run / "log.txt").read_text()
    assert f"`{state['command']}`" in (run / "results.md").read_text()  # the report names the command of the run


def test_table3_leaves_a_unit_another_process_holds_to_it(only_run, tmp_path, capsys):
    from memae.experiments.progress import RunStore

    write_kdd(tmp_path / "kdd" / "kddcup.data_10_percent.gz")
    args = ["reproduce", "table3", "--data-root", str(tmp_path / "kdd"), "--quick", "--methods", "ocsvm,pca",
            "--seeds", "0", "--out", str(tmp_path / "runs")]
    assert main(args) == 0, capsys.readouterr().err
    run = only_run(tmp_path / "runs")
    (run / "runs.csv").unlink()  # as if nothing had run yet
    with RunStore(run, "table3").claim("pca-seed0") as held:  # a second process is on PCA
        assert held
        assert main([*args[:-2], "--resume", str(run)]) == 0
    assert [r["method"] for r in csv.DictReader(open(run / "runs.csv"))] == ["ocsvm"]
    err = capsys.readouterr().err
    assert "pca-seed0: being run by another process" in err and "1 of 2 runs are not finished" in err
    assert main([*args[:-2], "--resume", str(run)]) == 0  # released: this process takes it
    assert [r["method"] for r in csv.DictReader(open(run / "runs.csv"))] == ["ocsvm", "pca"]


def test_table3_needs_a_data_root(capsys):
    assert main(["reproduce", "table3"]) == 1
    assert "--data-root" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["reproduce", "table1", "--dataset", "svhn"], "table1 supports datasets"),
    (["reproduce", "table1", "--dataset", "digits", "--methods", "gan"], "unknown method(s) gan"),
])
def test_reproduce_errors(tmp_path, capsys, args, message):
    assert main([*args, "--out", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err


def test_kdd_protocols_split_as_their_sources_do(tmp_path):
    from memae.data.experiment import kdd_experiment_data
    from memae.data.kdd import load_kddcup99
    from memae.errors import ConfigError

    write_kdd(tmp_path / "kddcup.data_10_percent.gz", n=400)
    raw = load_kddcup99(tmp_path)
    attacks, anomalies = int((~raw.is_anomaly).sum()), int(raw.is_anomaly.sum())
    paper = kdd_experiment_data(raw, 0, 0.1, "paper")
    assert paper.info["n_test"] == raw.n_rows - raw.n_rows // 2  # the other half of ALL rows
    code = kdd_experiment_data(raw, 0, 0.1, "dagmm-code")
    # half of the attacks train (10 % of them held out); the rest plus every normal. row is the test set
    assert code.info["n_train"] + code.info["n_val"] == attacks // 2
    assert code.info["n_test"] == attacks - attacks // 2 + anomalies
    assert int(code.test_labels.sum()) == anomalies
    with pytest.raises(ConfigError, match="data.protocol must be one of paper, dagmm-code"):
        kdd_experiment_data(raw, 0, 0.1, "nsl")


def test_table3_dagmm_code_protocol_with_label_free_selection(only_run, tmp_path, capsys):
    write_kdd(tmp_path / "kdd" / "kddcup.data_10_percent.gz")
    args = ["reproduce", "table3", "--data-root", str(tmp_path / "kdd"), "--quick", "--methods", "pca,memae",
            "--seeds", "0", "--set", "train.batch_size=32", "--set", "data.protocol=dagmm-code",
            "--out", str(tmp_path / "runs")]
    assert main(args) == 0, capsys.readouterr().err
    run = only_run(tmp_path / "runs")
    text = (run / "results.md").read_text()
    assert "protocol `dagmm-code`" in text and "train.select=separation" in text and "transductive" in text
    assert "Smoke run" in text
    rows = list(csv.DictReader(open(run / "runs.csv")))
    assert float(next(r for r in rows if r["method"] == "pca")["f1"]) > 0.8
