"""Walking isochrones built from the streets actually reached, to the metre.

For every service point and time break, the reached stretches of street come from
:mod:`lifecircle.geo.reach.streetreach` (cut at the exact metre, the service's own segment walked from its
position). The polygon (default shape ``"voronoi"``, see :class:`~lifecircle.geo.reach.shapes.ShapeOptions`) is the
land within the walking catchment of the reached streets that is nearer to them than to any other street — the
cells of :class:`lifecircle.geo.reach.streetcells.StreetCells`, built once per network and joined by a coverage
union, cut square across a street where the limit cuts it — never a convex hull, with small holes filled and large
unreached holes kept. Plain buffers of the reached streets (``"buffer"``) and a concave hull (``"concave"``) remain
for comparison.

Outputs are GeoDataFrames in the network's metric CRS: one polygon per service and break, the dissolved served
area per category and break (computed once from the nearest-service walk of each category, not by unioning
per-service polygons), and optional non-overlapping rings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.network.barriers import Barriers
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.coverage import ALL, DEFAULT_SPEED_KMH
from lifecircle.geo.reach.isochrone_outputs import LAYERS, area_share, write_isochrones
from lifecircle.geo.reach.isochrone_work import IsochroneWork, category_task, init_worker, service_task
from lifecircle.geo.reach.linecut import SegmentVertices
from lifecircle.geo.reach.shapes import (
    DEFAULT_CATCHMENT_M,
    DEFAULT_CONCAVE_RATIO,
    DEFAULT_MIN_HOLE_M2,
    DEFAULT_QUAD_SEGS,
    LINE_SHAPES,
    MAX_CATCHMENT_M,
    SHAPES,
    ShapeOptions,
    fill_small_holes,
    reach_shapes,
)
from lifecircle.geo.reach.streetcells import StreetCells
from lifecircle.geo.reach.streetreach import DEFAULT_CHUNK, StreetReach, segment_length_m, street_reach
from lifecircle.geo.routing.paths import node_costs_to_nearest
from lifecircle.geo.routing.snapping import DEFAULT_MAX_SNAP_M, Attachment, snap_points
from lifecircle.geo.validate import require_positive, require_some_on_network
from lifecircle.geo.walk import Walk, metres_per_minute, prepared

__all__ = [
    "DEFAULT_CATCHMENT_M",
    "DEFAULT_CHUNK",
    "DEFAULT_CONCAVE_RATIO",
    "DEFAULT_MINUTES",
    "DEFAULT_MIN_HOLE_M2",
    "DEFAULT_QUAD_SEGS",
    "LAYERS",
    "LINE_SHAPES",
    "MAX_CATCHMENT_M",
    "SHAPES",
    "IsochroneResult",
    "ShapeOptions",
    "StreetReach",
    "area_share",
    "fill_small_holes",
    "isochrones",
    "make_rings",
    "reach_shapes",
    "segment_length_m",
    "street_reach",
    "write_isochrones",
]

log = logging.getLogger(__name__)

DEFAULT_MINUTES = (5.0, 10.0, 15.0)
PER_SERVICE_COLUMNS = ["service_id", "category", "break_min", "area_m2", "street_m", "geometry"]
SERVED_COLUMNS = ["category", "break_min", "n_services", "area_m2", "street_m", "geometry"]
RING_COLUMNS = ["category", "break_min", "from_min", "to_min", "area_m2", "geometry"]


@dataclass(frozen=True, eq=False)
class IsochroneResult:
    """Walking isochrones of service points, in the network's metric CRS.

    Attributes
    ----------
    per_service
        One row per service and break: ``service_id, category, break_min, area_m2, street_m, geometry``
        (empty geometry for services off the network).
    served_area
        One row per category (``all`` first) and break: ``category, break_min, n_services, area_m2, street_m,
        geometry`` — the area within the break of the nearest service of the category.
    rings
        Non-overlapping bands of ``served_area`` (``from_min``–``to_min``) per category, or None when not asked.
    services_off_network
        Ids of services farther than the snap limit from every street (they reach nothing).
    params
        Parameters used.
    street_cells
        The street partition the ``"voronoi"`` shape used (None for other shapes): pass it back to
        :func:`isochrones` to draw more isochrones on the same network without building it again.
    """

    per_service: gpd.GeoDataFrame
    served_area: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame | None
    services_off_network: pd.Index
    params: dict = field(default_factory=dict)
    street_cells: StreetCells | None = field(default=None, repr=False)


def isochrones(
    network: nx.MultiDiGraph | PreparedNetwork,
    services: gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    options: ShapeOptions | None = None,
    category_column: str | None = "category",
    rings: bool = False,
    per_service: bool = True,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK,
    street_cells: StreetCells | None = None,
    barriers: Barriers | None = None,
    walk: Walk | None = None,
) -> IsochroneResult:
    """Walking isochrones of every service point at each time break, from the streets actually reached.

    Parameters
    ----------
    network
        The walking network (osmnx-style graph, or already prepared).
    services
        Service points indexed by service id (any CRS; not modified).
    minutes
        Time breaks in minutes.
    speed_kmh
        Walking speed.
    options
        The shape of the polygons and its widths (:class:`~lifecircle.geo.reach.shapes.ShapeOptions`; default
        ``"voronoi"`` with a 45 m catchment).
    category_column
        Column of ``services`` holding categories; None or absent: only ``all``.
    rings
        Also return non-overlapping bands between consecutive breaks of the served areas.
    per_service
        False: only the served areas (one multi-source search per category instead of one search and one
        polygon per service); ``per_service`` of the result is then empty.
    max_snap_m
        Services farther than this from every street reach nothing.
    workers
        Processes working on chunks of services in parallel (1: in this process); without ``per_service``,
        threads drawing the categories' served areas (GEOS runs without Python's lock).
    chunk_size
        Services searched together; memory grows with ``chunk_size × n_nodes``.
    street_cells
        ``"voronoi"`` only: the street partition of this network from an earlier call
        (``result.street_cells``), to reuse instead of building it again; it must have been built with
        the same ``catchment_m`` (and the barriers it was built with are kept).
    barriers
        ``"voronoi"`` only: water, railways and motorways (:mod:`lifecircle.geo.network.barriers`, any CRS) that no
        polygon reaches across, except where a reached street crosses them.
    walk
        The walk (:class:`~lifecircle.geo.walk.Walk`): its speed replaces ``speed_kmh`` and a graph is prepared
        with its edge costs (steps, hills); the breaks stay ``minutes``.

    Returns
    -------
    IsochroneResult

    Raises
    ------
    InputError
        A break is not valid, or the street cells were built for another catchment.
    NetworkError
        No service lies within ``max_snap_m`` of a walkable street.
    """
    options = options or ShapeOptions()
    breaks = sorted({require_positive(m, "Each isochrone break", "minutes") for m in minutes})
    if not breaks:
        raise InputError("Isochrones need at least one time break in minutes.")
    if not services.index.is_unique:
        raise InputError("Service ids (the index of the services layer) are not unique.")
    if walk is not None:
        speed_kmh = walk.speed_kmh
    net = prepared(network, walk)
    limits = np.asarray(breaks) * metres_per_minute(speed_kmh)
    services_m = to_crs(services, net.crs)
    points = services_m.geometry.to_numpy()
    att = snap_points(net, points, max_snap_m=max_snap_m)
    require_some_on_network(att.snapped, "services", max_snap_m)
    category = (
        services_m[category_column].astype(str).to_numpy()
        if category_column and category_column in services_m.columns
        else np.full(len(services_m), ALL, dtype=object)
    )
    cat_names, cat_code = np.unique(category, return_inverse=True)
    cat_names = [str(c) for c in cat_names]
    work = IsochroneWork(
        net=net,
        vertices=SegmentVertices.from_lines(net.segment_lines),
        attachment=att,
        service_xy=_point_xy(points),
        category_code=cat_code.astype(np.int64),
        n_categories=len(cat_names),
        limits_m=limits,
        options=options,
        cells=_street_cells(net, options, street_cells, barriers),
    )
    off = ~att.snapped
    if off.any():
        log.warning("%d of %d services are off the walking network and reach nothing", off.sum(), len(off))
    if per_service:
        polys, street, served = _per_service_run(work, workers=workers, chunk_size=chunk_size)
    else:
        polys = np.array([shapely.Polygon()] * (len(points) * len(limits)), dtype=object).reshape(len(points), -1)
        street = np.zeros((len(points), len(limits)))
        served = _served_only_run(work, workers=workers)
    if len(cat_names) == 1 and cat_names != [ALL]:
        served[0] = served[-1]
    served_area = _served_frame(served, cat_names, cat_code, att, breaks, net)
    log.info(
        "isochrones: %d services x %d breaks, %d categories, shape %s, catchment %.0f m",
        len(points),
        len(breaks),
        len(cat_names),
        options.shape,
        options.catchment_m,
    )
    return IsochroneResult(
        per_service=_per_service_frame(services_m.index, category, breaks, polys, street, net).iloc[
            : None if per_service else 0
        ],
        served_area=served_area,
        rings=make_rings(served_area) if rings else None,
        services_off_network=services.index[off],
        params=_params(work, breaks, speed_kmh, max_snap_m),
        street_cells=work.cells,
    )


def _params(work: IsochroneWork, breaks: list[float], speed_kmh: float, max_snap_m: float) -> dict:
    """The parameters an isochrone run used (JSON-ready)."""
    options = work.options
    return {
        "minutes": breaks,
        "speed_kmh": float(speed_kmh),
        "limits_m": [float(x) for x in work.limits_m],
        "catchment_m": options.catchment_m,
        "min_hole_m2": options.min_hole_m2,
        "shape": options.shape,
        "max_snap_m": float(max_snap_m),
        "crs": work.net.crs.to_string(),
        **({"spacing_m": work.cells.spacing_m} if work.cells is not None else {}),
    }


def _point_xy(points: np.ndarray) -> np.ndarray:
    """``(n, 2)`` coordinates of the points, NaN where a point is missing or empty."""
    xy = np.full((len(points), 2), np.nan)
    present = ~(shapely.is_missing(points) | shapely.is_empty(points))
    xy[present] = shapely.get_coordinates(points[present])
    return xy


def _street_cells(
    net: PreparedNetwork, options: ShapeOptions, given: StreetCells | None, barriers: Barriers | None
) -> StreetCells | None:
    """The street partition of the ``"voronoi"`` shape: ``given`` (checked) or built now; None for other shapes."""
    if options.shape != "voronoi":
        return None
    if given is not None:
        if not np.isclose(given.catchment_m, options.catchment_m):
            raise InputError(
                f"The street cells given were built for a {given.catchment_m} m catchment, not {options.catchment_m} m."
            )
        return given
    return StreetCells.build(
        net,
        catchment_m=options.catchment_m,
        spacing_m=options.spacing_m,
        quad_segs=options.quad_segs,
        barriers=barriers,
    )


def _category_jobs(work: IsochroneWork) -> list[int]:
    """Category codes whose served area is drawn; ``-1`` is every service (one category: computed once, as -1)."""
    return [*range(work.n_categories), -1] if work.n_categories > 1 else [-1]


def _per_service_run(
    work: IsochroneWork, *, workers: int, chunk_size: int
) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Polygons and street metres per service and break, and the served area per category (in workers)."""
    n_points, n_lim = len(work.service_xy), len(work.limits_m)
    snapped = np.flatnonzero(work.attachment.snapped)
    tasks = [snapped[i : i + chunk_size] for i in range(0, len(snapped), chunk_size)]
    polys = np.array([shapely.Polygon()] * (n_points * n_lim), dtype=object).reshape(n_points, -1)
    street = np.zeros((n_points, n_lim))
    best = np.full((work.n_categories, work.net.n_nodes), np.inf)
    served: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def collect(result: tuple) -> None:
        positions, p, s, b = result
        polys[positions], street[positions] = p, s
        np.fmin(best, b, out=best)

    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("fork"), initializer=init_worker, initargs=(work,)
        ) as pool:
            for result in pool.map(service_task, tasks):
                collect(result)
            every = best.min(axis=0)
            futures = [pool.submit(category_task, c, every if c < 0 else best[c]) for c in _category_jobs(work)]
            for future in futures:
                c, p, s = future.result()
                served[c] = (p, s)
        return polys, street, served
    for task in tasks:
        collect(service_task(task, work))
    every = best.min(axis=0)
    for c in _category_jobs(work):
        _, p, s = category_task(c, every if c < 0 else best[c], work)
        served[c] = (p, s)
    return polys, street, served


