"""Table defaults for ``MemAEDetector`` and ``memae train``, chosen by a procedure that generalises across tables.

Every candidate is fitted on ADBench's splits (the same as ``memae benchmark adbench``) of every development table,
for several seeds, next to references (Isolation Forest, PyOD's AutoEncoder, memae's AE at the same settings).
The choice is made by **rank**, not by mean ROC-AUC, so that no single table with a large spread decides it:

1. per (table, seed), the candidates are ranked by ROC-AUC; a candidate's score is its mean rank (lower is better);
2. the candidate with the best mean rank over every table and seed is the choice;
3. **leave-tables-out check:** the tables are cut into ``--folds`` groups; for each group, the candidate with the
   best mean rank on the *other* groups is chosen and its ROC-AUC on the left-out group is recorded, next to that
   of today's defaults.  If the held-out gain is about the in-sample gain, the choice is not fitted to these
   tables; if it shrinks to nothing, it was.

Rows are appended as they come (``OUT.csv``), so a killed run resumes where it stopped.

    python benchmarks/detector_defaults_study.py --data-root ../shared/datasets/adbench --seeds 1,2,3 \\
        --out docs/results/detector_defaults_study
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from memae import MemAEDetector
from memae.experiments.adbench import find_tables, load_table, make_detector, split_table
from memae.experiments.runner import provenance
from memae.io import write_text

#: name -> MemAEDetector keyword arguments.  "defaults" is today's (50 epochs, lr 3e-3, batch 256).  At batch 256
#: a 300-row table gets one or two optimizer steps an epoch, so the batch size is a candidate as well as lr/epochs.
CANDIDATES: dict[str, dict] = {
    "defaults": {},
    "lr=1e-3": {"lr": 1e-3},
    "epochs=100": {"epochs": 100},
    "batch_size=64": {"batch_size": 64},
    "batch_size=64+lr=1e-3": {"batch_size": 64, "lr": 1e-3},
}
#: Not candidates: what the choice is compared with (not ranked with the candidates).
REFERENCES = ("IForest", "AutoEncoder (PyOD)", "AE (memae)")
FIELDS = ["block", "table", "seed", "method", "roc_auc", "seconds"]


def fit_score(method: str, seed: int, X_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    if method in CANDIDATES:
        return MemAEDetector(random_state=seed, device="cpu", **CANDIDATES[method]).fit(X_train).decision_function(X_test)
    return make_detector(method, seed, X_train.shape[1]).fit(X_train).decision_function(X_test)


def mean_ranks(auc: dict, keys: list, methods: list[str]) -> np.ndarray:
    """Mean rank (1 = best) of each method over the given (table, seed) keys."""
    matrix = np.array([[auc[k + (m,)] for m in methods] for k in keys])
    return np.vstack([rankdata(-row) for row in matrix]).mean(axis=0)


def report(rows: list[dict], candidates: list[str], folds: int, seeds: list[int],
           references: tuple[str, ...] = REFERENCES, base: str = "defaults") -> str:
    """The study's markdown: candidates ranked per (table, seed), the choice, and the leave-tables-out check;
    ``base`` is today's setting, the one every gain is measured against."""
    auc = {(r["table"], int(r["seed"]), r["method"]): float(r["roc_auc"]) for r in rows}
    methods = candidates + [m for m in references if any(r["method"] == m for r in rows)]
    tables = sorted({r["table"] for r in rows if all((r["table"], s, m) in auc for s in seeds for m in methods)})
    keys = [(t, s) for t in tables for s in seeds]
    ranks = mean_ranks(auc, keys, candidates)
    choice = candidates[int(np.argmin(ranks))]
    lines = [f"{len(tables)} tables x {len(seeds)} seeds ({', '.join(map(str, seeds))}).", "",
             "| method | mean ROC-AUC | mean rank among the candidates | (table, seed) above today's defaults |",
             "|---|---|---|---|"]
    for m in methods:
        values = np.array([auc[k + (m,)] for k in keys])
        today = np.array([auc[k + (base,)] for k in keys])
        rank = f"{ranks[candidates.index(m)]:.2f}" if m in candidates else "(reference)"
        above = "—" if m == base else f"{int((values > today + 1e-12).sum())} of {len(keys)}"
        lines.append(f"| {m} | {values.mean():.4f} | {rank} | {above} |")
    lines += ["", f"**Choice by mean rank over every table and seed: `{choice}`.**", "",
              f"Leave-tables-out check ({folds} groups of tables, by name order modulo {folds}): for each group, the "
              "candidate with the best mean rank on the other groups, and its mean ROC-AUC on the group left out "
              "against today's defaults there.", "",
              "| left-out group | tables | chosen on the others | its ROC-AUC there | defaults there |", "|---|---|---|---|---|"]
    held_gain = []
    for g in range(folds):
        out = [t for i, t in enumerate(tables) if i % folds == g]
        inside = [(t, s) for t in tables if t not in out for s in seeds]
        outside = [(t, s) for t in out for s in seeds]
        if not out:
            continue
        pick = candidates[int(np.argmin(mean_ranks(auc, inside, candidates)))]
        there = np.mean([auc[k + (pick,)] for k in outside])
        today = np.mean([auc[k + (base,)] for k in outside])
        held_gain.append(there - today)
        lines.append(f"| {g} | {len(out)} | `{pick}` | {there:.4f} | {today:.4f} |")
    in_gain = np.mean([auc[k + (choice,)] - auc[k + (base,)] for k in keys])
    lines += ["", f"Mean gain over today's defaults: {in_gain:+.4f} in sample (the choice on every table), "
              f"{np.mean(held_gain):+.4f} held out (each group scored by the choice made without it)."]
    return "\n".join(lines)


