"""The run store of ``memae reproduce``: run.json of every layout resumes, units are claimed by one process at a
time, rows of two processes sharing a run are all kept, the command line is rebuilt from the typed options."""

import csv
import logging
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from memae.errors import ConfigError
from memae.experiments import ReproduceOptions
from memae.experiments.progress import ResultRows, RunStore, command_line, read_run_state

SRC = Path(__file__).resolve().parents[1] / "src"

# run.json as the tables wrote it before the store: the arguments at the top level, plus one commit per invocation
OLD_TABLE_RUN = {"dataset": "digits", "data_root": None, "methods": "ae,memae", "seeds": "0,1", "classes": "3",
                 "epochs": 2, "device": None, "quick": False, "overrides": ["train.batch_size=32"], "preset": None,
                 "commits": ["abc1234"]}
# run.json as the video experiments wrote it: their settings live in config.yaml
OLD_VIDEO_RUN = {"experiment": "table2", "command": "memae reproduce table2 --data-root /data/ped2 --preset cpu "
                 "--out runs --quick", "units": [{"method": "ae", "seed": 0, "num_slots": None},
                                                 {"method": "memae", "seed": 0, "num_slots": None}],
                 "quick": True, "started": "2024-05-01T10:00:00"}


def write_run(folder: Path, state: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(state), encoding="utf-8")
    return folder


def test_command_line_is_rebuilt_from_the_typed_options():
    options = ReproduceOptions("table1", dataset="cifar10", data_root="/data/my cifar", methods="ae,memae", seeds="0,1",
                               classes="3", epochs=5, quick=True, overrides=["train.lr=0.001"])
    assert command_line(options) == ("memae reproduce table1 --dataset cifar10 --data-root '/data/my cifar' --methods "
                                     "ae,memae --seeds 0,1 --classes 3 --epochs 5 --out runs --quick --set train.lr=0.001")
    # a resumed run names its folder, not --out; an experiment leaves out the flags it does not read
    resumed = ReproduceOptions("table2", epochs=3, resume="runs/x", reuse=["runs/a", "runs/b"], overrides=["k=1"])
    assert command_line(resumed) == "memae reproduce table2 --epochs 3 --resume runs/x --reuse runs/a --reuse runs/b --set k=1"
    assert command_line(resumed, ignored=("epochs",)) == ("memae reproduce table2 --resume runs/x --reuse runs/a "
                                                          "--reuse runs/b --set k=1")


def test_a_new_run_writes_one_run_json_layout(tmp_path):
    options = ReproduceOptions("table3", data_root="/data/kdd", seeds="0", quick=True, out=str(tmp_path))
    store = RunStore.create(tmp_path / "run", options)
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert list(state) == ["experiment", "command", "options", "commits", "started"]
    assert state["experiment"] == "table3" and state["command"] == command_line(options)
    assert state["options"]["data_root"] == "/data/kdd" and state["options"]["quick"] is True
    assert len(state["commits"]) == 1 and state["started"]
    assert store.options is options and not store.resumed


def test_resume_fills_options_and_adds_a_commit(tmp_path):
    run = tmp_path / "run"
    RunStore.create(run, ReproduceOptions("table3", data_root="/data/kdd", seeds="0,1", epochs=3, out=str(tmp_path)))
    store = RunStore.resume(run, ReproduceOptions("table3", epochs=4, resume=str(run)))
    assert store.resumed and store.invocation == f"memae reproduce table3 --epochs 4 --resume {run}"
    assert store.options.data_root == "/data/kdd" and store.options.seeds == "0,1"  # taken from run.json
    assert store.options.epochs == 4  # given again: wins
    state = json.loads((run / "run.json").read_text())
    assert len(state["commits"]) == 2 and state["options"]["epochs"] == 4
    assert state["command"].startswith("memae reproduce table3 --data-root /data/kdd")  # the command that started it


def test_resume_reads_the_old_table_layout(tmp_path):
    run = write_run(tmp_path / "table1-digits-20240101-120000", OLD_TABLE_RUN)
    store = RunStore.resume(run, ReproduceOptions("table1", resume=str(run)))
    assert (store.options.dataset, store.options.methods, store.options.seeds, store.options.classes) == (
        "digits", "ae,memae", "0,1", "3")
    assert store.options.epochs == 2 and store.options.overrides == ["train.batch_size=32"]
    assert store.commits[0] == "abc1234" and len(store.commits) == 2
    # no command was stored: rebuilt from the arguments, into the run's parent folder
    assert store.command == (f"memae reproduce table1 --dataset digits --methods ae,memae --seeds 0,1 --classes 3 "
                             f"--epochs 2 --out {tmp_path} --set train.batch_size=32")
    state = json.loads((run / "run.json").read_text())
    assert state["experiment"] == "table1" and state["options"]["methods"] == "ae,memae" and "dataset" not in state
    # and the rewritten file resumes again
    assert RunStore.resume(run, ReproduceOptions("table1", resume=str(run))).commits[:1] == ["abc1234"]


