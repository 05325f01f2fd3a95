"""Per-category walking limits: one coverage run at the longest limit, cut per category to its own limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.coverage import ALL, CoverageResult, Origins, coverage
from lifecircle.geo.walk import Walk, metres_per_minute

__all__ = ["apply_thresholds", "coverage_within_limits"]


def coverage_within_limits(
    net: PreparedNetwork,
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    category_column: str | None = "category",
    gates: gpd.GeoDataFrame | None = None,
    max_snap_m: float,
    origins: Origins | None = None,
) -> CoverageResult:
    """Coverage with the walk's general limit and each category's own (``walk.category_limit_*``)."""
    mpm = walk.metres_per_minute
    max_walk_min = walk.max_walk_min
    limits_m = {c: walk.limit_m_of(c) for c in (*walk.category_limit_min, *walk.category_limit_m)}
    longest_min = max([max_walk_min, *(v / mpm for v in limits_m.values())])
    result = coverage(
        net,
        compounds,
        services,
        walk=walk.with_limit(minutes=longest_min),
        category_column=category_column,
        gates=gates,
        max_snap_m=max_snap_m,
        origins=origins,
    )
    if limits_m or longest_min != max_walk_min:
        result = apply_thresholds(
            result, services, default_m=max_walk_min * mpm, limits_m=limits_m, category_column=category_column
        )
    return result


def apply_thresholds(
    result: CoverageResult,
    services: gpd.GeoDataFrame,
    *,
    default_m: float,
    limits_m: Mapping[str, float],
    category_column: str | None = "category",
) -> CoverageResult:
    """Re-threshold a coverage computed up to the longest limit: each category with its own walking limit.

    Walks to the nearest service do not depend on the limit, so one coverage run at the longest limit, cut per
    category, equals a run per threshold group. ``all`` and categories without their own limit use
    ``default_m``; the pairs kept are those within the limit of the service's category.

    Returns
    -------
    CoverageResult
        With ``params["max_walk_m"]`` the default limit and ``params["category_max_walk_m"]`` the others.
    """
    speed = result.params["speed_kmh"]
    mpm = metres_per_minute(speed)
    table = result.table.copy()
    limit = np.array(table["category"].map(lambda c: limits_m.get(c, default_m)), dtype=float)
    limit[(table["category"] == ALL).to_numpy()] = default_m
    table["covered"] = table["walk_m"].notna().to_numpy() & (table["walk_m"].to_numpy() <= limit)
    if category_column and category_column in services.columns:
        svc_cat = services[category_column].astype(str)
    else:
        svc_cat = pd.Series(ALL, index=services.index)
    pairs = result.pairs.copy()
    pairs["category"] = svc_cat.reindex(pairs["service_id"]).to_numpy()
    pair_limit = pairs["category"].map(lambda c: limits_m.get(c, default_m)).to_numpy(dtype=float)
    own = pairs[pairs["walk_m"].to_numpy() <= pair_limit]
    in_all = pairs[pairs["walk_m"].to_numpy() <= default_m]
    counts = pd.concat(
        [
            own.groupby(["compound_id", "category"]).size(),
            pd.concat({ALL: in_all.groupby("compound_id").size()}, names=["category", "compound_id"])
            .swaplevel()
            .sort_index(),
        ]
    )
    key = pd.MultiIndex.from_arrays([table["compound_id"], table["category"]])
    table["services_within"] = counts.reindex(key).fillna(0).astype(int).to_numpy()
    params = {
        **result.params,
        "max_walk_m": float(default_m),
        "max_walk_min": float(default_m / mpm),
        "category_max_walk_m": {k: float(v) for k, v in limits_m.items()},
        "category_max_walk_min": {k: round(float(v) / mpm, 3) for k, v in limits_m.items()},
    }
    return replace(result, table=table, pairs=own.drop(columns="category").reset_index(drop=True), params=params)
