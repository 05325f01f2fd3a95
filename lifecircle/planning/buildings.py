"""Buildings (楼栋, ``--buildings``): walks start from each building, not only from its compound's point or gates.

Each building (polygon or point) starts its walk from the nearest street to a point inside it. Its compound is the
one its ``compound_id`` / ``小区`` column names, else the compound polygon it lies in; a building in none is kept
with an empty compound and named (a warning, ``summary.json`` and the report). Households per building come from
its own column or are apportioned (:mod:`~lifecircle.planning.building_households`); a building-group column
(楼栋党小组) marks buildings with a group.

Outputs: ``buildings.csv`` (``building_id, compound_id, category, walk_m, covered``), ``buildings.gpkg`` (the
buildings with households, group and minutes per category), and per compound and category in ``coverage.csv``
the columns of :mod:`~lifecircle.planning.building_rollup`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from lifecircle.errors import InputError
from lifecircle.geo.crs import to_crs
from lifecircle.geo.inputs.columns import find_column
from lifecircle.geo.inputs.flags import flag_word
from lifecircle.geo.inputs.layers import read_layer
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.reach.origin_walks import NearestWalks, nearest_walks, origin_xy
from lifecircle.geo.walk import Walk, prepared
from lifecircle.planning.analysis import Analysis
from lifecircle.planning.building_households import building_households
from lifecircle.planning.building_rollup import building_rollup, changed_compounds, coverage_columns

log = logging.getLogger(__name__)

__all__ = [
    "BUILDING_COLUMNS",
    "BuildingLayer",
    "building_coverage",
    "building_layer",
    "building_summary",
    "read_buildings",
    "with_buildings",
]

BUILDING_COLUMNS = ["building_id", "compound_id", "category", "walk_m", "covered"]
ID_COLUMNS = ("id", "building_id", "楼栋编号", "编号")
COMPOUND_COLUMNS = ("compound_id", "小区", "小区编号")
GROUP_COLUMNS = ("楼栋党小组", "党小组", "building_group", "party_group", "group")
EXAMPLES = 20


@dataclass(frozen=True, eq=False)
class BuildingLayer:
    """Buildings read for an analysis.

    Attributes
    ----------
    buildings
        Indexed by ``building_id`` (text): ``compound_id`` (None outside every compound), ``households`` (NaN
        when unknown) and, with a group column, ``has_group``; geometry in the layer's CRS.
    source
        Where they came from (a file name, or the OSM extract).
    households
        How households were found (:func:`~lifecircle.planning.building_households.building_households`).
    group_column
        The building-group column used (None: no groups).
    """

    buildings: gpd.GeoDataFrame
    source: str
    households: dict = field(default_factory=dict)
    group_column: str | None = None

    @property
    def without_compound(self) -> pd.Index:
        """Ids of buildings in no compound."""
        return self.buildings.index[self.buildings["compound_id"].isna().to_numpy()]


def read_buildings(
    path: str | Path, compounds: gpd.GeoDataFrame, *, group_column: str | None = None, **read_kw
) -> BuildingLayer:
    """Read a building layer (:func:`building_layer` on the file).

    Raises
    ------
    InputError
        An unreadable layer, repeated building ids, a compound column naming compounds that are not there, a
        households column with values that are not numbers, or a group column that is not there.
    """
    return building_layer(read_layer(path, **read_kw), compounds, source=Path(path).name, group_column=group_column)


def building_layer(
    layer: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, *, source: str, group_column: str | None = None
) -> BuildingLayer:
    """Buildings with their compound (a column, else by location), households and group."""
    layer = layer.reset_index(drop=True)
    id_column = find_column(layer, ID_COLUMNS)
    ids = layer[id_column].astype(str) if id_column else pd.Series([f"b{i}" for i in range(len(layer))])
    if ids.duplicated().any():
        raise InputError(f"{source}: building ids repeat ({', '.join(ids[ids.duplicated()].unique()[:5])}).")
    buildings = gpd.GeoDataFrame(geometry=layer.geometry.to_numpy(), crs=layer.crs)
    buildings.index = pd.Index(ids.to_numpy(), name="building_id")
    buildings["compound_id"] = _compound_of(layer, buildings, compounds, source)
    households, method = building_households(buildings, layer, compounds, source=source)
    buildings["households"] = households.to_numpy()
    group = _group_column(layer, group_column, source)
    if group is not None:
        buildings["has_group"] = [_has_group(v) for v in layer[group]]
    out = BuildingLayer(buildings, source, method, None if group is None else str(group))
    outside = out.without_compound
    if len(outside):
        log.warning(
            "%s: %d buildings lie in no compound (kept, compound empty): %s",
            source,
            len(outside),
            ", ".join(outside[:5]) + (" ..." if len(outside) > 5 else ""),
        )
    return out


def _compound_of(
    layer: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, source: str
) -> np.ndarray:
    """The compound of each building: named by a column, else the compound polygon holding a point inside it."""
    known = compounds.index.astype(str)
    column = find_column(layer, COMPOUND_COLUMNS)
    if column is not None:
        named = layer[column].astype("string").str.strip()
        named = named.where(named != "")
        unknown = sorted(set(named.dropna()) - set(known))
        if unknown:
            raise InputError(f"{source}: column {column!r} names compounds not in the compound layer: {unknown[:5]}.")
        return np.array([None if pd.isna(v) else str(v) for v in named], dtype=object)
    inner = shapely.point_on_surface(buildings.geometry.to_numpy())
    polygons = to_crs(compounds[["geometry"]], buildings.crs).geometry.to_numpy()
    tree = shapely.STRtree(polygons)
    point_pos, polygon_pos = tree.query(inner, predicate="within")
    first = np.unique(point_pos, return_index=True)[1]  # a building in two overlapping compounds: the first
    owner = np.full(len(buildings), None, dtype=object)
    owner[point_pos[first]] = known.to_numpy()[polygon_pos[first]]
    return owner


def _group_column(layer: pd.DataFrame, wanted: str | None, source: str) -> str | None:
    if wanted is None:
        return find_column(layer, GROUP_COLUMNS)
    if wanted not in layer.columns:
        raise InputError(f"{source} has no column {wanted!r} (--building-group-column).")
    return wanted


def _has_group(value: object) -> bool:
    """A group's name or a yes word: a group; empty or a no word (无, 0, 否): none."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return False
    word = flag_word(value)
    return True if word is None else word


