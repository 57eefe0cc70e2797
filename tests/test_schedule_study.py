"""The schedule study replays early stopping exactly and chooses by its written rule."""

import pytest


@pytest.fixture(scope="module")
def schedule_study(benchmark_script):
    return benchmark_script("schedule_study")


def test_replay_stops_after_patience_epochs_without_improvement_and_keeps_the_best(schedule_study):
    val = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 2.0]
    aucs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    stopped = schedule_study.replay(val, aucs, cap=7, patience=3)
    assert (stopped.kept_epoch, stopped.epochs_run, stopped.auc) == (3, 6, 0.3)
    patient = schedule_study.replay(val, aucs, cap=7, patience=0)  # off: runs to the cap, finds the late best
    assert (patient.kept_epoch, patient.epochs_run, patient.auc) == (7, 7, 0.7)
    capped = schedule_study.replay(val, aucs, cap=2, patience=0)
    assert (capped.kept_epoch, capped.epochs_run) == (2, 2)


def test_choice_takes_the_cheapest_rule_within_tolerance_of_the_best(schedule_study):
    lines = [{"cap": 10, "patience": 0, "auc": 0.900, "epochs_run": 10},
             {"cap": 40, "patience": 0, "auc": 0.930, "epochs_run": 40},
             {"cap": 40, "patience": 5, "auc": 0.928, "epochs_run": 18}]
    assert schedule_study.choose(lines, tolerance=0.003)["patience"] == 5
    assert schedule_study.choose(lines, tolerance=0.001)["cap"] == 40 and schedule_study.choose(lines, 0.001)["patience"] == 0


def test_summary_reads_the_runs_csv_rows(schedule_study):
    rows = [{"variant": "ae", "epoch_val_losses": ";".join(str(10 - i) for i in range(10)),
             "epoch_aucs": ";".join(str(0.5 + i / 100) for i in range(10))},
            {"variant": "memae", "epoch_val_losses": ";".join(str(i) for i in range(10)),
             "epoch_aucs": ";".join("0.8" for _ in range(10))}]
    lines = schedule_study.summarise(rows)
    off = next(line for line in lines if line["cap"] == 10 and line["patience"] == 0)
    assert abs(off["auc_ae"] - 0.59) < 1e-12 and off["auc_memae"] == 0.8
    three = next(line for line in lines if line["cap"] == 10 and line["patience"] == 3)
    assert three["epochs_run"] == (10 + 4) / 2  # memae's best is epoch 1: it stops after epoch 4
