"""How much the memory module adds to the autoencoder's forward time (issue: at most 3 % on the `video` model).

MemAE and AE share the same encoder/decoder weights and are timed interleaved in one process (AE, MemAE, AE, ...),
so drift in machine load hits both alike; we report medians and their ratio, plus the memory module alone.

    python benchmarks/memory_overhead.py                      # video model, 16x256x256 clip, batch 1
    python benchmarks/memory_overhead.py --size 16 128 128 --repeats 20
    python benchmarks/memory_overhead.py --threads 1 --clock cpu   # CPU time: steadier while other jobs run
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch

from memae import build_model


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def timed(fn, repeats: int, clock=time.perf_counter) -> list[float]:
    out = []
    for _ in range(repeats):
        tic = clock()
        fn()
        out.append(clock() - tic)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", default="video")
    parser.add_argument("--size", type=int, nargs="+", default=[16, 256, 256], help="input size without channels")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="wall time, or this process's CPU time (steadier on a shared machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    memae = build_model(args.architecture, "memae", input_size=tuple(args.size)).eval()
    ae = build_model(args.architecture, "ae", input_size=tuple(args.size)).eval()
    ae.load_state_dict({k: v for k, v in memae.state_dict().items() if not k.startswith("memory.")})
    x = torch.randn(args.batch, *memae.input_shape)
    with torch.no_grad():
        latent = memae.encode(x)
        for model in (ae, memae):  # warm-up
            model(x)
        ae_times, memae_times = [], []
        clock = CLOCKS[args.clock]
        for _ in range(args.repeats):
            ae_times += timed(lambda: ae(x), 1, clock)
            memae_times += timed(lambda: memae(x), 1, clock)
        memory_times = timed(lambda: memae.memory(latent), max(args.repeats, 10), clock)
    ae_med, memae_med, mem_med = map(statistics.median, (ae_times, memae_times, memory_times))
    result = {
        "architecture": args.architecture, "input": [args.batch, *memae.input_shape],
        "queries_per_sample": int(latent[0, 0].numel()), "slots": memae.memory.num_slots, "dim": memae.memory.dim,
        "ae_forward_s": ae_med, "memae_forward_s": memae_med, "memory_module_s": mem_med,
        "overhead_percent": 100 * (memae_med / ae_med - 1), "memory_share_percent": 100 * mem_med / memae_med,
        "repeats": args.repeats, "clock": args.clock, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
