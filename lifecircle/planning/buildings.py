"""Buildings (楼栋, ``--buildings``): walks start from each building, not only from its compound's point or gates.

Each building (polygon or point) starts its walk from the nearest street to a point inside it. Its compound is the
one its ``compound_id`` / ``小区`` column names, else the compound polygon it lies in; a building in none is kept
with an empty compound and named in a warning. ``buildings.csv`` holds one row per building and category:
``building_id, compound_id, category, walk_m, covered``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.inputs.columns import find_column
from lifecircle.geo.inputs.layers import read_layer
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.walk import Walk, prepared
from lifecircle.planning.analysis import Analysis
from lifecircle.planning.thresholds import coverage_within_limits

log = logging.getLogger(__name__)

__all__ = ["BUILDING_COLUMNS", "building_coverage", "building_summary", "read_buildings", "with_buildings"]

BUILDING_COLUMNS = ["building_id", "compound_id", "category", "walk_m", "covered"]
ID_COLUMNS = ("id", "building_id", "楼栋编号", "编号")
COMPOUND_COLUMNS = ("compound_id", "小区", "小区编号")


def read_buildings(path: str | Path, compounds: gpd.GeoDataFrame, **read_kw) -> gpd.GeoDataFrame:
    """Buildings indexed by ``building_id`` (text) with ``compound_id``: given by a column, else by location.

    Raises
    ------
    InputError
        An unreadable layer, repeated building ids, or a compound column naming compounds that are not there.
    """
    layer = read_layer(path, **read_kw)
    id_column = find_column(layer, ID_COLUMNS)
    ids = layer[id_column].astype(str) if id_column else pd.Series([f"b{i}" for i in range(len(layer))])
    if ids.duplicated().any():
        raise InputError(f"{path}: building ids repeat ({', '.join(ids[ids.duplicated()].unique()[:5])}).")
    buildings = gpd.GeoDataFrame(geometry=layer.geometry.to_numpy(), crs=layer.crs)
    buildings.index = pd.Index(ids.to_numpy(), name="building_id")
    column = find_column(layer, COMPOUND_COLUMNS)
    known = compounds.index.astype(str)
    if column is not None:
        named = layer[column].astype("string").str.strip().to_numpy()
        unknown = sorted({n for n in named if n is not pd.NA and n not in set(known)})
        if unknown:
            raise InputError(f"{path}: column {column!r} names compounds not in the compound layer: {unknown[:5]}.")
        buildings["compound_id"] = pd.array(named, dtype=object)
    else:
        inner = shapely.point_on_surface(buildings.geometry.to_numpy())
        points = gpd.GeoDataFrame(geometry=inner, crs=buildings.crs)
        polygons = to_crs(compounds[["geometry"]], buildings.crs).reset_index(drop=True)
        joined = gpd.sjoin(points, polygons, predicate="within", how="left")
        joined = joined[~joined.index.duplicated()]
        owner = joined["index_right"].to_numpy()
        found = ~pd.isna(owner)
        compound_ids = np.full(len(buildings), None, dtype=object)
        compound_ids[found] = known.to_numpy()[owner[found].astype(np.int64)]
        buildings["compound_id"] = compound_ids
    outside = buildings.index[buildings["compound_id"].isna().to_numpy()]
    if len(outside):
        log.warning(
            "%d buildings belong to no compound (kept, compound empty): %s", len(outside), ", ".join(outside[:5])
        )
    return buildings


def building_coverage(
    net: PreparedNetwork,
    buildings: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    max_snap_m: float,
    category_column: str | None = "category",
) -> pd.DataFrame:
    """Per building and category: the walk from the building to the nearest service and whether it is within
    the limit (the category's own limit where it has one); the table of ``buildings.csv``."""
    origins = buildings.drop(columns="compound_id")
    result = coverage_within_limits(
        net, origins, services, walk=walk, category_column=category_column, max_snap_m=max_snap_m
    )
    table = result.table.rename(columns={"compound_id": "building_id"})
    table.insert(1, "compound_id", buildings["compound_id"].reindex(table["building_id"]).to_numpy())
    table["walk_m"] = table["walk_m"].round(1)
    return table[BUILDING_COLUMNS]


def building_summary(table: pd.DataFrame, compound_covered: pd.DataFrame) -> dict:
    """Per category: buildings covered, and compounds covered at compound level with a building that is not.

    ``compound_covered``: the coverage table (``compound_id, category, covered``).
    """
    at_compound = compound_covered.set_index(["compound_id", "category"])["covered"]
    out = {}
    for category, rows in table.groupby("category", sort=False):
        owned = rows.dropna(subset=["compound_id"])
        level = at_compound.reindex(pd.MultiIndex.from_arrays([owned["compound_id"], owned["category"]]))
        changed = owned[level.fillna(False).to_numpy(dtype=bool) & ~owned["covered"].to_numpy(dtype=bool)]
        ids = sorted(changed["compound_id"].astype(str).unique())
        out[str(category)] = {
            "buildings": len(rows),
            "buildings_covered": int(rows["covered"].sum()),
            "compounds_with_uncovered_buildings": len(ids),
            "examples": ids[:20],
        }
    return out


def with_buildings(
    analysis: Analysis,
    net: nx.MultiDiGraph | PreparedNetwork,
    buildings: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    max_snap_m: float,
) -> tuple[Analysis, pd.DataFrame]:
    """The analysis with ``summary["buildings"]`` and the table ``buildings`` (:func:`building_coverage`);
    ``services`` are those the analysis counted (at a moment, the open ones)."""
    table = building_coverage(prepared(net, walk), buildings, services, walk=walk, max_snap_m=max_snap_m)
    summary = {**analysis.summary, "buildings": building_summary(table, analysis.coverage.table)}
    return replace(analysis, summary=summary), table
