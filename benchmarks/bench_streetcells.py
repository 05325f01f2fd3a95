"""Benchmark: served areas (issue 18) — building the street cells, the served polygons per category and
``area_share`` — on the Phoenix network, Phoenix cut to its western half and quarter, and synthetic grid cities;
this tree against a peer checkout of an earlier commit, alternated in one run (ABBA), each measurement in a fresh
process. Prints medians, the ratio now / peer, and the growth exponent in network size (slope of log time over log
nodes) of each.

The peer is any checkout, e.g. ``git worktree add /tmp/ref <commit>``. Served areas are those ``analyze`` draws:
one break (15 min), every category, the OSM barriers of the extract (grids have none).

Run: ``PYTHONPATH=. python benchmarks/bench_streetcells.py [--peer /tmp/ref] [--repeat 2] [--grid 20000,80000]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _data import PHOENIX, REPO, require

CUTS = {"phoenix": 1.0, "phoenix_half": 0.5, "phoenix_quarter": 0.25}
MINUTES = 15.0
CATCHMENT_M = 45.0
STAGES = ("cells", "served", "area_share")


def _phoenix_case(share: float, n_services: int):
    """The Phoenix network west of the ``share`` quantile of node longitudes, its barriers, and benchmark layers
    inside it."""
    import shapely
    from bench_coverage import make_layers

    from lifecircle.geo.network.barriers import barriers_for
    from lifecircle.geo.network.osm import network_from_osm

    graph = network_from_osm(require(PHOENIX))
    x = np.array([d["x"] for _, d in graph.nodes(data=True)])
    cut = float(np.quantile(x, share)) if share < 1 else float(x.max())
    graph = graph.subgraph([n for n, d in graph.nodes(data=True) if d["x"] <= cut]).copy()
    compounds, services = make_layers(5000, n_services)
    west = shapely.box(-180, -90, cut, 90)
    return graph, barriers_for(PHOENIX), compounds[compounds.within(west)], services[services.within(west)]


def _grid_case(nodes: int, work: Path):
    """A grid city of about ``nodes`` nodes (``benchmarks/grid_city.py``), made once per size."""
    import geopandas as gpd
    from grid_city import make_grid_city

    from lifecircle.geo.network.osm import network_from_osm

    folder = work / f"grid{nodes}"
    if not (folder / "services.gpkg").exists():
        make_grid_city(folder, nodes=nodes, compounds=min(5000, nodes // 8), services=min(2000, nodes // 16))
    compounds = gpd.read_file(folder / "compounds.gpkg").set_index("compound_id")
    services = gpd.read_file(folder / "services.gpkg").set_index("service_id")
    return network_from_osm(folder / "grid.osm.pbf"), None, compounds, services


def worker(case: str, work: Path) -> None:
    """One measurement in this process (the code on PYTHONPATH): prints a JSON line of seconds."""
    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.reach.isochrones import ShapeOptions, area_share, isochrones
    from lifecircle.geo.reach.streetcells import StreetCells

    if case.startswith("grid"):
        graph, barriers, compounds, services = _grid_case(int(case[4:]), work)
    else:
        graph, barriers, compounds, services = _phoenix_case(CUTS[case], 2000)
    net = prepare_network(graph)
    clock = [(time.perf_counter(), time.process_time())]
    cells = StreetCells.build(net, catchment_m=CATCHMENT_M, barriers=barriers)
    clock.append((time.perf_counter(), time.process_time()))
    result = isochrones(
        net,
        services,
        minutes=[MINUTES],
        options=ShapeOptions(catchment_m=CATCHMENT_M),
        per_service=False,
        street_cells=cells,
        barriers=barriers,
    )
    clock.append((time.perf_counter(), time.process_time()))
    area_share(compounds, result.served_area, break_min=MINUTES)
    clock.append((time.perf_counter(), time.process_time()))
    wall, cpu = np.diff(np.array(clock), axis=0).T
    areas = [round(float(a), 1) for a in result.served_area.geometry.area]
    out = {"nodes": net.n_nodes, "areas_m2": areas}
    for k, stage in enumerate(STAGES):
        out[stage], out[f"{stage}_cpu"] = float(wall[k]), float(cpu[k])
    print(json.dumps(out))


def measure(code: Path, case: str, work: Path) -> dict:
    """Run :func:`worker` in a fresh process on the code in ``code``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(REPO / "benchmarks")])}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", case, "--work", str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode:
        sys.exit(f"{case} on {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def exponent(nodes: list[int], seconds: list[float]) -> float:
    """Slope of log(seconds) over log(nodes)."""
    return float(np.polyfit(np.log(nodes), np.log(seconds), 1)[0]) if len(nodes) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, help="a checkout of an earlier commit to compare with")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cases", default=",".join(CUTS), help="comma-separated: phoenix, phoenix_half, ...")
    parser.add_argument("--grid", default="", help="comma-separated grid sizes in nodes, e.g. 20000,80000")
    parser.add_argument("--work", type=Path, help="folder for the grid cities (default: a temporary one)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_streetcells_"))
    if args.worker:
        worker(args.worker, work)
        return
    cases = [c for c in args.cases.split(",") if c] + [f"grid{int(n)}" for n in args.grid.split(",") if n]
    codes = {"now": REPO} | ({"peer": args.peer.resolve()} if args.peer else {})
    runs: dict[tuple[str, str], list[dict]] = {(k, c): [] for k in codes for c in cases}
    print(f"load average before: {os.getloadavg()}")
    for r in range(args.repeat):
        for case in cases:
            order = list(codes) if r % 2 == 0 else list(codes)[::-1]  # ABBA: neither goes first every time
            for label in order:
                runs[label, case].append(measure(codes[label], case, work))
    print(f"load average after: {os.getloadavg()}")
    stages = STAGES + tuple(f"{s}_cpu" for s in STAGES)
    print("\nmedian seconds, wall and CPU (this process; the machine may be shared):")
    print(f"{'case':16s} {'nodes':>8s} " + " ".join(f"{s + ' ' + k:>17s}" for s in stages for k in codes))
    med: dict[tuple[str, str, str], float] = {}
    for case in cases:
        for k in codes:
            for s in stages:
                med[k, case, s] = float(np.median([m[s] for m in runs[k, case]]))
        nodes = runs["now", case][0]["nodes"]
        print(f"{case:16s} {nodes:8d} " + " ".join(f"{med[k, case, s]:16.2f}s" for s in stages for k in codes))
    if "peer" in codes:
        print("\nratio now / peer (same run):")
        for case in cases:
            ratios = ", ".join(f"{s} {med['now', case, s] / med['peer', case, s]:.2f}" for s in stages)
            same = runs["now", case][0]["areas_m2"] == runs["peer", case][0]["areas_m2"]
            print(f"  {case:16s} {ratios}; served areas (m2, 0.1) equal: {same}")
    for family in ("phoenix", "grid"):
        group = [c for c in cases if c.startswith(family)]
        if len(group) < 2:
            continue
        nodes = [runs["now", c][0]["nodes"] for c in group]
        for k in codes:
            for unit in ("", "_cpu"):
                slopes = ", ".join(
                    f"{s} {exponent(nodes, [med[k, c, s + unit] for c in group]):.2f}" for s in ("cells", "served")
                )
                total = exponent(nodes, [med[k, c, "cells" + unit] + med[k, c, "served" + unit] for c in group])
                print(f"growth exponent in nodes, {family}, {k} ({unit[1:] or 'wall'}): {slopes}; both {total:.2f}")


if __name__ == "__main__":
    main()
