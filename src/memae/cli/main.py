"""The ``memae`` command line: thin commands over library calls; errors become one line on stderr.

Set ``MEMAE_DEBUG=1`` to see full tracebacks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from .allocator import keep_freed_memory
from ..console import close_progress_bars
from ..errors import MemAEError
from ..version import __version__

EXIT_ERROR, EXIT_INTERRUPTED = 1, 130


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", help="YAML experiment config (model, data, train, score sections); a video "
                                               "preset (video_cpu, video_paper or its file) trains one video model")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.epochs=5 --set model.options.num_slots=200")
    parser.add_argument("--architecture", help="model.architecture (mnist, cifar10, video, kdd, digits, mlp)")
    parser.add_argument("--variant", help="model.variant (ae, ae-l1, memae-nonspar, memae-noshrink, memae-noentropy, memae)")
    parser.add_argument("--dataset", help="data.dataset (digits, mnist, fashion-mnist, idx, cifar10, folder, table, kdd)")
    parser.add_argument("--data-root", help="data.root: folder or file holding the data (never downloaded)")
    parser.add_argument("--normal-class", type=int, help="data.normal_class for the one-class protocol")
    parser.add_argument("--label-column", help="data.label_column for tables")
    parser.add_argument("--epochs", type=int, help="train.epochs")
    parser.add_argument("--batch-size", type=int, help="train.batch_size")
    parser.add_argument("--lr", type=float, help="train.lr")
    parser.add_argument("--seed", type=int, help="train.seed")
    parser.add_argument("--device", help="train.device: auto, cpu, cuda, cuda:N")
    parser.add_argument("--log", choices=["csv", "tensorboard"],
                        help="train.log: csv (history.csv, always written) or tensorboard (also TensorBoard event "
                             "files in RUN/tensorboard; needs pip install memae[tensorboard])")
    parser.add_argument("--out", help="output_dir: parent folder of run folders (default: runs)")
    parser.add_argument("--name", help="name: prefix of the run folder")


_FLAG_KEYS = {
    "architecture": "model.architecture", "variant": "model.variant", "dataset": "data.dataset",
    "data_root": "data.root", "normal_class": "data.normal_class", "label_column": "data.label_column",
    "epochs": "train.epochs", "batch_size": "train.batch_size", "lr": "train.lr", "seed": "train.seed",
    "device": "train.device", "log": "train.log", "out": "output_dir", "name": "name",
}


def _overrides(args: argparse.Namespace) -> list[str]:
    items = list(args.overrides)
    for attr, key in _FLAG_KEYS.items():
        value = getattr(args, attr, None)
        if value is not None:
            items.append(f"{key}={value}" if not isinstance(value, str) else f"{key}={_quote(value)}")
    return items


def _quote(value: str) -> str:
    import yaml

    return yaml.safe_dump(value, default_style='"').strip()


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


_FIXED_ON_RESUME = ("architecture", "variant", "dataset", "data_root", "normal_class", "label_column", "anomaly_label")


def cmd_train(args: argparse.Namespace) -> int:
    if args.data_root is not None and not Path(args.data_root).exists():
        # before torch loads: a mistyped path once took 7 s to report
        raise MemAEError(f"--data-root {args.data_root} does not exist; pass the folder or file that holds the data")
    from ..config import load_config, preset_path
    from ..experiments.runner import check_training_config, run_training
    from ..training.distributed import ensure_process_group, resolve_device

    if args.resume:
        run_dir = Path(args.resume)
        config_path = run_dir / "config.yaml"
        if not config_path.is_file():
            raise MemAEError(f"cannot resume: {config_path} does not exist; pass the run folder printed by 'memae train'")
        changed = [f"--{a.replace('_', '-')}" for a in _FIXED_ON_RESUME if getattr(args, a, None) is not None]
        changed += [o for o in args.overrides if o.split("=", 1)[0].startswith(("model.", "data."))]
        if changed or args.config:
            raise MemAEError(f"--resume continues the same model and data; drop {', '.join(changed) or '--config'} "
                             "or start a new run")
        config = load_config(config_path, _overrides(args))
    else:
        if args.config and not Path(args.config).is_file() and preset_path(args.config) is None:
            from ..errors import ConfigError

            example = Path(__file__).resolve().parents[1] / "experiments" / "configs" / "demo.yaml"
            raise ConfigError(f"config file {args.config} does not exist; pass a YAML file such as {example}")
        config = load_config(args.config, _overrides(args))  # a YAML file or a video preset's name
        if args.config is None and config.data.dataset == "table":
            from ..config import TABLE_RECIPE

            # the table recipe MemAEDetector uses (TrainConfig's defaults are the paper's, for its image networks);
            # the user's flags and --set come after it and win.  A named architecture other than mlp (kdd) keeps
            # its own layers.
            network = config.model.architecture == "mlp" or not (args.architecture or _sets_architecture(args))
            config = load_config(None, TABLE_RECIPE.overrides(network) + _overrides(args))
    from .checks import check_output_dir

    # names and option values, before any data is read or a run folder made
    check_training_config(config, choose_architecture=not args.resume and args.architecture is None
                          and not _sets_architecture(args),
                          image_table_flags=[f"--{a.replace('_', '-')}" for a in _IMAGE_TABLE_FLAGS
                                             if getattr(args, a, None) is not None])
    if not args.resume and args.anomaly_label is not None:
        _set_anomaly_label(config, args.anomaly_label)
    if not args.resume:
        check_output_dir(config.output_dir, "--out")
    ensure_process_group(resolve_device(config.train.device, int(os.environ.get("LOCAL_RANK", "0"))))
    if not args.resume:
        run_dir = _shared_run_dir(config.output_dir, config.name)
    args.run_dir = str(run_dir)  # the interrupt message names it
    try:
        outcome = run_training(config, run_dir, resume=bool(args.resume))
    except BaseException:
        if not args.resume and _is_main_process() and not (run_dir / "last.pt").exists():
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing usable yet: leave no half-made run folder
        raise
    if _is_main_process():
        if outcome.note:
            print(outcome.note)
        print_metrics(outcome.summary if outcome.summary is not None else outcome.metrics)
        print(f"run folder: {run_dir}")
    return 0


#: the flags only images and tables read (an error with a video config)
_IMAGE_TABLE_FLAGS = ("normal_class", "label_column", "anomaly_label")


def _sets_architecture(args: argparse.Namespace) -> bool:
    """Whether the user chose model.architecture (in the YAML config or with --set)."""
    from ..config import preset_path, read_yaml, upgrade_config_dict

    if any(o.split("=", 1)[0].strip() == "model.architecture" for o in args.overrides):
        return True
    if not args.config:
        return False
    values = upgrade_config_dict(read_yaml(args.config if Path(args.config).is_file() else preset_path(args.config)))
    return isinstance(values.get("model"), dict) and "architecture" in values["model"]


def _set_anomaly_label(config, value: str) -> None:
    """``--anomaly-label`` is stored as ``data.label_column: NAME=VALUE`` (see ``data.experiment.split_label_spec``)."""
    from ..data.experiment import split_label_spec
    from ..errors import ConfigError

    column, _ = split_label_spec(config.data.label_column)
    if not column:
        raise ConfigError("--anomaly-label needs --label-column NAME: the column whose value it names")
    config.data.label_column = f"{column}={value}"


def _shared_run_dir(output_dir: str, name: str) -> Path:
    """Rank 0 creates the run folder; under torchrun the other ranks learn its name from it."""
    from ..config import new_run_dir

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return new_run_dir(output_dir, name)
    import torch.distributed as dist

    holder = [str(new_run_dir(output_dir, name)) if _is_main_process() else None]
    dist.broadcast_object_list(holder, src=0)
    return Path(holder[0])


_THRESHOLD_METRICS = ("average_precision", "threshold", "precision", "recall", "f1", "eer")


def print_metrics(metrics: dict) -> None:
    """``k=v`` for the defined metrics; an undefined AUC (one class in the test split) is said in words, and the
    threshold metrics that would then be 0 or meaningless are not shown."""
    one_class = any(isinstance(metrics.get(k), float) and metrics[k] != metrics[k] for k in ("roc_auc",))
    shown = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
             and v == v and not (one_class and k in _THRESHOLD_METRICS)}
    if one_class:
        print("no ROC-AUC, precision or recall: the test split holds one class only (too few rows or labels)")
    if shown:
        print("  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..io import check_checkpoint_file

    check_checkpoint_file(args.checkpoint)  # a wrong path or a text file fails before torch loads
    from ..experiments.runner import evaluate_checkpoint
    from ..training.checkpoint import load_checkpoint
    from .checks import check_output_dir

    state = load_checkpoint(args.checkpoint)
    overrides = _overrides(args)
    allowed = ("data.root=", "score.", "output_dir=", "name=", "train.device=")
    refused = [o for o in overrides if not o.startswith(allowed)]
    if refused:  # anything else would change the split or the model and mix training samples into the test set
        raise MemAEError(f"evaluate re-creates the training run's split; only --data-root, --device, --out, --name and "
                         f"score.* can change, not {', '.join(o.split('=', 1)[0] for o in refused)}")
    # the evaluate folder goes beside the run it evaluates (wherever the command runs) unless --out names another
    check_output_dir(args.out if args.out is not None else Path(args.checkpoint).resolve().parent.parent, "--out")
    outcome = evaluate_checkpoint(args.checkpoint, state, overrides, pixel=not args.no_pixel)
    for item in outcome.report:
        if isinstance(item, dict):
            print_metrics(item)
        else:
            print(item)
    print(f"run folder: {outcome.run_dir}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from .checks import check_output_file, check_score_inputs

    check_output_file(args.out, "--out")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise MemAEError(f"--chunk-rows must be at least 1, not {args.chunk_rows}")
    checkpoint = check_score_inputs(args.checkpoint, args.input, args.label_column)  # before torch loads: fails fast
    from ..scoring.inputs import score_path

    summary = score_path(checkpoint, args.input, args.out, label_column=args.label_column, error=args.error,
                         chunk_rows=args.chunk_rows)
    flagged = f"; {summary.flagged} flagged as anomalies" if summary.flagged is not None else ""
    print(f"{summary.n} samples scored{flagged}; scores written to {summary.path}")
    if summary.check is not None:
        print(summary.check.summary() + ("  OUT OF DISTRIBUTION" if summary.check.out_of_distribution else ""))
    if summary.roc_auc is not None:
        print(f"roc_auc={summary.roc_auc:.4f} (labels from column {args.label_column!r})")
    elif summary.auc_note:
        print(f"no ROC-AUC: {summary.auc_note}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..config import fresh_run_dir
    from ..experiments.demo import run_demo

    from .checks import check_output_dir

    check_output_dir(args.out, "--out")
    if args.threads < 1:
        raise MemAEError(f"--threads must be >= 1, got {args.threads}")
    import torch

    torch.set_num_threads(args.threads)
    classes = [0, 1] if args.quick else None
    epochs = args.epochs if args.epochs is not None else (3 if args.quick else None)  # --epochs wins over --quick
    with fresh_run_dir(args.out, "demo") as run_dir:
        result = run_demo(run_dir, classes=classes, epochs=epochs, overrides=args.overrides, smoke=args.quick)
    if args.quick:  # three epochs on two digits: the numbers below say nothing about MemAE
        print("smoke run (--quick): these AUCs only show that the pipeline runs; they are not results "
              "(run 'memae demo' without --quick for those)")
    print("mean ROC-AUC: " + ", ".join(f"{k} {v:.4f}" for k, v in result["mean"].items()))
    print(f"run folder: {run_dir}  ({result['seconds']:.0f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memae", description="Memory-augmented autoencoders for anomaly detection.")
    parser.add_argument("--version", action="version", version=f"memae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train a model from a YAML config (+ flags) into a new run folder",
                       description="Train on normal data; evaluate on the labelled test split if there is one.")
    _add_config_args(p)
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from RUN_DIR/last.pt")
    p.add_argument("--anomaly-label", metavar="VALUE",
                   help="tables: the value of --label-column that marks an anomaly (every other value is normal); "
                        "needed unless the labels are 0/1, True/False, scikit-learn's 1/-1 or normal/anomaly")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score the configured test split with a checkpoint and report metrics",
                       description="Re-create the training run's split from the checkpoint's config and score its "
                                   "test part. Only where the data lives, the device, the output and score.* can "
                                   "change: anything else would mix training samples into the test set.")
    p.add_argument("checkpoint", help="best.pt or last.pt of a run folder")
    p.add_argument("--data-root", help="where the data is now, if it moved since training")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--out", help="parent folder of the new evaluate folder (default: beside the checkpoint's run "
                                 "folder)")
    p.add_argument("--name", help="prefix of the evaluate folder (default: the run's name)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="score.KEY=VALUE",
                   help="override a score key, e.g. --set score.error=mae")
    p.add_argument("--no-pixel", action="store_true",
                   help="video benchmarks with pixel masks (UCSD Ped2's ground_truth/ped2_pixel_masks.npz): skip the "
                        "pixel-level localisation figures (pixel_auc, ucsd_pixel_auc) that are otherwise scored too")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("score", help="write per-sample anomaly scores of new data to a CSV",
                       description="INPUT: a .npy array of samples, an image folder, or a CSV/Parquet table. "
                                   ".npy images may be (N, C, H, W), (N, H, W, C), or (N, H, W) for one-channel "
                                   "models (uint8 0-255 or float 0-1); one sample may drop the N axis. Tables: "
                                   "(N, features).")
    p.add_argument("checkpoint", help="best.pt of a run folder")
    p.add_argument("input", help=".npy file, folder of images, or .csv/.parquet table")
    p.add_argument("--out", required=True, help="CSV file to write (id, score = raw error, score_normalised = 0-1 "
                                                "within this input, predicted_anomaly)")
    p.add_argument("--label-column", help="for tables: a label column to drop before scoring (copied to the output)")
    p.add_argument("--error", choices=("mse", "mae"), help="reconstruction error (default: the one used in training)")
    p.add_argument("--chunk-rows", type=int, help="tables: rows read and scored at a time (default 50000); memory "
                   "is bounded by the chunk, not the file")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("demo", help="one-class demo on scikit-learn's 8x8 digits (no download, a few minutes)")
    p.add_argument("--out", default="runs", help="parent folder of the run folder (default: runs)")
    p.add_argument("--quick", action="store_true", help="two digits, 3 epochs (unless --epochs): a smoke run")
    p.add_argument("--epochs", type=int, help="epochs per model (default from the demo config)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: the demo's 8x8 networks are too small for a thread pool to pay, "
                        "and a loaded machine slows down further when threads oversubscribe its cores)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the demo config")
    p.set_defaults(func=cmd_demo)

    from .reproduce import add_reproduce_parser
    from .video import add_score_video_parser

    add_reproduce_parser(sub)
    add_score_video_parser(sub)
    from .benchmark import add_benchmark_parser

    add_benchmark_parser(sub)
    return parser


def _one_line_warnings(debug: bool) -> None:
    """memae's own warnings (damage, out-of-distribution input, ...) as one ``Warning: ...`` line each, every time."""
    from ..errors import MemAEWarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 - warnings' signature
        if debug or not issubclass(category, MemAEWarning):
            print(warnings.formatwarning(message, category, filename, lineno, line), end="", file=sys.stderr)
        else:
            print(f"Warning: {message}", file=sys.stderr)

    warnings.simplefilter("always", MemAEWarning)
    warnings.showwarning = show


