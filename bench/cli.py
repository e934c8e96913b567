"""``python bench/cli.py``: how long the ``enabley`` command takes to answer ``--help``.

Each command's ``--help`` runs ``--runs`` times (7 by default) in a fresh interpreter, as a shell
starts it; the figures are the median wall time and the median CPU time (user + system) of the
process. CPU time is the figure to compare across machines and loads: wall time includes the
wait for a core on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
COMMANDS = [
    [],
    ["serve"],
    ["db", "upgrade"],
    ["accounts", "list"],
    ["clients", "create"],
    ["remote"],
    ["remote", "upload"],
    ["remote", "export"],
    ["remote", "call"],
]


def measure(args: list[str], runs: int) -> tuple[float, float]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "enabley", *args, "--help"], env=env, capture_output=True, check=True
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    print(f"{'command':<32} {'wall (s)':>9} {'cpu (s)':>8}")
    for args in COMMANDS:
        wall, cpu = measure(args, options.runs)
        print(f"{' '.join(['enabley', *args, '--help']):<32} {wall:>9.2f} {cpu:>8.2f}")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
