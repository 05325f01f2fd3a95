"""The walking network as a street layer drawn from the data, so a map shows streets with no tile server.

:func:`street_edges` turns a walking graph (or a prepared network) into one line per street segment with its road
class and name; :func:`street_data` merges, simplifies and rounds them into compact JSON the map runtime draws on
a canvas (main roads heavier, footways lighter, names on hover).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.maps._geometry import COORD_DECIMALS, check_gdf, to_display_crs

logger = logging.getLogger(__name__)

__all__ = ["ROAD_CLASSES", "STREET_SIMPLIFY_M", "road_class", "street_data", "street_edges"]

#: Drawing classes, lightest first (drawn in this order, main roads on top).
ROAD_CLASSES: tuple[str, ...] = ("path", "minor", "major")
STREET_SIMPLIFY_M = 2.0  # display simplification of streets, metres
_MAJOR = {"motorway", "trunk", "primary", "secondary"}
_PATH = {
    "footway", "path", "pedestrian", "steps", "cycleway", "track", "bridleway",
    "corridor", "sidewalk", "crossing", "elevator", "platform",
}  # fmt: skip
_SCALE = 10**COORD_DECIMALS


def road_class(highway: object) -> str:
    """``major`` (motorway … secondary, with links), ``path`` (footways, paths, steps …) or ``minor``."""
    if isinstance(highway, (list, tuple)):
        highway = highway[0] if highway else None
    if not isinstance(highway, str):
        return "minor"
    base = highway.removesuffix("_link")
    if base in _MAJOR:
        return "major"
    return "path" if base in _PATH else "minor"


def _first_text(value: object) -> str | None:
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def street_edges(network: nx.MultiDiGraph | PreparedNetwork) -> gpd.GeoDataFrame:
    """One line per street segment of a walking network, with ``highway`` and ``name``.

    Parameters
    ----------
    network
        An osmnx-style graph (``x``/``y`` node coordinates, optional ``geometry``, ``highway`` and ``name`` on
        edges, ``graph["crs"]``), or a :class:`~lifecircle.geo.network.graph.PreparedNetwork` (its segments, with
        no names or road classes).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``highway``, ``name`` and line geometry, in the network's CRS; each two-way street once.
    """
    if isinstance(network, PreparedNetwork):
        n = len(network.segment_lines)
        return gpd.GeoDataFrame(
            {"highway": [None] * n, "name": [None] * n}, geometry=network.segment_lines, crs=network.crs
        )
    if not isinstance(network, nx.MultiDiGraph | nx.MultiGraph | nx.DiGraph | nx.Graph):
        raise InputError(f"streets must be a GeoDataFrame or a walking network, got {type(network).__name__}.")
    crs = network.graph.get("crs")
    if crs is None:
        raise InputError("The walking network has no 'crs' in its graph attributes.")
    nodes = network.nodes
    seen: set[tuple] = set()
    highway, name, geoms = [], [], []
    edges = network.edges(keys=True, data=True) if network.is_multigraph() else network.edges(data=True)
    for edge in edges:
        u, v, d = edge[0], edge[1], edge[-1]
        key = (min(u, v, key=str), max(u, v, key=str), edge[2] if len(edge) == 4 else 0)
        if key in seen:
            continue
        seen.add(key)
        geom = d.get("geometry")
        if geom is None:
            geom = shapely.LineString([(nodes[u]["x"], nodes[u]["y"]), (nodes[v]["x"], nodes[v]["y"])])
        highway.append(d.get("highway"))
        name.append(_first_text(d.get("name")))
        geoms.append(geom)
    return gpd.GeoDataFrame({"highway": highway, "name": name}, geometry=geoms, crs=crs)


def _merged_lines(streets: gpd.GeoDataFrame) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Lines merged per (class, name): names, class index, name index (-1: unnamed) and merged geometries."""
    highway = streets["highway"] if "highway" in streets.columns else pd.Series(None, index=streets.index)
    names = streets["name"] if "name" in streets.columns else pd.Series(None, index=streets.index)
    frame = pd.DataFrame(
        {
            "cls": highway.map(road_class).map(ROAD_CLASSES.index).to_numpy(),
            "name": names.map(_first_text).to_numpy(),
            "geom": streets.geometry.to_numpy(),
        }
    )
    frame = frame[~(shapely.is_missing(frame["geom"].to_numpy()) | shapely.is_empty(frame["geom"].to_numpy()))]
    name_list = sorted(frame["name"].dropna().unique().tolist())
    frame["name_idx"] = frame["name"].map({n: k for k, n in enumerate(name_list)}).fillna(-1).astype(int)
    cls, idx, merged = [], [], []
    for (c, k), group in frame.groupby(["cls", "name_idx"], sort=True):
        lines = shapely.get_parts(group["geom"].to_numpy())
        cls.append(c)
        idx.append(k)
        merged.append(shapely.line_merge(shapely.multilinestrings(lines)))
    return name_list, np.array(cls, int), np.array(idx, int), np.array(merged, dtype=object)


def _encode(geom: shapely.Geometry) -> str:
    """Parts of a (multi)line as JSON arrays of integer coordinates (1e-5 degrees), each after the first a delta."""
    out = []
    for part in shapely.get_parts(geom):
        xy = np.rint(shapely.get_coordinates(part) * _SCALE).astype(np.int64)
        keep = np.ones(len(xy), bool)
        keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)
        xy = xy[keep]
        if len(xy) < 2:
            continue
        xy[1:] = np.diff(xy, axis=0)
        out.append("[" + ",".join(map(str, xy.ravel().tolist())) + "]")
    return ",".join(out)


def street_data(streets: gpd.GeoDataFrame, *, gcj: bool, simplify_m: float = STREET_SIMPLIFY_M) -> tuple[list, str]:
    """The street layer as the map runtime reads it.

    Parameters
    ----------
    streets
        Street lines (any CRS) with optional ``highway`` and ``name`` columns (see :func:`street_edges`).
    gcj
        Shift to GCJ-02 (for Amap tiles).
    simplify_m
        Simplification tolerance in metres.

    Returns
    -------
    names, lines_json
        The street names (user text, to escape), and JSON text of ``[[class, name index, part, part …], …]``
        where a part is ``[x0, y0, dx1, dy1, …]`` in 1e-5 degrees (numbers only).
    """
    streets = check_gdf(streets, "streets", geom_types=("LineString", "MultiLineString"))
    if streets.empty:
        return [], "[]"
    metric = streets.geometry.to_crs(4326).estimate_utm_crs()
    streets = streets.set_geometry(streets.geometry.to_crs(metric))
    names, cls, idx, merged = _merged_lines(streets)
    merged = shapely.simplify(merged, simplify_m, preserve_topology=False)
    wgs = gpd.GeoSeries(merged, crs=metric).to_crs(4326).to_numpy()
    wgs = to_display_crs(wgs, gcj=gcj)
    rows = []
    for c, k, g in zip(cls, idx, wgs, strict=True):
        parts = _encode(g)
        if parts:
            rows.append(f"[{c},{k},{parts}]")
    logger.debug("street layer: %d segments in %d lines, %d names", len(streets), len(rows), len(names))
    return names, "[" + ",".join(rows) + "]"
