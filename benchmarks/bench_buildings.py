"""Benchmark: walks from every building of the Phoenix extract against the compound-level run, in one process.

Run from the repository root (needs ../shared/data)::

    python benchmarks/bench_buildings.py [--compounds 5000] [--services 2000] [--repeat 2] [--json out.json]

Input: the unsimplified walking network of ``phoenix_az303_bench.osm.pbf``; compounds and services are drawn from
its building footprints with a fixed seed (as in ``bench_coverage.py``) and the buildings are all its footprints
(about 44k). A is the compound-level core (:func:`~lifecircle.planning.thresholds.coverage_within_limits`); B is the
same plus :func:`~lifecircle.planning.buildings.building_coverage` from every building. The runs alternate in ABBA
order on the same prepared network; the figure is the ratio of the best B to the best A (the issue's target: at
most 2), in wall-clock time and in CPU time of the process (steadier on a shared, loaded machine; the snapping's
k-d tree query runs on every core, so its CPU time counts each). ``--analysis`` also times, in the same ABBA
order, the whole :func:`~lifecircle.planning.analysis.analyze` without served areas (statuses, summary, roll-ups;
``--served-area``: with them, as ``lifecircle analyze`` runs by default) against it plus
:func:`~lifecircle.planning.buildings.with_buildings` (households, worst building, summary).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _data import PHOENIX  # noqa: E402
from bench_coverage import buildings, make_layers  # noqa: E402

from lifecircle.geo.network.osm import network_from_osm  # noqa: E402
from lifecircle.geo.walk import Walk, prepared  # noqa: E402
from lifecircle.planning.analysis import Analysis, analyze  # noqa: E402
from lifecircle.planning.buildings import building_coverage, building_layer, with_buildings  # noqa: E402
from lifecircle.planning.thresholds import coverage_within_limits  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=5000)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2, help="ABBA rounds")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--analysis", action="store_true", help="also time analyze() against it plus buildings")
    parser.add_argument("--served-area", action="store_true", help="analyze() with served areas (its default)")
    args = parser.parse_args()
    if not PHOENIX.exists():
        sys.exit(f"benchmark input {PHOENIX} not found (../shared/data or $LIFECIRCLE_SHARED_DATA)")
    compounds, services = make_layers(args.compounds, args.services)
    footprints = buildings(PHOENIX)
    every = gpd.GeoDataFrame(
        {"compound_id": pd.array([None] * len(footprints), dtype=object)},
        geometry=footprints.geometry.to_numpy(),
        crs=4326,
        index=pd.Index([f"B{i}" for i in range(len(footprints))], name="building_id"),
    )
    walk = Walk(limit_min=10)
    net = prepared(network_from_osm(PHOENIX), walk)

    def run_a() -> None:
        coverage_within_limits(net, compounds, services, walk=walk, max_snap_m=500)

    def run_b() -> None:
        coverage_within_limits(net, compounds, services, walk=walk, max_snap_m=500)
        building_coverage(net, every, services, walk=walk, max_snap_m=500)

    result = {"compounds": len(compounds), "services": len(services), "buildings": len(every)}
    result.update(_abba(run_a, run_b, args.repeat, "coverage"))
    if args.analysis:
        # each building in the compound it lies in (the compounds are footprints too), households apportioned
        layer = building_layer(every.drop(columns="compound_id").reset_index(), compounds, source="benchmark")

        def analysis_a() -> Analysis:
            return analyze(net, compounds, services, walk=walk, max_snap_m=500, served_area=args.served_area)

        def analysis_b() -> None:
            with_buildings(analysis_a(), net, layer, services, walk=walk, max_snap_m=500)

        result.update(_abba(analysis_a, analysis_b, args.repeat, "analysis_served" if args.served_area else "analysis"))
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


def _abba(run_a: Callable[[], object], run_b: Callable[[], object], repeat: int, label: str) -> dict:
    """Best and median wall / CPU seconds of A and B run in ABBA order, and the ratios B / A."""
    wall: dict[str, list[float]] = {"A": [], "B": []}
    cpu: dict[str, list[float]] = {"A": [], "B": []}
    for _ in range(repeat):
        for name in "ABBA":
            w0, c0 = time.perf_counter(), time.process_time()
            (run_a if name == "A" else run_b)()
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(time.process_time() - c0)
    out = {}
    for kind, times in (("wall", wall), ("cpu", cpu)):
        out[f"{label}_{kind}_best_s"] = [round(min(times["A"]), 3), round(min(times["B"]), 3)]
        out[f"{label}_{kind}_ratio"] = round(min(times["B"]) / min(times["A"]), 2)
        out[f"{label}_{kind}_median_ratio"] = round(float(np.median(times["B"]) / np.median(times["A"])), 2)
    return out


if __name__ == "__main__":
    main()
