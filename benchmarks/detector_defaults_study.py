"""Candidate defaults for ``MemAEDetector``, compared on the ADBench development tables (issue 12, section 3).

Each candidate changes one setting of today's defaults; every candidate and memae's AE (the same network without
memory) are fitted on the same splits as ``memae benchmark adbench`` (seed 1 unless ``--seeds``), and compared with
Isolation Forest.  Output: a CSV of ROC-AUCs and a Markdown table of mean ROC-AUC and average rank.

    python benchmarks/detector_defaults_study.py --data-root ../shared/datasets/adbench --out docs/results/detector_defaults_study
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from memae import MemAEDetector
from memae.experiments.runner import provenance
from memae.io import write_csv, write_text
from memae.experiments.adbench import find_tables, load_table, split_table

CANDIDATES: dict[str, dict] = {
    "defaults": {},
    "ae (no memory)": {"variant": "ae"},
    "preprocessing=minmax": {"preprocessing": "minmax"},
    "epochs=100": {"epochs": 100},
    "num_slots=200": {"num_slots": 200},
    "lr=3e-3": {"lr": 3e-3},
    "select=last": {"select": "last"},
    "epochs=100+lr=3e-3": {"epochs": 100, "lr": 3e-3},
    "epochs=200": {"epochs": 200},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/datasets/adbench")
    parser.add_argument("--out", default="docs/results/detector_defaults_study")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--block", default="classical")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    from pyod.models.iforest import IForest

    tic = time.perf_counter()
    rows = []
    names = args.candidates.split(",")
    for table in [t for t in find_tables(args.data_root) if t.block == args.block]:
        X, y = load_table(table)
        for seed in [int(s) for s in args.seeds.split(",")]:
            X_train, X_test, _, y_test = split_table(X, y, seed)
            scores = {"IForest": IForest(random_state=seed).fit(X_train).decision_function(X_test)}
            for name in names:
                det = MemAEDetector(random_state=seed, device="cpu", **CANDIDATES[name]).fit(X_train)
                scores[name] = det.decision_function(X_test)
            for name, s in scores.items():
                rows.append({"table": table.name, "seed": seed, "candidate": name, "roc_auc": roc_auc_score(y_test, s)})
        print(f"{table.name} done ({time.perf_counter() - tic:.0f} s)", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(out.with_suffix(".csv"), rows)
    columns = ["IForest", *names]
    keys = sorted({(r["table"], r["seed"]) for r in rows})
    auc = {(r["table"], r["seed"], r["candidate"]): r["roc_auc"] for r in rows}
    matrix = np.array([[auc[(t, s, c)] for c in columns] for t, s in keys])
    from scipy.stats import rankdata

    ranks = np.vstack([rankdata(-row) for row in matrix]).mean(axis=0)
    lines = ["| candidate | mean ROC-AUC | average rank | tables above today's defaults |", "|---|---|---|---|"]
    base = matrix[:, columns.index("defaults")] if "defaults" in columns else None
    for i, c in enumerate(columns):
        above = "—" if base is None or c == "defaults" else f"{int((matrix[:, i] > base + 1e-12).sum())} of {len(keys)}"
        lines.append(f"| {c} | {matrix[:, i].mean():.4f} | {ranks[i]:.2f} | {above} |")
    text = (f"# MemAEDetector default candidates on the ADBench development tables ({args.block})\n\n"
            f"{len(keys)} table x seed splits (ADBench's protocol, seeds {args.seeds}); each candidate changes one "
            f"setting of today's defaults.\n\n" + "\n".join(lines) + "\n\n"
            + provenance(time.perf_counter() - tic, command="python " + " ".join(sys.argv)))
    write_text(out.with_suffix(".md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
