"""Commit benchmark: what making an output folder whole costs, against moving the files in one by one.

Run from the repository root::

    python benchmarks/bench_commit.py [--mb 100] [--files 10] [--runs 5]

Both sides write the same files (random bytes) into a stage and put them into an output folder that already
holds the previous run's result, ``--runs`` times:

- lifecircle: :func:`lifecircle.planning.outputs.staged_directory` (manifest with SHA-256 of the new files, the
  previous result checked by size/time/inode, one atomic exchange of folders, the previous files removed);
- peer: the files moved one by one with ``os.replace`` over the previous ones (how folders were written before:
  not atomic, nothing checked).

Printed: the median seconds of the commit step on each side and their ratio; the writing of the files themselves
is left out of both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def lifecircle_side(root: Path, blob: bytes, files: int, runs: int) -> list[float]:
    from lifecircle.planning.outputs import staged_directory

    out, times = root / "lifecircle", []
    for _ in range(runs):
        with staged_directory(out, job="analyze") as stage:
            for i in range(files):
                (stage / f"table_{i}.csv").write_bytes(blob)
            start = time.perf_counter()
        times.append(time.perf_counter() - start)
    return times


def peer_side(root: Path, blob: bytes, files: int, runs: int) -> list[float]:
    out, times = root / "peer", []
    out.mkdir()
    for run in range(runs):
        stage = root / f"peer-stage-{run}"
        stage.mkdir()
        for i in range(files):
            (stage / f"table_{i}.csv").write_bytes(blob)
        start = time.perf_counter()
        for i in range(files):
            os.replace(stage / f"table_{i}.csv", out / f"table_{i}.csv")
        stage.rmdir()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of one run's files together (MB)")
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    blob = os.urandom(int(args.mb * 1e6 / args.files))
    with tempfile.TemporaryDirectory(dir=REPO) as tmp:
        ours = lifecircle_side(Path(tmp), blob, args.files, args.runs)
        peer = peer_side(Path(tmp), blob, args.files, args.runs)
    a, b = statistics.median(ours), statistics.median(peer)
    print(f"commit of {args.mb:g} MB in {args.files} files, median of {args.runs} runs")
    print(f"  lifecircle (atomic, hashed): {a:.3f} s")
    print(f"  peer (os.replace one by one): {b:.3f} s")
    print(f"  ratio: {a / b:.1f}x; per MB: {1000 * (a - b) / args.mb:.1f} ms more")


if __name__ == "__main__":
    main()
