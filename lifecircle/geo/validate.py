"""Checks on input layers: each problem becomes one InputError sentence naming the layer and what is wrong."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError, NetworkError

log = logging.getLogger(__name__)

POLYGONAL = {"Polygon", "MultiPolygon"}
PUNCTUAL = {"Point", "MultiPoint"}
QUALITY_KEY = "lifecircle_quality"


def require_positive(
    value: float, what: str, unit: str, *, at_least: float | None = None, at_most: float | None = None
) -> float:
    """``value`` as a float when it is a finite number above zero (and within bounds), else an InputError.

    Parameters
    ----------
    value
        The number given by the user.
    what
        What it is, e.g. ``"The walking-time threshold"``.
    unit
        Its unit as the user wrote it, e.g. ``"minutes"``.
    at_least, at_most
        Sensible bounds, where values beyond them would only exhaust time or memory.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"{what} must be a positive number, got {value} {unit}.")
    if at_least is not None and number < at_least:
        raise InputError(f"{what} must be at least {at_least:g} {unit}, got {value} {unit}.")
    if at_most is not None and number > at_most:
        raise InputError(f"{what} must be at most {at_most:g} {unit}, got {value} {unit}.")
    return number


def add_quality_note(gdf: gpd.GeoDataFrame, note: str) -> None:
    """Record a data-quality note on a layer (shown in reports); also logged as a warning."""
    gdf.attrs.setdefault(QUALITY_KEY, []).append(note)
    log.warning(note)


def quality_notes(gdf: gpd.GeoDataFrame) -> list[str]:
    """Data-quality notes recorded on a layer while it was read."""
    return list(gdf.attrs.get(QUALITY_KEY, []))


def require_not_empty(gdf: gpd.GeoDataFrame, source: str) -> None:
    """Raise when a layer has no feature."""
    if gdf.empty:
        raise InputError(f"{source} is empty: it has no features.")


