"""Video experiments of paper section 4.2: Table 2, Table 4 and Figure 7 (UCSD Ped2, CUHK Avenue, ShanghaiTech).

``memae reproduce table2|table4|fig7 --data-root DIR [--preset paper|cpu|FILE.yaml] ...`` runs here.  For each method
(a model variant, or MemAE with another memory size for Figure 7) it trains the paper's 3D-conv video network on
clips of the normal training videos, scores every test clip, turns clip scores into frame scores and reports the
frame-level metrics:

* data (:func:`memae.data.video_experiment.build_video_data`): frames decoded once and cached as ``.npy``
  (``data.cache_dir``, default ``~/.cache/memae/frames``); 16-frame grey clips in ``[-1, 1]``; the last
  ``val_fraction`` of every *training* video (at least one clip) is held out for best-epoch selection.  Test labels
  are read only for the metrics and the figures.
* scores: per clip the mean absolute (``mae``, the authors' code) or squared (``mse``, the paper's eq. 11) residual;
  ``center`` mode gives it to the clip's 9th frame as the authors do (15 frames per video get no score),
  ``mean`` to every frame of the clip; per-video min-max normalisation (regularity); one ROC-AUC over all scored
  frames (the paper's figure), plus the mean per-video AUC, EER and AP.
* files in the run folder: ``results.md`` / ``results.csv``, ``config.yaml``, ``log.txt``, one sub-folder per
  method (``best.pt``, ``last.pt``, ``metrics.json``, ``scores.npz``) and the figures ``fig5_regularity.png``,
  ``fig6_reconstructions.png`` (AE vs MemAE) and ``fig7_memory_size.png``.
* ``--resume RUN_DIR`` skips finished methods and continues the unfinished one from its ``last.pt``; ``run.json``,
  the log and the per-unit locks are the shared run store's (:mod:`memae.experiments.progress`), so a second
  ``--resume RUN_DIR`` in another shell trains the next unfinished unit.

Presets are ordinary experiment configs (:class:`memae.config.ExperimentConfig`, architecture ``video``) next to
this module (``configs/video_paper.yaml``, ``configs/video_cpu.yaml``); the ``--set section.key=value`` flags
override any key, e.g. ``--set model.options.width=0.5`` or ``--set reproduce.fig7_num_slots=[500,2000]``.  Run
folders of older versions (another config layout) resume and are reused as they are
(:func:`memae.config.upgrade_config_dict`).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import types
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..config import VIDEO_PRESETS, ExperimentConfig, load_config, new_run_dir, save_config
from ..data.video_experiment import VideoData, build_video_data
from ..errors import ConfigError, UnknownNameError
from ..io import write_csv, write_text
from ..memory import DEFAULT_TEMPERATURE
from ..models import VARIANTS
from ..reporting import markdown_table, mean_std, plot_reconstructions, pyplot, save_figure
from ..scoring.metrics import canonical_metrics
from ..scoring.video import regularity
from ..training import load_checkpoint, resolve_device
from .progress import RunStore, command_line
from .provenance import git_commit, machine_info
from .video_unit import LABELS, Unit, build_video_model, check_video_config, run_unit, video_model_options

if TYPE_CHECKING:
    from . import ReproduceOptions

logger = logging.getLogger(__name__)

__all__ = ["PRESETS", "METHODS", "PAPER_AUC", "QUICK", "main", "reuse_units", "comparable_settings"]

PRESETS = VIDEO_PRESETS  # reproduce --preset NAME: paper, cpu (the files configs/video_NAME.yaml)
METHODS = {
    "table2": ("ae", "memae-nonspar", "memae"),
    "table4": ("ae", "ae-l1", "memae-noshrink", "memae-noentropy", "memae"),
    "fig7": ("memae",),
}
# Frame-level ROC-AUC in the paper (Table 2: Ped2 / Avenue / ShanghaiTech; Table 4: Ped2 ablation).
PAPER_AUC: dict[str, dict[str, dict[str, float]]] = {
    "table2": {
        "ped2": {"ae": 0.917, "memae-nonspar": 0.929, "memae": 0.941},
        "avenue": {"ae": 0.810, "memae-nonspar": 0.821, "memae": 0.833},
        "shanghaitech": {"ae": 0.697, "memae-nonspar": 0.688, "memae": 0.712},
    },
    "table4": {
        "ped2": {"ae": 0.9170, "ae-l1": 0.9286, "memae-noshrink": 0.9324, "memae-noentropy": 0.9372, "memae": 0.9410},
    },
}
PAPER_OTHERS = {  # rows of the paper's Table 2 that memae does not run (Ped2 / Avenue / ShanghaiTech)
    "Frame-Pred": (0.954, 0.849, 0.728), "TSC": (0.910, 0.806, 0.679), "StackRNN": (0.922, 0.817, 0.680),
}
# --quick: a smoke run that finishes in about a minute on 2 CPU cores (not a result).
QUICK: dict[str, Any] = {
    "data.frame_size": [32, 32], "data.max_train_videos": 2, "data.max_test_videos": 2,
    "data.max_train_clips": 64, "model.options.width": 0.25, "train.epochs": 1, "train.batch_size": 4,
    "score.batch_size": 8, "reproduce.fig7_num_slots": [100, 1000],
}


# ----------------------------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------------------------


# do not change results (reproduce trains its table's methods, whatever model.variant says; the reproduce section
# names the preset and Figure 7's memory sizes, which are part of each unit's key)
NOT_RESULT_KEYS = {"train.progress", "train.num_workers", "data.cache_dir", "data.root", "score.batch_size", "model.variant"}
NOT_RESULT_SECTIONS = ("reproduce",)


def reuse_units(source: Path, store: RunStore, config: ExperimentConfig, units: list[Unit]) -> None:
    """Copy the finished units of run ``source`` that this run also needs, if both runs share every setting."""
    if not (source / "config.yaml").is_file():
        raise ConfigError(f"cannot reuse {source}: it has no config.yaml; pass a run folder of 'memae reproduce'")
    theirs = comparable_settings(check_video_config(load_config(source / "config.yaml")))  # an older layout is translated
    ours = comparable_settings(config)
    differ = sorted(key for key, value in ours.items() if theirs.get(key) != value and key not in NOT_RESULT_KEYS)
    if differ:
        raise ConfigError(f"cannot reuse {source}: its config differs in {', '.join(differ)}; results trained with "
                          f"other settings would not be comparable")
    run_dir, log = store.run_dir, store.log
    for unit in units:
        done, target = source / unit.key / "metrics.json", store.unit_dir(unit.key)
        if not done.is_file() or store.done(unit.key):
            continue
        with store.claim(unit.key) as mine:
            if not mine:  # another process is training it here
                continue
            partial = run_dir / f".{unit.key}.reuse"
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(source / unit.key, partial)
            shutil.rmtree(target, ignore_errors=True)  # an unfinished attempt of our own
            partial.rename(target)
            log(f"{unit.key}: reused from {source} (same config)")


def comparable_settings(config: ExperimentConfig) -> dict[str, Any]:
    """The settings of the config's sections as ``{"section.key": value}`` (model options as
    ``model.options.key``), with options left to the model's defaults written out (so that ``temperature: null``
    and the default's value, or an omitted and a stated ``entropy_weight: 0.0002``, compare equal)."""
    values = config.to_dict()
    options = values["model"]["options"]
    options.update(video_model_options(config))
    if options.get("temperature") is None:
        options["temperature"] = DEFAULT_TEMPERATURE.get(options.get("similarity"))
    flat: dict[str, Any] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            elif prefix:  # top-level keys (name, output_dir) name the run, they do not change results
                flat[f"{prefix}{key}"] = value

    walk("", {k: v for k, v in values.items() if k not in NOT_RESULT_SECTIONS})
    return flat


