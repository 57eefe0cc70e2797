"""``memae reproduce table1``: one-class image anomaly detection (paper section 4.1, Table 1, Figures 3 and 4).

For every normal class and seed: the one-class split (2:1 normals, ~30 % anomalies in the test set, 10 % of the
training normals for validation), then every method scored by ROC-AUC.  MemAE-family methods share one pipeline
(:func:`memae.experiments.runner.fit_and_score`); baselines are the detectors of :mod:`memae.baselines`.

``memae-memscore`` is memae's addition (the paper's stated future work): the MemAE model of the same run scored by
reconstruction error plus the distance of its queries to the nearest memory slots, both scaled by their median on
the validation normals.  It costs no extra training.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..config import fresh_run_dir, load_config, parse_int_list, save_config
from ..data.experiment import build_experiment_data
from ..errors import ConfigError
from ..functional import addressing_stats
from ..io import write_json
from ..models import check_model_section
from ..reporting import markdown_table, mean_std, plot_image_grid, plot_reconstructions, plot_roc_curves, write_markdown
from ..scoring.metrics import roc_auc
from ..scoring.reconstruction import combined_scores, memory_distances
from .demo import SMOKE_NOTE
from .progress import ResultRows, RunStore
from .runner import (fit_and_score, git_commit, load_baseline_params, machine_info, provenance, with_overrides,
                     write_csv)

if TYPE_CHECKING:
    from . import ReproduceOptions

CONFIGS = Path(__file__).with_name("configs")
DATASETS = {"mnist": "table1_mnist.yaml", "fashion-mnist": "table1_mnist.yaml", "cifar10": "table1_cifar10.yaml",
            "digits": "table1_digits.yaml", "folder": "table1_mnist.yaml"}
MEMAE_METHODS = {"ae": "AE", "memae-nonspar": "MemAE-nonSpar", "memae": "MemAE"}
BASELINE_METHODS = {"ocsvm": "OC-SVM", "kde": "KDE", "pca": "PCA (memae)", "vae": "VAE", "pixelcnn": "PixCNN",
                    "dsebm": "DSEBM"}
EXTRA_METHODS = {"memae-memscore": "MemAE + memory distance (memae)"}
NAMES = {**BASELINE_METHODS, **MEMAE_METHODS, **EXTRA_METHODS}
DEFAULT_METHODS = ("ocsvm", "kde", "pca", "vae", "pixelcnn", "dsebm", "ae", "memae-nonspar", "memae")
PAPER = {  # mean AUC (MNIST, CIFAR-10), paper Table 1; baselines marked (?) in the notes come from summaries
    "ae": (0.9619, 0.5706), "memae-nonspar": (0.9725, 0.6058), "memae": (0.9751, 0.6088), "ocsvm": (0.9499, 0.5856),
    "kde": (0.8116, 0.5241), "vae": (0.9632, 0.5833), "pixelcnn": (0.6141, 0.5506), "dsebm": (0.9554, 0.6089),
}
BASELINES_CONFIG = CONFIGS / "table1_baselines.yaml"  # baseline settings, fixed in advance (no test labels)
# Model options the deep baselines share with the autoencoders, so that every network has the same code.
SHARED_MODEL_OPTIONS = ("code_dim", "padding", "width", "activation", "first_kernel", "output_activation")


def run_table1(dataset: str, data_root: str | None, run_dir: Path, *, methods=DEFAULT_METHODS, seeds=(0, 1, 2),
               classes=None, epochs: int | None = None, overrides: list[str] | None = None, smoke: bool = False,
               store: RunStore) -> dict[str, Any]:
    """Every (method, seed, normal class) not yet in ``run_dir/runs.csv``, then the report.

    ``store``: the run's :class:`RunStore` (default: one that only logs and claims, for the Python API).  Each
    (method, seed, class) is one unit, claimed before it runs, so two processes sharing the run split the work.
    """
    if dataset not in DATASETS:
        raise ConfigError(f"table1 supports datasets {', '.join(DATASETS)}, not {dataset!r}")
    unknown = [m for m in methods if m not in NAMES]
    if unknown:
        raise ConfigError(f"unknown method(s) {', '.join(unknown)} for table1; choose from {', '.join(NAMES)}")
    store = store or RunStore(run_dir, "table1")
    # an image folder has no official test set, so it keeps the pooled protocol of the paper's text
    protocol = ["data.protocol=paper"] if dataset == "folder" else []
    base = load_config(CONFIGS / DATASETS[dataset], [f"data.dataset={dataset}", *protocol, *(overrides or [])])
    check_model_section(base.model)  # a bad option name fails now, not after the data is read
    base.data.root = data_root
    if epochs is not None:
        base.train.epochs = epochs
    save_config(base, run_dir / "config.yaml")
    classes = list(range(10)) if classes is None else list(classes)
    rows = ResultRows(run_dir, ("method", "seed", "normal_class"), int_fields=("seed", "normal_class"))

    def done(method: str, seed: int, normal_class: int) -> bool:
        # the memae unit also writes memae-memscore (a run from before memscore existed trains memae again)
        wanted = (method, "memae-memscore") if method == "memae" else (method,)
        return all(rows.done(method=m, seed=seed, normal_class=normal_class) for m in wanted)

    units = [(m, s, c) for s in seeds for c in classes for m in methods]
    finished = sum(done(*unit) for unit in units)
    if finished:
        store.log(f"{finished} of {len(units)} runs already done")
    for seed in seeds:
        for normal_class in classes:
            config = with_overrides(base, data={"normal_class": normal_class})
            config.train.seed = seed
            data, kept = None, {}
            for method in methods:
                with store.take(f"{method}-seed{seed}-class{normal_class}", partial(done, method, seed, normal_class),
                                say_done=False) as mine:
                    if not mine:
                        continue
                    data = data or build_experiment_data(config.data, seed)  # once per (seed, class), if needed
                    tic = time.perf_counter()
                    scores, model = _scores(method, config, data, seed, epochs)
                    row = {"method": method, "seed": seed, "normal_class": normal_class,
                           "roc_auc": roc_auc(data.test_labels, scores), "seconds": time.perf_counter() - tic}
                    if rows.add(row):  # progress survives an interruption; --resume skips these
                        store.log(f"seed {seed} class {normal_class} {NAMES[method]:16s} AUC {row['roc_auc']:.4f} "
                                  f"({row['seconds']:.0f} s)")
                    kept[method] = (scores, model)
                    if method == "memae":
                        extra = _memory_score(model, data)
                        rows.add({"method": "memae-memscore", "seed": seed, "normal_class": normal_class,
                                  "roc_auc": roc_auc(data.test_labels, extra), "seconds": 0.0})
                        kept["memae-memscore"] = (extra, model)
            # the figures of the first (seed, class) for which this process trained both AE and MemAE
            if {"ae", "memae"} <= set(kept) and not (run_dir / "memory_slots.png").is_file():
                _figures(kept, data, run_dir, normal_class)
    unfinished = len(units) - sum(done(*unit) for unit in units)
    if unfinished:
        store.log(f"{unfinished} of {len(units)} runs are not finished (another process is running them); the "
                  f"table so far is written now and again when the last process ends")
    return _report(rows, methods, classes, seeds, run_dir, dataset, (SMOKE_NOTE if smoke else "") + _setting(base),
                   store=store)


def _scores(method: str, config, data, seed: int, epochs: int | None):
    if method in MEMAE_METHODS:
        outcome = fit_and_score(with_overrides(config, model={"variant": method}), data)
        return outcome.test_scores, outcome.model
    from ..baselines import make_baseline

    params = load_baseline_params(BASELINES_CONFIG, method)
    if "epochs" in params and epochs is not None:
        params["epochs"] = epochs
    if method in ("vae", "dsebm"):
        params["architecture"] = config.model.architecture
        shared = {k: v for k, v in config.model.options.given().items() if k in SHARED_MODEL_OPTIONS}
        params["model_options"] = shared or None
    detector = make_baseline(method, random_state=seed, **params)
    return detector.fit(data.train, X_val=data.val).decision_function(data.test), None


def _memory_score(model, data) -> np.ndarray:
    from ..scoring.reconstruction import reconstruction_errors

    rec_val, rec_test = reconstruction_errors(model, data.val), reconstruction_errors(model, data.test)
    dist_val, dist_test = memory_distances(model, data.val), memory_distances(model, data.test)
    return combined_scores(rec_test, dist_test, rec_val, dist_val)


def _figures(kept: dict[str, Any], data, run_dir: Path, normal_class: int) -> None:
    """Figure 3 (reconstructions with error maps), Figure 4 (decoded memory slots), ROC curves."""
    plot_roc_curves({NAMES[m]: (data.test_labels, s) for m, (s, _) in kept.items()}, run_dir / "roc.png",
                    title=f"class {normal_class} normal")
    memae = kept["memae"][1]
    with torch.no_grad():
        train = torch.from_numpy(data.train)
        latent = memae.encode(train[:1]).shape[1:]
        usage = addressing_stats(memae(train)[1])["slot_usage"]  # mean addressing weight per slot on training data
        order = torch.argsort(usage, descending=True)[: min(30, memae.memory.num_slots)]
        slots = memae.decode_slots(order.tolist(), tuple(latent)).numpy()
    plot_image_grid(slots, run_dir / "memory_slots.png",
                    title=f"MemAE memory slots decoded, most used first (class {normal_class} normal; "
                          f"{int((usage > 0).sum())} of {len(usage)} slots ever addressed)")
    picks = np.r_[np.flatnonzero(~data.test_labels)[:3], np.flatnonzero(data.test_labels)[:3]]
    inputs = data.test[picks]
    with torch.no_grad():
        recons = {NAMES[m]: kept[m][1](torch.from_numpy(inputs))[0].numpy() for m in ("ae", "memae")}
    plot_reconstructions(inputs, recons, run_dir / "reconstructions.png", row_titles=["normal"] * 3 + ["anomaly"] * 3,
                         title=f"class {normal_class} normal: AE vs MemAE")


def _setting(config) -> str:
    """One line naming the network and its code size: AE, VAE, DSEBM and every MemAE variant share it."""
    from ..models import build_model

    options = config.model.options.given()
    probe = build_model(config.model.architecture, "ae", **options).eval()
    code = probe.encode(torch.zeros(1, *probe.input_shape)).numel() if probe.input_shape else "?"
    return (f"network `{config.model.architecture}` with options `{options}`: a {code}-number code, the same for AE, "
            f"VAE, DSEBM and every MemAE variant; {config.train.epochs} epochs, lr {config.train.lr}, batch "
            f"{config.train.batch_size}, epoch kept by `train.select={config.train.select}`\n\n")


def _report(log: ResultRows, methods, classes, seeds, run_dir: Path, dataset: str, setting: str,
            store: RunStore) -> dict[str, Any]:
    shown = log.methods(DEFAULT_METHODS + ("memae-memscore",))
    paper_col = {"mnist": 0, "cifar10": 1}.get(dataset)
    header = ["method"] + [str(c) for c in classes] + ["mean ± std over seeds", "paper", "runs", "s per run"]
    rows, summary = [], {}
    for method in shown:
        per_class = [np.mean([r["roc_auc"] for r in log.select(method=method, normal_class=c)] or [np.nan]) for c in classes]
        per_seed = [np.mean([r["roc_auc"] for r in log.select(method=method, seed=s)] or [np.nan]) for s in seeds]
        runs = log.select(method=method)
        summary[method] = {"mean_roc_auc": float(np.nanmean(per_class)) if runs else None,
                           "per_class": dict(zip(classes, per_class)), "per_seed_mean": per_seed}
        paper = PAPER.get(method)
        rows.append([NAMES[method], *per_class, mean_std(per_seed), f"{paper[paper_col]:.4f}" if paper and paper_col is not None else "—",
                     len(runs), f"{np.mean([r['seconds'] for r in runs]):.0f}" if runs else "—"])
    text = markdown_table(header, rows)
    write_csv(run_dir / "results.csv", [dict(zip(header, row)) for row in rows])
    seconds = sum(r["seconds"] for r in log.rows)
    write_markdown(run_dir / "results.md", f"# Table 1: {dataset} one-class ROC-AUC\n\nseeds {list(seeds)}\n\n"
                   + setting + provenance(seconds, store.commits or None, store.command) + "\n" + text)
    write_json(run_dir / "summary.json", {"summary": summary, "machine": machine_info(), "commit": git_commit()})
    return {"summary": summary, "table": text}


def main(args: "ReproduceOptions") -> int:
    with fresh_run_dir(args.out, f"table1-{(args.dataset or 'mnist').lower()}", args.resume) as run_dir:
        store = RunStore.open(run_dir, args)
        args = store.options
        dataset = (args.dataset or "mnist").lower()
        if dataset not in DATASETS:
            raise ConfigError(f"table1 supports datasets {', '.join(DATASETS)}, not {dataset!r}")
        if dataset != "digits" and not args.data_root:
            raise ConfigError(f"table1 on {dataset} needs --data-root pointing at its files")
        methods = tuple(args.methods.split(",")) if args.methods else DEFAULT_METHODS
        seeds = parse_int_list(args.seeds, "--seeds") or [0, 1, 2]
        classes = parse_int_list(args.classes, "--classes")
        epochs = args.epochs
        if args.quick:
            seeds, classes, epochs = seeds[:1], (classes or [0, 1])[:2], 1
        overrides = list(args.overrides or []) + ([f"train.device={args.device}"] if args.device else [])
        store.log_invocation()
        tic = time.perf_counter()
        result = run_table1(dataset, args.data_root, run_dir, methods=methods, seeds=seeds, classes=classes,
                            epochs=epochs, overrides=overrides, smoke=args.quick, store=store)
    print(result["table"])
    print(f"run folder: {run_dir}  ({time.perf_counter() - tic:.0f} s)")
    return 0
