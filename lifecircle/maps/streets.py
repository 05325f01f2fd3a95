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
from lifecircle.geo.crs import metric_crs_for_lonlat
from lifecircle.geo.network.graph import PreparedNetwork, edge_table
from lifecircle.maps._geometry import COORD_DECIMALS, check_gdf, to_display_crs

logger = logging.getLogger(__name__)

__all__ = ["ROAD_CLASSES", "STREET_SIMPLIFY_M", "road_class", "street_data", "street_edges", "street_layer"]

#: Drawing classes, lightest first (drawn in this order, main roads on top).
ROAD_CLASSES: tuple[str, ...] = ("path", "minor", "major")
STREET_SIMPLIFY_M = 2.0  # display simplification of streets, metres
ROW_POINTS = 3000  # points per drawn line at most: the runtime draws rows in short slices
_MAJOR = {"motorway", "trunk", "primary", "secondary"}
_PATH = {
    "footway",
    "path",
    "pedestrian",
    "steps",
    "cycleway",
    "track",
    "bridleway",
    "corridor",
    "sidewalk",
    "crossing",
    "elevator",
    "platform",
    "service",
}  # fmt: skip  (service roads: driveways and parking aisles, drawn light and from zoom 15 like footways)
_SCALE = 10**COORD_DECIMALS


def road_class(highway: object) -> str:
    """``major`` (motorway … secondary, with links), ``path`` (footways, paths, steps, service roads …) or ``minor``."""
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
    table = edge_table(network)
    xy = np.array([(d["x"], d["y"]) for _, d in network.nodes(data=True)], dtype=float).reshape(-1, 2)
    lo, hi = np.minimum(table.u, table.v), np.maximum(table.u, table.v)
    keys = [d.get("osmid") if not isinstance(d.get("osmid"), list) else tuple(d["osmid"]) for d in table.data]
    pair = pd.DataFrame({"lo": lo, "hi": hi, "way": pd.Series(keys, dtype=object).astype(str)})
    once = np.flatnonzero(~pair.duplicated().to_numpy())  # the two directions of a street: one line
    data = [table.data[k] for k in once]
    geoms = np.array([d.get("geometry") for d in data], dtype=object)
    straight = np.flatnonzero(pd.isna(pd.Series(geoms, dtype=object)).to_numpy())
    ends = np.stack([xy[table.u[once[straight]]], xy[table.v[once[straight]]]], axis=1)
    geoms[straight] = shapely.linestrings(ends) if len(straight) else []
    return gpd.GeoDataFrame(
        {"highway": [d.get("highway") for d in data], "name": [_first_text(d.get("name")) for d in data]},
        geometry=geoms,
        crs=crs,
    )


def _classes_and_names(streets: gpd.GeoDataFrame) -> tuple[np.ndarray, pd.Series]:
    """Road class index (into :data:`ROAD_CLASSES`) and name (None when unnamed) of each street line."""
    if "road_class" in streets.columns:  # a street layer (:func:`street_layer`) read back
        lookup = {c: k for k, c in enumerate(ROAD_CLASSES)}
        cls = streets["road_class"].map(lookup).fillna(ROAD_CLASSES.index("minor")).to_numpy(int)
    elif "highway" in streets.columns:
        first = streets["highway"].map(lambda v: (v[0] if len(v) else None) if isinstance(v, (list, tuple)) else v)
        first = first.where(first.map(lambda v: isinstance(v, str)), None)
        lookup = {h: ROAD_CLASSES.index(road_class(h)) for h in pd.unique(first.dropna())}
        cls = first.map(lookup).fillna(ROAD_CLASSES.index("minor")).to_numpy(int)
    else:
        cls = np.full(len(streets), ROAD_CLASSES.index("minor"))
    names = streets["name"].map(_first_text) if "name" in streets.columns else pd.Series(None, index=streets.index)
    return cls, names


