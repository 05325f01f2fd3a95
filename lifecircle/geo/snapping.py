"""Joining points to the walking network at the nearest point of the nearest street segment."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from lifecircle.geo.crs import to_crs
from lifecircle.geo.graph import PreparedNetwork
from lifecircle.geo.segment_index import nearest_segments

DEFAULT_MAX_SNAP_M = 300.0


@dataclass(frozen=True, eq=False)
class Attachment:
    """Where each of a set of points joins the network.

    The straight line from the point to the street (``access_m``) counts as walking, and so does the part of the
    segment from the joining point to either end.

    Attributes
    ----------
    segment
        Index of the street segment joined (``-1`` where the point is farther than the snap limit).
    fraction
        Position of the joining point along the segment, 0 at ``segment_u`` and 1 at ``segment_v``.
    access_m
        Straight-line distance from the point to the joining point (``inf`` when not snapped).
    """

    segment: np.ndarray
    fraction: np.ndarray
    access_m: np.ndarray

    def __len__(self) -> int:
        return len(self.segment)

    @property
    def snapped(self) -> np.ndarray:
        """True where the point joined the network."""
        return self.segment >= 0

    def take(self, positions: np.ndarray) -> Attachment:
        """The attachments of a subset of the points, in the order of ``positions``."""
        return Attachment(self.segment[positions], self.fraction[positions], self.access_m[positions])


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
    """
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