def building_coverage(
    net: PreparedNetwork,
    buildings: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    max_snap_m: float,
    category_column: str | None = "category",
) -> pd.DataFrame:
    """Per building and category (categories in turn, ``all`` first): the walk from the building to the nearest
    service and whether it is within the limit (the category's own limit where it has one); the table of
    ``buildings.csv``. ``buildings`` is indexed by building id with ``compound_id``."""
    xy = origin_xy(buildings, net.crs)
    found = nearest_walks(net, xy, services, walk=walk, max_snap_m=max_snap_m, category_column=category_column)
    return _long_table(found, buildings)


def _long_table(found: NearestWalks, buildings: gpd.GeoDataFrame) -> pd.DataFrame:
    """The table of ``buildings.csv``; ids as categoricals (44k buildings × categories of text cells would cost
    more than the walks)."""
    n_cat, n = found.walk_m.shape
    walk_m = np.where(np.isfinite(found.walk_m), found.walk_m, np.nan)
    compound = pd.Categorical(buildings["compound_id"].to_numpy(dtype=object))
    return pd.DataFrame(
        {
            "building_id": pd.Categorical.from_codes(np.tile(np.arange(n), n_cat), categories=buildings.index),
            "compound_id": pd.Categorical.from_codes(np.tile(compound.codes, n_cat), dtype=compound.dtype),
            "category": pd.Categorical.from_codes(np.repeat(np.arange(n_cat), n), categories=found.categories),
            "walk_m": np.round(walk_m.ravel(), 1),
            "covered": found.covered.ravel(),
        }
    )


