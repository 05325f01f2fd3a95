"""Coverage engine benchmark on the Phoenix network, against a plain osmnx + networkx implementation.

Run from the repository root (needs ../shared/data)::

    python benchmarks/bench_coverage.py [--compounds 5000] [--services 2000] [--repeat 3] [--json out.json]

Input: the ~60k-node unsimplified walking network of ``phoenix_az303_bench.osm.pbf``; compounds are building
footprints of the same file and services are other buildings' inside points, with four categories, all drawn with
a fixed seed. Both implementations answer the same question in the same process: per compound and category, the
walk to the nearest service and the number of services within the threshold. The baseline is the usual plain
approach (snap to nearest *node* with ``osmnx.distance.nearest_nodes``; ``nx.multi_source_dijkstra_path_length``
per category; one ``nx.single_source_dijkstra_path_length`` with a cutoff per service). Also times the whole
``lifecircle analyze`` command (reading files, writing every output and the map) in a subprocess.
Both implementations run ``--repeat`` times in turn on the same objects; the best and the median time of each are
reported, and the speed-up is best against best.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import PHOENIX  # noqa: E402

from lifecircle.geo.network.graph import prepare_network  # noqa: E402
from lifecircle.geo.network.osm import network_from_osm  # noqa: E402
from lifecircle.geo.reach.coverage import coverage  # noqa: E402

CATEGORIES = ["convenience", "health", "community", "elderly"]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def buildings(path: Path) -> gpd.GeoDataFrame:
    """Building footprints of the OSM file (pyosmium areas)."""
    import osmium
    from osmium.geom import WKBFactory

    wkb = WKBFactory()
    geoms = []
    processor = osmium.FileProcessor(str(path)).with_areas().with_filter(osmium.filter.KeyFilter("building"))
    for obj in processor:
        if obj.is_area():
            try:
                geoms.append(shapely.from_wkb(wkb.create_multipolygon(obj)))
            except RuntimeError:  # broken multipolygon in the extract
                continue
    return gpd.GeoDataFrame(geometry=geoms, crs=4326)


def make_layers(n_compounds: int, n_services: int, seed: int = 42) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    footprints = buildings(PHOENIX)
    order = rng.permutation(len(footprints))
    chosen = footprints.iloc[order[:n_compounds]]
    compounds = gpd.GeoDataFrame(
        {"name": [f"compound {i}" for i in range(n_compounds)], "households": rng.integers(50, 800, n_compounds)},
        geometry=chosen.geometry.to_numpy(),
        crs=4326,
        index=pd.Index([f"C{i}" for i in range(n_compounds)], name="compound_id"),
    )
    others = footprints.iloc[order[n_compounds : n_compounds + n_services]]
    services = gpd.GeoDataFrame(
        {"name": [f"service {i}" for i in range(n_services)], "category": rng.choice(CATEGORIES, n_services)},
        geometry=others.geometry.representative_point().to_numpy(),
        crs=4326,
        index=pd.Index([f"S{i}" for i in range(n_services)], name="service_id"),
    )
    return compounds, services


def baseline(G: nx.MultiDiGraph, compounds, services, limit_m: float) -> pd.DataFrame:
    """The plain osmnx + networkx way: nearest nodes, networkx Dijkstra in Python."""
    Gu = nx.Graph()
    for u, v, d in G.edges(data=True):
        if not Gu.has_edge(u, v) or Gu[u][v]["length"] > d["length"]:
            Gu.add_edge(u, v, length=d["length"])
    for n in Gu.nodes:
        Gu.nodes[n].update(G.nodes[n])
    Gu.graph["crs"] = G.graph["crs"]
    origin = compounds.geometry.representative_point()
    c_nodes = ox.distance.nearest_nodes(G, origin.x.to_numpy(), origin.y.to_numpy())
    s_nodes = np.asarray(ox.distance.nearest_nodes(G, services.geometry.x.to_numpy(), services.geometry.y.to_numpy()))
    rows = []
    within = {cat: np.zeros(len(compounds), dtype=int) for cat in ["all", *CATEGORIES]}
    position = pd.Series(np.arange(len(compounds)))
    node_to_compounds = pd.Series(position.to_numpy(), index=c_nodes).groupby(level=0).agg(list).to_dict()
    for s_node, cat in zip(s_nodes, services["category"], strict=True):
        reached = nx.single_source_dijkstra_path_length(Gu, s_node, cutoff=limit_m, weight="length")
        for node in reached:
            for k in node_to_compounds.get(node, ()):
                within["all"][k] += 1
                within[cat][k] += 1
    for cat in ["all", *CATEGORIES]:
        members = s_nodes if cat == "all" else s_nodes[services["category"].to_numpy() == cat]
        dist = nx.multi_source_dijkstra_path_length(Gu, set(members.tolist()), weight="length")
        walk = np.array([dist.get(n, np.inf) for n in c_nodes])
        rows.append(
            pd.DataFrame({"compound_id": compounds.index, "category": cat, "walk_m": walk, "within": within[cat]})
        )
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=5000)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each implementation (best and median)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not PHOENIX.exists():
        sys.exit(f"benchmark input {PHOENIX} not found (../shared/data or $LIFECIRCLE_SHARED_DATA)")

    results: dict = {"compounds": args.compounds, "services": args.services, "minutes": args.minutes}
    compounds, services = make_layers(args.compounds, args.services)

    t0 = time.perf_counter()
    G = network_from_osm(PHOENIX)
    results["network_load_s"] = time.perf_counter() - t0
    results["network_nodes"] = G.number_of_nodes()
    t0 = time.perf_counter()
    net = prepare_network(G)
    results["prepare_s"] = time.perf_counter() - t0
    times = []
    for _ in range(args.repeat):
        gc.collect()  # every run of either implementation starts from the same heap
        t0 = time.perf_counter()
        ours = coverage(net, compounds, services, max_walk_min=args.minutes)
        times.append(time.perf_counter() - t0)
    results["coverage_first_s"] = times[0]
    results["coverage_s"] = min(times)
    results["coverage_median_s"] = float(np.median(times))
    results["lifecircle_peak_rss_mb"] = peak_rss_mb()

    with tempfile.TemporaryDirectory() as tmp:
        compounds.reset_index().to_file(Path(tmp) / "compounds.gpkg")
        services.reset_index().to_file(Path(tmp) / "services.gpkg")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "lifecircle",
                "-q",
                "analyze",
                "--network",
                str(PHOENIX),
                "--compounds",
                f"{tmp}/compounds.gpkg",
                "--services",
                f"{tmp}/services.gpkg",
                "--minutes",
                str(args.minutes),
                "--out",
                f"{tmp}/out",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        results["analyze_cli_s"] = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(proc.stderr)

    if not args.skip_baseline:
        limit_m = ours.params["max_walk_m"]
        times = []
        for _ in range(args.repeat):
            gc.collect()
            t0 = time.perf_counter()
            base = baseline(G, compounds, services, limit_m)
            times.append(time.perf_counter() - t0)
        results["baseline_s"] = min(times)
        results["baseline_median_s"] = float(np.median(times))
        results["speedup_coverage"] = results["baseline_s"] / results["coverage_s"]
        results["speedup_prepare_plus_coverage"] = results["baseline_s"] / (
            results["coverage_s"] + results["prepare_s"]
        )
        mine = ours.table.set_index(["compound_id", "category"])
        theirs = base.set_index(["compound_id", "category"]).reindex(mine.index)
        both = mine["walk_m"].notna() & np.isfinite(theirs["walk_m"])
        diff = (mine["walk_m"][both] - theirs["walk_m"][both]).abs()
        results["median_abs_walk_diff_m"] = float(diff.median())
        results["covered_agreement"] = float(((mine["walk_m"] <= limit_m) == (theirs["walk_m"] <= limit_m)).mean())
        results["total_peak_rss_mb"] = peak_rss_mb()

    for key, value in results.items():
        print(f"{key:32s} {value:.3f}" if isinstance(value, float) else f"{key:32s} {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
