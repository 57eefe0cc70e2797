"""``memae benchmark adbench``: MemAEDetector against PyOD's detectors on ADBench's tables, unsupervised protocol.

The protocol (ADBench, Han et al. NeurIPS 2022, ``adbench/datasets/data_generator.py``), per table and seed:
tables over 10,000 rows are sub-sampled to 10,000 at random; a stratified 70/30 train/test split; min-max scaling
fitted on the training part; every detector is fitted on the whole training part *without labels* (anomalies
included, at the table's rate) and scores the test part; ROC-AUC and AUC-PR (average precision) on it.

Every finished (table, seed, detector) appends one row to the CSV at once, so an interrupted run resumes where it
stopped; the Markdown report, the critical-difference diagrams and the run log are rewritten from the CSV.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shlex
import signal
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.splits import ADBENCH_MAX_ROWS, adbench_split
from ..errors import ConfigError, DataError, UnknownNameError
from ..io import atomic_path, write_json, write_text
from ..scoring.metrics import average_precision, canonical_metrics, roc_auc

__all__ = [
    "DETECTORS", "QUICK_TABLES", "BLOCKS", "Table", "find_tables", "split_table", "make_detector", "run_adbench",
    "write_report",
]

#: Detector names in report order; the factories are in :func:`make_detector`.
DETECTORS = ("MemAE", "AE (memae)", "IForest", "ECOD", "KNN", "OCSVM", "LOF", "AutoEncoder (PyOD)", "DeepSVDD")
#: ``--quick``: small tables (a few hundred rows), one per kind, plus the smallest MVTec category.
QUICK_TABLES = ("Hepatitis", "Lymphography", "WBC", "glass", "vertebral", "MVTec-AD_toothbrush")
#: folder under the data root -> block name in the report
BLOCKS = {"classical": "classical", "cv_resnet18": "MVTec-AD (ResNet-18 embeddings)"}
MAX_ROWS = ADBENCH_MAX_ROWS
SEEDS = (1, 2, 3)  # ADBench's seeds
COLUMNS = ("block", "table", "seed", "detector", "n_train", "n_test", "n_features", "anomaly_share", "roc_auc",
           "average_precision", "fit_seconds", "predict_seconds", "error")


@dataclass(frozen=True)
class Table:
    name: str  # the file name without the "NN_" prefix and ".npz", e.g. "cardio", "MVTec-AD_bottle"
    block: str
    path: Path


def find_tables(root: str | os.PathLike[str], names: Sequence[str] | None = None) -> list[Table]:
    """The ``.npz`` tables under ``root/classical`` and ``root/cv_resnet18``, smallest file first (so that a partial
    run has finished the most tables), optionally only ``names``."""
    root = Path(root)
    tables = []
    for folder, block in BLOCKS.items():
        for path in sorted((root / folder).glob("*.npz")):
            stem = path.stem
            name = stem.split("_", 1)[1] if stem.split("_", 1)[0].isdigit() else stem
            tables.append(Table(name, block, path))
    if not tables:
        raise DataError(f"no ADBench tables under {root}: expected {root}/classical/*.npz and/or "
                        f"{root}/cv_resnet18/*.npz; pass --data-root")
    if names is not None:
        known = {t.name.lower(): t for t in tables}
        missing = [n for n in names if n.lower() not in known]
        if missing:
            raise UnknownNameError(f"unknown ADBench table(s) {', '.join(missing)}; found: "
                                   f"{', '.join(t.name for t in tables)}")
        tables = [known[n.lower()] for n in names]
    return sorted(tables, key=lambda t: (t.path.stat().st_size, t.name))


def load_table(table: Table) -> tuple[np.ndarray, np.ndarray]:
    with np.load(table.path, allow_pickle=False) as data:
        X, y = np.asarray(data["X"], dtype=np.float64), np.asarray(data["y"]).astype(int).ravel()
    if X.ndim != 2 or len(X) != len(y):
        raise DataError(f"{table.path}: X must be 2-D with one label per row; got X {X.shape}, y {y.shape}")
    return X, y


def split_table(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ADBench's unsupervised split: sub-sample to 10,000 rows, stratified 70/30, min-max fitted on train.

    Returns ``X_train, X_test, y_train, y_test`` (y_train only for the record: detectors never see it).
    """
    from sklearn.preprocessing import MinMaxScaler

    train_rows, test_rows = adbench_split(y, seed, MAX_ROWS)
    scaler = MinMaxScaler().fit(X[train_rows])
    return scaler.transform(X[train_rows]), scaler.transform(X[test_rows]), y[train_rows], y[test_rows]


