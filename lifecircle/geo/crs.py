"""Coordinate reference systems at the boundaries: one metric CRS for the work, WGS84 only at the edges."""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pyproj
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from lifecircle.errors import InputError

log = logging.getLogger(__name__)

WGS84 = pyproj.CRS.from_epsg(4326)


def metric_crs_for_lonlat(lon: np.ndarray, lat: np.ndarray, *, source_crs: pyproj.CRS | None = None) -> pyproj.CRS:
    """The UTM zone (WGS84 datum) covering the centre of these coordinates.

    Parameters
    ----------
    lon, lat
        Coordinates in ``source_crs`` (geographic, WGS84 by default).
    source_crs
        The geographic CRS of ``lon``/``lat``; other geographic CRSs are first brought to WGS84.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if source_crs is not None and pyproj.CRS.from_user_input(source_crs) != WGS84:
        transformer = pyproj.Transformer.from_crs(source_crs, WGS84, always_xy=True)
        lon, lat = transformer.transform(lon, lat)
    west, east = float(np.nanmin(lon)), float(np.nanmax(lon))
    south, north = float(np.nanmin(lat)), float(np.nanmax(lat))
    centre_lon, centre_lat = (west + east) / 2, (south + north) / 2
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(centre_lon, centre_lat, centre_lon, centre_lat),
    )
    if not infos:
        raise InputError(f"No UTM zone covers longitude {centre_lon:.4f}, latitude {centre_lat:.4f}.")
    return pyproj.CRS.from_epsg(infos[0].code)


def looks_like_degrees(gdf: gpd.GeoDataFrame) -> bool:
    """Say whether every coordinate of a layer lies within longitude/latitude ranges."""
    if gdf.empty:
        return False
    minx, miny, maxx, maxy = gdf.total_bounds
    return bool(-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90)


def ensure_crs(gdf: gpd.GeoDataFrame, *, crs: str | None, source: str) -> gpd.GeoDataFrame:
    """Give a layer its CRS: the file's, else the one a user names, else WGS84 when coordinates look like degrees.

    Parameters
    ----------
    gdf
        The layer as read (not modified).
    crs
        A CRS the user gave, or None. It applies to a layer that declares no CRS, or whose declaration is
        impossible (longitude/latitude declared, other coordinates found); a layer's sound declaration wins.
    source
        How to name the layer in messages (usually its file name).

    Returns
    -------
    geopandas.GeoDataFrame
        The layer with a CRS set.

    Raises
    ------
    InputError
        The CRS is unknown, or the layer has none and does not look like longitude/latitude.
    """
    impossible = gdf.crs is not None and gdf.crs.is_geographic and not gdf.empty and not looks_like_degrees(gdf)
    if crs is not None:
        try:
            given = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError as exc:
            raise InputError(f"{source}: unknown coordinate reference system {crs!r}.") from exc
        if gdf.crs is None or impossible:
            return gdf.set_crs(given, allow_override=True)
        if gdf.crs != given:
            log.info("%s declares %s; the CRS given (%s) applies only to layers without one", source, gdf.crs, crs)
        return gdf
    if gdf.crs is not None:
        if impossible:
            raise InputError(
                f"{source} says its coordinates are longitude/latitude ({gdf.crs.name}) but they are not; "
                "name the real CRS with --crs (for example EPSG:4547)."
            )
        return gdf
    if looks_like_degrees(gdf):
        message = f"{source} does not declare a coordinate reference system; reading it as WGS84 longitude/latitude."
        warnings.warn(message, UserWarning, stacklevel=2)
        return gdf.set_crs(WGS84)
    raise InputError(
        f"{source} does not declare a coordinate reference system and its coordinates are not longitude/latitude; "
        "name it with --crs (for example EPSG:4547)."
    )


def to_crs(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Reproject a layer (a copy) unless it is already in ``crs``."""
    if gdf.crs is not None and pyproj.CRS.from_user_input(gdf.crs) == crs:
        return gdf.copy()
    return gdf.to_crs(crs)