def drop_missing_geometry(gdf: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Drop features without geometry, noting how many and which."""
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if not missing.any():
        return gdf
    examples = ", ".join(map(str, gdf.index[missing][:5]))
    kept = gdf.loc[~missing].copy()
    kept.attrs = dict(gdf.attrs)
    add_quality_note(kept, f"{source}: {missing.sum()} features have no geometry and were left out ({examples}).")
    if kept.empty:
        raise InputError(f"{source}: no feature has a geometry.")
    return kept


def require_geometry_type(gdf: gpd.GeoDataFrame, allowed: set[str], source: str, what: str) -> None:
    """Raise when features are not of the allowed geometry types."""
    types = gdf.geom_type
    wrong = ~types.isin(allowed)
    if wrong.any():
        found = ", ".join(sorted(set(types[wrong].astype(str))))
        raise InputError(f"{source} holds {found} geometries but {what} must be {' or '.join(sorted(allowed))}.")


def repair_polygons(gdf: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Repair invalid polygons with ``make_valid``, keeping their polygonal part, and note which were repaired."""
    geoms = gdf.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return gdf
    # "structure" keeps polygon input polygonal and drops collapsed parts (no stray lines or points)
    repaired = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    out = gdf.copy()
    out.attrs = dict(gdf.attrs)
    new_geoms = geoms.copy()
    new_geoms[invalid] = repaired
    out = out.set_geometry(gpd.GeoSeries(new_geoms, index=gdf.index, crs=gdf.crs))
    examples = ", ".join(map(str, gdf.index[invalid][:5]))
    add_quality_note(out, f"{source}: {invalid.sum()} invalid polygons were repaired with make_valid ({examples}).")
    empty = out.geometry.is_empty
    if empty.any():
        raise InputError(
            f"{source}: polygons {', '.join(map(str, out.index[empty][:5]))} are invalid and have no area left "
            "after repair."
        )
    return out


def require_unique_ids(ids: pd.Index, source: str, column: str) -> None:
    """Raise when ids repeat, naming a few of them."""
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        examples = ", ".join(map(str, pd.unique(duplicated)[:5]))
        raise InputError(f"{source}: column {column!r} has duplicate ids ({examples}); every feature needs its own id.")


def require_columns(df: pd.DataFrame, columns: list[str], source: str) -> None:
    """Raise when named columns are missing, listing the ones that exist."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        available = ", ".join(map(str, [c for c in df.columns if c != "geometry"][:20]))
        raise InputError(f"{source} has no column {missing[0]!r}; its columns are: {available}.")


def require_area_on_network(
    area: gpd.GeoDataFrame, network_bounds: tuple[float, float, float, float], network_crs, source: str
) -> None:
    """Raise :class:`~lifecircle.errors.NetworkError` when a study area lies wholly outside the walking network.

    Parameters
    ----------
    area
        The study-area polygons, in any declared CRS.
    network_bounds
        ``(minx, miny, maxx, maxy)`` of the network's nodes, in ``network_crs``.
    network_crs
        The network's (metric) CRS.
    source
        The study area's file name, for the message.
    """
    outline = area.to_crs(network_crs).union_all()
    if not outline.intersects(shapely.box(*network_bounds)):
        raise NetworkError(
            f"The walking network does not cover the study area {source}: they do not overlap "
            "(check the study area's coordinate system, or use a network extract of that district)."
        )


def require_some_on_network(snapped: np.ndarray, what: str, max_snap_m: float) -> None:
    """Raise :class:`~lifecircle.errors.NetworkError` when none of a layer's points lies near a walkable street.

    Parameters
    ----------
    snapped
        One flag per point: does it lie within ``max_snap_m`` of a walkable street?
    what
        The layer's features in plural, e.g. ``"services"``.
    max_snap_m
        The snap limit used, in metres.
    """
    if len(snapped) and not snapped.any():
        raise NetworkError(
            f"None of the {len(snapped)} {what} lies within {max_snap_m:.0f} m of a walkable street: "
            f"check the {what}' coordinates and coordinate system, and that the network covers them."
        )


def column_numbers(layer: pd.DataFrame, column: str, *, kind: str, source: str | None = None) -> pd.Series:
    """The numbers of a count column (households, population, capacity), in their own dtype; blanks stay NaN.

    Parameters
    ----------
    layer
        The layer, indexed by its ids.
    column
        The column to read.
    kind
        What a row is, in the message: ``"compound"``, ``"service"``, ``"building"``.
    source
        The file the layer came from, named first in the message when given.

    Raises
    ------
    InputError
        The column is missing, or a value is text that is not a number or negative: one line naming the column,
        how many rows and a few of them with their values.
    """
    where = f"{source}: the" if source else "The"
    if column not in layer.columns:
        columns = ", ".join(map(str, layer.columns.drop("geometry", errors="ignore")))
        raise InputError(f"{where} {kind} layer has no column {column!r}; its columns are {columns}.")
    raw = layer[column]
    values = pd.to_numeric(raw, errors="coerce")
    text = raw.notna() & values.isna() & (raw.astype(str).str.strip() != "")
    bad = (text | (values < 0)).to_numpy()
    if bad.any():
        count = int(bad.sum())
        pairs = zip(layer.index[bad][:5], raw[bad][:5], strict=True)
        shown = ", ".join(f"{i} ({value!r})" if isinstance(value, str) else f"{i} ({value})" for i, value in pairs)
        rows = f"1 {kind} does" if count == 1 else f"{count} {kind}s do"
        raise InputError(f"{where} {kind} column {column!r} must hold numbers of 0 or more; {rows} not: {shown}.")
    return values


def weight_values(compounds: pd.DataFrame, column: str) -> pd.Series:
    """The numbers of a compound weight column (households, population); blanks stay NaN.

    See Also
    --------
    column_numbers : the check and its one-line error.
    """
    return column_numbers(compounds, column, kind="compound")
