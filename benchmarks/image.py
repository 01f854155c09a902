"""The container image: build time (cold and cached), size, and how long `airunway --help` takes in it.

Cold: a podman cache of its own in an empty folder (``AIRUNWAY_CACHE_DIR``), so the local Debian bases are made with
mmdebstrap, the npm and pip packages are fetched and every layer is built. Cached: the same build again, nothing
changed. Then a change to one Python source file (only the package's last layers are rebuilt). ``--help`` is timed
``--runs`` times as a whole ``podman run --rm --read-only`` and, inside one container, as the process alone.

    .venv/bin/python benchmarks/image.py [--runs 10] [--skip-cold]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE_SCRIPT = ROOT / "scripts" / "image.sh"
PODMAN = ROOT / "scripts" / "podman.sh"


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout.strip().splitlines()[-1]


def build(env: dict[str, str]) -> tuple[float, str]:
    return timed([str(IMAGE_SCRIPT), "build"], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--skip-cold", action="store_true", help="measure with the usual cache only")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="airunway-image-bench-") as scratch:
        env = dict(os.environ)
        if not opts.skip_cold:
            env["AIRUNWAY_CACHE_DIR"] = scratch
            seconds, image = build(env)
            print(f"cold build (empty podman cache, bases made with mmdebstrap): {seconds:.0f} s")
        seconds, image = build(env)
        print(f"cached build (nothing changed): {seconds:.1f} s")
        touched = ROOT / "src" / "airunway" / "__init__.py"
        original = touched.read_text()
        try:
            touched.write_text(original + "\n# benchmark\n")
            seconds, image = build(env)
            print(f"build after a change to one Python file: {seconds:.1f} s")
        finally:
            touched.write_text(original)
        seconds, image = build(env)

        inspect = json.loads(subprocess.run([str(PODMAN), "image", "inspect", image], env=env, capture_output=True,
                                            text=True, check=True).stdout)[0]
        print(f"image size: {inspect['Size'] / 1e6:.0f} MB ({image})")

        whole = []
        for _ in range(opts.runs):
            seconds, _ = timed([str(PODMAN), "run", "--rm", "--read-only", "--network=none", image, "--help"], env)
            whole.append(seconds)
        print(f"podman run --rm --read-only IMAGE --help: median {statistics.median(whole):.2f} s, "
              f"max {max(whole):.2f} s over {opts.runs} runs")
        script = ("import subprocess, time, statistics\n"
                  f"t = []\nfor _ in range({opts.runs}):\n"
                  "    s = time.perf_counter(); subprocess.run(['airunway', '--help'], capture_output=True, check=True)\n"
                  "    t.append(time.perf_counter() - s)\n"
                  "print(f'{statistics.median(t):.2f} {max(t):.2f}')")
        inside = subprocess.run([str(PODMAN), "run", "--rm", "--read-only", "--network=none", "--entrypoint",
                                 "python3", image, "-c", script], env=env, capture_output=True, text=True,
                                check=True).stdout.split()
        print(f"airunway --help inside the container: median {inside[0]} s, max {inside[1]} s over {opts.runs} runs")
        if not opts.skip_cold:
            # The scratch cache's image storage holds files podman made as other users: podman removes them.
            subprocess.run([str(PODMAN), "system", "reset", "--force"], env=env, capture_output=True)


if __name__ == "__main__":
    main()
