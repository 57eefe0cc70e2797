"""Readings of the paper's MNIST network, compared on development data only (MNIST's official training images).

No published test image is read: the paper's one-class protocol (2:1 normals, 10 % validation, 30 % anomalies) is
drawn inside the 60,000 official training images, and the published Table 1 takes its test set from the 10,000
official test images (``data.protocol: official_test``).  Each row: one network reading x model variant x class x
seed, 10 epochs at the Table 1 recipe, the epoch kept by validation loss (label-free); the development AUC of that
epoch with squared (``mse``) and absolute (``mae``) error scores, of the last epoch, and the addressing sparsity.

Usage: python benchmarks/image_network_study.py OUT.csv READING[,READING...] VARIANT[,VARIANT...] CLASSES [SEED [EPOCHS]]
(appends, skipping rows already in OUT.csv, so a killed run resumes).  READING names are in ``READINGS`` below.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from memae.config import TrainConfig
from memae.data.images import load_image_dataset
from memae.data.one_class import one_class_split
from memae.functional import addressing_stats
from memae.models import build_model
from memae.training import train

#: name -> model options; "paper" is today's Table 1 network (a 1x1 first kernel, no padding, linear output).
READINGS = {
    "paper": {},
    "k3": {"first_kernel": 3},
    "sigmoid": {"output_activation": "sigmoid"},
    "k3-sigmoid": {"first_kernel": 3, "output_activation": "sigmoid"},
    "code32": {"code_dim": 32},
    "k3-code32": {"first_kernel": 3, "code_dim": 32},
    "same-code32": {"padding": "same", "first_kernel": 3, "code_dim": 32},
    "same-code32-sigmoid": {"padding": "same", "first_kernel": 3, "code_dim": 32, "output_activation": "sigmoid"},
    "k3-code32-sigmoid": {"first_kernel": 3, "code_dim": 32, "output_activation": "sigmoid"},
    # the addressing's sharpness: dot-product logits divided by a temperature below 1 (sparser weights)
    "same-code32-sigmoid-t0.5": {"padding": "same", "first_kernel": 3, "code_dim": 32, "output_activation": "sigmoid",
                                 "temperature": 0.5},
    "same-code32-sigmoid-t0.25": {"padding": "same", "first_kernel": 3, "code_dim": 32, "output_activation": "sigmoid",
                                  "temperature": 0.25},
    "k3-code32-sigmoid-t0.5": {"first_kernel": 3, "code_dim": 32, "output_activation": "sigmoid", "temperature": 0.5},
    "k3-code32-sigmoid-t0.25": {"first_kernel": 3, "code_dim": 32, "output_activation": "sigmoid", "temperature": 0.25},
}
FIELDS = ["reading", "variant", "normal_class", "seed", "best_epoch", "dev_auc_mse", "dev_auc_mae", "last_auc_mse",
          "epoch_auc_sd_last5", "val_loss", "active_slots", "seconds", "epochs", "epoch_aucs", "epoch_val_losses"]


def errors(model: torch.nn.Module, x: np.ndarray, batch: int = 512) -> tuple[np.ndarray, np.ndarray, torch.Tensor | None]:
    model.eval()
    squared, absolute, weights = [], [], []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(x[i:i + batch])
            recon, w = model(xb)
            squared.append(((recon - xb) ** 2).flatten(1).mean(1))
            absolute.append((recon - xb).abs().flatten(1).mean(1))
            if w is not None:
                weights.append(w)
    return torch.cat(squared).numpy(), torch.cat(absolute).numpy(), torch.cat(weights) if weights else None


def main() -> None:
    out, readings, variants, classes = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), sys.argv[4]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    epochs = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    torch.set_num_threads(1)
    root = os.environ.get("MEMAE_DATASETS", str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    images = load_image_dataset("mnist", f"{root}/mnist", "train")
    x = images.images.astype(np.float32) / 255.0
    done = set()
    if Path(out).is_file():
        with open(out) as f:
            done = {(r["reading"], r["variant"], r["normal_class"], r["seed"]) for r in csv.DictReader(f)}
    for cls in [int(c) for c in classes.split(",")]:
        split = one_class_split(images.labels, cls, seed)
        train_x, val_x, test_x, y = x[split.train_idx], x[split.val_idx], x[split.test_idx], split.test_is_anomaly
        for reading in readings:
            for variant in variants:
                if (reading, variant, str(cls), str(seed)) in done:
                    continue
                torch.manual_seed(seed)
                model = build_model("mnist", variant, **READINGS[reading])
                epoch_auc: list[float] = []

                def on_epoch(record: dict[str, float]) -> None:
                    epoch_auc.append(roc_auc_score(y, errors(model, test_x)[0]))
                    model.train()

                config = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, seed=seed, progress=False, select="val_loss")
                start = time.time()
                result = train(model, train_x, val_x, config, on_epoch=on_epoch)
                squared, absolute, weights = errors(model, test_x)
                active = float(addressing_stats(weights)["mean_active_slots"]) if weights is not None else float("nan")
                row = {"reading": reading, "variant": variant, "normal_class": cls, "seed": seed,
                       "best_epoch": result.best_epoch, "dev_auc_mse": round(roc_auc_score(y, squared), 4),
                       "dev_auc_mae": round(roc_auc_score(y, absolute), 4), "last_auc_mse": round(epoch_auc[-1], 4),
                       "epoch_auc_sd_last5": round(float(np.std(epoch_auc[-5:])), 4),
                       "val_loss": round(float(result.best_val), 6), "active_slots": round(active, 2),
                       "seconds": round(time.time() - start, 1), "epochs": epochs,
                       "epoch_aucs": ";".join(f"{a:.4f}" for a in epoch_auc),
                       # with epoch_aucs, any early-stopping rule on the validation error can be replayed offline
                       "epoch_val_losses": ";".join(f"{r['val_loss']:.7g}" for r in result.history)}
                new = not Path(out).is_file()
                with open(out, "a", newline="") as f:
                    writer = csv.DictWriter(f, FIELDS)
                    if new:
                        writer.writeheader()
                    writer.writerow(row)
                print(row, flush=True)


if __name__ == "__main__":
    main()