def _split_list(text: str | None, cast=str) -> list[Any] | None:
    if not text:
        return None
    try:
        return [cast(t.strip()) for t in str(text).split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"cannot read {text!r} as a comma-separated list of {cast.__name__}s") from None


def _resolve(args: ReproduceOptions) -> tuple[ExperimentConfig, list[str]]:
    """Config from preset -> --quick -> flags -> --set (later wins); returns it and the override list used."""
    preset = getattr(args, "preset", None) or ("paper" if torch.cuda.is_available() else "cpu")
    items: list[str] = []
    if getattr(args, "quick", False):
        items += [f"{k}={json.dumps(v)}" for k, v in QUICK.items()]
    for attr, key in (("dataset", "data.dataset"), ("data_root", "data.root"), ("epochs", "train.epochs"),
                      ("device", "train.device")):
        value = getattr(args, attr, None)
        if value is not None:
            items.append(f"{key}={json.dumps(value)}")
    items += list(getattr(args, "overrides", None) or [])
    if str(preset) not in PRESETS and Path(preset).suffix.lower() not in (".yaml", ".yml"):
        raise UnknownNameError(f"unknown video preset {preset!r}; choose paper, cpu or a .yaml file")
    config = check_video_config(load_config(PRESETS.get(str(preset), preset), items))
    config.reproduce.preset = str(preset)
    return config, items


