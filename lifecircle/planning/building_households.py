"""Households per building (楼栋户数): from the layer's own column, else the compound's households apportioned.

A building layer with a households column (``户数``, ``households``...) gives each building's households as they
are. Without one, each compound's households are shared among its buildings in proportion to floor area:
footprint area (m², in a local UTM projection) × floors (``building:levels``, ``levels``, ``层数``; a building
without a usable number of floors counts as one floor, and a point, which has no footprint, as the median
footprint of its compound's buildings). The method and these counts are stated in ``summary.json``.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, find_column
from lifecircle.geo.validate import column_numbers, weight_values

log = logging.getLogger(__name__)

__all__ = ["LEVEL_COLUMNS", "building_households", "building_values"]

LEVEL_COLUMNS = ("building:levels", "levels", "层数", "楼层数", "楼层", "floors")


def building_values(layer: pd.DataFrame, column: str, source: str) -> pd.Series:
    """The numbers of a building column (households) as floats; blanks stay NaN (see ``column_numbers``)."""
    return column_numbers(layer, column, kind="building", source=source).astype(float)


def _floor_area(buildings: gpd.GeoDataFrame, levels: pd.Series) -> tuple[np.ndarray, int, int]:
    """Footprint × floors per building, the number of buildings counted as one floor and of points."""
    metric = buildings.to_crs(buildings.estimate_utm_crs()) if buildings.crs.is_geographic else buildings
    area = metric.geometry.area.to_numpy()
    floors = levels.to_numpy(dtype=float)
    no_floors = ~(np.isfinite(floors) & (floors > 0))
    floors = np.where(no_floors, 1.0, floors)
    flat = ~(area > 0)
    if flat.any():  # points (or empty shapes): the median footprint of their compound, else 1 m²
        owner = buildings["compound_id"].astype(object)
        median = pd.Series(np.where(flat, np.nan, area)).groupby(owner.to_numpy(), dropna=False).transform("median")
        area = np.where(flat, median.fillna(1.0).to_numpy(), area)
    return area * floors, int(no_floors.sum()), int(flat.sum())


def building_households(
    buildings: gpd.GeoDataFrame, layer: pd.DataFrame, compounds: gpd.GeoDataFrame, *, source: str
) -> tuple[pd.Series, dict]:
    """Households of each building and how they were found.

    Parameters
    ----------
    buildings
        Indexed by building id, with ``compound_id``.
    layer
        The building layer's columns, in the same order (households and floors columns are looked up here).
    compounds
        The compound layer, whose households column (``households``/``户数``) is apportioned when the buildings
        have none.
    source
        The building file, for messages.

    Returns
    -------
    households, method
        Households per building (NaN when unknown) and a JSON-ready description (``method``: ``column`` or
        ``footprint_x_levels``, with the column names and counts).
    """
    own = find_column(layer, HOUSEHOLD_COLUMNS)
    if own is not None:
        values = building_values(layer.set_axis(buildings.index), own, source)
        return values, {"method": "column", "column": str(own), "blank": int(values.isna().sum())}
    level_column = find_column(layer, LEVEL_COLUMNS)
    levels = (
        pd.to_numeric(layer[level_column], errors="coerce")
        if level_column
        else pd.Series(np.nan, index=range(len(layer)))
    )
    weight, one_floor, points = _floor_area(buildings, levels)
    method = {
        "method": "footprint_x_levels",
        "levels_column": None if level_column is None else str(level_column),
        "counted_as_one_floor": one_floor,
        "points_with_median_footprint": points,
    }
    column = find_column(compounds, HOUSEHOLD_COLUMNS)
    if column is None:
        method["compound_households"] = None
        return pd.Series(np.nan, index=buildings.index), method
    method["compound_households"] = str(column)
    total = weight_values(compounds, column)
    total.index = total.index.astype(str)
    owner = buildings["compound_id"]
    weights = pd.Series(weight, index=buildings.index)
    share = weights / weights.groupby(owner.to_numpy()).transform("sum").to_numpy()
    households = share * owner.map(total).astype(float)
    return households.where(owner.notna()), method
