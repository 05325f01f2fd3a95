"""Coverage cut into square tiles: each tile computed alone on the streets of its tile plus a halo, then merged.

A tile holds the compounds whose inside point falls in it. Its halo is wide enough that every walk within the
limit stays inside: the snap limit (origin to its street), the limit walked (at worst in a straight line, the
distance being at least ``min_cost_per_m`` of the cost), the snap limit again (a reached service's street to the
service) and a margin; the streets read reach one snap limit further, so every service of the halo snaps to the
street it snaps to on the whole network. Within the limit the tile's answers are therefore those of the whole
network: covered flags, services within the limit, the walk to the nearest service and the pairs.
Beyond the limit a tile cannot know the walk: such rows get ``reach = beyond_search_radius`` and no walk.

The functions here are pure (no scheduler): :func:`plan_tiles` cuts the work, :func:`tile_coverage` runs one tile
(a Dask task, or a plain call), :func:`merge_tiles` puts the tiles' answers back into one
:class:`~lifecircle.geo.reach.coverage.CoverageResult` in the layers' order.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from lifecircle.errors import NetworkError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.network.graph import PreparedNetwork, prepare_arrays, prepare_network
from lifecircle.geo.network.partition import PartitionedExtract, RegionSegments, region_graph, region_segments
from lifecircle.geo.reach.coverage import (
    CoverageResult,
    Origins,
    _coverage_table,
    _nearest_per_category,
    inside_points,
    service_categories,
)
from lifecircle.geo.routing.paths import pairs_within
from lifecircle.geo.routing.snapping import snap_points
from lifecircle.geo.walk import Walk, steps_cost_m

log = logging.getLogger(__name__)

__all__ = ["BEYOND", "TileResult", "TileTask", "halo_m", "merge_tiles", "plan_tiles", "tile_coverage", "tile_network"]

BEYOND = "beyond_search_radius"
HALO_MARGIN_M = 50.0
FLAT_RATIO = 0.99  # straight metres per metre of cost: great circle against the UTM grid, with room
HILL_RATIO = 0.8  # Tobler's fastest downhill walk is 1.19x the flat one


def halo_m(walk: Walk, max_snap_m: float) -> float:
    """How far beyond its tile a tile's services are taken (its streets reach one snap limit further)."""
    ratio = HILL_RATIO if walk.dem is not None else FLAT_RATIO
    return 2 * max_snap_m + walk.limit_m / ratio + HALO_MARGIN_M


@dataclass(frozen=True, eq=False)
class TileTask:
    """One tile's work: its compounds, the services of its halo, and the box of streets to read."""

    key: tuple[int, int]
    part: PartitionedExtract
    compounds: gpd.GeoDataFrame
    compound_pos: np.ndarray
    services: gpd.GeoDataFrame
    service_pos: np.ndarray
    owned: np.ndarray  # which of ``services`` lie in the tile itself (their snap is reported by this tile)
    categories: list[str]
    service_category: np.ndarray
    street_box_m: tuple[float, float, float, float]
    walk: Walk
    max_snap_m: float


@dataclass(frozen=True, eq=False)
class TileResult:
    """One tile's answers, by position in the whole layers."""

    key: tuple[int, int]
    compound_pos: np.ndarray
    walk_m: np.ndarray  # categories x compounds, inf beyond the limit
    nearest_pos: np.ndarray  # global service positions, -1 when none within the limit
    count: np.ndarray
    snapped: np.ndarray
    pair_compound: np.ndarray
    pair_service: np.ndarray
    pair_walk_m: np.ndarray
    owned_service_pos: np.ndarray
    owned_snapped: np.ndarray
    n_nodes: int
    seconds: float


