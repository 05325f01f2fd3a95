"""The inputs of every job: how to read a layer, the layers of a study, and the one network loader.

Every command reads its network through :func:`load_graph`: an OSM extract (``.osm``, ``.osm.bz2``,
``.osm.pbf``), a GraphML file, a road-centreline layer (``.shp``, ``.gpkg``, ``.geojson``...), ``place:NAME`` or
``bbox:W,S,E,N`` (osmnx, online), or ``auto`` (the bounding box of the layers plus 1 km); local road lines can be
merged in. Category groups of a study (ledger values -> one category) are applied by :func:`group_categories`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.layers import (
    COORD_SYSTEM_KEY,
    read_branches,
    read_compounds,
    read_gates,
    read_services,
    read_study_area,
)
from lifecircle.geo.network.lines import merge_networks, network_from_lines
from lifecircle.geo.network.osm import load_network, network_from_bbox

log = logging.getLogger(__name__)

__all__ = [
    "AUTO_NETWORK",
    "JobLayers",
    "LayerSpec",
    "check_threshold_categories",
    "coord_systems",
    "group_categories",
    "load_graph",
    "network_file",
    "read_layers",
    "study_bbox",
    "use_weight_columns",
]

AUTO_NETWORK = "auto"
STUDY_MARGIN_M = 1000.0
LINE_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".fgb"}


@dataclass(frozen=True)
class LayerSpec:
    """How to read one input file: path plus the optional column, CRS, coordinate-system and encoding overrides."""

    path: Path
    id_column: str | None = None
    name_column: str | None = None
    crs: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    encoding: str | None = None
    layer: str | None = None
    coord_system: str | None = None
    sheet: str | int | None = None
    on_swap: str = "raise"
    extra: dict = field(default_factory=dict)

    def read_kw(self) -> dict:
        """Keyword arguments for the layer readers."""
        kw = {
            "id_column": self.id_column,
            "name_column": self.name_column,
            "crs": self.crs,
            "lon_column": self.lon_column,
            "lat_column": self.lat_column,
            "encoding": self.encoding,
            "layer": self.layer,
            "coord_system": self.coord_system,
            "sheet": self.sheet,
            "on_swap": self.on_swap,
        }
        return {**kw, **self.extra}


@dataclass(frozen=True, eq=False)
class JobLayers:
    """The layers of one job, read and checked."""

    compounds: gpd.GeoDataFrame | None
    services: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame | None = None
    gates: gpd.GeoDataFrame | None = None
    study_area: gpd.GeoDataFrame | None = None


def read_layers(
    compounds: LayerSpec | None,
    services: LayerSpec,
    *,
    category_column: str | None = None,
    branches: LayerSpec | None = None,
    gates: LayerSpec | None = None,
    study_area: Path | None = None,
    categories: Mapping[str, tuple[str, ...]] | None = None,
) -> JobLayers:
    """Read every input layer of a job (each reader says in one sentence what is wrong with its file).

    ``categories`` groups ledger category values into the study's categories (:func:`group_categories`).
    """
    services_gdf = read_services(services.path, category_column=category_column, **services.read_kw())
    return JobLayers(
        compounds=read_compounds(compounds.path, **compounds.read_kw()) if compounds else None,
        services=group_categories(services_gdf, categories or {}),
        branches=read_branches(branches.path, **branches.read_kw()) if branches else None,
        gates=read_gates(gates.path, **gates.read_kw()) if gates else None,
        study_area=read_study_area(study_area) if study_area is not None else None,
    )


def group_categories(services: gpd.GeoDataFrame, categories: Mapping[str, tuple[str, ...]]) -> gpd.GeoDataFrame:
    """Group ledger category values into study categories (``便民服务点``, ``超市`` -> ``便民服务``).

    The ledger value is kept in ``ledger_category``; values in no group stay their own category (logged).
    """
    out = services.copy()
    out.attrs = dict(services.attrs)
    if not categories:
        return out
    lookup = {value: category for category, values in categories.items() for value in values}
    raw = out["category"].astype(str).str.strip()
    out["ledger_category"] = raw
    out["category"] = raw.map(lookup).fillna(raw)
    ungrouped = sorted(set(raw) - set(lookup))
    if ungrouped:
        log.info("ledger categories in no group keep their own name: %s", ", ".join(ungrouped[:20]))
    unused = [f"{category}: {value!r}" for value, category in lookup.items() if value not in set(raw)]
    if unused:
        log.warning("[categories] name ledger values no service has (a typo?): %s", ", ".join(unused[:10]))
    return out


def coord_systems(**layers: gpd.GeoDataFrame | None) -> dict[str, str]:
    """The declared coordinate system of each layer read (``wgs84`` when not recorded)."""
    return {name: g.attrs.get(COORD_SYSTEM_KEY, "wgs84") for name, g in layers.items() if g is not None}


def is_line_layer(source: str | Path) -> bool:
    """Whether a network source names a road-centreline layer (rather than OSM, GraphML or an online query)."""
    path = Path(str(source))
    return path.suffix.lower() in LINE_SUFFIXES and path.exists()


def network_file(source: str | Path | nx.MultiDiGraph | None) -> Path | None:
    """The network's file, for input hashes (None for a graph given in Python and online sources)."""
    if source is None or isinstance(source, nx.MultiDiGraph):
        return None
    path = Path(str(source))
    return path if path.is_file() else None


