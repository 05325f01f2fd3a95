"""The plain script a competent GIS analyst would write for the same question as ``lifecircle analyze``: the
benchmark's peer (:mod:`bench_analyze`).

    python benchmarks/plain_script.py NETWORK.osm.pbf COMPOUNDS.gpkg SERVICES.gpkg OUT.csv [--minutes 10]

pyosmium reads the extract's ways with a ``highway`` tag (osmnx's walk filter: the same excluded values as
lifecircle, :mod:`lifecircle.geo.network.walkfilter`, written out here as a plain script would) and their node
locations; each consecutive node pair is an undirected edge, its length the haversine distance. Compounds (their
representative point) and services snap to the nearest street *node* with a KD-tree on locally projected metres
(farther than 300 m: unreachable); per category one scipy ``csgraph.dijkstra(min_only=True)`` from the category's
service nodes, limited to the walking distance, gives each compound its walk (plus its own snapping distance) to
the nearest service and which service it is. Writes ``compound_id, category, walk_m, walk_min,
nearest_service_id, covered`` (one row per compound and category, ``all`` too). It does no more than that: no
served areas, no report, no map, no checks of the inputs; it is what lifecircle's full run is compared with.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

EXCLUDED = {
    "area": "yes",
    "access": "private",
    "highway": "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|"
    "rest_area|services",
    "foot": "no",
    "service": "private",
    "sidewalk": "separate",
    "sidewalk:both": "separate",
    "sidewalk:left": "separate",
    "sidewalk:right": "separate",
}
EXCLUDED_RE = {key: re.compile(value) for key, value in EXCLUDED.items()}
EARTH_M = 6_371_008.8


def walkable(tags) -> bool:
    """osmnx's ``walk`` filter on one way's tags."""
    if "highway" not in tags:
        return False
    return not any(key in tags and pattern.search(tags[key]) for key, pattern in EXCLUDED_RE.items())


def read_streets(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node lon/lat and the (u, v) index pairs of every walkable way segment."""
    node_ids: dict[int, int] = {}
    lons: list[float] = []
    lats: list[float] = []
    us: list[int] = []
    vs: list[int] = []
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    processor = processor.with_filter(osmium.filter.KeyFilter("highway"))
    for way in processor:
        if not way.is_way() or not walkable(way.tags):  # highway=* nodes (crossings) pass the key filter too
            continue
        previous = -1
        for node in way.nodes:
            if not node.location.valid():
                previous = -1
                continue
            index = node_ids.get(node.ref)
            if index is None:
                index = node_ids[node.ref] = len(lons)
                lons.append(node.location.lon)
                lats.append(node.location.lat)
            if previous >= 0 and previous != index:
                us.append(previous)
                vs.append(index)
            previous = index
    return np.array(lons), np.array(lats), np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64)


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_M * np.arcsin(np.sqrt(a))


def local_xy(lon: np.ndarray, lat: np.ndarray, lat0: float) -> np.ndarray:
    """Equirectangular metres (good to a fraction of a percent over a city)."""
    return np.column_stack([np.radians(lon) * EARTH_M * math.cos(math.radians(lat0)), np.radians(lat) * EARTH_M])


def main() -> None:
    parser = argparse.ArgumentParser(description="plain coverage script (the analyze benchmark's peer)")
    parser.add_argument("network", type=Path)
    parser.add_argument("compounds", type=Path)
    parser.add_argument("services", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--speed-kmh", type=float, default=4.5)
    parser.add_argument("--max-snap-m", type=float, default=300.0)
    args = parser.parse_args()
    limit_m = args.minutes * args.speed_kmh * 1000 / 60

    lon, lat, u, v = read_streets(args.network)
    length = haversine_m(lon[u], lat[u], lon[v], lat[v])
    n = len(lon)
    graph = coo_matrix((np.r_[length, length], (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()

    compounds = gpd.read_file(args.compounds).to_crs(4326)
    services = gpd.read_file(args.services).to_crs(4326)
    lat0 = float(np.mean(lat))
    tree = cKDTree(local_xy(lon, lat, lat0))
    origin = compounds.geometry.representative_point()
    c_snap, c_node = tree.query(local_xy(origin.x.to_numpy(), origin.y.to_numpy(), lat0))
    s_snap, s_node = tree.query(local_xy(services.geometry.x.to_numpy(), services.geometry.y.to_numpy(), lat0))
    c_ok, s_ok = c_snap <= args.max_snap_m, s_snap <= args.max_snap_m

    ids = compounds["compound_id"].astype(str).to_numpy()
    service_ids = services["service_id"].astype(str).to_numpy()
    frames = []
    categories = ["all", *sorted(services["category"].astype(str).unique())]
    for category in categories:
        mask = s_ok & ((services["category"].astype(str) == category).to_numpy() | (category == "all"))
        sources = np.unique(s_node[mask])
        if len(sources):
            dist, _, nearest = dijkstra(graph, directed=False, indices=sources, min_only=True,
                                        return_predecessors=True, limit=limit_m)  # fmt: skip
        else:
            dist, nearest = np.full(n, np.inf), np.full(n, -9999)
        node_service = pd.Series(service_ids[mask], index=s_node[mask]).groupby(level=0).first()
        walk = np.where(c_ok, dist[c_node] + c_snap, np.inf)
        source = nearest[c_node]
        nearest_id = node_service.reindex(source).to_numpy()
        walk_m = np.where(np.isfinite(walk), walk, np.nan)
        frames.append(pd.DataFrame({
            "compound_id": ids,
            "category": category,
            "walk_m": np.round(walk_m, 1),
            "walk_min": np.round(walk_m / (args.speed_kmh * 1000 / 60), 2),
            "nearest_service_id": np.where(np.isfinite(walk), nearest_id, None),
            "covered": walk <= limit_m,
        }))  # fmt: skip
    pd.concat(frames, ignore_index=True).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