def run_study(candidates: dict[str, dict], references: tuple[str, ...], fit: Callable, *, default_out: str,
              title: str, description: str, base: str | None = "defaults", default_methods: Sequence[str] | None = None,
              argv: list[str] | None = None) -> int:
    """The command line of a study: fit ``candidates`` and ``references`` (``fit(method, seed, X_train, X_test)`` ->
    test scores) on every table and seed, a CSV row per fit, then :func:`report` into ``OUT.md``.

    ``--methods`` defaults to ``default_methods`` (every candidate and reference if None); the candidates among the
    methods are ranked, and gains are measured against ``base`` (None: the first of them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-root", default="../shared/datasets/adbench")
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--block", default="classical")
    parser.add_argument("--methods", default=",".join(default_methods or [*candidates, *references]))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tables", help="comma-separated table names (default: every table of the block, in order); "
                        "a second process on other tables shares the CSV")
    parser.add_argument("--reverse", action="store_true", help="visit the tables from the last (for a second process)")
    parser.add_argument("--report-only", action="store_true", help="write the report from the rows already in OUT.csv")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_suffix(".csv")
    done = set()
    if csv_path.is_file():
        with open(csv_path) as f:
            done = {(r["table"], int(r["seed"]), r["method"]) for r in csv.DictReader(f)}
    tic = time.perf_counter()
    tables = [t for t in find_tables(args.data_root) if t.block == args.block
              and (not args.tables or t.name in args.tables.split(","))]
    tables = tables[::-1] if args.reverse else tables
    for table in [] if args.report_only else tables:
        X, y = load_table(table)
        for seed in seeds:
            if csv_path.is_file():  # another process may share the CSV: re-read what is done
                with open(csv_path) as f:
                    done |= {(r["table"], int(r["seed"]), r["method"]) for r in csv.DictReader(f)}
            todo = [m for m in methods if (table.name, seed, m) not in done]
            if not todo:
                continue
            X_train, X_test, _, y_test = split_table(X, y, seed)
            for method in todo:
                start = time.perf_counter()
                scores = fit(method, seed, X_train, X_test)
                row = {"block": table.block, "table": table.name, "seed": seed, "method": method,
                       "roc_auc": round(float(roc_auc_score(y_test, scores)), 6),
                       "seconds": round(time.perf_counter() - start, 2)}
                new = not csv_path.is_file()
                with open(csv_path, "a", newline="") as f:  # one row at a time: a killed run loses one fit
                    writer = csv.DictWriter(f, FIELDS)
                    if new:
                        writer.writeheader()
                    writer.writerow(row)
        print(f"{table.name} done ({time.perf_counter() - tic:.0f} s)", flush=True)
    with open(csv_path) as f:
        rows = [r for r in csv.DictReader(f) if r["block"] == args.block]
    ranked = [m for m in methods if m in candidates]
    base = ranked[0] if base is None else base
    text = (f"# {title} ({args.block})\n\n"
            + report(rows, ranked, args.folds, seeds, references, base) + "\n\n"
            + provenance(time.perf_counter() - tic, command="python " + " ".join(sys.argv)))
    write_text(out.with_suffix(".md"), text)
    print(text)
    return 0


def main() -> int:
    return run_study(CANDIDATES, REFERENCES, fit_score, default_out="docs/results/detector_defaults_study",
                     title="Table defaults: candidates on the ADBench development tables",
                     description=__doc__.splitlines()[0])


if __name__ == "__main__":
    raise SystemExit(main())