def _units(experiment: str, methods: list[str], seeds: list[int], slots: list[int]) -> list[Unit]:
    for m in methods:
        if m not in VARIANTS:
            raise UnknownNameError(f"unknown method {m!r} for {experiment}; choose from {', '.join(VARIANTS)}")
    if experiment == "fig7":
        for m in methods:
            if not VARIANTS[m][0]:
                raise ConfigError(f"fig7 varies the memory size; {m!r} has no memory, use memae variants only")
        return [Unit(m, s, n) for m in methods for n in slots for s in seeds]
    # seed-major: two processes sharing a run finish whole seeds first, so a partial table already compares methods
    return [Unit(m, s) for s in seeds for m in methods]


# flags a resumed video run does not read: its config.yaml and run.json hold the settings and the units
RESUME_IGNORED = ("dataset", "data_root", "preset", "methods", "seeds", "classes", "epochs", "device", "quick")


def main(args: ReproduceOptions) -> int:
    """``memae reproduce table2|table4|fig7``: see the module docstring."""
    experiment = args.experiment
    if experiment not in METHODS:
        raise UnknownNameError(f"unknown video experiment {experiment!r}; choose table2, table4 or fig7")
    tic = time.perf_counter()
    if getattr(args, "resume", None):
        run_dir = Path(args.resume)
        # the run's config.yaml holds everything else: these flags are not read again (nor logged)
        store = RunStore.resume(run_dir, args, ignored=RESUME_IGNORED)
        if not isinstance(store.extra.get("units"), list):
            raise ConfigError(f"cannot resume: {run_dir / 'run.json'} lists no units of a {experiment} run; pass the "
                              f"run folder of 'memae reproduce {experiment}'")
        config = check_video_config(load_config(run_dir / "config.yaml", list(getattr(args, "overrides", None) or [])))
        units = [Unit(**u) for u in store.extra["units"]]
        command = store.command or command_line(args)
        log = store.log
        store.log_invocation()
    else:
        config, _ = _resolve(args)
        methods = _split_list(getattr(args, "methods", None)) or list(METHODS[experiment])
        seeds = _split_list(getattr(args, "seeds", None), int) or [config.train.seed]
        units = _units(experiment, methods, seeds, list(config.reproduce.fig7_num_slots))
        if not config.data.root:
            raise ConfigError(f"no data root for {config.data.dataset}: pass --data-root DIR (the folder holding the "
                              f"{config.data.dataset} videos)")
        config.name = f"{experiment}-{config.data.dataset}-{config.reproduce.preset}" + ("-quick" if getattr(args, "quick", False) else "")
        run_dir = new_run_dir(getattr(args, "out", None) or "runs", config.name)
        save_config(config, run_dir / "config.yaml")
        store = RunStore.create(run_dir, args, units=[asdict(u) for u in units])
        command = store.command
        log = store.log
        store.log_invocation()
        log(f"preset {config.reproduce.preset}", hold=True)
    if config.reproduce.preset == "paper" and resolve_device(config.train.device).type == "cpu":
        log("warning: the paper preset on a CPU takes days (about 5 s per training clip at 256x256); "
            "consider --preset cpu")

    try:
        for source in getattr(args, "reuse", None) or []:
            reuse_units(Path(source), store, config, units)
        data = build_video_data(config.data, progress=config.train.progress, log=log)
    except BaseException:
        if not getattr(args, "resume", None):
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing trained yet: leave no half-made run folder
        raise
    for unit in units:
        # a unit another process is training (a second 'memae reproduce --resume RUN') is left to it; take()
        # checks metrics.json again once the lock is held, since another process may have finished it meanwhile
        with store.take(unit.key) as mine:
            if not mine:
                continue
            try:
                run_unit(config, data, unit, store.unit_dir(unit.key), log)
            except KeyboardInterrupt:
                log(f"interrupted during {unit.key}; finished methods and the last completed epoch are kept: "
                    f"continue with 'memae reproduce {experiment} --resume {run_dir}'")
                raise

    # the table holds every finished unit, also those another process trained
    finished = [u for u in units if store.done(u.key)]
    canonical = list(METHODS[experiment]) + [m for m in VARIANTS if m not in METHODS[experiment]]
    finished.sort(key=lambda u: (canonical.index(u.method), u.num_slots or 0, u.seed))  # the paper's row order
    records = [canonical_metrics(json.loads((run_dir / u.key / "metrics.json").read_text(encoding="utf-8")))
               for u in finished]  # a unit finished before the metric names changed reads as well
    if len(finished) < len(units):
        log(f"{len(units) - len(finished)} of {len(units)} units are not finished (another process is training them); "
            f"the table so far has {len(finished)}; it is rewritten when the last process ends")
    units = finished
    seconds = time.perf_counter() - tic
    if not records:
        return 0
    _write_results(run_dir, experiment, config, data, records, command, seconds, store.commits)
    _figures(run_dir, experiment, config, data, units, records, log)
    log(f"done in {seconds / 60:.1f} min; results in {run_dir / 'results.md'}")
    print(markdown_table(*_table(experiment, config, records)))
    print(f"run folder: {run_dir}")
    return 0