def plan_tiles(
    part: PartitionedExtract,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    max_snap_m: float,
    tile_km: float,
    category_column: str | None = "category",
) -> list[TileTask]:
    """Cut compounds and services into ``tile_km`` tiles of the extract's metric grid (tiles with work only)."""
    crs = pyproj.CRS.from_wkt(part.crs)
    tile_m = float(tile_km) * 1000.0
    halo = halo_m(walk, max_snap_m)
    inner = inside_points(compounds, crs)
    cxy = np.column_stack([inner.x.to_numpy(), inner.y.to_numpy()])
    services_m = to_crs(services, crs)
    sxy = np.column_stack([services_m.geometry.x.to_numpy(), services_m.geometry.y.to_numpy()])
    service_category, categories = service_categories(services, category_column)
    ckey = np.floor(cxy / tile_m).astype(np.int64)
    skey = np.floor(sxy / tile_m).astype(np.int64)
    keys = sorted({tuple(k) for k in np.vstack([ckey, skey]).tolist()})
    tasks = []
    for ix, iy in keys:
        x0, y0, x1, y1 = ix * tile_m, iy * tile_m, (ix + 1) * tile_m, (iy + 1) * tile_m
        mine = np.flatnonzero((ckey[:, 0] == ix) & (ckey[:, 1] == iy))
        near = np.flatnonzero(
            (sxy[:, 0] >= x0 - halo) & (sxy[:, 0] <= x1 + halo) & (sxy[:, 1] >= y0 - halo) & (sxy[:, 1] <= y1 + halo)
        )
        owned = (skey[near, 0] == ix) & (skey[near, 1] == iy)
        reach = halo + max_snap_m
        tasks.append(
            TileTask(
                key=(ix, iy),
                part=part,
                compounds=compounds.iloc[mine],
                compound_pos=mine,
                services=services.iloc[near],
                service_pos=near,
                owned=owned,
                categories=categories,
                service_category=service_category[near],
                street_box_m=(x0 - reach, y0 - reach, x1 + reach, y1 + reach),
                walk=walk,
                max_snap_m=max_snap_m,
            )
        )
    log.info("%d tiles of %.1f km (halo %.0f m) for %d compounds", len(tasks), tile_km, halo, len(compounds))
    return tasks


def tile_network(task: TileTask, *, graph: bool = False) -> tuple[PreparedNetwork | None, int]:
    """The prepared network of a tile's street box and its number of nodes (``None`` when it has no street).

    Without a DEM the network goes from the partition's arrays to CSR with no graph
    (:func:`~lifecircle.geo.network.partition.region_segments`, steps priced on the arrays, then
    :func:`~lifecircle.geo.network.graph.prepare_arrays`); with a DEM (``graph=True`` too) through the networkx
    graph of :func:`~lifecircle.geo.network.partition.region_graph`, since hills are priced on a graph. Both give
    the same network.
    """
    crs = pyproj.CRS.from_wkt(task.part.crs)
    if graph or task.walk.dem is not None:
        G = region_graph(task.part, task.street_box_m)
        try:
            weighted, weight = task.walk.cost_graph(G)
            return prepare_network(weighted, crs=crs, weight=weight), len(G)
        except NetworkError:  # no street within reach: everything here is off the network
            return None, len(G)
    seg = region_segments(task.part, task.street_box_m, highway=task.walk.prices_steps)
    edge_u, edge_v, segment = seg.directed_edges()
    try:
        net = prepare_arrays(
            seg.node_ids,
            seg.node_lonlat,
            node_crs="EPSG:4326",
            edge_u=edge_u,
            edge_v=edge_v,
            edge_cost_m=_segment_cost_m(seg, task.walk)[segment],
            crs=crs,
        )
    except NetworkError:
        net = None
    return net, len(seg.node_ids)


def _segment_cost_m(seg: RegionSegments, walk: Walk) -> np.ndarray:
    """Each segment's walking cost without a DEM: its length, times ``steps_factor`` on ``highway=steps``.

    Priced by :func:`lifecircle.geo.walk.steps_cost_m`, as :func:`~lifecircle.geo.walk.price_steps` prices a graph.
    """
    if not walk.prices_steps:
        return seg.length_m
    if seg.highway is None:
        raise ValueError("Pricing steps needs the segments' highway tags: region_segments(..., highway=True).")
    return steps_cost_m(seg.length_m, seg.highway == "steps", factor=walk.steps_factor)


