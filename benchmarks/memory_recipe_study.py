"""Memory recipes against a same-size plain AE, on development data only (issue 10, section 3).

Each candidate is a MemAE recipe (N, lambda, similarity and temperature, shrinkage warm-up, entropy weight and, for
images, where the memory reads); ``ae`` is the same network without memory, trained the same way.  Two development
benches, neither of them a published table of the paper:

- ``adbench``: the 29 classical ADBench tables, ADBench's split (seed 1 unless ``--seeds``), ``MemAEDetector`` with
  today's defaults (lr 3e-3, 50 epochs, ``select=val_loss``), next to Isolation Forest;
- ``digits``: scikit-learn's 8x8 digits, one-class protocol of ``memae demo`` (each digit normal in turn, normals
  split 2:1 into training and test, other digits ~30 % of the test set), its ``digits`` conv network.

Output: ``OUT.csv`` (one ROC-AUC per bench x data set x seed x candidate), ``OUT.summary.csv`` and ``OUT.md`` (per
candidate: mean ROC-AUC, average rank, wins and mean gain over the AE).

    python benchmarks/memory_recipe_study.py --data-root ../shared/datasets/adbench --out docs/results/memory_recipe_study
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch
from scipy.stats import rankdata, wilcoxon
from sklearn.metrics import roc_auc_score

import memae.detector as detector_module
from memae import MemAEDetector
from memae.config import TrainConfig, load_config
from memae.data.experiment import build_experiment_data
from memae.experiments.adbench import find_tables, load_table, split_table
from memae.experiments.demo import CONFIG as DEMO_CONFIG
from memae.experiments.runner import fit_and_score, provenance, with_overrides
from memae.io import write_csv, write_text

BASELINE = "ae"
BENCHES = ("adbench", "digits")
#: What a recipe may set.  ``flatten_latent`` exists for conv networks only: a recipe that sets it is an image recipe
#: and is skipped on the tables.
RECIPE_KEYS = ("variant", "num_slots", "shrink_threshold", "entropy_weight", "similarity", "temperature",
               "shrink_warmup_epochs", "flatten_latent")
IMAGE_ONLY_KEYS = ("flatten_latent",)

# Each candidate changes one or two things of the paper's recipe (N = 50, lambda = 1/N, dot product, alpha = 2e-4,
# no warm-up, one query per image).  The names are the settings, so a row of the report says what it is.
CANDIDATES: dict[str, dict[str, Any]] = {
    "ae": {"variant": "ae"},
    "memae": {},
    "nonspar": {"variant": "memae-nonspar"},  # memory without shrinkage or entropy loss
    "N=10": {"num_slots": 10},
    "lambda=3/N": {"shrink_threshold": "3/N"},
    "entropy=0": {"entropy_weight": 0.0},
    "entropy=2e-3": {"entropy_weight": 2e-3},
    "warmup=10": {"shrink_warmup_epochs": 10},
    "cos,T=0.1": {"similarity": "cosine", "temperature": 0.1},
    "cos,T=0.1+warmup=10": {"similarity": "cosine", "temperature": 0.1, "shrink_warmup_epochs": 10},
    "per-position": {"flatten_latent": False},  # images: one query per feature-map position, not per image
    "per-position+cos,T=0.1": {"flatten_latent": False, "similarity": "cosine", "temperature": 0.1},
}

# digits: the `memae demo` protocol and schedule (60 epochs, batch 16, lr 1e-3) with the network at a quarter of its
# width, so the code is 8 channels x 2 x 2 = 32 numbers for a 64-pixel image.  Why not the demo's 128-d code: it is
# larger than the image, and every model scores near 1.0 on it (docs/results/demo.md), which ranks nothing.
DIGITS_NETWORK = {"width": 0.25}


def parse_list(text: str) -> list[str]:
    """``"a;b"`` or ``"a|b"`` -> ``["a", "b"]`` (candidate names contain commas, so the separator is ``;`` or ``|``)."""
    for sep in (";", "|"):
        if sep in text:
            return [t.strip() for t in text.split(sep) if t.strip()]
    return [text.strip()] if text.strip() else []


def applies_to(recipe: dict[str, Any], bench: str) -> bool:
    """Tables have no spatial code: a recipe that only changes where an image's memory reads does not apply."""
    return bench != "adbench" or not any(key in recipe for key in IMAGE_ONLY_KEYS)


