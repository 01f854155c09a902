"""How long the ``airunway`` command takes to start: ``airunway --help`` and an offline ``airunway render`` of the
example, each run ``--runs`` times as a fresh process (wall time, median and max), and the peak memory of one run.

    .venv/bin/python benchmarks/cli_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "airunway --help": ["--help"],
    "airunway render -f examples/qwen-direct-vllm.yaml": ["render", "-f", str(ROOT / "examples/qwen-direct-vllm.yaml")],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    for name, argv in COMMANDS.items():
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "airunway.cli", *argv], check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{name}: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
              f"(of {args.runs}); peak RSS of the runs so far {peak:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
