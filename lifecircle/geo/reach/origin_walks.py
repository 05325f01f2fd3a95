"""Walks from many single origin points (buildings) to the nearest service of each category, in one pass each.

Compound coverage (:mod:`lifecircle.geo.reach.coverage`) also lists every origin–service pair within the limit
(``services_within``); a building needs only its walk to the nearest service, so this skips the pair searches:
the origins are joined to the network once, and each category is one multi-source search back from its services
over the junction graph (:func:`~lifecircle.geo.routing.paths.nearest_destination`), whatever the number of origins.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from lifecircle.geo.crs import to_crs
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.network.segment_index import nearest_segments
from lifecircle.geo.reach.coverage import ALL, service_categories
from lifecircle.geo.routing.attachment import Attachment
from lifecircle.geo.routing.paths import nearest_destination
from lifecircle.geo.routing.snapping import snap_points
from lifecircle.geo.walk import Walk

__all__ = ["NearestWalks", "nearest_walks", "origin_xy"]


@dataclass(frozen=True, eq=False)
class NearestWalks:
    """Per category (rows, ``all`` first) and origin (columns): the walk to the nearest service.

    Attributes
    ----------
    categories
        Row labels, ``all`` first.
    walk_m
        Walking metres, shape ``(categories, origins)``; ``inf`` where no service of the category is reachable.
    nearest
        Position in the services of the nearest one (``-1`` when none).
    limit_m
        The walking limit of each row (``all``: the general limit; a category: its own where it has one).
    snapped
        Per origin: whether it lies within the snap limit of a walkable street.
    """

    categories: list[str]
    walk_m: np.ndarray
    nearest: np.ndarray
    limit_m: np.ndarray
    snapped: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        """Within the row's limit, shape ``(categories, origins)``."""
        return self.walk_m <= self.limit_m[:, None]


def origin_xy(layer: gpd.GeoDataFrame, crs: pyproj.CRS) -> np.ndarray:
    """Coordinates ``(n, 2)`` in ``crs`` of a point inside each feature (GEOS point-on-surface; points stay);
    NaN for missing or empty geometries.

    The points are found in the layer's own CRS (which must be set) and only their coordinates are reprojected,
    as plain arrays: building shapely points for a GeoSeries reprojection costs several times the projection.
    """
    geoms = layer.geometry.to_numpy()
    xy = np.full((len(geoms), 2), np.nan)
    # a missing or empty shape has no point inside: it gives no coordinates and its row stays NaN
    inner, row = shapely.get_coordinates(shapely.point_on_surface(geoms), return_index=True)
    if len(row) == 0:
        return xy
    source = pyproj.CRS.from_user_input(layer.crs)
    if source != crs:
        x, y = pyproj.Transformer.from_crs(source, crs, always_xy=True).transform(inner[:, 0], inner[:, 1])
        inner = np.column_stack([x, y])
    xy[row] = inner
    return xy


def nearest_walks(
    net: PreparedNetwork,
    xy: np.ndarray,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    max_snap_m: float,
    category_column: str | None = "category",
) -> NearestWalks:
    """The walk from each origin point to the nearest service of each category (and of any, ``all``).

    Parameters
    ----------
    net
        The prepared network (with the walk's edge costs).
    xy
        Origin coordinates ``(n, 2)`` in the network's CRS (see :func:`origin_xy`); NaN rows walk nowhere.
    services
        Service points indexed by service id (any CRS).
    walk
        Limits: the general one for ``all`` and categories without their own, each category's own otherwise.
    max_snap_m
        Origins and services farther than this from every walkable street walk nowhere.
    category_column
        Column of ``services`` holding categories; None or absent: only ``all``.

    Returns
    -------
    NearestWalks
    """
    services_m = to_crs(services, net.crs)
    targets = snap_points(net, services_m.geometry.to_numpy(), max_snap_m=max_snap_m)  # checks max_snap_m too
    origins = Attachment(*nearest_segments(net.segment_index, xy, max_distance_m=max_snap_m))
    service_category, categories = service_categories(services_m, category_column)
    n_cat, n = len(categories), len(xy)
    walk_m = np.full((n_cat, n), np.inf)
    nearest = np.full((n_cat, n), -1, dtype=np.int64)
    for row, category in enumerate(categories):
        if category == ALL and n_cat > 1:  # the nearest over the categories, below
            continue
        members = np.flatnonzero(service_category == category) if category != ALL else np.arange(len(services_m))
        walk_o, near_o = nearest_destination(net, origins, targets.take(members))
        walk_m[row] = walk_o
        found = near_o >= 0
        nearest[row, found] = members[near_o[found]]
    if n_cat > 1:
        best = np.argmin(walk_m[1:], axis=0)
        columns = np.arange(n)
        walk_m[0], nearest[0] = walk_m[1:][best, columns], nearest[1:][best, columns]
    limit_m = np.array([walk.limit_m if c == ALL else walk.limit_m_of(c) for c in categories], dtype=float)
    return NearestWalks(categories, walk_m, nearest, limit_m, origins.snapped)
