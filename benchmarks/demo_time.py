"""Wall time of ``memae demo`` (or ``--quick``) on this machine, with the machine and its load, so that a README
figure can be checked where it is read rather than trusted.

    python benchmarks/demo_time.py            # the full demo (minutes)
    python benchmarks/demo_time.py --quick    # the smoke run
    python benchmarks/demo_time.py --json

The load average is read before and after: on a 2-core machine the demo took 53 s with one other job running and
109 s with two, so a figure without the load it was measured under says little.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="time 'memae demo --quick'")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (memae demo --threads; default 1)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="memae-demo-time-") as out:
        argv = [sys.executable, "-m", "memae", "demo", "--out", out, "--threads", str(args.threads)]
        tic = time.perf_counter()
        subprocess.run(argv + (["--quick"] if args.quick else []), env=env, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - tic
    result = {"command": "memae demo" + (" --quick" if args.quick else ""), "seconds": round(seconds, 1),
              "cpus": os.cpu_count(), "machine": platform.machine(), "processor": platform.processor(),
              "python": platform.python_version(), "load_avg_before": round(load_before, 2),
              "load_avg_after": round(os.getloadavg()[0], 2), "threads": args.threads}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['command']}: {seconds:.0f} s on {result['cpus']} CPUs ({result['machine']}), load average "
          f"{load_before:.1f} before, {result['load_avg_after']:.1f} after, {args.threads} torch thread(s)")


if __name__ == "__main__":
    main()
