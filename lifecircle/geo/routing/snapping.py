"""Joining points to the walking network at the nearest point of the nearest street segment."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.network.segment_index import nearest_segments
from lifecircle.geo.routing.attachment import Attachment

DEFAULT_MAX_SNAP_M = 300.0

__all__ = ["DEFAULT_MAX_SNAP_M", "Attachment", "snap_points"]


def snap_points(
    net: PreparedNetwork,
    points: gpd.GeoSeries | np.ndarray,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    points_crs: pyproj.CRS | str | None = None,
) -> Attachment:
    """Join points to the nearest point of the nearest walkable street segment.

    Parameters
    ----------
    net
        The prepared walking network.
    points
        A GeoSeries of points (any CRS, reprojected to the network's), or an array of shapely points already in
        the network's CRS (or in ``points_crs``).
    max_snap_m
        Points farther than this from every street stay unjoined (``segment == -1``).
    points_crs
        CRS of a plain array of points, when it is not the network's.

    Returns
    -------
    Attachment

    Raises
    ------
    InputError
        ``max_snap_m`` is negative, infinite or not a number.
    """
    if not (max_snap_m >= 0 and np.isfinite(max_snap_m)):
        raise InputError(
            "The snap limit (largest distance from a point to a street) must be a finite distance of 0 m or more, "
            f"got {max_snap_m} m."
        )
    if isinstance(points, gpd.GeoSeries):
        geoms = to_crs(gpd.GeoDataFrame(geometry=points), net.crs).geometry.to_numpy()
    else:
        geoms = np.asarray(points, dtype=object)
        if points_crs is not None:
            geoms = to_crs(gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=points_crs)), net.crs).geometry.to_numpy()
    n = len(geoms)
    segment = np.full(n, -1, dtype=np.int64)
    fraction = np.zeros(n)
    access_m = np.full(n, np.inf)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, dtype=bool)
    if not valid.any():
        return Attachment(segment, fraction, access_m)
    xy = np.full((n, 2), np.nan)
    located = geoms[valid]
    if not (shapely.get_type_id(located) == shapely.GeometryType.POINT).all():
        located = shapely.point_on_surface(located)  # a point of anything else
    xy[valid] = shapely.get_coordinates(located)
    segment, fraction, access_m = nearest_segments(net.segment_index, xy, max_distance_m=max_snap_m)
    return Attachment(segment, fraction, access_m)
