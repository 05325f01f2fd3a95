"""Chinese map coordinate systems: GCJ-02 ("Mars", Amap/Gaode/Tencent) and BD-09 (Baidu).

Both are obfuscated lon/lat systems built on WGS84; there is no EPSG code and pyproj cannot do them. This
module implements the widely published formulas, vectorised with numpy:

- ``wgs84_to_gcj02`` is the public forward formula (Krasovsky ellipsoid constants, the usual polynomial and
  sine terms). ``gcj02_to_wgs84`` inverts it by fixed-point iteration to better than 1e-9 degrees of the
  forward formula (well under a millimetre), not by the one-step approximation (which errs by up to ~1 m).
- ``gcj02_to_bd09`` is the public Baidu formula; ``bd09_to_gcj02`` starts from the public inverse and refines
  it iteratively so that both directions are exact inverses of each other.
- Points outside the usual ``out_of_china`` box (lon 72.004..137.8347, lat 0.8293..55.8271) are returned
  unchanged, as every public implementation does; NaN coordinates stay NaN.

CGCS2000 (EPSG:4490) is accepted as WGS84: the two frames differ by well under one metre.

``to_wgs84`` / ``from_wgs84`` apply the conversions to every geometry of a GeoDataFrame with
``shapely.transform`` (one vectorised call for all coordinates). Whether a layer declared WGS84 looks shifted is
checked against the streets by :mod:`lifecircle.geo.inputs.shift_check`.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from lifecircle.errors import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "COORD_SYSTEM_ALIASES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalize_coord_system",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 semi-major axis and eccentricity squared, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

_TOL_DEG = 1e-10
_MAX_ITER = 50
_WEST, _SOUTH, _EAST, _NORTH = 72.004, 0.8293, 137.8347, 55.8271  # the usual out_of_china box

#: Accepted spellings of each coordinate system (lower-case) -> canonical name.
COORD_SYSTEM_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs 84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gps": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "高德": "gcj02",
    "tencent": "gcj02",
    "qq": "gcj02",
    "腾讯": "gcj02",
    "mars": "gcj02",
    "火星": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
    "cgcs2000": "cgcs2000",
    "cgcs-2000": "cgcs2000",
    "epsg:4490": "cgcs2000",
    "4490": "cgcs2000",
}


def normalize_coord_system(coord_system: str) -> str:
    """Return the canonical name (``wgs84``, ``gcj02``, ``bd09`` or ``cgcs2000``) of a coordinate system.

    Parameters
    ----------
    coord_system : str
        A name such as ``"GCJ-02"``, ``"amap"``, ``"gaode"``, ``"tencent"``, ``"mars"``, ``"baidu"``,
        ``"bd09"``, ``"wgs84"``, ``"EPSG:4326"``, ``"cgcs2000"`` or ``"EPSG:4490"`` (case-insensitive).

    Returns
    -------
    str
        One of ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``.

    Raises
    ------
    InputError
        If the name is not one of the accepted spellings.
    """
    key = str(coord_system).strip().lower()
    if key not in COORD_SYSTEM_ALIASES:
        raise InputError(
            f"Unknown coordinate system {coord_system!r}; use one of wgs84, "
            "gcj02 (amap, gaode, tencent, mars), bd09 (baidu) or cgcs2000 (EPSG:4490)."
        )
    return COORD_SYSTEM_ALIASES[key]


def out_of_china(lon, lat) -> np.ndarray:
    """Boolean array: True where a point lies outside the box in which GCJ-02 shifts coordinates.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray of bool
        NaN coordinates count as outside (they are left unchanged).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside = (lon >= _WEST) & (lon <= _EAST) & (lat >= _SOUTH) & (lat <= _NORTH)
    return ~inside


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 positions, without the out-of-China test."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    dlat = dlat + common
    dlat = dlat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    dlon = dlon + common
    dlon = dlon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a.copy(), lat_a.copy()


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lon/lat to GCJ-02 (Amap/Gaode, Tencent).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitudes and latitudes in degrees (scalars or arrays of the same shape).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 longitudes and latitudes; points outside China unchanged.
    """
    lon, lat = _as_arrays(lon, lat)
    inside = ~out_of_china(lon, lat)
    dlon, dlat = _gcj_delta(lon[inside], lat[inside])
    lon[inside] += dlon
    lat[inside] += dlat
    return lon, lat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 lon/lat to WGS84 by iterating the forward formula to convergence.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 longitudes and latitudes such that ``wgs84_to_gcj02`` maps them back to the input within
        1e-10 degrees. Like the forward formula, the inverse is the identity outside China's box: points
        outside it are unchanged, and so are points just inside its edge that no WGS84 point inside the box maps
        to (within ~0.005 degrees of the west and south edges; returning the formula's answer there would give a
        point outside the box, which the forward formula does not move back). WGS84 points within ~0.005 degrees
        of the east and north edges have GCJ-02 images outside the box and do not come back: the forward formula
        is not one-to-one there.
    """
    glon, glat = _as_arrays(lon, lat)
    inside = ~out_of_china(glon, glat)
    tlon, tlat = glon[inside], glat[inside]
    wlon, wlat = tlon.copy(), tlat.copy()
    for _ in range(_MAX_ITER):
        dlon, dlat = _gcj_delta(wlon, wlat)
        elon = wlon + dlon - tlon
        elat = wlat + dlat - tlat
        wlon -= elon
        wlat -= elat
        if elon.size == 0 or max(np.nanmax(np.abs(elon)), np.nanmax(np.abs(elat))) < _TOL_DEG:
            break
    else:  # pragma: no cover - the map is a contraction; this never happens inside China
        logger.warning("GCJ-02 inverse did not converge to %.0e degrees in %d steps", _TOL_DEG, _MAX_ITER)
    # a result outside the box is no preimage (the forward formula leaves such points alone): identity there;
    # one a rounding error outside the edge is put on it
    wlon = np.where(np.abs(wlon - _WEST) < _TOL_DEG, np.maximum(wlon, _WEST), wlon)
    wlat = np.where(np.abs(wlat - _SOUTH) < _TOL_DEG, np.maximum(wlat, _SOUTH), wlat)
    wlon = np.where(np.abs(wlon - _EAST) < _TOL_DEG, np.minimum(wlon, _EAST), wlon)
    wlat = np.where(np.abs(wlat - _NORTH) < _TOL_DEG, np.minimum(wlat, _NORTH), wlat)
    found = ~out_of_china(wlon, wlat)
    glon[inside] = np.where(found, wlon, tlon)
    glat[inside] = np.where(found, wlat, tlat)
    return glon, glat