def _merged_lines(streets: gpd.GeoDataFrame) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Lines merged per (class, name): names, class index, name index (-1: unnamed) and merged geometries."""
    cls, names = _classes_and_names(streets)
    geoms = streets.geometry.to_numpy()
    drawn = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    cls, names, geoms = cls[drawn], names[drawn], geoms[drawn]
    name_list = sorted(names.dropna().unique().tolist())
    name_idx = names.map({n: k for k, n in enumerate(name_list)}).fillna(-1).to_numpy(int)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    key = cls[owner].astype(np.int64) * (len(name_list) + 1) + (name_idx[owner] + 1)
    groups, group_of = np.unique(key, return_inverse=True)
    order = np.argsort(group_of, kind="stable")
    merged = shapely.line_merge(shapely.multilinestrings(parts[order], indices=group_of[order]))
    return name_list, groups // (len(name_list) + 1), groups % (len(name_list) + 1) - 1, merged


def _encode(lines: np.ndarray) -> list[list[tuple[str, int]]]:
    """Each (multi)line's parts as JSON arrays of integer coordinates (1e-5 degrees), each after the first a delta.

    Returns per line its parts as (text, number of points); parts left with fewer than two points are dropped.
    """
    parts, owner = shapely.get_parts(lines, return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    xy = np.rint(xy * _SCALE).astype(np.int64)
    first = np.ones(len(xy), bool)
    first[1:] = part[1:] != part[:-1]
    keep = first.copy()
    keep[1:] |= np.any(xy[1:] != xy[:-1], axis=1)  # repeated points after rounding are dropped
    xy, part, first = xy[keep], part[keep], first[keep]
    delta = xy.copy()
    delta[~first] = xy[~first] - xy[np.flatnonzero(~first) - 1]
    counts = np.bincount(part, minlength=len(parts))
    tokens = ",".join(map(str, delta.ravel().tolist())).split(",")
    ends = np.cumsum(counts) * 2
    out: list[list[tuple[str, int]]] = [[] for _ in range(len(lines))]
    for p, (n, end) in enumerate(zip(counts.tolist(), ends.tolist(), strict=True)):
        if n >= 2:
            out[owner[p]].append(("[" + ",".join(tokens[end - 2 * n : end]) + "]", n))
    return out


def _rows(cls: int, name_idx: int, parts: list[tuple[str, int]]) -> list[str]:
    """JSON rows ``[class, name index, part, …]`` of at most :data:`ROW_POINTS` points (one part may exceed it)."""
    rows, texts, size = [], [], 0
    for text, n in parts:
        if texts and size + n > ROW_POINTS:
            rows.append(f"[{cls},{name_idx},{','.join(texts)}]")
            texts, size = [], 0
        texts.append(text)
        size += n
    if texts:
        rows.append(f"[{cls},{name_idx},{','.join(texts)}]")
    return rows


def street_layer(
    network: nx.MultiDiGraph | PreparedNetwork | gpd.GeoDataFrame, *, simplify_m: float = STREET_SIMPLIFY_M
) -> gpd.GeoDataFrame:
    """The street layer a map draws, as lines: one (multi)line per road class and street name, simplified.

    This is what an analysis folder keeps (``streets.gpkg``) so that maps made later from the folder
    (``lifecircle publish``) draw the same streets with no network at hand.

    Parameters
    ----------
    network
        A walking network, or street lines with optional ``highway`` and ``name`` columns (see :func:`street_edges`).
    simplify_m
        Simplification tolerance in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``road_class`` (one of :data:`ROAD_CLASSES`), ``name`` (None when unnamed) and line geometry, in
        EPSG:4326; :func:`street_data` draws it as it is.
    """
    streets = network if isinstance(network, gpd.GeoDataFrame) else street_edges(network)
    streets = check_gdf(streets, "streets", geom_types=("LineString", "MultiLineString"))
    if "road_class" in streets.columns and streets.crs.equals(4326):
        return streets  # a street layer already (read back from an analysis folder)
    if streets.empty:
        return gpd.GeoDataFrame({"road_class": [], "name": []}, geometry=[], crs=4326)
    wgs = streets.geometry.to_crs(4326)
    x0, y0, x1, y1 = wgs.total_bounds
    metric = metric_crs_for_lonlat(np.array([(x0 + x1) / 2]), np.array([(y0 + y1) / 2]))
    names, cls, idx, merged = _merged_lines(streets.set_geometry(wgs.to_crs(metric)))
    merged = shapely.simplify(merged, simplify_m, preserve_topology=False)
    name_of = np.array([*names, None], dtype=object)
    return gpd.GeoDataFrame(
        {"road_class": np.array(ROAD_CLASSES, dtype=object)[cls], "name": name_of[idx]},
        geometry=gpd.GeoSeries(merged, crs=metric).to_crs(4326).to_numpy(),
        crs=4326,
    )


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
    layer = street_layer(streets, simplify_m=simplify_m)
    if layer.empty:
        return [], "[]"
    cls, names = _classes_and_names(layer)
    name_list = sorted(names.dropna().unique().tolist())
    idx = names.map({n: k for k, n in enumerate(name_list)}).fillna(-1).to_numpy(int)
    shown = to_display_crs(layer.geometry.to_numpy(), gcj=gcj)
    rows = [row for c, k, parts in zip(cls, idx, _encode(shown), strict=True) for row in _rows(c, k, parts)]
    logger.debug("street layer: %d segments in %d lines, %d names", len(streets), len(rows), len(name_list))
    return name_list, "[" + ",".join(rows) + "]"
