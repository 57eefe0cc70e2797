"""Table 1's schedule, chosen on development data: how many epochs, and whether to stop early on validation error.

Issue 19: every Table 1 run was still improving at epoch 10, and the old network's AE got *worse* on test data as
its validation error fell, so a longer schedule needs a check that stopping on validation error does not hurt.
The runs come from ``benchmarks/image_network_study.py`` (development data only: MNIST's official training images),
one long run per (variant, class, seed) that logs every epoch's development AUC and validation error.  With no
learning-rate schedule an epoch of a long run is the same epoch of a shorter one, so each rule below is replayed
from those logs exactly, without retraining:

* cap E (``train.epochs``) in ``CAPS`` and patience p (``train.patience``; 0 = off) in ``PATIENCES``;
* the run stops after epoch e once ``e - best >= p`` (best: the epoch of lowest validation error so far), or at E;
* it keeps the best epoch (``train.select: val_loss``), whose development AUC (squared error) is the rule's figure.

**Choice rule, fixed before the runs:** the highest mean development AUC over every (variant, class) row; among the
rules within ``TOLERANCE`` of it, the one with the fewest mean epochs run (cost decides a tie within noise).

    python benchmarks/image_network_study.py dev_schedule.csv same-code32-sigmoid-t0.5 ae,memae 1,3,5,7,9 0 40
    python benchmarks/schedule_study.py dev_schedule.csv
"""

from __future__ import annotations

import csv
import statistics
import sys
from dataclasses import dataclass

CAPS = (10, 20, 30, 40)
PATIENCES = (0, 3, 5, 10)
TOLERANCE = 0.003


@dataclass(frozen=True)
class Replay:
    kept_epoch: int  # 1-based
    epochs_run: int
    auc: float


def replay(val_losses: list[float], aucs: list[float], cap: int, patience: int) -> Replay:
    """The epoch a run with ``train.epochs=cap`` and ``train.patience=patience`` keeps, and its development AUC."""
    best, best_val = 0, float("inf")
    run = 0
    for epoch, value in enumerate(val_losses[:cap]):
        run = epoch + 1
        if value < best_val:
            best, best_val = epoch, value
        if patience and epoch - best >= patience:
            break
    return Replay(best + 1, run, aucs[best])


def summarise(rows: list[dict[str, str]]) -> list[dict[str, float]]:
    """One line per (cap, patience): mean AUC overall and per variant, mean epochs run, mean kept epoch."""
    runs = [(r["variant"], [float(v) for v in r["epoch_val_losses"].split(";")],
             [float(a) for a in r["epoch_aucs"].split(";")]) for r in rows]
    longest = min(len(v) for _, v, _ in runs)
    lines = []
    for cap in CAPS:
        if cap > longest:
            continue
        for patience in PATIENCES:
            if patience and patience >= cap:
                continue
            replays = [(variant, replay(v, a, cap, patience)) for variant, v, a in runs]
            line = {"cap": cap, "patience": patience,
                    "auc": statistics.mean(r.auc for _, r in replays),
                    "epochs_run": statistics.mean(r.epochs_run for _, r in replays),
                    "kept_epoch": statistics.mean(r.kept_epoch for _, r in replays)}
            for variant in sorted({variant for variant, _ in replays}):
                line[f"auc_{variant}"] = statistics.mean(r.auc for v, r in replays if v == variant)
            lines.append(line)
    return lines


def choose(lines: list[dict[str, float]], tolerance: float = TOLERANCE) -> dict[str, float]:
    """The choice rule of the module docstring."""
    top = max(line["auc"] for line in lines)
    near = [line for line in lines if line["auc"] >= top - tolerance]
    return min(near, key=lambda line: (line["epochs_run"], -line["auc"]))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python benchmarks/schedule_study.py RUNS.csv (written by image_network_study.py)")
    with open(argv[0], newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("epoch_val_losses")]
    if not rows:
        raise SystemExit(f"error: {argv[0]} has no rows with epoch_val_losses; rerun image_network_study.py")
    lines = summarise(rows)
    variants = sorted(k for k in lines[0] if k.startswith("auc_"))
    print(f"{len(rows)} runs; " + ", ".join(f"{v[4:]}: {sum(r['variant'] == v[4:] for r in rows)}" for v in variants))
    print("| epochs | patience | mean dev AUC | " + " | ".join(variants) + " | epochs run | kept epoch |")
    print("|---|---|---|" + "---|" * len(variants) + "---|---|")
    for line in lines:
        print(f"| {line['cap']} | {line['patience'] or 'off'} | {line['auc']:.4f} | "
              + " | ".join(f"{line[v]:.4f}" for v in variants)
              + f" | {line['epochs_run']:.1f} | {line['kept_epoch']:.1f} |")
    chosen = choose(lines)
    print(f"chosen: train.epochs={chosen['cap']} train.patience={chosen['patience']} "
          f"(mean dev AUC {chosen['auc']:.4f}, {chosen['epochs_run']:.1f} epochs run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