def _bd_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 lon/lat to BD-09 (Baidu) with the public formula.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        BD-09 longitudes and latitudes; points outside China unchanged.
    """
    lon, lat = _as_arrays(lon, lat)
    inside = ~out_of_china(lon, lat)
    blon, blat = _bd_forward(lon[inside], lat[inside])
    lon[inside] = blon
    lat[inside] = blat
    return lon, lat


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) lon/lat to GCJ-02, the exact inverse of :func:`gcj02_to_bd09`.

    Starts from the public one-step inverse and refines it by fixed-point iteration.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 longitudes and latitudes; points outside China unchanged.
    """
    blon, blat = _as_arrays(lon, lat)
    inside = ~out_of_china(blon, blat)
    tlon, tlat = blon[inside], blat[inside]
    x = tlon - 0.0065
    y = tlat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        flon, flat = _bd_forward(glon, glat)
        elon, elat = flon - tlon, flat - tlat
        glon -= elon
        glat -= elat
        if elon.size == 0 or max(np.nanmax(np.abs(elon)), np.nanmax(np.abs(elat))) < _TOL_DEG:
            break
    blon[inside] = glon
    blat[inside] = glat
    return blon, blat


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lon/lat to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitudes and latitudes in degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        BD-09 longitudes and latitudes; points outside China unchanged.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) lon/lat to WGS84 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 longitudes and latitudes; points outside China unchanged.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _transform_geoms(geoms: np.ndarray, func) -> np.ndarray:
    def _xy(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    return shapely.transform(geoms, _xy, include_z=None)


def _check_lonlat_frame(gdf: gpd.GeoDataFrame, system: str, what: str) -> None:
    if gdf.crs is not None and not CRS.from_user_input(gdf.crs).is_geographic:
        raise InputError(
            f"{what} is declared {system} but its CRS ({gdf.crs.to_string()}) is projected; "
            f"{system} data must be longitude/latitude in degrees."
        )
    if len(gdf) == 0:
        return
    minx, miny, maxx, maxy = gdf.total_bounds
    if np.isfinite([minx, miny, maxx, maxy]).all() and (minx < -180 or maxx > 180 or miny < -90 or maxy > 90):
        raise InputError(
            f"{what} is declared {system} but its coordinates (x {minx:.6g}..{maxx:.6g}, "
            f"y {miny:.6g}..{maxy:.6g}) are not longitude/latitude in degrees."
        )


def to_wgs84(gdf: gpd.GeoDataFrame, coord_system: str, *, name: str = "layer") -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in WGS84 (EPSG:4326), undoing a GCJ-02 or BD-09 shift if declared.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Any geometry types. For ``gcj02`` / ``bd09`` its CRS must be unset or geographic (lon/lat degrees).
    coord_system : str
        What the coordinates really are: ``wgs84``, ``gcj02`` (aliases ``amap``, ``gaode``, ``tencent``,
        ``mars``), ``bd09`` (``baidu``), ``cgcs2000`` / ``EPSG:4490`` (treated as WGS84: <1 m apart).
    name : str, optional
        Layer name used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame with CRS EPSG:4326; the input is not modified. ``wgs84`` / ``cgcs2000`` layers with a
        projected CRS are reprojected with pyproj; layers without CRS are taken as lon/lat degrees.

    Raises
    ------
    InputError
        Unknown ``coord_system``, or a GCJ-02/BD-09 layer that is not in lon/lat degrees.
    """
    system = normalize_coord_system(coord_system)
    out = gdf.copy()
    if system in ("wgs84", "cgcs2000"):
        if out.crs is None:
            return out.set_crs("EPSG:4326")
        crs = CRS.from_user_input(out.crs)
        if crs.is_geographic:
            # CGCS2000 and WGS84 differ by <1 m: relabel instead of transforming (pyproj would do nothing).
            return out.set_crs("EPSG:4326", allow_override=True)
        return out.to_crs("EPSG:4326")
    _check_lonlat_frame(out, system, name)
    geoms = _transform_geoms(out.geometry.to_numpy(), _TO_WGS84[system])
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326")
    logger.info("converted %d features of %s from %s to WGS84", len(out), name, system)
    return out


def from_wgs84(gdf: gpd.GeoDataFrame, coord_system: str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` expressed in ``coord_system`` (e.g. GCJ-02 for overlay on Amap).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Any geometry types and any CRS (reprojected to EPSG:4326 first).
    coord_system : str
        Target system, same names as :func:`to_wgs84`.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame. GCJ-02 and BD-09 have no EPSG code: their result is labelled EPSG:4326 (lon/lat degrees)
        although the coordinates are shifted. ``cgcs2000`` results are labelled EPSG:4490.
    """
    system = normalize_coord_system(coord_system)
    if gdf.crs is None:
        raise InputError("Cannot convert a layer without CRS from WGS84; set its CRS first.")
    out = gdf.to_crs("EPSG:4326")
    if out is gdf:  # pragma: no cover - to_crs always copies, but never modify inputs
        out = gdf.copy()
    if system == "wgs84":
        return out
    if system == "cgcs2000":
        return out.set_crs("EPSG:4490", allow_override=True)
    geoms = _transform_geoms(out.geometry.to_numpy(), _FROM_WGS84[system])
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs="EPSG:4326")
    return out