def _require_pyod() -> None:
    try:
        import pyod  # noqa: F401
    except ImportError:
        raise ConfigError("the ADBench benchmark compares with PyOD's detectors; run: pip install 'memae[pyod]'") from None


def make_detector(name: str, seed: int, n_features: int) -> Any:
    """A fresh detector with its library's defaults; ``seed`` only for the stochastic ones (as ADBench does).

    ``"AE (memae)"`` is MemAEDetector with the memory removed (``variant="ae"``): the same widths, code size,
    schedule and preprocessing, so the difference to ``"MemAE"`` is the memory's own contribution.
    """
    from ..detector import MemAEDetector

    if name == "MemAE":
        return MemAEDetector(random_state=seed, device="cpu")
    if name == "AE (memae)":
        return MemAEDetector(variant="ae", random_state=seed, device="cpu")
    _require_pyod()
    if name == "IForest":
        from pyod.models.iforest import IForest

        return IForest(random_state=seed)
    if name == "ECOD":
        from pyod.models.ecod import ECOD

        return ECOD()
    if name == "KNN":
        from pyod.models.knn import KNN

        return KNN()
    if name == "OCSVM":
        from pyod.models.ocsvm import OCSVM

        return OCSVM()
    if name == "LOF":
        from pyod.models.lof import LOF

        return LOF()
    if name == "AutoEncoder (PyOD)":
        from pyod.models.auto_encoder import AutoEncoder

        return AutoEncoder(random_state=seed, device="cpu", verbose=0)  # verbose only silences its epoch log
    if name == "DeepSVDD":
        from pyod.models.deep_svdd import DeepSVDD

        return DeepSVDD(n_features=n_features, random_state=seed, verbose=0)
    raise UnknownNameError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}")


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [canonical_metrics(row) for row in csv.DictReader(handle)]  # files before the vocabulary: auc_pr
    for row in rows:
        row["seed"] = int(row["seed"])
        for key in ("roc_auc", "average_precision", "fit_seconds", "predict_seconds", "anomaly_share"):
            row[key] = float(row[key]) if row.get(key) not in (None, "") else math.nan
    return rows


def _append_row(path: Path, row: dict[str, Any]) -> None:
    """One line per finished fit, flushed at once (an interrupted run keeps everything finished before)."""
    new = not path.is_file() or path.stat().st_size == 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)  # an old file (auc_pr) has the same columns in order
        if new:
            writer.writeheader()
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        handle.flush()
        os.fsync(handle.fileno())


