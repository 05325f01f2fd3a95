"""Small hand-made walking graphs (metric CRS) shared by the walking tests."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

CRS = "EPSG:32650"  # UTM 50N: metres


def graph_from_polylines(polylines: list[tuple[list[tuple[float, float]], dict]], crs: str = CRS) -> nx.MultiDiGraph:
    """Both directions of every polyline vertex pair; nodes are identified by their coordinates."""
    G = nx.MultiDiGraph(crs=crs)
    ids: dict[tuple[float, float], int] = {}

    def node(xy: tuple[float, float]) -> int:
        if xy not in ids:
            ids[xy] = len(ids) + 1
            G.add_node(ids[xy], x=float(xy[0]), y=float(xy[1]))
        return ids[xy]

    for coords, attrs in polylines:
        for a, b in itertools.pairwise(coords):
            length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            G.add_edge(node(a), node(b), length=length, **attrs)
            G.add_edge(node(b), node(a), length=length, reversed=True, **attrs)
    return G


def squares(centres: dict[str, tuple[float, float]], half_m: float, crs: str = CRS) -> gpd.GeoDataFrame:
    """Square compounds indexed by compound_id."""
    xy = np.array(list(centres.values()), dtype=float)
    geoms = shapely.box(xy[:, 0] - half_m, xy[:, 1] - half_m, xy[:, 0] + half_m, xy[:, 1] + half_m)
    frame = gpd.GeoDataFrame({"name": list(centres)}, geometry=geoms, crs=crs, index=list(centres))
    frame.index.name = "compound_id"
    return frame


def points(rows: dict[str, tuple[float, float]], crs: str = CRS, **columns) -> gpd.GeoDataFrame:
    """Point layer indexed by the dict keys."""
    xy = np.array(list(rows.values()), dtype=float)
    return gpd.GeoDataFrame(dict(columns), geometry=shapely.points(xy), crs=crs, index=list(rows))