def _log_to_stderr() -> None:
    """The one handler of the library's log records (``logging.getLogger("memae")``, INFO and up): each record's
    message alone, on stderr as it is when the line is written (tests swap it), through ``tqdm.write`` so that it
    appears above any progress bar.  Run-log lines carry their own timestamp (:class:`RunLogger`)."""
    import logging

    class StderrHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                from tqdm.auto import tqdm

                tqdm.write(self.format(record), file=sys.stderr)
            except Exception:  # noqa: BLE001 - logging's own rule: a failing handler must not break the run
                self.handleError(record)

    library = logging.getLogger("memae")
    if not any(getattr(h, "memae_cli", False) for h in library.handlers):
        handler = StderrHandler()
        handler.memae_cli = True  # type: ignore[attr-defined] - found again by a second main() in one process
        handler.setFormatter(logging.Formatter("%(message)s"))
        library.addHandler(handler)
    if library.level == logging.NOTSET or library.level > logging.INFO:
        library.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    debug = os.environ.get("MEMAE_DEBUG") == "1"
    keep_freed_memory()  # large CPU buffers stay mapped between training steps (a fifth of a video step otherwise)
    _log_to_stderr()
    try:
        with warnings.catch_warnings():
            _one_line_warnings(debug)
            return int(args.func(args) or 0)
    except MemAEError as exc:
        if debug:
            raise
        close_progress_bars()  # the error starts on its own line, not after a bar
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # disk full, a folder removed under us...: still one line, as the README promises
        if debug:
            raise
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        close_progress_bars()  # the error starts on its own line, not after a bar
        print(f"Error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        close_progress_bars()
        hints = {"train": f"'memae train --resume {getattr(args, 'run_dir', 'RUN_DIR')}'",
                 "reproduce": f"'memae reproduce {getattr(args, 'experiment', 'NAME')} --resume RUN_DIR'",
                 "benchmark": "the same 'memae benchmark' command (it skips the fits already in its CSV)"}
        if args.command in hints:
            print(f"Interrupted: finished work and the last completed epoch's checkpoint are intact; continue with "
                  f"{hints[args.command]}", file=sys.stderr)
        else:
            print("Interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
