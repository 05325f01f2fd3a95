"""The optional layers of a coverage map: streets, branches, served areas, recommended sites, study area."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.maps._geometry import COORD_DECIMALS, SIMPLIFY_M, check_gdf, display_geoms, geojson_texts, latlon
from lifecircle.maps._json import html_text, jsonable
from lifecircle.maps.beyond_layers import BeyondLayers, add_beyond_layers
from lifecircle.maps.labels import label
from lifecircle.maps.streets import street_data

if TYPE_CHECKING:
    from lifecircle.maps._mapdata import Categories, MapData, MapOptions

__all__ = ["ExtraLayers", "add_extra_layers"]

_POLYGONS = ("Polygon", "MultiPolygon")


@dataclass(frozen=True, eq=False)
class ExtraLayers:
    """Optional layers, as given to :func:`lifecircle.maps.coverage_map.coverage_map`."""

    streets: gpd.GeoDataFrame | None = None
    branches: gpd.GeoDataFrame | None = None
    served_areas: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    site_areas: gpd.GeoDataFrame | None = None
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | None = None
    beyond: BeyondLayers | None = None  # capacity and opening-hours layers (lifecircle.maps.beyond_layers)


def _streets(streets: gpd.GeoDataFrame, opts: MapOptions, md: MapData) -> None:
    names, lines = street_data(streets, gcj=opts.gcj)
    md.data["streets"] = {"names": names, "lines": md.raw.key(lines), "scale": 10**COORD_DECIMALS}
    md.layers["streets"] = html_text(label("layer_streets", opts.lang))


def _branches(branches: gpd.GeoDataFrame, opts: MapOptions, md: MapData) -> None:
    branches = check_gdf(branches, "branches")
    lat, lon = latlon(display_geoms(branches.geometry, gcj=opts.gcj))
    md.data["branches"] = {
        "lat": lat,
        "lon": lon,
        "name": jsonable(branches["name"]) if "name" in branches else [None] * len(branches),
    }
    md.layers["branches"] = html_text(label("layer_branches", opts.lang))


def _served(served: gpd.GeoDataFrame, cats: Categories, opts: MapOptions, md: MapData) -> None:
    served = check_gdf(served, "served areas", geom_types=_POLYGONS)
    if "category" not in served.columns:
        raise InputError("The served areas layer lacks the column 'category'.")
    position = cats.position
    sa = served[served["category"].astype(str).isin(position)]
    if opts.category is not None:
        sa = sa[sa["category"].astype(str) == opts.category]
    geoms = display_geoms(sa.geometry, gcj=opts.gcj, simplify_m=2 * SIMPLIFY_M)
    sa_cats = sa["category"].astype(str).map(position).tolist()
    md.data["served"] = md.raw.key(
        "[" + ",".join(f'{{"cat":{c},"geom":{g}}}' for c, g in zip(sa_cats, geojson_texts(geoms), strict=True)) + "]"
    )
    md.layers["served"] = {
        k: html_text(label("layer_served", opts.lang, category=cats.names[k])) for k in sorted(set(sa_cats))
    }


def _sites(sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, opts: MapOptions, md: MapData) -> None:
    sites = check_gdf(sites, "sites")
    lat, lon = latlon(display_geoms(sites.geometry, gcj=opts.gcj))
    fields = [c for c in sites.columns if c != sites.geometry.name][:12]
    rank = jsonable(sites["rank"], decimals=0) if "rank" in sites else list(range(1, len(sites) + 1))
    values = [jsonable(sites[c], decimals=2 if pd.api.types.is_float_dtype(sites[c]) else None) for c in fields]
    md.data["sites"] = {
        "lat": lat,
        "lon": lon,
        "rank": rank,
        "fields": [label("site_rank", opts.lang) if c == "rank" else str(c) for c in fields],
        "values": (np.array(values, dtype=object).T.tolist() if fields else np.empty((len(sites), 0)).tolist()),
    }
    md.layers["sites"] = html_text(label("layer_sites", opts.lang))
    if areas is not None and len(areas):
        areas = check_gdf(areas, "site catchments", geom_types=_POLYGONS)
        geoms = display_geoms(areas.geometry, gcj=opts.gcj)
        md.data["siteAreas"] = md.raw.key("[" + ",".join(geojson_texts(geoms)) + "]")


def _study(study_area: gpd.GeoDataFrame | gpd.GeoSeries, opts: MapOptions, md: MapData) -> np.ndarray:
    if isinstance(study_area, gpd.GeoSeries):
        study_area = gpd.GeoDataFrame(geometry=study_area)
    study_area = check_gdf(study_area, "study area", geom_types=_POLYGONS)
    geoms = display_geoms(study_area.geometry, gcj=opts.gcj, simplify_m=2 * SIMPLIFY_M)
    md.data["study"] = md.raw.key(
        '{"type":"FeatureCollection","features":['
        + ",".join(f'{{"type":"Feature","properties":{{}},"geometry":{g}}}' for g in geojson_texts(geoms))
        + "]}"
    )
    md.layers["study"] = html_text(label("layer_study_area", opts.lang))
    return geoms


def add_extra_layers(extra: ExtraLayers, cats: Categories, opts: MapOptions, md: MapData) -> np.ndarray | None:
    """Add every optional layer given; return the study area's display geometries (the map's extent) if given."""
    if extra.streets is not None:
        _streets(extra.streets, opts, md)
    if extra.branches is not None:
        _branches(extra.branches, opts, md)
    if extra.served_areas is not None:
        _served(extra.served_areas, cats, opts, md)
    if extra.sites is not None:
        _sites(extra.sites, extra.site_areas, opts, md)
    if extra.beyond is not None:
        add_beyond_layers(extra.beyond, cats, opts, md)
    if extra.study_area is not None:
        return _study(extra.study_area, opts, md)
    return None