def run_one(detector: str, X_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, seed: int) -> dict[str, Any]:
    """Fit ``detector`` on the unlabelled training rows, score the test rows; metrics and times (seconds)."""
    det = make_detector(detector, seed, X_train.shape[1])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # library chatter (convergence, deprecations) would drown the progress bar
        det.fit(X_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        scores = np.asarray(det.decision_function(X_test), dtype=np.float64)
    predict_seconds = time.perf_counter() - start
    if not np.isfinite(scores).all():
        raise DataError(f"{detector} gave non-finite scores")
    return {"roc_auc": roc_auc(y_test, scores), "average_precision": average_precision(y_test, scores),
            "fit_seconds": fit_seconds, "predict_seconds": predict_seconds}


def run_adbench(
    data_root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    tables: Sequence[str] | None = None,
    detectors: Sequence[str] = DETECTORS,
    seeds: Sequence[int] = SEEDS,
    name: str = "adbench",
    progress: bool = True,
    command: str | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark into ``out_dir/{name}.csv`` (resuming it), then write ``{name}.md`` and the diagrams.

    Parameters
    ----------
    data_root : folder holding ``classical/*.npz`` and ``cv_resnet18/*.npz``.
    out_dir : where the CSV, Markdown, PNGs and ``{name}_runs.json`` (one entry per invocation) go.
    tables, detectors, seeds : a subset (default: every table found, :data:`DETECTORS`, ADBench's seeds 1-3).
    progress : a tqdm bar over the (table, seed, detector) fits.
    command : the command line recorded in the report (default: this process's ``sys.argv``).

    Returns
    -------
    dict with ``csv``, ``markdown``, ``rows_done`` (this invocation), ``seconds`` (this invocation), ``complete``.
    """
    from tqdm.auto import tqdm

    from ..console import show_progress

    from .runner import git_commit, machine_info

    unknown = [d for d in detectors if d not in DETECTORS]
    if unknown:
        raise UnknownNameError(f"unknown detector(s) {', '.join(unknown)}; choose from {', '.join(DETECTORS)}")
    if any(d not in ("MemAE", "AE (memae)") for d in detectors):
        _require_pyod()
    out_dir = Path(out_dir)
    csv_path, log_path = out_dir / f"{name}.csv", out_dir / f"{name}_runs.json"
    found = find_tables(data_root, tables)
    done = {(r["table"], r["seed"], r["detector"]) for r in _read_rows(csv_path)}
    todo = [(t, s, d) for t in found for s in seeds for d in detectors if (t.name, s, d) not in done]
    log = json.loads(log_path.read_text(encoding="utf-8")) if log_path.is_file() else {"invocations": []}
    invocation = {"command": command or _command_line(), "commit": git_commit(), "machine": machine_info(),
                  "started": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": 0.0, "fits": 0,
                  "tables": [t.name for t in found], "detectors": list(detectors), "seeds": list(seeds)}
    log["invocations"].append(invocation)
    if todo:  # torch's one-off start-up (kernels, allocator) must not land in the first timed fit
        from ..detector import MemAEDetector

        MemAEDetector(epochs=1, device="cpu", random_state=0).fit(np.random.default_rng(0).random((64, 4)))
    start = time.perf_counter()
    previous_term = _term_as_interrupt()
    total = len(found) * len(seeds) * len(detectors)
    bar = tqdm(total=total, initial=total - len(todo), disable=not show_progress(progress), desc="adbench", unit="fit",
               dynamic_ncols=True)
    current: tuple[str, int] | None = None
    split = None
    try:
        for table, seed, detector in todo:
            if current != (table.name, seed):
                current = (table.name, seed)
                try:
                    X, y = load_table(table)
                    split, split_error = split_table(X, y, seed), ""
                except ValueError as exc:  # e.g. too few anomalies left after sub-sampling to stratify
                    split, split_error = None, _one_line(exc)
            bar.set_postfix_str(f"{table.name} seed {seed} {detector}")
            row = {"block": table.block, "table": table.name, "seed": seed, "detector": detector,
                   "n_train": 0, "n_test": 0, "n_features": 0, "anomaly_share": math.nan, "roc_auc": math.nan,
                   "average_precision": math.nan, "fit_seconds": math.nan, "predict_seconds": math.nan, "error": split_error}
            if split is not None:
                X_train, X_test, y_train, y_test = split
                row.update(n_train=len(X_train), n_test=len(X_test), n_features=X_train.shape[1],
                           anomaly_share=float(np.mean(np.r_[y_train, y_test])))
                try:
                    row.update(run_one(detector, X_train, X_test, y_test, seed))
                except (ValueError, RuntimeError, MemoryError, np.linalg.LinAlgError) as exc:
                    # one failing detector must not stop a many-hour run: the row records why, and counts as done
                    row["error"] = _one_line(exc)
            _append_row(csv_path, row)
            invocation["fits"] += 1
            if on_row is not None:
                on_row(row)
            bar.update(1)
    finally:
        bar.close()
        invocation["seconds"] = round(time.perf_counter() - start, 1)
        write_json(log_path, log)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
    all_rows = _read_rows(csv_path)
    report = write_report(csv_path, out_dir / f"{name}.md", log=log, seeds=seeds, detectors=detectors)
    return {"csv": csv_path, "markdown": report["markdown"], "rows_done": invocation["fits"],
            "seconds": invocation["seconds"], "complete": report["complete"], "rows": len(all_rows)}


def _term_as_interrupt() -> Any:
    """A background run (nohup) is usually stopped with SIGTERM and has SIGINT ignored: turn SIGTERM into
    KeyboardInterrupt so that the run log still records this invocation.  Returns the previous handler."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


def _command_line() -> str:
    return "memae " + " ".join(shlex.quote(a) for a in sys.argv[1:])


# -- the report ----------------------------------------------------------------------------------------------------


def _average_ranks(matrix: np.ndarray) -> np.ndarray:
    """Mean over tables (rows) of each detector's rank (columns), 1 = the highest score, ties averaged."""
    from scipy.stats import rankdata

    return np.mean(np.vstack([rankdata(-row) for row in matrix]), axis=0)


def _block_matrices(rows: list[dict[str, Any]], block: str, detectors: Sequence[str], seeds: Sequence[int],
                    metric: str) -> tuple[list[str], np.ndarray, list[str]]:
    """Tables x detectors means over seeds of ``metric``: only tables where every detector finished every seed
    (ranks need complete rows); also the names of tables left out as unfinished."""
    by_table: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        if r["block"] == block and r["detector"] in detectors and r["seed"] in seeds:
            by_table.setdefault(r["table"], {}).setdefault(r["detector"], []).append(r[metric])
    complete, partial = [], []
    for table, per in by_table.items():
        ok = all(len(per.get(d, [])) == len(seeds) for d in detectors)
        (complete if ok else partial).append(table)
    matrix = np.array([[np.nanmean(by_table[t][d]) if not np.all(np.isnan(by_table[t][d])) else np.nan
                        for d in detectors] for t in complete]).reshape(len(complete), len(detectors))
    return complete, matrix, partial


def _cd_diagram(matrix: np.ndarray, detectors: Sequence[str], path: Path, title: str) -> tuple[float, Path] | None:
    """Friedman test and a Nemenyi critical-difference diagram (scikit-posthocs); None if it cannot be drawn."""
    try:
        import pandas as pd
        import scikit_posthocs as sp
    except ImportError:
        return None
    from scipy.stats import friedmanchisquare

    from ..reporting import pyplot, save_figure

    usable = ~np.isnan(matrix).any(axis=1)
    matrix = matrix[usable]
    if len(matrix) < 2 or len(detectors) < 3:
        return None
    p_value = float(friedmanchisquare(*matrix.T).pvalue)
    frame = pd.DataFrame(matrix, columns=list(detectors))
    nemenyi = sp.posthoc_nemenyi_friedman(frame)  # blocks = tables (rows), groups = detectors (columns)
    ranks = pd.Series(_average_ranks(matrix), index=list(detectors))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(detectors) + 1.2))
    sp.critical_difference_diagram(ranks, nemenyi, ax=ax, label_fmt_left="{label} ({rank:.2f})",
                                   label_fmt_right="({rank:.2f}) {label}")
    ax.set_title(f"{title}: average rank of ROC-AUC over {len(matrix)} tables (Friedman p = {p_value:.2g}; "
                 "bars join detectors not different by Nemenyi at 0.05)", fontsize=8)
    save_figure(fig, path)
    return p_value, path


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def write_report(csv_path: str | os.PathLike[str], md_path: str | os.PathLike[str], *, log: dict[str, Any] | None = None,
                 seeds: Sequence[int] = SEEDS, detectors: Sequence[str] = DETECTORS) -> dict[str, Any]:
    """Markdown (and one critical-difference PNG per block) from the CSV; marked PARTIAL until every table found
    in the CSV has every detector and seed."""
    csv_path, md_path = Path(csv_path), Path(md_path)
    rows = _read_rows(csv_path)
    present = [d for d in detectors if any(r["detector"] == d for r in rows)]
    lines: list[str] = []
    invocations = (log or {}).get("invocations", [])
    seconds = sum(i.get("seconds", 0.0) for i in invocations)
    complete_all = True
    body: list[str] = []
    for block in dict.fromkeys(r["block"] for r in rows):
        tables, auc, partial = _block_matrices(rows, block, present, seeds, "roc_auc")
        _, ap, _ = _block_matrices(rows, block, present, seeds, "average_precision")
        complete_all &= not partial
        body.append(f"## {block}\n")
        body.append(f"{len(tables)} tables with every detector and seed {', '.join(map(str, seeds))} finished"
                    + (f"; unfinished, left out below: {', '.join(partial)}" if partial else "") + ".\n")
        if not tables:
            continue
        ranks_auc = _average_ranks(np.nan_to_num(auc, nan=-1.0))  # a failed detector ranks last on that table
        ranks_ap = _average_ranks(np.nan_to_num(ap, nan=-1.0))
        order = np.argsort(ranks_auc)
        header = "| detector | mean ROC-AUC | average rank (ROC-AUC) | mean AUC-PR | average rank (AUC-PR) | " \
                 "fit s (mean) | predict s (mean) |"
        body += [header, "|---|---|---|---|---|---|---|"]
        for j in order:
            d = present[j]
            fit = [r["fit_seconds"] for r in rows if r["block"] == block and r["detector"] == d]
            pred = [r["predict_seconds"] for r in rows if r["block"] == block and r["detector"] == d]
            body.append(f"| {d} | {_fmt(np.nanmean(auc[:, j]))} | {ranks_auc[j]:.2f} | {_fmt(np.nanmean(ap[:, j]))} | "
                        f"{ranks_ap[j]:.2f} | {_fmt(np.nanmean(fit), 2)} | {_fmt(np.nanmean(pred), 3)} |")
        body.append("")
        slug = "classical" if block == "classical" else "mvtec"
        png = md_path.with_name(f"{md_path.stem}_cd_{slug}.png")
        cd = _cd_diagram(auc, present, png, block)
        if cd is not None:
            body.append(f"Friedman test over the tables: p = {cd[0]:.3g}. Critical-difference diagram (Nemenyi, "
                        f"alpha 0.05, scikit-posthocs): ![CD {block}]({png.name})\n")
        for metric, matrix in (("ROC-AUC", auc), ("AUC-PR", ap)):
            body.append(f"### {block}: {metric} per table (mean over seeds; best in bold)\n")
            body.append("| table | " + " | ".join(present) + " |")
            body.append("|---|" + "---|" * len(present))
            for i, t in enumerate(tables):
                best = np.nanmax(matrix[i]) if not np.all(np.isnan(matrix[i])) else math.nan
                cells = [f"**{_fmt(v)}**" if v == best else _fmt(v) for v in matrix[i]]
                body.append(f"| {t} | " + " | ".join(cells) + " |")
            body.append("")
    errors = [r for r in rows if r.get("error")]
    if errors:
        body.append("## Failed fits\n")
        body += [f"- {r['table']} seed {r['seed']} {r['detector']}: {r['error']}" for r in errors] + [""]
    title = "# ADBench, unsupervised protocol" + ("" if complete_all else " (PARTIAL: the run has not finished)")
    lines += [title, ""]
    lines.append("ADBench's protocol (Han et al., NeurIPS 2022): tables over 10,000 rows sub-sampled to 10,000; a "
                 "stratified 70/30 split per seed; min-max scaling fitted on the training part; each detector fitted "
                 "on the unlabelled training part (anomalies included) with its library's defaults; ROC-AUC and "
                 "AUC-PR (average precision) on the test part. `AE (memae)` is MemAEDetector with "
                 "`variant=\"ae\"`: the same network and schedule without the memory. Times are per fit/score on "
                 "the rows above (7,000 / 3,000 at most), one CPU thread.\n")
    lines.append(f"- results: `{csv_path.name}` (one row per table x seed x detector); run log: "
                 f"`{csv_path.stem}_runs.json`")
    for i in invocations:
        m = i.get("machine", {})
        lines.append(f"- command: `{i['command']}` at commit `{i['commit']}`, started {i['started']}, "
                     f"{i['fits']} fits in {i['seconds'] / 60:.1f} min")
    if invocations:
        m = invocations[-1].get("machine", {})
        lines.append(f"- machine: {m.get('platform')}, {m.get('processor')}, {m.get('cpu_count')} CPUs, torch "
                     f"{m.get('torch')} ({m.get('threads')} threads)")
    lines.append(f"- wall time: {seconds / 60:.1f} min over {len(invocations)} invocation(s)\n")
    write_text(md_path, "\n".join(lines + body) + "\n")
    return {"markdown": md_path, "complete": complete_all}
