"""``memae reproduce table3``: KDDCUP99 precision / recall / F1 of the anomaly class (paper Table 3).

Protocols (``data.protocol``; rows labelled ``normal.``, ~20 %, are the anomalies in both):

- ``paper`` (DAGMM's text, followed by MemAE): 50 % of all rows drawn at random form the training half, of which only
  the attack (normal-class) rows are used; the other half is the test set; the top 20 % of *test* scores are
  predicted anomalous.
- ``dagmm-code`` (``danieltan07/dagmm``, whose preprocessed file is in the shared data): half of the attack rows
  train; the other half plus every ``normal.`` row is the test set; the threshold is the 80th percentile of the
  training and test scores together.

Mean ± std over 20 seeds.  Both thresholds read the unlabelled score distribution, never the labels; so may the
label-free epoch choice (``train.select: separation`` with ``select_data: test``), and the table says so.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import fresh_run_dir, load_config, parse_int_list, save_config
from ..data.experiment import kdd_experiment_data
from ..errors import ConfigError
from ..io import write_json
from ..models import check_model_section
from ..reporting import markdown_table, mean_std, write_markdown
from ..scoring.metrics import roc_auc, threshold_metrics, top_fraction_threshold
from .demo import SMOKE_NOTE
from .progress import ResultRows, RunStore
from .runner import (fit_and_score, git_commit, load_baseline_params, machine_info, provenance, with_overrides,
                     write_csv)

if TYPE_CHECKING:
    from . import ReproduceOptions

CONFIG = Path(__file__).with_name("configs") / "table3.yaml"
MEMAE_METHODS = {"memae": "MemAE", "memae-nonspar": "MemAE-nonSpar", "ae": "AE"}
BASELINE_METHODS = {"dagmm": "DAGMM", "dsebm": "DSEBM", "ocsvm": "OC-SVM", "pca": "PCA (memae)"}
DEFAULT_METHODS = ("ocsvm", "pca", "dsebm", "dagmm", "ae", "memae-nonspar", "memae")
BASELINES_CONFIG = CONFIG.with_name("table3_baselines.yaml")  # baseline settings, fixed in advance
PAPER = {  # precision, recall, F1 (paper Table 3; MemAE-nonSpar F1 from secondary summaries)
    "memae": (0.9627, 0.9655, 0.9641), "ae": (0.9328, 0.9356, 0.9342), "dagmm": (0.9297, 0.9442, 0.9369),
    "memae-nonspar": (None, None, 0.9355), "ocsvm": (0.7457, 0.8523, 0.7954), "dsebm": (0.7369, 0.7477, 0.7423),
}
ANOMALY_SHARE = 0.2  # predict the top 20 % of test scores as anomalous


def run_table3(data_root: str, run_dir: Path, *, methods=DEFAULT_METHODS, seeds=range(20), epochs: int | None = None,
               overrides: list[str] | None = None, smoke: bool = False, store: RunStore | None = None) -> dict[str, Any]:
    """Every (method, seed) not yet in ``run_dir/runs.csv``, then the report.

    ``store``: the run's :class:`RunStore` (default: one that only logs and claims, for the Python API).  Each
    (method, seed) is one unit, claimed before it runs, so two processes sharing the run split the work.
    """
    from ..data.kdd import load_kddcup99

    base = load_config(CONFIG, overrides)
    check_model_section(base.model)  # a bad option name fails now, not after the data is read
    base.data.root = data_root
    if epochs is not None:
        base.train.epochs = epochs
    unknown = [m for m in methods if m not in MEMAE_METHODS and m not in BASELINE_METHODS]
    if unknown:
        raise ConfigError(f"unknown method(s) {', '.join(unknown)} for table3; choose from {', '.join(DEFAULT_METHODS)}")
    store = store or RunStore(run_dir, "table3")
    save_config(base, run_dir / "config.yaml")
    raw = load_kddcup99(data_root)
    rows = ResultRows(run_dir, ("method", "seed"))
    units = [(m, s) for s in seeds for m in methods]
    finished = sum(rows.done(method=m, seed=s) for m, s in units)
    if finished:
        store.log(f"{finished} of {len(units)} runs already done")
    for seed in seeds:
        data = None
        for method in methods:
            with store.take(f"{method}-seed{seed}", partial(rows.done, method=method, seed=seed), say_done=False) as mine:
                if not mine:
                    continue
                data = data or kdd_experiment_data(raw, seed, base.data.val_fraction, base.data.protocol)
                tic = time.perf_counter()
                scores, train_scores = _scores(method, base, data, seed, epochs)
                # paper: top 20 % of the test scores; dagmm-code: 80th percentile of train and test scores together
                pool = scores if base.data.protocol == "paper" else np.r_[train_scores, scores]
                threshold = top_fraction_threshold(pool, ANOMALY_SHARE)
                row = {"method": method, "seed": seed, **threshold_metrics(data.test_labels, scores, threshold),
                       "roc_auc": roc_auc(data.test_labels, scores), "seconds": time.perf_counter() - tic}
                rows.add(row)  # progress survives an interruption; --resume skips these
                store.log(f"seed {seed:2d} {method:14s} P {row['precision']:.4f} R {row['recall']:.4f} "
                          f"F1 {row['f1']:.4f} ({row['seconds']:.0f} s)")
    unfinished = len(units) - sum(rows.done(method=m, seed=s) for m, s in units)
    if unfinished:
        store.log(f"{unfinished} of {len(units)} runs are not finished (another process is running them); the "
                  f"table so far is written now and again when the last process ends")
    return _report(rows.rows, rows.methods(DEFAULT_METHODS), run_dir, base, data_root, smoke, store)


def _scores(method: str, base, data, seed: int, epochs: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Test and training scores of ``method`` trained on ``data.train`` (training scores only where the protocol's
    threshold reads them: scoring ~200k training rows again is not free)."""
    if method in MEMAE_METHODS:
        from ..scoring.reconstruction import reconstruction_errors

        config = with_overrides(base, model={"variant": method})
        config.train.seed = seed
        outcome = fit_and_score(config, data)
        train_scores = None if base.data.protocol == "paper" else reconstruction_errors(
            outcome.model, data.train, error=config.score.error, batch_size=config.score.batch_size)
        return outcome.test_scores, train_scores
    from ..baselines import make_baseline

    params = load_baseline_params(BASELINES_CONFIG, method)
    if "epochs" in params and epochs is not None:
        params["epochs"] = epochs
    if method == "dagmm" or method == "dsebm":
        params["architecture"] = "kdd"
    detector = make_baseline(method, random_state=seed, **params)
    detector.fit(data.train, X_val=data.val)
    return detector.decision_function(data.test), detector.decision_scores_  # decision_scores_: the scores of data.train