class RecipeDetector(MemAEDetector):
    """``MemAEDetector`` plus the recipe settings that ``build_model`` and ``TrainConfig`` have but the detector does
    not expose (similarity, temperature, shrinkage warm-up).

    They are plain attributes, not constructor parameters, because the detector validates every ``get_params`` entry
    against its own rules; everything else (preprocessing, validation split, epoch choice, scoring) is the detector's
    own code, so a candidate differs from ``MemAEDetector`` only in what its recipe says.
    """

    model_options: dict[str, Any] = {}
    shrink_warmup_epochs: int = 0

    def _model_options(self, in_features: int) -> dict[str, Any]:
        return {**super()._model_options(in_features), **self.model_options}

    def _train(self, x: np.ndarray, seed: int, device: torch.device):
        if not self.shrink_warmup_epochs:
            return super()._train(x, seed, device)
        # The detector builds its TrainConfig inside _train: hand it one with the warm-up set, only for this call.
        with mock.patch.object(detector_module, "TrainConfig",
                               functools.partial(TrainConfig, shrink_warmup_epochs=int(self.shrink_warmup_epochs))):
            return super()._train(x, seed, device)


def make_detector(recipe: dict[str, Any], seed: int, **detector_params: Any) -> MemAEDetector:
    """A detector with today's defaults changed by ``recipe`` (``detector_params``: e.g. ``epochs`` for smoke runs)."""
    params = {k: recipe[k] for k in ("variant", "num_slots", "shrink_threshold", "entropy_weight") if k in recipe}
    det = RecipeDetector(random_state=seed, device="cpu", **params, **detector_params)
    det.model_options = {k: recipe[k] for k in ("similarity", "temperature") if k in recipe}
    det.shrink_warmup_epochs = int(recipe.get("shrink_warmup_epochs", 0))
    return det


def run_adbench(data_root: str, names: list[str], seeds: list[int], *, tables: list[str] | None = None,
                epochs: int | None = None, done: set[tuple] = frozenset(),
                on_rows: Callable[[list[dict[str, Any]]], None] = lambda rows: None) -> None:
    """Fit every candidate (and Isolation Forest) on ADBench's split of each classical table; report rows per table."""
    from pyod.models.iforest import IForest

    extra = {} if epochs is None else {"epochs": epochs}
    for table in [t for t in find_tables(data_root, tables) if t.block == "classical"]:
        X, y = load_table(table)
        rows = []
        for seed in seeds:
            todo = [n for n in ["IForest", *names] if ("adbench", table.name, seed, n) not in done]
            if not todo:
                continue
            X_train, X_test, _, y_test = split_table(X, y, seed)
            for name in todo:
                tic = time.process_time()
                if name == "IForest":
                    scores = IForest(random_state=seed).fit(X_train).decision_function(X_test)
                else:
                    scores = make_detector(CANDIDATES[name], seed, **extra).fit(X_train).decision_function(X_test)
                rows.append(_row("adbench", table.name, seed, name, roc_auc_score(y_test, scores), tic))
        on_rows(rows)


def digits_config(recipe: dict[str, Any], digit: int, seed: int, epochs: int | None = None):
    """The demo's experiment config for normal ``digit`` and ``seed``, with the study's network and ``recipe``."""
    base = load_config(DEMO_CONFIG)
    model = {k: recipe[k] for k in RECIPE_KEYS if k in recipe and k not in ("variant", "shrink_warmup_epochs")}
    train = {"seed": seed, "progress": False, "shrink_warmup_epochs": int(recipe.get("shrink_warmup_epochs", 0))}
    if epochs is not None:
        train["epochs"] = epochs
    config = with_overrides(base, data={"normal_class": digit}, train=train,
                            model={"variant": recipe.get("variant", "memae")})
    for key, value in {**DIGITS_NETWORK, **model}.items():
        setattr(config.model.options, key, value)
    return config


