"""Benchmark: ``lifecircle demo`` (Chinese, Beijing Xueyuan Road office files) against ``--city helsinki``.

Each run is a fresh process of the installed command line (imports, reading the files, network, analysis, map,
report and workbook: what a newcomer waits for), run alternately so both see the same machine load. Wall time and
the process's CPU time (user + sys, less sensitive to other work on a shared machine) are reported, best of
``--repeat``, with the ratio Chinese / Helsinki. The target is the Chinese demo in at most 10 s after install.

Usage: python benchmarks/bench_demo.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CITIES = ("xueyuan", "helsinki")


def run_once(city: str, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``lifecircle demo`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "lifecircle", "-q", "demo", "--city", city, "--out", str(out), "--force"],
        check=True,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    best = {city: [float("inf"), float("inf")] for city in CITIES}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for city in CITIES:
                wall, cpu = run_once(city, Path(tmp) / city)
                best[city] = [min(best[city][0], wall), min(best[city][1], cpu)]
    for city, (wall, cpu) in best.items():
        print(f"{city:<10} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
    (xw, xc), (hw, hc) = best["xueyuan"], best["helsinki"]
    print(f"ratio xueyuan/helsinki: wall {xw / hw:.2f}, cpu {xc / hc:.2f}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