def _report(rows, methods, run_dir: Path, base, data_root: str, smoke: bool, store: RunStore) -> dict[str, Any]:
    names = {**MEMAE_METHODS, **BASELINE_METHODS}
    table, summary = [], {}
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        summary[method] = {k: float(np.mean([r[k] for r in mine])) for k in ("precision", "recall", "f1", "roc_auc")}
        paper = PAPER.get(method, (None, None, None))
        table.append([names[method], mean_std([r["precision"] for r in mine]), mean_std([r["recall"] for r in mine]),
                      mean_std([r["f1"] for r in mine]), mean_std([r["roc_auc"] for r in mine]),
                      " / ".join("—" if v is None else f"{v:.4f}" for v in paper), len(mine),
                      f"{np.mean([r['seconds'] for r in mine]):.0f}"])
    header = ["method", "precision", "recall", "F1", "ROC-AUC", "paper P / R / F1", "runs", "s per run"]
    text = markdown_table(header, table)
    write_csv(run_dir / "results.csv", [dict(zip(header, row)) for row in table])
    seconds = sum(r["seconds"] for r in rows)
    setting = (SMOKE_NOTE if smoke else "") + (f"protocol `{base.data.protocol}`; epoch choice `train.select={base.train.select}`"
               + (" on the unlabelled test inputs (transductive, as the protocol's threshold)"
                  if base.train.select == "separation" and base.train.select_data == "test" else "") + "\n\n")
    write_markdown(run_dir / "results.md", "# Table 3: KDDCUP99\n\n" + setting
                   + provenance(seconds, store.commits or None, store.command) + "\n" + text)
    write_json(run_dir / "summary.json", {"summary": summary, "machine": machine_info(), "commit": git_commit(),
                                          "data_root": data_root})
    return {"summary": summary, "table": text}


def main(args: "ReproduceOptions") -> int:
    with fresh_run_dir(args.out, "table3", args.resume) as run_dir:
        store = RunStore.open(run_dir, args)
        args = store.options
        if not args.data_root:
            raise ConfigError("table3 needs --data-root pointing at the KDD Cup 99 folder or file "
                              "(kddcup.data_10_percent.gz)")
        methods = tuple(args.methods.split(",")) if args.methods else DEFAULT_METHODS
        seeds = parse_int_list(args.seeds, "--seeds") or list(range(20))
        epochs = args.epochs
        if args.quick:
            seeds, epochs = seeds[:2], 1
        overrides = list(args.overrides or []) + ([f"train.device={args.device}"] if args.device else [])
        store.log_invocation()
        tic = time.perf_counter()
        result = run_table3(args.data_root, run_dir, methods=methods, seeds=seeds, epochs=epochs, overrides=overrides,
                            smoke=args.quick, store=store)
    print(result["table"])
    print(f"run folder: {run_dir}  ({time.perf_counter() - tic:.0f} s)")
    return 0