def building_summary(layer: BuildingLayer, found: NearestWalks, changed: dict) -> dict:
    """``summary.json``'s ``buildings``: per category the buildings covered and the compounds whose answer
    changes from compound to building level (``changed``, from
    :func:`~lifecircle.planning.building_rollup.changed_compounds`), buildings in no compound, the households
    method and buildings without a group."""
    categories = {}
    for k, category in enumerate(found.categories):
        entry = changed.get(str(category), {"count": 0, "compounds": []})
        categories[str(category)] = {
            "buildings": len(layer.buildings),
            "buildings_covered": int(found.covered[k].sum()),
            "buildings_unreachable": int((~np.isfinite(found.walk_m[k])).sum()),
            "compounds_with_uncovered_buildings": entry["count"],
            "examples": [c["compound_id"] for c in entry["compounds"]],
            "changed": entry["compounds"],
        }
    outside = layer.without_compound
    summary = {
        "source": layer.source,
        "buildings": len(layer.buildings),
        "households": layer.households,
        "without_compound": {"count": len(outside), "ids": [str(i) for i in outside[:EXAMPLES]]},
        "off_network": int((~found.snapped).sum()),
        "categories": categories,
    }
    if layer.group_column is not None:
        lacking = layer.buildings[~layer.buildings["has_group"].to_numpy(dtype=bool)]
        owner = lacking["compound_id"].astype(object).where(lacking["compound_id"].notna(), "")
        summary["groups"] = {
            "column": layer.group_column,
            "without_group": len(lacking),
            "ids": [str(i) for i in lacking.index[:EXAMPLES]],
            "by_compound": [
                {"compound_id": str(c) or None, "count": len(ids), "ids": [str(i) for i in ids[:EXAMPLES]]}
                for c, ids in lacking.index.groupby(owner.to_numpy()).items()
            ],
        }
    return summary


def with_buildings(
    analysis: Analysis,
    net: nx.MultiDiGraph | PreparedNetwork,
    layer: BuildingLayer,
    services: gpd.GeoDataFrame,
    *,
    walk: Walk,
    max_snap_m: float,
) -> tuple[Analysis, pd.DataFrame, gpd.GeoDataFrame]:
    """The analysis with the building columns in its coverage table and ``summary["buildings"]``, the table of
    ``buildings.csv`` and the layer of ``buildings.gpkg``. ``services`` are those the analysis counted (at a
    moment, the open ones)."""
    net = prepared(net, walk)
    buildings = layer.buildings
    found = nearest_walks(net, origin_xy(buildings, net.crs), services, walk=walk, max_snap_m=max_snap_m)
    compound_ids = analysis.compounds.index.astype(str)
    owner = compound_ids.get_indexer(buildings["compound_id"].astype(object))  # -1: in no compound
    groups = buildings["has_group"].to_numpy(dtype=bool) if layer.group_column is not None else None
    households = buildings["households"].to_numpy(dtype=float)
    rollup = building_rollup(found, owner, compound_ids.to_numpy(), households, groups)
    coverage = analysis.coverage.table
    ids = buildings.index.to_numpy()
    mpm = walk.metres_per_minute
    extended = coverage.assign(**coverage_columns(rollup, coverage, ids, metres_per_minute=mpm))
    at_compound = np.zeros(rollup.households_within.shape, dtype=bool)
    comp = compound_ids.get_indexer(coverage["compound_id"].astype(str))
    cat = pd.Index(rollup.categories).get_indexer(coverage["category"].astype(str))
    known = (comp >= 0) & (cat >= 0)
    at_compound[cat[known], comp[known]] = coverage["covered"].to_numpy(dtype=bool)[known]
    names = None
    if "name" in analysis.compounds.columns:
        names = pd.Series(analysis.compounds["name"].to_numpy(), index=compound_ids)
    changed = changed_compounds(rollup, at_compound, ids, names, metres_per_minute=mpm)
    summary = {**analysis.summary, "buildings": building_summary(layer, found, changed)}
    result = replace(analysis.coverage, table=extended)
    features = building_features(layer, found, walk)
    return replace(analysis, coverage=result, summary=summary), _long_table(found, buildings), features


def building_features(layer: BuildingLayer, found: NearestWalks, walk: Walk) -> gpd.GeoDataFrame:
    """The layer of ``buildings.gpkg`` (WGS84): compound, households, group, and per category ``walk_min_<c>``
    and ``covered_<c>``."""
    out = layer.buildings.to_crs(4326)
    out.attrs = {}
    out["households"] = out["households"].round(2)
    minutes = np.where(np.isfinite(found.walk_m), found.walk_m, np.nan) / walk.metres_per_minute
    for k, category in enumerate(found.categories):
        out[f"walk_min_{category}"] = np.round(minutes[k], 2)
        out[f"covered_{category}"] = found.covered[k]
    return out