def test_resume_reads_the_old_video_layout_and_keeps_its_units(tmp_path):
    run = write_run(tmp_path / "run", OLD_VIDEO_RUN)
    store = RunStore.resume(run, ReproduceOptions("table2", resume=str(run)))
    assert store.command == OLD_VIDEO_RUN["command"] and store.started == OLD_VIDEO_RUN["started"]
    assert store.extra["units"] == OLD_VIDEO_RUN["units"] and store.options.quick is True
    assert len(store.commits) == 1
    state = json.loads((run / "run.json").read_text())
    assert state["units"] == OLD_VIDEO_RUN["units"] and state["command"] == OLD_VIDEO_RUN["command"]
    assert read_run_state(run, "table2")["units"] == OLD_VIDEO_RUN["units"]


@pytest.mark.parametrize("state, experiment, message", [
    (OLD_VIDEO_RUN, "table1", "holds a table2 run, not table1"),
    ({**OLD_TABLE_RUN, "experiment": "table3"}, "table1", "holds a table3 run, not table1"),
    (None, "table1", "run.json does not exist"),
])
def test_resume_refuses_a_folder_without_a_run_or_of_another_experiment(tmp_path, state, experiment, message):
    run = write_run(tmp_path / "run", state) if state else tmp_path / "run"
    with pytest.raises(ConfigError, match=message) as error:
        RunStore.resume(run, ReproduceOptions(experiment, resume=str(run)))
    assert "\n" not in str(error.value)


def test_the_old_table_layout_is_checked_by_the_folder_name(tmp_path):
    run = write_run(tmp_path / "table3-20240101-120000", {"data_root": "/k", "commits": []})
    with pytest.raises(ConfigError, match="holds a table3 run, not table1"):
        RunStore.resume(run, ReproduceOptions("table1", resume=str(run)))


def test_rows_merged_by_hand_resume_without_run_json(tmp_path):
    run = tmp_path / "merged"
    run.mkdir()
    (run / "runs.csv").write_text("method,seed,roc_auc,seconds\nae,0,0.9,1.0\n")
    store = RunStore.resume(run, ReproduceOptions("table3", data_root="/k", resume=str(run)))
    assert store.options.data_root == "/k" and (run / "run.json").is_file()


def test_the_logger_writes_timestamped_lines_to_log_txt_and_logs_them(tmp_path, caplog):
    store = RunStore(tmp_path, "table3")
    with caplog.at_level(logging.INFO, logger="memae"):
        store.log("held", hold=True)
        assert not caplog.records  # shown only with the next line
        store.log("hello")
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert lines[1].endswith(" hello") and lines[1][:4].isdigit()
    assert [r.getMessage() for r in caplog.records] == lines  # the same timestamped lines, the held one first
    assert {r.name for r in caplog.records} == {"memae.experiments.progress"}


def test_two_store_instances_never_take_the_same_unit(tmp_path):
    first, second = RunStore(tmp_path, "table2"), RunStore(tmp_path, "table2")
    with first.take("ae-seed0") as mine:
        assert mine and first.lock_path("ae-seed0").name == ".ae-seed0.lock"
        with second.take("ae-seed0") as theirs:
            assert not theirs  # held by the first
        first.unit_dir("ae-seed0").mkdir()
        (first.unit_dir("ae-seed0") / "metrics.json").write_text("{}")
    assert second.done("ae-seed0")
    with second.take("ae-seed0") as theirs:
        assert not theirs  # done: the video notion, metrics.json
    with second.take("memae-seed0", done=lambda: False) as theirs:
        assert theirs