def run_digits(names: list[str], seeds: list[int], *, classes: list[int] | None = None, epochs: int | None = None,
               done: set[tuple] = frozenset(),
               on_rows: Callable[[list[dict[str, Any]]], None] = lambda rows: None) -> None:
    """Each digit normal in turn; every candidate trains on the same split (it depends on the seed only)."""
    for digit in range(10) if classes is None else classes:
        rows = []
        for seed in seeds:
            todo = [n for n in names if ("digits", str(digit), seed, n) not in done]
            if not todo:
                continue
            data = build_experiment_data(digits_config({}, digit, seed).data, seed)
            for name in todo:
                tic = time.process_time()
                outcome = fit_and_score(digits_config(CANDIDATES[name], digit, seed, epochs), data)
                rows.append(_row("digits", str(digit), seed, name, outcome.metrics["roc_auc"], tic))
        on_rows(rows)


def _row(bench: str, dataset: str, seed: int, candidate: str, auc: float, cpu_tic: float) -> dict[str, Any]:
    # CPU seconds, not wall: the study shares its machine, and the CPU time is what a candidate costs
    return {"bench": bench, "dataset": dataset, "seed": seed, "candidate": candidate, "roc_auc": round(float(auc), 6),
            "cpu_seconds": round(time.process_time() - cpu_tic, 2)}


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of an earlier (interrupted) run of the study, for ``--resume``."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [{**r, "seed": int(r["seed"]), "roc_auc": float(r["roc_auc"]), "cpu_seconds": float(r["cpu_seconds"])}
                for r in csv.DictReader(handle)]


def summarise(rows: list[dict[str, Any]], bench: str, names: list[str]) -> list[dict[str, Any]]:
    """Per candidate on one bench: mean ROC-AUC, average rank, wins over the AE and the mean gain, per seed too.

    Only data set x seed cells where every listed candidate has a result count, so that every mean is over the same
    cells.  Ranks are among the listed candidates (1 = best; ties share the mean rank).
    """
    auc = {(r["dataset"], r["seed"], r["candidate"]): r["roc_auc"] for r in rows if r["bench"] == bench}
    names = [n for n in names if any(k[2] == n for k in auc)]
    cells = sorted({k[:2] for k in auc if all((*k[:2], n) in auc for n in names)})
    if not cells or BASELINE not in names:
        return []
    matrix = np.array([[auc[(*cell, n)] for n in names] for cell in cells])
    ranks = np.vstack([rankdata(-row) for row in matrix]).mean(axis=0)
    base = matrix[:, names.index(BASELINE)]
    seeds = sorted({cell[1] for cell in cells})
    out = []
    for i, name in enumerate(names):
        gain = matrix[:, i] - base
        per_seed = [float(gain[[c[1] == s for c in cells]].mean()) for s in seeds]
        differs = np.abs(gain) > 1e-12
        p = float(wilcoxon(gain[differs]).pvalue) if name != BASELINE and differs.sum() >= 5 else float("nan")
        out.append({
            "bench": bench, "candidate": name, "cells": len(cells), "mean_roc_auc": round(float(matrix[:, i].mean()), 4),
            "average_rank": round(float(ranks[i]), 2),
            "wins_over_ae": int((gain > 1e-12).sum()), "losses_to_ae": int((gain < -1e-12).sum()),
            "gain_over_ae": round(float(gain.mean()), 4),
            "gain_per_seed": " ".join(f"{s}:{g:+.4f}" for s, g in zip(seeds, per_seed)),
            "wilcoxon_p": round(p, 4) if p == p else "",
        })
    return out