def tile_coverage(task: TileTask) -> TileResult:
    """Coverage of one tile's compounds on the streets of its box (a Dask task; see :func:`tile_network`)."""
    start = time.perf_counter()
    n_comp, n_cat = len(task.compounds), len(task.categories)
    walk_c = np.full((n_cat, n_comp), np.inf)
    near_c = np.full((n_cat, n_comp), -1, dtype=np.int64)
    count = np.zeros((n_cat, n_comp), dtype=np.int64)
    snapped = np.zeros(n_comp, dtype=bool)
    owned_snapped = np.zeros(int(task.owned.sum()), dtype=bool)
    pairs = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    net, n_nodes = tile_network(task)
    if net is not None:
        inner = inside_points(task.compounds, net.crs)
        origins = Origins(
            points=inner,
            compound_pos=np.arange(n_comp),
            attachment=snap_points(net, inner.to_numpy(), max_snap_m=task.max_snap_m),
        )
        services_m = to_crs(task.services, net.crs)
        service_att = snap_points(net, services_m.geometry.to_numpy(), max_snap_m=task.max_snap_m)
        snapped = origins.attachment.snapped.copy()
        owned_snapped = service_att.snapped[task.owned]
        if n_comp and service_att.snapped.any():
            o, s, w = pairs_within(net, origins.attachment, service_att, limit_m=task.walk.limit_m)
            walk_c, near_c, count = _nearest_per_category(
                net, origins, service_att, task.service_category, task.categories, o, s, n_comp
            )
            pairs = (o, s, w)
    beyond = ~(walk_c <= task.walk.limit_m)
    walk_c[beyond] = np.inf
    found = ~beyond & (near_c >= 0)
    near_global = np.full(near_c.shape, -1, dtype=np.int64)
    near_global[found] = task.service_pos[near_c[found]]
    o, s, w = pairs
    seconds = time.perf_counter() - start
    log.info(
        "tile %s: %d compounds, %d services, %d nodes, %.1f s", task.key, n_comp, len(task.services), n_nodes, seconds
    )
    return TileResult(
        key=task.key,
        compound_pos=task.compound_pos,
        walk_m=walk_c,
        nearest_pos=near_global,
        count=count,
        snapped=snapped,
        pair_compound=task.compound_pos[o],
        pair_service=task.service_pos[s],
        pair_walk_m=w,
        owned_service_pos=task.service_pos[task.owned],
        owned_snapped=owned_snapped,
        n_nodes=n_nodes,
        seconds=seconds,
    )


def merge_tiles(
    results: list[TileResult],
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    categories: list[str],
    walk: Walk,
    max_snap_m: float,
    crs: pyproj.CRS,
) -> CoverageResult:
    """The tiles' answers as one coverage result, in the layers' order (the one a whole-network run gives).

    Rows with no service within the limit have ``reach = beyond_search_radius`` (no walk, no nearest service)
    unless the compound is off the network.
    """
    n_comp, n_cat = len(compounds), len(categories)
    walk_c = np.full((n_cat, n_comp), np.inf)
    near_c = np.full((n_cat, n_comp), -1, dtype=np.int64)
    count = np.zeros((n_cat, n_comp), dtype=np.int64)
    snapped = np.zeros(n_comp, dtype=bool)
    service_snapped = np.zeros(len(services), dtype=bool)
    for r in results:
        walk_c[:, r.compound_pos], near_c[:, r.compound_pos] = r.walk_m, r.nearest_pos
        count[:, r.compound_pos], snapped[r.compound_pos] = r.count, r.snapped
        service_snapped[r.owned_service_pos] = r.owned_snapped
    table = _coverage_table(
        compounds, services, categories, (walk_c, near_c, count), snapped, walk.limit_m, walk.speed_kmh
    )
    table.loc[table["reach"].eq("no_service_connected").to_numpy(), "reach"] = BEYOND
    pc = np.concatenate([r.pair_compound for r in results]) if results else np.empty(0, np.int64)
    ps = np.concatenate([r.pair_service for r in results]) if results else np.empty(0, np.int64)
    pw = np.concatenate([r.pair_walk_m for r in results]) if results else np.empty(0)
    order = np.lexsort((ps, pc))
    pairs = pd.DataFrame(
        {
            "compound_id": compounds.index.take(pc[order]),
            "service_id": services.index.take(ps[order]),
            "walk_m": pw[order],
        }
    )
    if not snapped.any() or not service_snapped.any():
        raise NetworkError(f"No compound or no service lies within {max_snap_m:.0f} m of a walkable street.")
    return CoverageResult(
        table=table,
        services_off_network=services.index[~service_snapped],
        compounds_off_network=compounds.index[~snapped],
        pairs=pairs,
        params={
            "max_walk_min": float(walk.max_walk_min),
            "max_walk_m": float(walk.limit_m),
            "speed_kmh": float(walk.speed_kmh),
            "max_snap_m": float(max_snap_m),
            "origin": "representative_point",
            "crs": crs.to_string(),
            "tiles": len(results),
        },
    )
