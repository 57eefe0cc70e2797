"""How well does each ``train.select`` criterion pick the epoch, measured on DEVELOPMENT tables only (ADBench).

For every ADBench table and seed: ADBench's unsupervised protocol (at most ``--max-rows`` rows, stratified 70/30
split, min-max scaling fitted on the training part), an ``mlp`` model trained on the unlabelled training part with
10 % of it held out (unlabelled, contaminated at the table's own rate) as the selection data.  After every epoch we
record the validation loss, the label-free separation of the held-out scores and -- for measurement only -- the
test ROC-AUC.  Each criterion then picks an epoch without labels; we report how often its pick is within 0.01 AUC of
the best epoch, and the AUC it loses.  These tables are never used for a published paper table.

    python benchmarks/selection_study.py --data-root ../shared/datasets/adbench --out docs/results/selection_study
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import memae
from memae.experiments.adbench import split_table
from memae.experiments.runner import provenance
from memae.io import write_csv, write_text
from memae.config import TrainConfig

CRITERIA = ("val_loss", "separation", "last")


def tables(root: Path, max_features: int) -> list[Path]:
    paths = sorted((root / "classical").glob("*.npz"))
    keep = []
    for path in paths:
        with np.load(path, allow_pickle=False) as d:
            if d["X"].shape[1] <= max_features:
                keep.append(path)
    return keep


def one_run(path: Path, seed: int, variant: str, epochs: int, max_rows: int, share: float) -> list[dict]:
    with np.load(path, allow_pickle=False) as d:
        X, y = d["X"].astype(np.float32), d["y"].astype(int)
    rng = np.random.default_rng(seed)
    if len(X) > max_rows:  # stratified, so that the rarest tables keep their few anomalies
        X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y, random_state=seed)
    if y.sum() < 4:
        return []
    X_train, X_test, _, y_test = split_table(X, y, seed)  # ADBench's stratified 70/30 split and min-max scaling
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    order = rng.permutation(len(X_train))
    n_val = max(2, int(round(0.1 * len(X_train))))
    fit_x, val_x = X_train[order[n_val:]], X_train[order[:n_val]]
    torch.manual_seed(seed)
    model = memae.build_model("mlp", variant, in_features=X.shape[1])
    config = TrainConfig(epochs=epochs, batch_size=256, lr=1e-3, seed=seed, select="separation", select_share=share,
                         progress=False)
    rows: list[dict] = []
    test_t = torch.from_numpy(X_test)

    def on_epoch(record: dict) -> None:
        with torch.no_grad():
            model.eval()
            scores = ((model(test_t)[0] - test_t) ** 2).mean(1).numpy()
            model.train()
        rows.append({"table": path.stem, "seed": seed, "variant": variant, "epoch": int(record["epoch"]),
                     "val_loss": record["val_loss"], "separation": record["separation"],
                     "test_auc": roc_auc_score(y_test, scores)})

    memae.train(model, fit_x, val_x, config, on_epoch=on_epoch)
    return rows


def pick(rows: list[dict], criterion: str) -> dict:
    if criterion == "last":
        return rows[-1]
    if criterion == "val_loss":
        return min(rows, key=lambda r: (r["val_loss"], r["epoch"]))
    return max(rows, key=lambda r: (-math.inf if math.isnan(r["separation"]) else r["separation"], -r["epoch"]))


def summarise(all_rows: list[dict]) -> tuple[str, dict]:
    runs: dict[tuple, list[dict]] = {}
    for r in all_rows:
        runs.setdefault((r["table"], r["seed"], r["variant"]), []).append(r)
    stats = {c: {"within": 0, "regret": [], "auc": []} for c in CRITERIA}
    best_auc = []
    for rows in runs.values():
        best = max(r["test_auc"] for r in rows)
        best_auc.append(best)
        for c in CRITERIA:
            chosen = pick(rows, c)["test_auc"]
            stats[c]["within"] += int(best - chosen <= 0.01)
            stats[c]["regret"].append(best - chosen)
            stats[c]["auc"].append(chosen)
    lines = ["| criterion | picks within 0.01 AUC of the best epoch | mean AUC lost | mean test AUC at the pick |",
             "|---|---|---|---|"]
    for c in CRITERIA:
        s = stats[c]
        lines.append(f"| `{c}` | {s['within']} of {len(runs)} ({s['within'] / len(runs):.0%}) | "
                     f"{np.mean(s['regret']):.4f} | {np.mean(s['auc']):.4f} |")
    lines.append(f"| (oracle: best epoch by test labels) | {len(runs)} of {len(runs)} | 0 | {np.mean(best_auc):.4f} |")
    return "\n".join(lines), stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/datasets/adbench")
    parser.add_argument("--out", default="docs/results/selection_study")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--variants", default="memae,ae")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--max-rows", type=int, default=5000)
    parser.add_argument("--max-features", type=int, default=200)
    parser.add_argument("--share", type=float, default=0.1, help="select_share: assumed share of anomalies")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tic = time.perf_counter()
    all_rows: list[dict] = []
    paths = tables(Path(args.data_root), args.max_features)
    for path in paths:
        for seed in [int(s) for s in args.seeds.split(",")]:
            for variant in args.variants.split(","):
                all_rows += one_run(path, seed, variant, args.epochs, args.max_rows, args.share)
        print(f"{path.stem} done ({time.perf_counter() - tic:.0f} s)", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(out.with_suffix(".csv"), all_rows)
    table, _ = summarise(all_rows)
    per_variant = "\n\n".join(f"### `{v}`\n\n" + summarise([r for r in all_rows if r["variant"] == v])[0]
                              for v in args.variants.split(","))
    text = (f"# Label-free epoch selection on development tables (ADBench)\n\n"
            f"{len(paths)} ADBench classical tables with at most {args.max_features} features, seeds {args.seeds}, "
            f"variants {args.variants}, {args.epochs} epochs, lr 1e-3, batch 256, at most {args.max_rows} rows, "
            f"separation share {args.share}.  Test labels are read only to measure each criterion's pick.\n\n"
            f"## All runs\n\n{table}\n\n## Per variant\n\n{per_variant}\n\n"
            + provenance(time.perf_counter() - tic, command="python " + " ".join(sys.argv)))
    write_text(out.with_suffix(".md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
