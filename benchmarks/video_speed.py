"""Speed of the paper's video network: inference frames/s, training clips/s and the memory module's share.

For each preset (``paper``: 256x256, width 1; ``cpu``: the CPU preset's frame size and width) and each precision
(``fp32``; ``bf16`` = ``torch.autocast`` with bfloat16), it times on random clips:

* inference: ``model(x)`` in eval mode on ``--infer-batch`` clips; with test stride 1 every clip scores one frame,
  so frames/s = clips/s (the paper reports 0.0262 s per frame for MemAE and 0.0266 s for AE on a 1080 Ti);
* training: one Adam step on ``model.loss(x)`` with ``--train-batch`` clips (the preset's batch by default);
* memory share: MemAE and AE forwards of the same network in this process, ``1 - t_AE / t_MemAE``, and the memory
  module timed alone on the encoder's output (paper: about 4e-4 s per frame of 0.0262 s).

Every number is the median of ``--repeats`` timed runs after ``--warmup`` untimed ones.  bf16 runs only on CUDA
unless ``--dtypes`` names it: on CPUs without native bf16 matmul it is hundreds of times slower.

Examples::

    python benchmarks/video_speed.py                                # both presets, few repeats (minutes on a CPU)
    python benchmarks/video_speed.py --presets cpu --repeats 5
    python benchmarks/video_speed.py --presets paper --dtypes fp32,bf16 --device cuda --json speed.json
    python benchmarks/video_speed.py --frame-size 64 64 --width 0.5 --presets cpu   # try another setting
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without installing

from memae.config import load_config  # noqa: E402
from memae.experiments.video_unit import build_video_model, check_video_config, video_model_options  # noqa: E402
from memae.experiments.runner import machine_info  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def _autocast(device: torch.device, dtype: str):
    if dtype == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return nullcontext()


def bench_preset(preset: str, args: argparse.Namespace, device: torch.device) -> list[dict]:
    overrides = []
    if args.frame_size:
        overrides.append(f"data.frame_size={list(args.frame_size)}")
    if args.width:
        overrides.append(f"model.options.width={args.width}")
    if args.num_slots:
        overrides.append(f"model.options.num_slots={args.num_slots}")
    config = check_video_config(load_config(preset, overrides))
    options = video_model_options(config)
    h, w = config.data.frame_size
    L = config.data.clip_len
    train_batch = args.train_batch or config.train.batch_size
    rows = []
    torch.manual_seed(0)
    memae = build_video_model(config, "memae").to(device)
    ae = build_video_model(config, "ae").to(device)
    ae.load_state_dict({k: v for k, v in memae.state_dict().items() if not k.startswith("memory.")})
    x_infer = torch.rand(args.infer_batch, 1, L, h, w, device=device) * 2 - 1
    x_train = torch.rand(train_batch, 1, L, h, w, device=device) * 2 - 1
    for dtype in args.dtypes:
        row = {"preset": preset, "frame_size": f"{h}x{w}", "width": options["width"], "N": options["num_slots"],
               "dtype": dtype, "infer_batch": args.infer_batch, "train_batch": train_batch}
        with torch.no_grad(), _autocast(device, dtype):
            memae.eval()
            ae.eval()
            t_mem = median_seconds(lambda: memae(x_infer), device, args.repeats, args.warmup)
            t_ae = median_seconds(lambda: ae(x_infer), device, args.repeats, args.warmup)
            z = memae.encode(x_infer)
            t_module = median_seconds(lambda: memae.memory(z), device, args.repeats, args.warmup)
        row.update({
            "infer_s_per_clip": t_mem / args.infer_batch, "infer_frames_per_s": args.infer_batch / t_mem,
            "ae_infer_s_per_clip": t_ae / args.infer_batch,
            "memory_share_vs_ae": 1.0 - t_ae / t_mem, "memory_module_s_per_clip": t_module / args.infer_batch,
            "memory_module_share": t_module / t_mem, "queries_per_clip": int(z[0, 0].numel()),
        })
        if not args.skip_train:
            memae.train()
            optimizer = torch.optim.Adam(memae.parameters(), lr=1e-4)

            losses = []

            def step() -> None:
                with _autocast(device, dtype):
                    loss = memae.loss(x_train).total
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))

            for _ in range(args.train_warmup):
                step()
            usage = resource.getrusage(resource.RUSAGE_SELF)  # page faults and kernel time of the timed steps only
            t_step = median_seconds(step, device, args.train_repeats, 0)
            after = resource.getrusage(resource.RUSAGE_SELF)
            steps = args.train_repeats
            cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
            # The last step's loss: a run that only changes how memory is allocated must give it to every digit.
            row.update({"train_s_per_step": t_step, "train_clips_per_s": train_batch / t_step, "train_last_loss": losses[-1],
                        "train_minor_faults_per_step": (after.ru_minflt - usage.ru_minflt) / steps,
                        "train_kernel_share": (after.ru_stime - usage.ru_stime) / max(cpu, 1e-9)})
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    text = (f"{row['preset']:>6} {row['frame_size']:>8} w{row['width']:<4g} {row['dtype']:>4}: "
            f"inference {row['infer_frames_per_s']:8.2f} frames/s ({row['infer_s_per_clip'] * 1e3:8.1f} ms/clip, "
            f"AE {row['ae_infer_s_per_clip'] * 1e3:8.1f} ms/clip); memory {row['memory_module_share']:6.1%} of the "
            f"MemAE forward alone, {row['memory_share_vs_ae']:6.1%} vs AE")
    if "train_clips_per_s" in row:
        text += f"; training {row['train_clips_per_s']:7.2f} clips/s ({row['train_s_per_step']:.2f} s/step of {row['train_batch']})"
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", default="cpu,paper", help="comma-separated presets or YAML files (default: cpu,paper)")
    p.add_argument("--dtypes", default=None, help="fp32,bf16 (default: fp32,bf16 on CUDA, fp32 on CPU)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--infer-batch", type=int, default=4, help="clips per inference call (default 4)")
    p.add_argument("--train-batch", type=int, default=0, help="clips per training step (default: the preset's)")
    p.add_argument("--repeats", type=int, default=3, help="timed inference runs (median; default 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--train-repeats", type=int, default=2, help="timed training steps (median; default 2)")
    p.add_argument("--train-warmup", type=int, default=1, help="untimed training steps first (default 1)")
    p.add_argument("--skip-train", action="store_true", help="time inference only")
    p.add_argument("--frame-size", type=int, nargs=2, metavar=("H", "W"), help="override every preset's frame size")
    p.add_argument("--width", type=float, help="override every preset's width multiplier")
    p.add_argument("--num-slots", type=int, help="override every preset's memory size N")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (CPU)")
    p.add_argument("--json", type=Path, help="also write the rows and the machine to this JSON file")
    p.add_argument("--keep-freed-memory", action="store_true",
                   help="the memae CLI's allocator setting (memae.cli.allocator; see benchmarks/allocator_speed.py)")
    args = p.parse_args(argv)
    args.presets = [s.strip() for s in args.presets.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep_freed_memory:
        from memae.cli.allocator import keep_freed_memory

        keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    args.dtypes = [d.strip() for d in (args.dtypes or ("fp32,bf16" if device.type == "cuda" else "fp32")).split(",")]
    for d in args.dtypes:
        if d not in ("fp32", "bf16"):
            raise SystemExit(f"error: unknown dtype {d!r}; use fp32 or bf16")
    if device.type == "cpu" and "bf16" not in args.dtypes:
        print("bf16 autocast skipped on CPU (no native bf16 matmul here: hundreds of times slower); "
              "pass --dtypes fp32,bf16 to time it anyway", flush=True)
    machine = machine_info()
    print(f"device {device} ({machine['cuda'] or machine['processor']}), {machine['threads']} threads, "
          f"torch {machine['torch']}", flush=True)
    rows = []
    for preset in args.presets:
        rows += bench_preset(preset, args, device)
    if args.json:
        from memae.io import write_json

        write_json(args.json, {"machine": machine, "device": str(device), "rows": rows, "argv": sys.argv[1:]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