def _served_only_run(work: IsochroneWork, *, workers: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The served area per category alone, from one multi-source search per category (``workers`` threads)."""
    best = np.full((work.n_categories, work.net.n_nodes), np.inf)
    for c in range(work.n_categories):
        members = work.attachment.take(np.flatnonzero(work.category_code == c))
        best[c], _ = node_costs_to_nearest(work.net, members, limit_m=float(work.limits_m.max()))
    every = best.min(axis=0)
    jobs = sorted(_category_jobs(work))  # every service (-1), the longest, first: no thread waits on it at the end

    def draw(c: int) -> tuple[int, np.ndarray, np.ndarray]:
        return category_task(c, every if c < 0 else best[c], work)

    if workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="served-area") as pool:
            drawn = list(pool.map(draw, jobs))
    else:
        drawn = [draw(c) for c in jobs]
    return {c: (p, s) for c, p, s in drawn}


def _per_service_frame(
    ids: pd.Index,
    category: np.ndarray,
    breaks: list[float],
    polys: np.ndarray,
    street: np.ndarray,
    net: PreparedNetwork,
) -> gpd.GeoDataFrame:
    n_lim = len(breaks)
    geoms = polys.ravel()
    return gpd.GeoDataFrame(
        {
            "service_id": np.repeat(ids.astype(str).to_numpy(), n_lim),
            "category": np.repeat(category, n_lim),
            "break_min": np.tile(breaks, len(ids)),
            "area_m2": shapely.area(geoms),
            "street_m": street.ravel(),
        },
        geometry=gpd.GeoSeries(geoms, crs=net.crs),
    )[PER_SERVICE_COLUMNS]


def _served_frame(
    served: dict[int, tuple[np.ndarray, np.ndarray]],
    cat_names: list[str],
    cat_code: np.ndarray,
    att: Attachment,
    breaks: list[float],
    net: PreparedNetwork,
) -> gpd.GeoDataFrame:
    rows = []
    for c in sorted(served, key=lambda c: (c >= 0, c)):  # `all` (-1) first
        polys, street = served[c]
        name = ALL if c < 0 else cat_names[c]
        count = int(att.snapped.sum()) if c < 0 else int((att.snapped & (cat_code == c)).sum())
        rows.append(
            pd.DataFrame(
                {"category": name, "break_min": breaks, "n_services": count, "street_m": street, "geometry": polys}
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=net.crs)
    gdf["area_m2"] = shapely.area(gdf.geometry.to_numpy())
    return gdf[SERVED_COLUMNS]


def make_rings(served_area: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Non-overlapping bands between consecutive breaks of each category's served area (0–5, 5–10, 10–15...)."""
    frame = served_area.sort_values(["category", "break_min"], kind="stable")
    cat = frame["category"].to_numpy()
    geoms = frame.geometry.to_numpy()
    first = np.r_[True, cat[1:] != cat[:-1]]
    inner = np.r_[[None], geoms[:-1]]
    inner[first] = None
    bands = geoms.copy()
    has_inner = ~first
    bands[has_inner] = shapely.difference(geoms[has_inner], inner[has_inner].astype(object))
    from_min = np.r_[0.0, frame["break_min"].to_numpy()[:-1]]
    from_min[first] = 0.0
    out = gpd.GeoDataFrame(
        {
            "category": cat,
            "break_min": frame["break_min"].to_numpy(),
            "from_min": from_min,
            "to_min": frame["break_min"].to_numpy(),
            "area_m2": shapely.area(bands),
        },
        geometry=gpd.GeoSeries(bands, crs=served_area.crs),
    )
    order = {name: i for i, name in enumerate(dict.fromkeys(served_area["category"]))}
    out["_o"] = out["category"].map(order)
    return out.sort_values(["_o", "break_min"], kind="stable").drop(columns="_o").reset_index(drop=True)[RING_COLUMNS]
