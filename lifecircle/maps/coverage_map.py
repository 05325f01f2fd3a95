"""Interactive coverage map (Folium/Leaflet) of compounds, services and their walking coverage.

All user data reaches the page as one JSON blob (``<``, ``>``, ``&`` escaped as ``\\uXXXX``) that a
small inlined script turns into layers, popups, tooltips, legend, title and search with DOM text
nodes only; names that Leaflet shows as HTML (layer-control entries, the page title) are
HTML-escaped in Python. Data preparation is in :mod:`lifecircle.maps._mapdata`, rendering in
:mod:`lifecircle.maps._render`. See :func:`coverage_map` and :func:`save_map`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import folium
import geopandas as gpd
import networkx as nx
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.network.graph import PreparedNetwork
from lifecircle.geo.walk import Walk
from lifecircle.maps import _offline
from lifecircle.maps._geometry import check_gdf
from lifecircle.maps._json import html_text, safe_json
from lifecircle.maps._layers import ExtraLayers
from lifecircle.maps._mapdata import CLUSTER_MIN, MapOptions, build_map_data
from lifecircle.maps._render import render_map
from lifecircle.maps._style import CATEGORY_COLORS, STATUS_COLORS, STATUS_ORDER
from lifecircle.maps.basemaps import BASEMAPS, check_basemap
from lifecircle.maps.beyond_layers import BeyondLayers
from lifecircle.maps.labels import check_lang, pick_lang
from lifecircle.maps.streets import street_edges

logger = logging.getLogger(__name__)

__all__ = [
    "BASEMAPS",
    "CATEGORY_COLORS",
    "CLUSTER_MIN",
    "STATUS_COLORS",
    "STATUS_ORDER",
    "check_basemap",
    "coverage_map",
    "html_text",
    "safe_json",
    "save_map",
]


def _street_lines(streets: object) -> gpd.GeoDataFrame | None:
    if streets is None or isinstance(streets, gpd.GeoDataFrame):
        return streets
    if isinstance(streets, (nx.Graph, PreparedNetwork)):
        return street_edges(streets)
    raise InputError(f"streets must be a GeoDataFrame or a walking network, got {type(streets).__name__}.")


def coverage_map(
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    coverage_table: pd.DataFrame,
    *,
    walk: Walk,
    streets: gpd.GeoDataFrame | nx.MultiDiGraph | PreparedNetwork | None = None,
    branches: gpd.GeoDataFrame | None = None,
    served_areas: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    site_areas: gpd.GeoDataFrame | None = None,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    lang: str | None = None,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    data_date: str | None = None,
    title: str | None = None,
    category: str | None = None,
    beyond: BeyondLayers | None = None,
) -> folium.Map:
    """Build the interactive coverage map.

    Parameters
    ----------
    compounds
        Compounds indexed by ``compound_id`` with ``name``, polygon geometry, optional households and population
        (``households``/``户数``, ``population``/``人口`` …), ``status`` (covered / no_service / no_branch /
        neither / unreachable) and ``has_branch``. Any CRS.
    services
        Services indexed by ``service_id`` with ``name``, ``category`` and point geometry. Any CRS.
    coverage_table
        The coverage engine's long table, one row per (compound_id, category) with ``walk_min`` (or
        ``walk_m``), ``nearest_service_id``, ``services_within``, ``covered`` and optionally ``reach``.
    walk
        The walk the table was computed with (:class:`~lifecircle.geo.walk.Walk`): its general limit is that of
        the table's ``all`` rows and of categories without their own, its per-category limits (a study's
        thresholds) are what legend, popups and title say for those categories, its speed is shown in the title
        block and turns a table's ``walk_m`` into minutes.
    streets
        The walking network the analysis used, drawn as a street layer (main roads heavier, footways lighter,
        names on hover) so the map is readable with no tiles: street lines with ``highway`` and ``name``
        columns (:func:`lifecircle.maps.streets.street_edges`), or the graph or prepared network itself.
    branches
        Optional branch points (``name`` column optional).
    served_areas
        Optional GeoDataFrame with ``category`` and polygon geometry: one toggleable layer per category.
    sites
        Optional recommended new sites (points, ``rank`` and any scalar columns shown in the popup).
    site_areas
        Optional polygons of what the recommended sites newly cover (their catchments), drawn in the sites layer.
    study_area
        Optional study-area polygon(s), drawn as an outline.
    lang
        ``"zh"`` or ``"en"``; by default chosen from the compound names (:func:`pick_lang`).
    basemap
        Tiles for those online: ``"osm"`` (OSM + light), ``"light"`` (light first), ``"amap"`` (Amap tiles;
        every overlay is shifted to GCJ-02), ``"tianditu"`` (needs ``tianditu_key``), or ``"none"``. A "no
        tiles" choice is always listed, and the map switches to it when tiles cannot load.
    tianditu_key
        Tianditu browser key for ``basemap="tianditu"``.
    data_date
        Date of the data, shown in the title block.
    title
        Map title; a default from the translation table otherwise.
    category
        Draw the map for one service category: compounds coloured by whether that category is within
        reach, only that category's services and served area.
    beyond
        Capacity and opening-hours layers (:class:`~lifecircle.maps.beyond_layers.BeyondLayers`): covered but
        crowded compounds, overloaded services, weekday daytime / evening / weekend windows, hours unknown.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` (self-contained unless ``online=True``).
    """
    compounds = check_gdf(compounds, "compounds", geom_types=("Polygon", "MultiPolygon"))
    services = check_gdf(services, "services", geom_types=("Point",))
    if "category" not in services.columns:
        raise InputError("The services layer lacks the column 'category'.")
    check_basemap(basemap, tianditu_key)
    if not isinstance(walk, Walk):
        raise InputError(f"walk must be a lifecircle Walk, got {type(walk).__name__}.")
    names = compounds["name"] if "name" in compounds.columns else pd.Series([], dtype=object)
    opts = MapOptions(
        walk=walk,
        lang=check_lang(lang) if lang is not None else pick_lang(names),
        gcj=basemap == "amap",
        data_date=data_date,
        title=title,
        category=None if category is None else str(category),
    )
    extra = ExtraLayers(
        streets=_street_lines(streets),
        branches=branches,
        served_areas=served_areas,
        sites=sites,
        site_areas=site_areas,
        study_area=study_area,
        beyond=beyond,
    )
    md = build_map_data(compounds, services, coverage_table, opts, extra)
    m = render_map(md, basemap=basemap, tianditu_key=tianditu_key)
    logger.debug("coverage map: %d compounds, %d services", len(compounds), len(services))
    return m


def save_map(m: folium.Map, path: str | Path, *, online: bool = False, offline: bool | None = None) -> Path:
    """Write a map to an HTML file atomically; by default it opens with no network.

    Parameters
    ----------
    m
        A map from :func:`coverage_map` (any folium map works).
    path
        Output ``.html`` path; its folder must exist.
    online
        Load Leaflet (and Leaflet.markercluster) from their CDN instead of inlining them. By default both are
        inlined (from ``xstatic-leaflet`` and ``xstatic-leaflet-markercluster``; without the latter services are
        not clustered) and every other external script or stylesheet is dropped, so the file opens with no
        network. Only basemap tiles stay remote; the street layer and overlays show without them.
    offline
        Deprecated spelling kept for callers written before maps became offline by default:
        ``offline=False`` means ``online=True``.

    Returns
    -------
    Path
        The written file.
    """
    if offline is not None:
        online = not offline
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"Cannot write the map to {path}: the folder {path.parent} does not exist.")
    text = m.get_root().render()
    if not online:
        text = _offline.inline_assets(text)
    _offline.write_atomic(path, text)
    logger.info("wrote map %s (%.1f kB%s)", path.name, path.stat().st_size / 1024, ", online assets" if online else "")
    return path