# ----------------------------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------------------------


def _paper(experiment: str, dataset: str, method: str) -> float | None:
    table = "table2" if experiment == "fig7" else experiment
    value = PAPER_AUC.get(table, {}).get(dataset, {}).get(method)
    if value is None and experiment == "table4":
        value = PAPER_AUC["table2"].get(dataset, {}).get(method)
    return value


def _table(experiment: str, config: ExperimentConfig, records: list[dict[str, Any]]):
    """Rows grouped by (method, N) with mean ± std over seeds."""
    groups: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["method"], r["num_slots"] if experiment == "fig7" else None), []).append(r)
    header = ["method"] + (["N"] if experiment == "fig7" else []) + [
        "paper AUC", "frame AUC", "mean per-video AUC", "EER", "seeds", "epochs", "train min", "test min"]
    rows = []
    for (method, slots), rs in groups.items():
        paper = _paper(experiment, config.data.dataset, method) if experiment != "fig7" else None
        rows.append([LABELS.get(method, method)] + ([slots] if experiment == "fig7" else []) + [
            f"{paper:.4f}" if paper is not None else "—",
            mean_std([r["roc_auc"] for r in rs]), mean_std([r["mean_video_roc_auc"] for r in rs]),
            mean_std([r["eer"] for r in rs]), len(rs), rs[0]["epochs"],
            f"{np.mean([r['train_seconds'] for r in rs]) / 60:.1f}", f"{np.mean([r['test_seconds'] for r in rs]) / 60:.1f}",
        ])
    return header, rows


