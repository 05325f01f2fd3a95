"""Benchmark: walking isochrones of 2,000 service points × 3 breaks on the ~60k-node Phoenix network.

Compares :func:`lifecircle.geo.reach.isochrones.isochrones` with the osmnx example-notebook method (osmnx-examples,
"isochrones": ``nx.ego_graph(G, node, radius, distance="time")`` per point and break, then the union of 50 m node
buffers and 25 m edge buffers — ``make_iso_polys`` — or the convex hull of the reached nodes) on the same points in
the same run. The baseline is run on a subset of the points (``--baseline-points``, default 100) and its per-point
time is extrapolated to all points; the script says so in its output.

Service points are seeded random points near streets (uniform over street segments, up to ±20 m off them), in four
categories. The machine's cores may be shared with other work: timings are wall-clock and noisy; the load average
is printed before and after.

It also measures the quality figure of the issue on the Beijing (CAU / Xueyuan Road) and Nanjing extracts: the
share of the street length inside each 10-minute polygon that is not reached (mean over seeded service points),
for the default shape and for plain buffers.

Run: ``PYTHONPATH=. python benchmarks/bench_isochrones.py [--points 2000] [--workers 2] [--baseline-points 100]``
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from _data import PHOENIX as DATA
from _data import SHARED_DATA

OSM = SHARED_DATA / "osm"
QUALITY_EXTRACTS = ("beijing_haidian_cau_xueyuanlu.osm.bz2", "nanjing_xinjiekou.osm.bz2")


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB (Linux reports kilobytes)."""
    return resource.getrusage(who).ru_maxrss / 1024.0


def cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def service_points(net, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    seg = rng.integers(0, len(net.segment_u), n)
    on_street = shapely.line_interpolate_point(net.segment_lines[seg], rng.random(n), normalized=True)
    xy = shapely.get_coordinates(on_street) + rng.uniform(-20, 20, (n, 2))
    return gpd.GeoDataFrame(
        {"name": [f"service {i}" for i in range(n)], "category": rng.choice(["clinic", "shop", "school", "park"], n)},
        geometry=shapely.points(xy),
        crs=net.crs,
        index=[f"S{i}" for i in range(n)],
    ).rename_axis("service_id")


def unreached_share(path: Path, *, shape: str, n: int = 20, seed: int = 7) -> float:
    """Mean share of the street length inside 10-minute polygons that is not reached, ``n`` seeded services."""
    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.isochrones import ShapeOptions, isochrones, street_reach
    from lifecircle.geo.reach.linecut import SegmentVertices
    from lifecircle.geo.routing.snapping import snap_points

    net = prepare_network(network_from_osm(path))
    services = service_points(net, n, seed)
    result = isochrones(net, services, minutes=[10], category_column=None, options=ShapeOptions(shape))
    att = snap_points(net, services.geometry.to_numpy())
    reach = street_reach(net, att, limits_m=[10 * 4.5 * 1000 / 60])
    lines = SegmentVertices.from_lines(net.segment_lines).cut(reach.segment, reach.start, reach.end)
    polys = result.per_service.geometry.to_numpy()
    inside = shapely.length(shapely.intersection(net.segment_lines[:, None], polys[None, :])).sum(axis=0)
    reached = np.bincount(reach.source, weights=shapely.length(lines), minlength=len(polys))
    return float(np.mean((inside - reached) / inside))


def osmnx_notebook_isochrones(G, center_node, trip_times, edge_buff=25, node_buff=50):
    """``make_iso_polys`` of the osmnx-examples isochrone notebook (projected graph, ``time`` in minutes)."""
    polys = []
    for trip_time in sorted(trip_times, reverse=True):
        subgraph = nx.ego_graph(G, center_node, radius=trip_time, distance="time")
        node_points = [shapely.Point((data["x"], data["y"])) for _, data in subgraph.nodes(data=True)]
        nodes_gdf = gpd.GeoDataFrame({"id": list(subgraph.nodes)}, geometry=node_points).set_index("id")
        edge_lines = []
        for n_fr, n_to in subgraph.edges():
            f = nodes_gdf.loc[n_fr].geometry
            t = nodes_gdf.loc[n_to].geometry
            edge_lines.append(G.get_edge_data(n_fr, n_to)[0].get("geometry", shapely.LineString([f, t])))
        n = nodes_gdf.buffer(node_buff).geometry
        e = gpd.GeoSeries(edge_lines).buffer(edge_buff).geometry
        polys.append(gpd.GeoSeries(list(n) + list(e)).union_all())
    return polys


def osmnx_notebook_convex(G, center_node, trip_times):
    """The notebook's first method: convex hull of the nodes of each ego graph."""
    polys = []
    for trip_time in sorted(trip_times, reverse=True):
        subgraph = nx.ego_graph(G, center_node, radius=trip_time, distance="time")
        node_points = [shapely.Point((data["x"], data["y"])) for _, data in subgraph.nodes(data=True)]
        polys.append(gpd.GeoSeries(node_points).union_all().convex_hull)
    return polys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-points", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"benchmark network {DATA} is absent")

    import osmnx as ox

    from lifecircle.geo.network.graph import prepare_network
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.geo.reach.isochrones import isochrones

    minutes = (5, 10, 15)
    speed_kmh = 4.5
    print(f"load average before: {os.getloadavg()}  (2 cores shared with other engineers)")
    t = time.perf_counter()
    G = network_from_osm(DATA)
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    net = prepare_network(G)
    t_prep = time.perf_counter() - t
    print(
        f"network: {len(G):,} nodes, {G.number_of_edges():,} directed edges; "
        f"read {t_load:.1f} s, prepare {t_prep:.1f} s"
    )
    services = service_points(net, args.points, args.seed)

    t, c = time.perf_counter(), cpu_s()
    result = isochrones(net, services, minutes=minutes, speed_kmh=speed_kmh, rings=True, workers=args.workers)
    # the street cells are built once per network inside the call (and counted in its time)
    t_ours, c_ours = time.perf_counter() - t, cpu_s() - c
    rss_ours = max(peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN))
    per = result.per_service
    print(
        f"lifecircle isochrones: {args.points} points x {len(minutes)} breaks, workers={args.workers}: "
        f"{t_ours:.1f} s total, {t_ours / args.points * 1000:.1f} ms per point "
        f"(plus prepare_network {t_prep:.1f} s); CPU {c_ours:.1f} s = {c_ours / args.points * 1000:.1f} ms per point; "
        f"peak RSS {rss_ours:,.0f} MB (max of parent and workers)"
    )
    print(per.groupby("break_min")[["area_m2", "street_m"]].mean().round(0).to_string())

    # baseline on a subset of the same points, on the projected osmnx graph with 'time' in minutes
    Gp = ox.project_graph(G, to_crs=net.crs)
    metres_per_minute = speed_kmh * 1000 / 60
    for _, _, _, data in Gp.edges(data=True, keys=True):
        data["time"] = data["length"] / metres_per_minute
    subset = services.iloc[: args.baseline_points]
    xy = shapely.get_coordinates(subset.geometry.to_numpy())
    centers = ox.distance.nearest_nodes(Gp, xy[:, 0], xy[:, 1])
    t, c = time.perf_counter(), cpu_s()
    for node in centers:
        osmnx_notebook_isochrones(Gp, node, minutes)
    t_base, c_base = time.perf_counter() - t, cpu_s() - c
    t, c = time.perf_counter(), cpu_s()
    for node in centers:
        osmnx_notebook_convex(Gp, node, minutes)
    t_hull, c_hull = time.perf_counter() - t, cpu_s() - c
    per_base = t_base / len(centers)
    per_hull = t_hull / len(centers)
    per_ours = t_ours / args.points
    print(
        f"osmnx notebook make_iso_polys (ego_graph + 50 m node / 25 m edge buffers): {len(centers)} points in "
        f"{t_base:.1f} s = {per_base * 1000:.0f} ms per point; extrapolated to {args.points} points: "
        f"{per_base * args.points:.0f} s"
    )
    print(
        f"osmnx notebook convex hull of ego_graph nodes: {len(centers)} points in {t_hull:.1f} s = "
        f"{per_hull * 1000:.0f} ms per point; extrapolated to {args.points} points: {per_hull * args.points:.0f} s"
    )
    print(f"speed-up (wall) vs make_iso_polys: {per_base / per_ours:.1f}x; vs convex hull: {per_hull / per_ours:.1f}x")
    cpu_ours = c_ours / args.points
    print(
        f"CPU per point: ours {cpu_ours * 1000:.1f} ms, make_iso_polys {c_base / len(centers) * 1000:.0f} ms, "
        f"convex hull {c_hull / len(centers) * 1000:.0f} ms; speed-up (CPU) vs make_iso_polys "
        f"{c_base / len(centers) / cpu_ours:.1f}x, vs convex hull {c_hull / len(centers) / cpu_ours:.1f}x"
    )
    print(f"peak RSS of the whole run (incl. baseline): {peak_rss_mb():,.0f} MB")
    for name in QUALITY_EXTRACTS:
        if (OSM / name).exists():
            ours = unreached_share(OSM / name, shape="voronoi")
            plain = unreached_share(OSM / name, shape="buffer")
            print(
                f"unreached street share inside 10-minute polygons, {name}: {ours:.1%} (default 'voronoi'), "
                f"{plain:.1%} (plain 45 m buffers); target < 5%"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