def load_graph(
    source: str | Path | nx.MultiDiGraph,
    *,
    layers: tuple[gpd.GeoDataFrame, ...] = (),
    include_private: bool = False,
    merge_lines: Path | None = None,
    level_column: str | None = None,
) -> tuple[nx.MultiDiGraph, dict[str, pd.DataFrame]]:
    """The walking graph of any command, from whatever the user named.

    Parameters
    ----------
    source
        A graph; an OSM extract, GraphML or road-centreline layer; ``place:NAME`` / ``bbox:W,S,E,N``; or
        ``auto``: online, the bounding box of ``layers`` plus 1 km.
    layers
        The job's layers (for ``auto``).
    include_private
        Keep ``access=private`` ways (flagged), for compound roads and open blocks.
    merge_lines, level_column
        A local road-centreline layer merged into the network to fill its gaps; the level column of line layers
        (bridges and tunnels cross without meeting).

    Returns
    -------
    graph, tables
        The walking graph and, when local lines were merged, the ``network_sources`` table (km per source).
    """
    tables: dict[str, pd.DataFrame] = {}
    if isinstance(source, nx.MultiDiGraph):
        graph = source
    elif str(source) == AUTO_NETWORK:
        if not layers:
            raise InputError("--network auto needs the layers to take the bounding box from.")
        graph = network_from_bbox(study_bbox(*layers), include_private=include_private)
    elif is_line_layer(source):
        graph = network_from_lines(Path(str(source)), level_column=level_column)
    else:
        graph = load_network(source, include_private=include_private)
    if merge_lines is not None:
        local = network_from_lines(merge_lines, level_column=level_column)
        graph, report = merge_networks(graph, local)
        tables["network_sources"] = report.table.reset_index()
    return graph, tables


def study_bbox(*layers: gpd.GeoDataFrame, margin_m: float = STUDY_MARGIN_M) -> tuple[float, float, float, float]:
    """WGS84 ``(west, south, east, north)`` around all layers, with a margin so edge compounds keep their streets."""
    bounds = np.array([layer.to_crs(4326).total_bounds for layer in layers])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    dlat = margin_m / 111_320.0
    dlon = margin_m / (111_320.0 * max(np.cos(np.radians((south + north) / 2)), 0.1))
    return (west - dlon, south - dlat, east + dlon, north + dlat)


def use_weight_columns(
    compounds: gpd.GeoDataFrame, *, households_column: str | None = None, population_column: str | None = None
) -> gpd.GeoDataFrame:
    """The compounds with ``households`` / ``population`` taken from the columns a study names."""
    out = compounds.copy()
    out.attrs = dict(compounds.attrs)
    for column, target in ((households_column, "households"), (population_column, "population")):
        if column is None or column == target:
            continue
        if column not in out.columns:
            raise InputError(f"The compound layer has no column {column!r} (compounds.{target}_column).")
        out[target] = out[column]  # checked as numbers by the analysis
    return out


def check_threshold_categories(
    services: gpd.GeoDataFrame, thresholds: Mapping[str, Mapping[str, float]], *, source: Path | None = None
) -> None:
    """Refuse per-category thresholds (``{"thresholds": {...}, "thresholds_m": {...}}``) naming no category."""
    present = set(services["category"].astype(str))
    for key, table in thresholds.items():
        unknown = sorted(set(table) - present)
        if unknown:
            where = f"{Path(source).name}: " if source else ""
            raise InputError(
                f"{where}[{key}] names category {unknown[0]!r}, which no service has; the categories are "
                f"{', '.join(sorted(present))}."
            )