def markdown(summary: list[dict[str, Any]], bench: str) -> str:
    lines = ["| candidate | mean ROC-AUC | average rank | beats AE on | gain over AE | gain per seed | Wilcoxon p |",
             "|---|---|---|---|---|---|---|"]
    for s in (s for s in summary if s["bench"] == bench):
        base = s["candidate"] == BASELINE
        lines.append(f"| {s['candidate']} | {s['mean_roc_auc']:.4f} | {s['average_rank']:.2f} | "
                     + ("— | — | — | — |" if base else
                        f"{s['wins_over_ae']} of {s['cells']} ({s['losses_to_ae']} worse) | {s['gain_over_ae']:+.4f} | "
                        f"{s['gain_per_seed']} | {s['wilcoxon_p'] if s['wilcoxon_p'] != '' else '—'} |"))
    return "\n".join(lines)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One torch thread: the study shares a 2-core machine, and one thread keeps timings comparable."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/datasets/adbench", help="ADBench folder (adbench bench)")
    parser.add_argument("--out", default="docs/results/memory_recipe_study", help="output path without suffix")
    parser.add_argument("--bench", default="adbench;digits", help="adbench, digits or both (';'-separated)")
    parser.add_argument("--candidates", default=";".join(CANDIDATES),
                        help=f"';'-separated names from: {'; '.join(CANDIDATES)} (the AE is always added)")
    parser.add_argument("--seeds", default="1", help="adbench split / training seeds, ';'- or '|'-separated")
    parser.add_argument("--digits-seeds", default="0;1", help="digits split / training seeds")
    parser.add_argument("--tables", default=None, help="only these ADBench tables (';'-separated; smoke runs)")
    parser.add_argument("--classes", default=None, help="only these digits (';'-separated; smoke runs)")
    parser.add_argument("--epochs", type=int, default=None, help="override every schedule's epochs (smoke runs)")
    parser.add_argument("--resume", action="store_true", help="keep the rows of OUT.csv and fit only what is missing")
    args = parser.parse_args(argv)
    benches = parse_list(args.bench)
    names = parse_list(args.candidates)
    unknown = [n for n in names if n not in CANDIDATES] + [b for b in benches if b not in BENCHES]
    if unknown:
        parser.error(f"unknown candidate(s) or bench(es): {', '.join(unknown)}")
    names = [BASELINE] + [n for n in names if n != BASELINE]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    runs_csv = out.parent / (out.name + ".csv")
    rows = read_rows(runs_csv) if args.resume else []
    done = {(r["bench"], r["dataset"], r["seed"], r["candidate"]) for r in rows}

    tic, cpu_tic = time.perf_counter(), time.process_time()

    def keep(new: list[dict[str, Any]]) -> None:  # written after every data set: an interrupted run keeps its rows
        rows.extend(new)
        if new:
            write_csv(runs_csv, rows)
            r = new[-1]
            print(f"{r['bench']} {r['dataset']} done ({time.perf_counter() - tic:.0f} s)", flush=True)

    with _one_thread():
        if "adbench" in benches:
            run_adbench(args.data_root, [n for n in names if applies_to(CANDIDATES[n], "adbench")],
                        [int(s) for s in parse_list(args.seeds)], tables=parse_list(args.tables) if args.tables else None,
                        epochs=args.epochs, done=done, on_rows=keep)
        if "digits" in benches:
            run_digits(names, [int(s) for s in parse_list(args.digits_seeds)],
                       classes=[int(c) for c in parse_list(args.classes)] if args.classes else None,
                       epochs=args.epochs, done=done, on_rows=keep)
    seconds, cpu_seconds = time.perf_counter() - tic, time.process_time() - cpu_tic

    summary = []
    for bench in BENCHES:
        listed = (["IForest"] if bench == "adbench" else []) + [n for n in names if applies_to(CANDIDATES[n], bench)]
        summary += summarise(rows, bench, listed)
    write_csv(out.parent / (out.name + ".summary.csv"), summary)
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    text = ["# Memory recipes against a same-size AE (development data only)\n"]
    for bench in BENCHES:
        if any(s["bench"] == bench for s in summary):
            text += [f"## {bench}\n", markdown(summary, bench), ""]
    text += [provenance(seconds, command=command) + f"- CPU time: {cpu_seconds / 60:.1f} min (this invocation)\n"]
    write_text(out.parent / (out.name + ".md"), "\n".join(text))
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