def test_two_row_instances_keep_each_others_rows(tmp_path):
    mine, theirs = ResultRows(tmp_path, ("method", "seed")), ResultRows(tmp_path, ("method", "seed"))
    assert mine.add({"method": "ae", "seed": 0, "roc_auc": 0.9, "seconds": 1.5})
    assert theirs.add({"method": "memae", "seed": 0, "roc_auc": 0.95, "seconds": 2.0})  # read before mine was added
    assert mine.add({"method": "ae", "seed": 1, "roc_auc": 0.25, "seconds": 1.0})
    assert not theirs.add({"method": "ae", "seed": 1, "roc_auc": 0.5, "seconds": 1.0})  # the first row of a unit wins
    assert mine.done(method="memae", seed=0) and theirs.done(method="ae", seed=1)
    assert [(r["method"], r["seed"], r["roc_auc"]) for r in theirs.rows] == [
        ("ae", 0, 0.9), ("memae", 0, 0.95), ("ae", 1, 0.25)]
    assert mine.methods(("memae", "ae")) == ["memae", "ae"] and len(mine.select(method="ae")) == 2
    text = (tmp_path / "runs.csv").read_text()
    assert text.splitlines() == ["method,seed,roc_auc,seconds", "ae,0,0.9,1.5", "memae,0,0.95,2.0", "ae,1,0.25,1.0"]


WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import tqdm.auto  # imported before the start, as a real run has (the store's log lines use it)
    from memae.experiments.progress import ResultRows, RunStore

    run, name = Path(sys.argv[1]), sys.argv[2]
    (run / f"ready-{name}").touch()
    while len(list(run.glob("ready-*"))) < 2:  # start together
        time.sleep(0.01)
    store, rows = RunStore(run, "table3"), ResultRows(run, ("method", "seed"))
    for seed in range(6):
        for method in ("ae", "memae"):
            with store.take(f"{method}-seed{seed}", lambda: rows.done(method=method, seed=seed)) as mine:
                if mine:
                    (run / f"working-{name}").touch()
                    deadline = time.monotonic() + 60
                    while len(list(run.glob("working-*"))) < 2 and time.monotonic() < deadline:
                        time.sleep(0.01)  # the work, until both processes hold a unit at the same time
                    rows.add({"method": method, "seed": seed, "worker": name})
""")


def test_two_processes_split_the_units_and_keep_every_row(tmp_path):
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), name], env=_env(), stderr=subprocess.PIPE,
                                text=True) for name in ("a", "b")]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    with open(tmp_path / "runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    units = [(r["method"], r["seed"]) for r in rows]
    assert sorted(units) == sorted((m, str(s)) for s in range(6) for m in ("ae", "memae"))  # each once, none lost
    assert {r["worker"] for r in rows} == {"a", "b"}  # both worked


def test_a_released_unit_can_be_claimed_again(tmp_path):
    store = RunStore(tmp_path, "table2")
    with store.claim("ae-seed0") as mine:
        assert mine
    with RunStore(tmp_path, "table2").claim("ae-seed0") as again:
        assert again


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from memae.experiments.progress import RunStore

    with RunStore(Path(sys.argv[1]), "table2").claim("ae-seed0") as mine:
        assert mine
        Path(sys.argv[2]).touch()
        time.sleep(600)  # killed here, holding the unit
""")


def _env():
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_the_unit_of_a_crashed_process_can_be_claimed(tmp_path):
    ready = tmp_path / "holding"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), str(ready)], env=_env())
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and holder.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), "the holder did not take the unit"
        with RunStore(tmp_path, "table2").claim("ae-seed0") as mine:
            assert not mine  # held by a live process
    finally:
        holder.kill()
        holder.wait()
    with RunStore(tmp_path, "table2").claim("ae-seed0") as mine:
        assert mine  # its process died: the OS released the lock, its file left behind


CONTENDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from memae.experiments.progress import RunStore

    run, name, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    (run / f"ready-{name}").touch()
    while len(list(run.glob("ready-*"))) < n:  # start together
        time.sleep(0.001)
    with RunStore(run, "table2").claim("ae-seed0") as mine:
        if mine:
            (run / f"holder-{name}").touch()
        (run / f"tried-{name}").touch()
        while len(list(run.glob("tried-*"))) < n:  # hold (or not) until every process has tried
            time.sleep(0.01)
""")


def test_processes_racing_for_a_unit_left_by_a_dead_one_get_it_once(tmp_path):
    # The lock file of a crashed claimer is still there; the old stale-lock takeover let two processes that both saw
    # it stale each unlink the other's fresh lock, so that both ran the unit.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".ae-seed0.lock").write_text(f"{socket.gethostname()} {dead.pid}\n")  # as the old lock wrote it
    n = 4
    contenders = [subprocess.Popen([sys.executable, "-c", CONTENDER, str(tmp_path), str(i), str(n)], env=_env(),
                                   stderr=subprocess.PIPE, text=True) for i in range(n)]
    for contender in contenders:
        _, err = contender.communicate(timeout=120)
        assert contender.returncode == 0, err
    assert len(list(tmp_path.glob("holder-*"))) == 1
