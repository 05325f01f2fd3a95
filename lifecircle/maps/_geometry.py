"""Layers to drawable geometry: checked, simplified in metres, in WGS84 (or GCJ-02 for Amap), rounded to ~1 m."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.inputs.chinese_crs import wgs84_to_gcj02

__all__ = ["COORD_DECIMALS", "SIMPLIFY_M", "check_gdf", "display_geoms", "geojson_texts", "latlon", "lonlat_bounds"]

COORD_DECIMALS = 5  # 1e-5 degree is 1.1 m of latitude (0.85 m of longitude at 40°N): ~1 m
SIMPLIFY_M = 1.0  # display simplification tolerance, metres


def check_gdf(gdf: object, what: str, *, geom_types: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """``gdf`` if it is a GeoDataFrame with a CRS and only ``geom_types`` (missing/empty allowed), else InputError."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"The {what} must be a GeoDataFrame, got {type(gdf).__name__}.")
    if gdf.crs is None:
        raise InputError(f"The {what} layer has no CRS; set one (e.g. gdf.set_crs('EPSG:4326')).")
    if geom_types is not None and len(gdf):
        geoms = gdf.geometry.to_numpy()
        bad = ~gdf.geometry.geom_type.isin(list(geom_types)) & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if bad.any():
            raise InputError(
                f"The {what} layer must hold {'/'.join(geom_types)} geometries; "
                f"{int(bad.sum())} rows are {gdf.geometry[bad].geom_type.iloc[0]}."
            )
    return gdf


def to_display_crs(arr: np.ndarray, *, gcj: bool) -> np.ndarray:
    """WGS84 geometries shifted to GCJ-02 (when ``gcj``) and rounded to :data:`COORD_DECIMALS`."""
    if gcj:
        arr = shapely.transform(arr, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    return shapely.transform(arr, lambda c: np.round(c, COORD_DECIMALS))


def display_geoms(gs: gpd.GeoSeries, *, gcj: bool, simplify_m: float = SIMPLIFY_M) -> np.ndarray:
    """Simplify in metres, convert to EPSG:4326 (and GCJ-02), round to ~1 m. Returns a shapely array."""
    if len(gs) == 0:
        return np.array([], dtype=object)
    geo = gs.to_crs(4326)
    drawn = ~(geo.is_empty | geo.isna())
    if simplify_m > 0 and drawn.any() and not (geo[drawn].geom_type == "Point").all():
        metric = geo.estimate_utm_crs()
        geo = geo.to_crs(metric).simplify(simplify_m, preserve_topology=True).to_crs(4326)
    return to_display_crs(np.asarray(geo.values, dtype=object), gcj=gcj)


def geojson_texts(geoms: np.ndarray) -> list[str]:
    """GeoJSON text of each geometry ("null" for missing/empty ones)."""
    if len(geoms) == 0:
        return []
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    texts = np.full(len(geoms), "null", dtype=object)
    texts[valid] = shapely.to_geojson(geoms[valid])
    return texts.tolist()


def latlon(geoms: np.ndarray) -> tuple[list, list]:
    """Latitudes and longitudes of a point inside each geometry, rounded."""
    pts = shapely.point_on_surface(geoms) if len(geoms) else geoms
    xy = shapely.get_coordinates(pts)
    return np.round(xy[:, 1], COORD_DECIMALS).tolist(), np.round(xy[:, 0], COORD_DECIMALS).tolist()


def lonlat_bounds(geoms: np.ndarray) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` of the drawn geometries, or None when nothing is drawn."""
    if len(geoms) == 0:
        return None
    drawn = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(drawn) == 0:
        return None
    x0, y0, x1, y1 = shapely.total_bounds(drawn)
    return float(x0), float(y0), float(x1), float(y1)
