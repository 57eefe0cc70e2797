"""Start-up time of the ``memae`` command: ``memae --help``, ``memae train --help`` and a failing
``memae score missing.pt x.csv`` (issue 23: its one-line error must come before torch and PyOD load) against
``python -c pass``.

Each command runs as a fresh subprocess (``python -m memae ...`` with this checkout's ``src`` first on the path),
interleaved in one process (pass, --help, train --help, pass, ...) so drift in machine load hits all alike; we
report medians and the overhead over ``python -c pass``.  Targets: under 0.3 s over it for ``--help`` (issue 11),
under 0.5 s for the failing ``score`` (issue 23).

    python benchmarks/cli_startup.py                 # 15 runs each, wall clock
    python benchmarks/cli_startup.py --clock cpu     # the children's CPU time (user + sys): steadier on a busy machine
    python benchmarks/cli_startup.py --repeats 31 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "memae --help": ["-m", "memae", "--help"],
    "memae train --help": ["-m", "memae", "train", "--help"],
    "memae score missing.pt x.csv": ["-m", "memae", "score", "missing.pt", "x.csv", "--out", "o.csv"],
}
EXPECTED_EXIT = {"memae score missing.pt x.csv": 1}  # the one-line error is what is timed


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: the subprocess's user + sys CPU time")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    import tempfile

    workdir = tempfile.mkdtemp(prefix="memae-startup-")
    Path(workdir, "x.csv").write_text("a,b\n1,2\n")
    for _ in range(args.repeats):
        for name, argv in COMMANDS.items():
            tic, cpu = time.perf_counter(), _children_cpu()
            proc = subprocess.run([sys.executable, *argv], env=env, cwd=workdir, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
            if proc.returncode != EXPECTED_EXIT.get(name, 0):
                raise SystemExit(f"{name}: exit {proc.returncode}: {proc.stderr.strip()}")
            times[name].append(time.perf_counter() - tic if args.clock == "wall" else _children_cpu() - cpu)
    import shutil

    shutil.rmtree(workdir, ignore_errors=True)
    base = statistics.median(times["python -c pass"])
    result = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
              "load_avg": os.getloadavg()[0] if hasattr(os, "getloadavg") else None, "repeats": args.repeats, "clock": args.clock,
              "median_s": {k: round(statistics.median(v), 4) for k, v in times.items()},
              "over_python_s": {k: round(statistics.median(v) - base, 4) for k, v in times.items() if k != "python -c pass"}}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"python {result['python']}, {result['cpus']} CPUs, load average {result['load_avg']:.1f}, "
          f"{args.clock} clock, median of {args.repeats} runs each")
    for name, median in result["median_s"].items():
        extra = f"  (+{result['over_python_s'][name]:.3f} s over python -c pass)" if name in result["over_python_s"] else ""
        print(f"  {name:<30} {median:.3f} s{extra}")


if __name__ == "__main__":
    main()