def _write_results(run_dir: Path, experiment: str, config: ExperimentConfig, data: VideoData,
                   records: list[dict[str, Any]], command: str, seconds: float, commits: list[str]) -> None:
    """results.csv and results.md (``commits``: the commit of every invocation of the run, in order)."""
    rows = [{
        "method": r["method"], "label": r["label"], "seed": r["seed"], "num_slots": r["num_slots"],
        "roc_auc": r["roc_auc"], "mean_video_roc_auc": r["mean_video_roc_auc"], "eer": r["eer"],
        "average_precision": r["average_precision"],
        "paper_auc": _paper(experiment, config.data.dataset, r["method"]) if experiment != "fig7" else None,
        "epochs": r["epochs"], "best_epoch": r["best_epoch"], "final_train_loss": r["final_train_loss"],
        "best_val_loss": r["best_val_loss"], "train_seconds": round(r["train_seconds"], 1),
        "test_seconds": round(r["test_seconds"], 1), "n_frames": r["n_frames"], "n_anomalous": r["n_anomalous"],
    } for r in records]
    write_csv(run_dir / "results.csv", rows)
    machine = machine_info()
    c, d, t = config, config.data, config.train
    m = types.SimpleNamespace(**video_model_options(config))
    titles = {"table2": "Table 2: frame-level ROC-AUC", "table4": "Table 4: ablation, frame-level ROC-AUC",
              "fig7": "Figure 7: frame-level ROC-AUC against the memory size N"}
    lines = [
        f"# {titles[experiment]} on {data.benchmark.name} ({c.reproduce.preset} preset)", "",
        markdown_table(*_table(experiment, config, records)),
        "frame AUC: one ROC-AUC over all scored test frames after per-video min-max normalisation (the paper's "
        "figure); mean per-video AUC over videos with both classes; EER from the pooled ROC.",
    ]
    if experiment == "table2":
        others = "; ".join(f"{k} {v[('ped2', 'avenue', 'shanghaitech').index(d.dataset)]:.3f}"
                           for k, v in PAPER_OTHERS.items() if d.dataset in ("ped2", "avenue", "shanghaitech"))
        if others:
            lines.append(f"Other rows of the paper's Table 2 (not run here): {others}.")
    if experiment == "fig7":
        lines.append("The paper (Figure 7) reports that N = 500 is too small and 1000-3000 perform about equally; "
                     "it gives no numbers in the text.")
    per_video = [[r["label"] + (f" seed {r['seed']}" if len({x['seed'] for x in records}) > 1 else "")]
                 # a video anomalous (or normal) throughout has no AUC of its own: its metrics.json holds null
                 + [float(a) if a is not None else float("nan") for a in r["video_roc_aucs"]] for r in records]
    lines += [
        "", "## Per-video AUC", "",
        markdown_table(["method"] + data.test_names, per_video),
        "## Setting", "",
        f"- data: {data.benchmark.name} from `{d.root}`, labels `{data.benchmark.label_source}`; "
        f"{data.info['train_videos_used']} training videos -> {data.info['train_clips']} clips "
        f"(stride {d.train_stride}{f', sub-sampled to {d.max_train_clips}' if d.max_train_clips else ''}), "
        f"{data.info['val_clips']} validation clips (last {d.val_fraction:.0%} of each training video); "
        f"{data.info['test_videos_used']} test videos, {data.info['test_frames_used']} frames "
        f"({data.info['test_anomalous_used']} anomalous)",
        f"- frames: grey, {d.frame_size[0]}x{d.frame_size[1]} ({d.resample}), [-1, 1]; clips of {d.clip_len}",
        f"- model: paper 3D-conv network, width x{m.width:g}; memory N={m.num_slots}, lambda={m.shrink_threshold}, "
        f"{m.similarity} similarity, alpha={m.entropy_weight:g}",
        f"- training: Adam lr {t.lr:g}, batch {t.batch_size}, {t.epochs} epochs, seed(s) "
        f"{sorted({r['seed'] for r in records})}, device {t.device}; best epoch by validation MSE"
        + (f"; lambda ramped up from 0 over {t.shrink_warmup_epochs} epochs" if t.shrink_warmup_epochs else ""),
        f"- scoring: per-clip residual, `{c.score.error}` for models with a memory, `{c.score.ae_error}` for AE / AE-l1 "
        f"(both errors are in the per-unit metrics: auc_mae, auc_mse), {c.score.mode} mode, test stride {d.test_stride}",
        "", "## Reproduce", "", f"```\n{command}\n```", "",
        f"{_commit_text(commits)}; machine {machine['platform']}, {machine['processor']}, {machine['cpu_count']} CPUs, "
        f"torch {machine['torch']}, {machine['threads']} threads, GPU {machine['cuda'] or 'none'}; "
        f"wall time {seconds / 60:.1f} min for this invocation "
        f"(training {sum(r['train_seconds'] for r in records) / 60:.1f} min, "
        f"testing {sum(r['test_seconds'] for r in records) / 60:.1f} min over all methods).",
    ]
    write_text(run_dir / "results.md", "\n".join(lines) + "\n")


def _commit_text(commits: list[str]) -> str:
    """``commit `abc```, or every distinct commit of a run resumed under other versions, in order."""
    distinct = list(dict.fromkeys(commits)) or [git_commit()]
    if len(distinct) == 1:
        return f"commit `{distinct[0]}`"
    return "commits " + ", then ".join(f"`{c}`" for c in distinct) + " (one per invocation of the run)"


