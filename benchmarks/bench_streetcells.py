"""Benchmark: building the street cells (Voronoi partition behind served areas and isochrones) on the Phoenix
network, with the distinct-coordinate step done by ``np.unique(axis=0)`` (the previous code, as peer) and by
:func:`lifecircle.geo.reach.streetcells.unique_rows`, alternated in one process; the cells must be identical.

Run: ``PYTHONPATH=. python benchmarks/bench_streetcells.py [--repeat 2]``
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import shapely
from _data import PHOENIX, require


def numpy_unique_rows(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The previous way: ``np.unique`` over rows."""
    distinct, inverse = np.unique(xy, axis=0, return_inverse=True)
    return distinct, inverse.ravel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import lifecircle.geo.reach.streetcells as sc
    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm

    net = prepare_network(network_from_osm(require(PHOENIX)))
    print(f"Phoenix: {net.n_nodes:,} nodes, {len(net.segment_u):,} segments; load average {os.getloadavg()}")
    fast = sc.unique_rows
    times: dict[str, list[float]] = {"np.unique (before)": [], "unique_rows (now)": []}
    cells = {}
    pairs = [("np.unique (before)", numpy_unique_rows), ("unique_rows (now)", fast)]
    for r in range(args.repeat):
        for label, fn in pairs if r % 2 == 0 else pairs[::-1]:  # ABBA: neither goes first every time
            sc.unique_rows = fn
            t = time.perf_counter()
            cells[label] = sc.StreetCells.build(net, catchment_m=45.0)
            times[label].append(time.perf_counter() - t)
    sc.unique_rows = fast
    a, b = (cells[k].cells for k in times)
    same = len(a) == len(b) and bool(shapely.equals_exact(a, b, 0).all())
    before, now = (float(np.median(v)) for v in times.values())
    print(f"street cells: {before:.1f} s before, {now:.1f} s now (median of {args.repeat}); ratio {now / before:.2f}")
    print(f"identical cells: {same}; load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