def _figure_video(labels: list[np.ndarray]) -> int | None:
    """The first test video with both normal and anomalous frames (chosen by position, not by any result)."""
    for i, y in enumerate(labels):
        if 0 < y.sum() < y.size:
            return i
    return None


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous ``[start, end)`` runs of True."""
    padded = np.r_[False, mask, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))


def _figures(run_dir: Path, experiment: str, config: ExperimentConfig, data: VideoData,
             units: list[Unit], records: list[dict[str, Any]], log) -> None:
    try:
        v = _figure_video(data.test_labels)
        if v is not None:
            _fig5(run_dir, data, units, v)
            if experiment != "fig7":
                _fig6(run_dir, config, data, units, v)
        if experiment == "fig7":
            _fig7(run_dir, records)
    except (OSError, ValueError, RuntimeError) as exc:  # a figure must never cost the results
        log(f"warning: a figure could not be drawn ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")


def _fig5(run_dir: Path, data: VideoData, units: list[Unit], v: int) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    labels = data.test_labels[v]
    for start, end in _runs(labels):
        ax.axvspan(start - 0.5, end - 0.5, color="tab:red", alpha=0.15, lw=0)
    for unit in units:
        path = run_dir / unit.key / "scores.npz"
        if path.is_file():
            with np.load(path) as scores:
                ax.plot(regularity(scores[f"video_{v:03d}"]), lw=1.2, label=unit.label)
    ax.set(xlabel="frame", ylabel="regularity score", ylim=(-0.02, 1.02), xlim=(0, len(labels) - 1),
           title=f"Figure 5: regularity of test video {data.test_names[v]} (shaded: abnormal frames)")
    ax.legend(fontsize=7, loc="lower left")
    save_figure(fig, run_dir / "fig5_regularity.png")


@torch.no_grad()
def _fig6(run_dir: Path, config: ExperimentConfig, data: VideoData, units: list[Unit], v: int) -> None:
    from ..data.video import clip_to_tensor

    wanted = [u for u in units if u.method in ("ae", "memae")]
    chosen = {u.method: u for u in wanted if (run_dir / u.key / "best.pt").is_file()}
    if len(chosen) < 2:
        return
    L, video, labels = config.data.clip_len, data.test_videos[v], data.test_labels[v]
    centre = L // 2
    candidates = [t for t in np.flatnonzero(labels) if t - centre >= 0 and t - centre + L <= len(video)]
    if not candidates:
        return
    frames = [int(candidates[int(k)]) for k in np.linspace(0, len(candidates) - 1, min(3, len(candidates)))]
    clips = torch.stack([clip_to_tensor(video[t - centre : t - centre + L]) for t in frames])  # (K, 1, L, h, w)
    to_unit = lambda x: ((x[:, :, centre] + 1.0) / 2.0).clamp(0, 1).numpy()  # noqa: E731 (K, 1, h, w) in [0, 1]
    recons = {}
    for method in ("ae", "memae"):
        model = build_video_model(config, method, chosen[method].num_slots)
        model.load_state_dict(load_checkpoint(run_dir / chosen[method].key / "best.pt")["model"])
        recons[LABELS[method]] = to_unit(model.eval()(clips)[0])
    plot_reconstructions(to_unit(clips), recons, run_dir / "fig6_reconstructions.png",
                         row_titles=[f"frame {t}" for t in frames],
                         title=f"Figure 6: abnormal frames of {data.test_names[v]}: input, reconstruction, error")


def _fig7(run_dir: Path, records: list[dict[str, Any]]) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    by_method: dict[str, dict[int, list[float]]] = {}
    for r in records:
        by_method.setdefault(r["label"].split(" (N=")[0], {}).setdefault(int(r["num_slots"]), []).append(r["roc_auc"])
    for label, points in by_method.items():
        ns = sorted(points)
        ax.errorbar(ns, [np.mean(points[n]) for n in ns], yerr=[np.std(points[n]) for n in ns], marker="o",
                    capsize=3, label=label)
    ax.set(xlabel="memory size N", ylabel="frame-level AUC", title="Figure 7: AUC against memory size")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, run_dir / "fig7_memory_size.png")
