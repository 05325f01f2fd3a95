"""Interactive coverage map (Folium/Leaflet) of compounds, services and their walking coverage.

All user data reaches the page as one JSON blob (``<``, ``>``, ``&`` escaped as ``\\uXXXX``) that a
small inlined script turns into layers, popups, tooltips, legend, title and search with DOM text
nodes only; names that Leaflet shows as HTML (layer-control entries, the page title) are
HTML-escaped in Python. See :func:`coverage_map` and :func:`save_map`.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement

from lifecircle.errors import InputError
from lifecircle.maps import _offline
from lifecircle.maps._assets import RUNTIME_CSS, RUNTIME_JS
from lifecircle.maps._gcj02 import wgs84_to_gcj02
from lifecircle.maps.labels import category_label, check_lang, label, labels_for, pick_lang

logger = logging.getLogger(__name__)

__all__ = [
    "BASEMAPS",
    "CATEGORY_COLORS",
    "STATUS_COLORS",
    "STATUS_ORDER",
    "check_basemap",
    "coverage_map",
    "save_map",
]

STATUS_ORDER: tuple[str, ...] = ("covered", "no_service", "no_branch", "neither")
STATUS_COLORS: dict[str, str] = {
    "covered": "#2b8a3e",
    "no_service": "#e67700",
    "no_branch": "#7048e8",
    "neither": "#c92a2a",
    "unknown": "#868e96",
}
CATEGORY_COLORS: tuple[str, ...] = (
    "#1c7ed6", "#d6336c", "#0ca678", "#f59f00", "#ae3ec9", "#495057",
    "#74b816", "#15aabf", "#f76707", "#862e9c", "#5c940d", "#a61e4d",
)  # fmt: skip
BASEMAPS: tuple[str, ...] = ("osm", "light", "amap", "tianditu", "none")

COORD_DECIMALS = 5  # 1e-5 degree is 1.1 m of latitude (0.85 m of longitude at 40°N): ~1 m
SIMPLIFY_M = 1.0  # display simplification tolerance, metres
CLUSTER_MIN = 150  # a service category with more points than this is clustered

_MARKERCLUSTER_JS = (
    "lc_markercluster_js",
    "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.4.1/dist/leaflet.markercluster.js",
)
_MARKERCLUSTER_CSS = [
    ("lc_markercluster_css", "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.4.1/dist/MarkerCluster.css"),
    (
        "lc_markercluster_default_css",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.4.1/dist/MarkerCluster.Default.css",
    ),
]
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
_TIANDITU_KEY = re.compile(r"[A-Za-z0-9]{8,64}")


# ----------------------------------------------------------------------------------------- helpers
# branca compiles each element's rendered script once more as a Jinja template, so "{{", "{%" and "{#" in
# the data would run as template code on the user's machine: every user string reaches the page without them.
_JINJA_OPENERS = re.compile(r"\{(?=[{%#])")


def safe_json(obj: object) -> str:
    """JSON text that is safe inside ``<script>``, HTML attributes and branca's second Jinja pass.

    No ``<``, ``>``, ``&`` and no Jinja opener (``{{``, ``{%``, ``{#``: these can only occur inside JSON
    strings, where ``\\u007b`` stands for the brace).
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default)
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return _JINJA_OPENERS.sub(r"\\u007b", text)


def html_text(value: object) -> str:
    """``value`` as HTML text: escaped, and with braces as character references (inert to Jinja)."""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _json_default(o: object) -> object:
    if isinstance(o, np.generic):
        return o.item()
    if o is pd.NA or o is pd.NaT:
        return None
    raise TypeError(f"cannot serialise {type(o).__name__}")


def _check_gdf(gdf: object, what: str, *, geom_types: Sequence[str] | None = None) -> gpd.GeoDataFrame:
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


def _display_geoms(gs: gpd.GeoSeries, *, gcj: bool, simplify_m: float = SIMPLIFY_M) -> np.ndarray:
    """Simplify in metres, convert to EPSG:4326 (and GCJ-02), round to ~1 m. Returns shapely array."""
    if len(gs) == 0:
        return np.array([], dtype=object)
    geo = gs.to_crs(4326)
    drawn = ~(geo.is_empty | geo.isna())
    if simplify_m > 0 and drawn.any() and not (geo[drawn].geom_type == "Point").all():
        metric = geo.estimate_utm_crs()
        geo = geo.to_crs(metric).simplify(simplify_m, preserve_topology=True).to_crs(4326)
    arr = np.asarray(geo.values, dtype=object)
    if gcj:
        arr = shapely.transform(arr, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    return shapely.transform(arr, lambda c: np.round(c, COORD_DECIMALS))


def _geojson_texts(geoms: np.ndarray) -> list[str]:
    """GeoJSON text of each geometry ("null" for missing/empty ones)."""
    if len(geoms) == 0:
        return []
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    texts = np.full(len(geoms), "null", dtype=object)
    texts[valid] = shapely.to_geojson(geoms[valid])
    return texts.tolist()


def _geojson_array(geoms: np.ndarray) -> str:
    """A JSON array text of GeoJSON geometries (null for missing/empty ones)."""
    return "[" + ",".join(_geojson_texts(geoms)) + "]"


def _latlon(geoms: np.ndarray) -> tuple[list, list]:
    pts = shapely.point_on_surface(geoms) if len(geoms) else geoms
    xy = shapely.get_coordinates(pts)
    return np.round(xy[:, 1], COORD_DECIMALS).tolist(), np.round(xy[:, 0], COORD_DECIMALS).tolist()


def _jsonable(values: pd.Series | np.ndarray, *, decimals: int | None = None) -> list:
    """Column as a JSON-ready list: NaN/NA -> None, numpy scalars -> Python, floats optionally rounded."""
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_numeric_dtype(s):
        f = s.astype(float)
        if decimals is not None:
            f = f.round(decimals)
        if decimals == 0:
            out = f.astype("Int64").astype(object)
        else:
            out = f.astype(object)
        return out.where(f.notna(), None).tolist()
    out = np.full(len(s), None, dtype=object)
    mask = s.notna().to_numpy()
    out[mask] = s[mask].astype(str).to_numpy(dtype=object)
    return out.tolist()


def _fmt_num(x: float) -> str:
    return f"{x:g}"


def _is_listlike(v: object) -> bool:
    return isinstance(v, (list, tuple, set, frozenset, np.ndarray))


# ------------------------------------------------------------------------------------- coverage data
def _prepare_table(table: pd.DataFrame, *, minutes: float, speed_kmh: float) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"The coverage table must be a pandas DataFrame, got {type(table).__name__}.")
    t = table.copy()
    if "compound_id" not in t.columns and t.index.name == "compound_id":
        t = t.reset_index()
    missing = {"compound_id", "category"} - set(t.columns)
    if missing:
        raise InputError(f"The coverage table lacks column(s) {', '.join(sorted(missing))}.")
    if "walk_min" not in t.columns:
        if "walk_m" not in t.columns:
            raise InputError("The coverage table needs a walk_min or walk_m column.")
        t["walk_min"] = t["walk_m"].astype(float) / (speed_kmh * 1000.0 / 60.0)
    t["walk_min"] = pd.to_numeric(t["walk_min"], errors="coerce")
    if "covered" not in t.columns:
        t["covered"] = t["walk_min"] <= minutes
    t["covered"] = t["covered"].fillna(False).astype(bool)
    if "nearest_service_id" not in t.columns:
        t["nearest_service_id"] = None
    if "services_within" not in t.columns:
        t["services_within"] = np.nan
    t["compound_id"] = t["compound_id"].astype(str)
    t["category"] = t["category"].astype(str)
    dup = t.duplicated(["compound_id", "category"])
    if dup.any():
        first = t.loc[dup, ["compound_id", "category"]].iloc[0]
        raise InputError(
            f"The coverage table has {int(dup.sum())} duplicate (compound_id, category) rows, "
            f"e.g. ({first['compound_id']}, {first['category']})."
        )
    return t


def _within_counts(col: pd.Series) -> pd.Series:
    """services_within as a count (it may hold counts or lists of service ids)."""
    listlike = col.map(_is_listlike)
    counts = pd.to_numeric(col.where(~listlike), errors="coerce")
    counts[listlike] = col[listlike].map(len)
    return counts


def _service_reach(t: pd.DataFrame, services: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame):
    """Per service: compounds (and residents/households) it serves within the threshold.

    Uses lists of service ids in ``services_within`` when the table has them (every compound within
    reach); otherwise the compounds whose nearest service of that category it is (and covered).
    """
    rows = t[(t["category"] != "all") & t["covered"]]
    within_mode = bool(len(rows)) and bool(rows["services_within"].map(_is_listlike).all())
    if within_mode:
        pairs = rows[["compound_id", "services_within"]].explode("services_within").dropna()
        pairs = pairs.rename(columns={"services_within": "service_id"})
    else:
        pairs = rows[["compound_id", "nearest_service_id"]].dropna()
        pairs = pairs.rename(columns={"nearest_service_id": "service_id"})
    pairs = pairs.astype(str).drop_duplicates()
    out = pd.DataFrame(index=services.index.astype(str))
    out["n_comp"] = pairs.groupby("service_id")["compound_id"].nunique().reindex(out.index).fillna(0)
    for col in ("population", "households"):
        if col in compounds.columns:
            vals = pd.to_numeric(compounds[col], errors="coerce")
            vals.index = compounds.index.astype(str)
            summed = pairs.assign(v=pairs["compound_id"].map(vals)).groupby("service_id")["v"].sum()
            out[col] = summed.reindex(out.index).fillna(0)
    return out, within_mode


def _statuses(
    compounds: gpd.GeoDataFrame, t: pd.DataFrame, ids: pd.Index, category: str | None
) -> tuple[np.ndarray, tuple[str, ...], bool]:
    """Status per compound, the statuses to show in the legend, and whether branch data exists."""
    if category is not None:
        cov = t[t["category"] == category].set_index("compound_id")["covered"].reindex(ids)
        st = np.where(cov.fillna(False).to_numpy(bool), "covered", "no_service")
        st = np.where(cov.isna().to_numpy(), "unknown", st)
        return st.astype(object), ("covered", "no_service"), False
    has_branch = None
    if "has_branch" in compounds.columns:
        has_branch = compounds["has_branch"].astype("boolean").to_numpy()
    branch_known = has_branch is not None and not pd.isna(has_branch).all()
    if "status" in compounds.columns:
        st = compounds["status"].astype(object).to_numpy()
        known = pd.Series(st).isin(STATUS_ORDER).to_numpy()
        st = np.where(known, st, "unknown").astype(object)
        if branch_known:
            return st, STATUS_ORDER, True
        return st, ("covered", "no_service"), False
    cov = t[t["category"] == "all"].set_index("compound_id")["covered"].reindex(ids)
    c = cov.fillna(False).to_numpy(bool)
    if branch_known:
        b = pd.Series(has_branch).fillna(False).to_numpy(bool)
        st = np.select([c & b, ~c & b, c & ~b], ["covered", "no_service", "no_branch"], "neither")
        return st.astype(object), STATUS_ORDER, True
    st = np.where(c, "covered", "no_service").astype(object)
    st[cov.isna().to_numpy()] = "unknown"
    return st, ("covered", "no_service"), False


# -------------------------------------------------------------------------------------- Leaflet glue
class _Overlays(MacroElement):
    """Renders the runtime script and the data blob that fills the folium feature groups."""

    _template = folium.template.Template(
        """
        {% macro header(this, kwargs) %}
            <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            {{ this.runtime }}
            var {{ this.get_name() }}_data = {{ this.data_js }};
            LC.build({{ this._parent.get_name() }}, {{ this.groups_js }}, {{ this.get_name() }}_data);
        {% endmacro %}
        """
    )

    def __init__(self, data_js: str, groups: dict, cluster: bool):
        super().__init__()
        self._name = "LifecircleOverlays"
        self.css = RUNTIME_CSS
        self.runtime = RUNTIME_JS
        self.data_js = data_js
        self._groups = groups
        self.cluster = cluster

    @property
    def groups_js(self) -> str:
        def js(v: object) -> str:
            if isinstance(v, dict):
                return "{" + ",".join(f"{json.dumps(str(k))}:{js(x)}" for k, x in v.items()) + "}"
            if v is None:
                return "null"
            return v.get_name()  # a folium element: its JS variable name

        return js(self._groups)

    def render(self, **kwargs):
        if self.cluster:
            root = self.get_root()
            name, url = _MARKERCLUSTER_JS
            root.header.add_child(folium.JavascriptLink(url), name=name)
            for name, url in _MARKERCLUSTER_CSS:
                root.header.add_child(folium.CssLink(url), name=name)
        super().render(**kwargs)


def check_basemap(basemap: str, tianditu_key: str | None = None) -> None:
    """Raise :class:`~lifecircle.errors.InputError` for an unknown basemap or a Tianditu map without a valid key.

    Parameters
    ----------
    basemap
        One of :data:`BASEMAPS`.
    tianditu_key
        The Tianditu browser key (letters and digits), needed by ``"tianditu"`` only.
    """
    if basemap not in BASEMAPS:
        raise InputError(f"Unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}.")
    if basemap == "tianditu" and not (tianditu_key and _TIANDITU_KEY.fullmatch(str(tianditu_key))):
        raise InputError("basemap='tianditu' needs tianditu_key: your Tianditu browser key (letters and digits).")


def _add_basemaps(m: folium.Map, basemap: str, lang: str, tianditu_key: str | None) -> None:
    def tile(url, key, attr, *, show, subdomains="abc", overlay=False, max_zoom=19):
        folium.TileLayer(
            tiles=url,
            name=html_text(label(key, lang)),
            attr=attr,
            show=show,
            overlay=overlay,
            control=True,
            subdomains=subdomains,
            max_zoom=max_zoom,
            max_native_zoom=min(max_zoom, 18),
        ).add_to(m)

    osm = ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "basemap_osm", _OSM_ATTR)
    light = (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "basemap_light",
        _OSM_ATTR + ' &copy; <a href="https://carto.com/attributions">CARTO</a>',
    )
    if basemap == "osm":
        tile(*osm, show=True)
        tile(*light, show=False, subdomains="abcd")
    elif basemap == "light":
        tile(*light, show=True, subdomains="abcd")
        tile(*osm, show=False)
    elif basemap == "amap":
        attr = "&copy; 高德地图 AutoNavi"
        tile(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "basemap_amap",
            attr,
            show=True,
            subdomains="1234",
            max_zoom=18,
        )
        tile(
            "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
            "basemap_amap_satellite",
            attr,
            show=False,
            subdomains="1234",
            max_zoom=18,
        )
    elif basemap == "tianditu":
        wmts = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk=" + tianditu_key
        )
        attr = "&copy; 天地图 Tianditu"
        tile(wmts.format(s="{s}", layer="vec"), "basemap_tianditu", attr, show=True, subdomains="01234567", max_zoom=18)
        ann = "eva" if lang == "en" else "cva"
        folium.TileLayer(
            tiles=wmts.format(s="{s}", layer=ann),
            name="",
            attr=attr,
            overlay=True,
            control=False,
            subdomains="01234567",
            max_zoom=18,
        ).add_to(m)
        tile(*osm, show=False)
    elif basemap != "none":
        raise InputError(f"Unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}.")


# -------------------------------------------------------------------------------------------- public
def coverage_map(
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    coverage_table: pd.DataFrame,
    *,
    minutes: float,
    speed_kmh: float,
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
) -> folium.Map:
    """Build the interactive coverage map.

    Parameters
    ----------
    compounds
        Compounds indexed by ``compound_id`` with ``name``, polygon geometry, optional ``households``,
        ``population``, ``status`` (covered / no_service / no_branch / neither) and ``has_branch``.
        Any CRS.
    services
        Services indexed by ``service_id`` with ``name``, ``category`` and point geometry. Any CRS.
    coverage_table
        The coverage engine's long table, one row per (compound_id, category) with ``walk_min`` (or
        ``walk_m``), ``nearest_service_id``, ``services_within`` and ``covered``.
    minutes
        The walking threshold N (minutes) the table was computed for; shown in legend and title.
    speed_kmh
        Walking speed (km/h) the table was computed with; shown in the title block.
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
        ``"osm"`` (OSM + light), ``"light"`` (light first), ``"amap"`` (Amap tiles; every overlay is
        shifted to GCJ-02), ``"tianditu"`` (needs ``tianditu_key``), or ``"none"``.
    tianditu_key
        Tianditu browser key for ``basemap="tianditu"``.
    data_date
        Date of the data, shown in the title block.
    title
        Map title; a default from the translation table otherwise.
    category
        Draw the map for one service category: compounds coloured by whether that category is within
        reach, only that category's services and served area.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` (``offline=True`` for a self-contained file).
    """
    compounds = _check_gdf(compounds, "compounds", geom_types=("Polygon", "MultiPolygon"))
    services = _check_gdf(services, "services", geom_types=("Point",))
    for col in ("category",):
        if col not in services.columns:
            raise InputError(f"The services layer lacks the column {col!r}.")
    if not (isinstance(minutes, (int, float)) and minutes > 0 and math.isfinite(minutes)):
        raise InputError(f"minutes must be a positive number, got {minutes!r}.")
    if not (isinstance(speed_kmh, (int, float)) and speed_kmh > 0 and math.isfinite(speed_kmh)):
        raise InputError(f"speed_kmh must be a positive number, got {speed_kmh!r}.")
    check_basemap(basemap, tianditu_key)
    names = compounds["name"] if "name" in compounds.columns else pd.Series([], dtype=object)
    lang = check_lang(lang) if lang is not None else pick_lang(names)
    gcj = basemap == "amap"
    mins = _fmt_num(float(minutes))

    t = _prepare_table(coverage_table, minutes=float(minutes), speed_kmh=float(speed_kmh))
    ids = pd.Index(compounds.index.astype(str))
    services = services.copy()
    services.index = services.index.astype(str)
    services["category"] = services["category"].astype(str)

    # categories: colours over the union of services and table, popup rows from the table
    table_cats = sorted(set(t["category"].unique()) - {"all"})
    all_cats = sorted(set(table_cats) | set(services["category"].unique()))
    if category is not None:
        category = str(category)
        if category not in all_cats:
            raise InputError(f"Category {category!r} is in neither the services nor the coverage table.")
        services = services[services["category"] == category]
        popup_cats = [category] if category in table_cats else []
    else:
        popup_cats = (["all"] if (t["category"] == "all").any() else []) + table_cats
    cat_pos = {c: k for k, c in enumerate(all_cats)}
    cat_colors = [CATEGORY_COLORS[k % len(CATEGORY_COLORS)] for k in range(len(all_cats))]
    cat_names = [category_label(c, lang) for c in all_cats]

    # per compound x category matrices
    full = pd.MultiIndex.from_product([ids, popup_cats], names=["compound_id", "category"])
    tt = t.set_index(["compound_id", "category"]).reindex(full)
    shape = (len(ids), len(popup_cats))
    walk = tt["walk_min"].to_numpy(float).reshape(shape).round(1)
    near = tt["nearest_service_id"].astype(object).where(tt["nearest_service_id"].notna(), None)
    within = _within_counts(tt["services_within"].astype(object))
    cov = tt["covered"].astype("boolean")
    known = pd.Series(ids.isin(t["compound_id"]))

    status, legend_statuses, branch_info = _statuses(compounds, t, ids, category)
    if category is None and branch_info:
        status_labels = {s: label(f"status_{s}", lang, minutes=mins) for s in STATUS_ORDER}
    else:
        status_labels = {
            "covered": label("status_cat_covered", lang, minutes=mins),
            "no_service": label("status_cat_no_service", lang, minutes=mins),
            "no_branch": label("status_no_branch", lang),
            "neither": label("status_neither", lang),
        }
    status_labels["unknown"] = label("status_unknown", lang)
    if (status == "unknown").any():
        legend_statuses = (*legend_statuses, "unknown")
    counts = pd.Series(status).value_counts()

    comp_geoms = _display_geoms(compounds.geometry, gcj=gcj)
    reach, within_mode = _service_reach(t, services, compounds)
    svc_geoms = _display_geoms(services.geometry, gcj=gcj)
    s_lat, s_lon = _latlon(svc_geoms)
    svc_cat_idx = services["category"].map(cat_pos).to_numpy(int)
    cat_counts = np.bincount(svc_cat_idx, minlength=len(all_cats))
    cluster = [bool(n > CLUSTER_MIN) for n in cat_counts]

    def mat(values: np.ndarray) -> list:
        return (
            pd.DataFrame(values.reshape(shape))
            .astype(object)
            .where(pd.DataFrame(pd.notna(values).reshape(shape)), None)
            .to_numpy()
            .tolist()
        )

    token = secrets.token_hex(8)
    raw: dict[str, str] = {}

    def raw_json(text: str) -> str:  # geometry JSON built here: numbers, no user text to escape
        key = f"@@lc{token}_{len(raw)}@@"
        raw[f'"{key}"'] = text
        return key

    data: dict = {
        "lang": lang,
        "labels": labels_for(lang),
        "minutes": mins,
        "minutesValue": float(minutes),
        "title": title
        if title is not None
        else (
            label("title_category", lang, category=category_label(category, lang)) if category else label("title", lang)
        ),
        "params": [
            label("param_threshold", lang, minutes=mins),
            label("param_speed", lang, speed=_fmt_num(float(speed_kmh))),
            *([label("param_date", lang, date=str(data_date))] if data_date else []),
        ],
        "statusColors": STATUS_COLORS,
        "statusLabels": status_labels,
        "statusCounts": {k: int(v) for k, v in counts.items()},
        "legendStatuses": list(legend_statuses),
        "catLabels": cat_names,
        "catColors": cat_colors,
        "catCounts": cat_counts.tolist(),
        "legendCats": sorted(set(svc_cat_idx.tolist())),
        "cluster": cluster,
        "attribution": html_text(label("attribution_data", lang)),
        "compounds": {
            "geoms": raw_json(_geojson_array(comp_geoms)),
            "id": ids.tolist(),
            "name": _jsonable(names) if len(names) else [None] * len(ids),
            "status": status.tolist(),
            "hh": _jsonable(compounds["households"], decimals=0) if "households" in compounds else None,
            "pop": _jsonable(compounds["population"], decimals=0) if "population" in compounds else None,
            "branch": (
                _jsonable(compounds["has_branch"].astype("boolean"))
                if "has_branch" in compounds and category is None
                else None
            ),
            "cats": popup_cats,
            "catLabels": [category_label(c, lang) for c in popup_cats],
            "min": mat(walk),
            "near": mat(near.to_numpy(object)),
            "within": mat(within.round().astype("Int64").to_numpy(object)),
            "cov": mat(cov.to_numpy(object)),
            "known": known.tolist(),
        },
        "services": {
            "id": services.index.tolist(),
            "name": _jsonable(services["name"]) if "name" in services else [None] * len(services),
            "cat": svc_cat_idx.tolist(),
            "lat": s_lat,
            "lon": s_lon,
            "nComp": _jsonable(reach["n_comp"], decimals=0),
            "nPop": _jsonable(reach["population"], decimals=0) if "population" in reach else None,
            "nHh": _jsonable(reach["households"], decimals=0) if "households" in reach else None,
            "withinMode": within_mode,
        },
    }

    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=True)
    # only Leaflet itself: no jQuery, Bootstrap, Font Awesome or awesome-markers are used
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    m.get_root().title = html_text(data["title"])
    _add_basemaps(m, basemap, lang, tianditu_key)

    groups: dict = {"compounds": {}, "services": {}}
    present = [s for s in (*STATUS_ORDER, "unknown") if (status == s).any()]
    for s in present:
        groups["compounds"][s] = folium.FeatureGroup(
            name=html_text(f"{label('layer_compounds', lang)}: {status_labels[s]}"), show=True
        ).add_to(m)
    for k in sorted(set(svc_cat_idx.tolist())):
        groups["services"][k] = folium.FeatureGroup(
            name=html_text(label("layer_services", lang, category=cat_names[k])), show=True
        ).add_to(m)

    if branches is not None:
        branches = _check_gdf(branches, "branches")
        bg = _display_geoms(branches.geometry, gcj=gcj)
        b_lat, b_lon = _latlon(bg)
        data["branches"] = {
            "lat": b_lat,
            "lon": b_lon,
            "name": _jsonable(branches["name"]) if "name" in branches else [None] * len(branches),
        }
        groups["branches"] = folium.FeatureGroup(name=html_text(label("layer_branches", lang))).add_to(m)

    if served_areas is not None:
        served_areas = _check_gdf(served_areas, "served areas", geom_types=("Polygon", "MultiPolygon"))
        if "category" not in served_areas.columns:
            raise InputError("The served areas layer lacks the column 'category'.")
        sa = served_areas[served_areas["category"].astype(str).isin(cat_pos)]
        if category is not None:
            sa = sa[sa["category"].astype(str) == category]
        sa_geoms = _display_geoms(sa.geometry, gcj=gcj, simplify_m=2 * SIMPLIFY_M)
        sa_cats = sa["category"].astype(str).map(cat_pos).tolist()
        data["served"] = raw_json(
            "["
            + ",".join(f'{{"cat":{c},"geom":{g}}}' for c, g in zip(sa_cats, _geojson_texts(sa_geoms), strict=True))
            + "]"
        )
        groups["served"] = {
            k: folium.FeatureGroup(
                name=html_text(label("layer_served", lang, category=cat_names[k])), show=False
            ).add_to(m)
            for k in sorted(set(sa_cats))
        }

    if sites is not None:
        sites = _check_gdf(sites, "sites")
        sg = _display_geoms(sites.geometry, gcj=gcj)
        t_lat, t_lon = _latlon(sg)
        fields = [c for c in sites.columns if c != sites.geometry.name][:12]
        rank = _jsonable(sites["rank"], decimals=0) if "rank" in sites else list(range(1, len(sites) + 1))
        values = [_jsonable(sites[c], decimals=2 if pd.api.types.is_float_dtype(sites[c]) else None) for c in fields]
        data["sites"] = {
            "lat": t_lat,
            "lon": t_lon,
            "rank": rank,
            "fields": [label("site_rank", lang) if c == "rank" else str(c) for c in fields],
            "values": (np.array(values, dtype=object).T.tolist() if fields else np.empty((len(sites), 0)).tolist()),
        }
        groups["sites"] = folium.FeatureGroup(name=html_text(label("layer_sites", lang))).add_to(m)
        if site_areas is not None and len(site_areas):
            site_areas = _check_gdf(site_areas, "site catchments", geom_types=("Polygon", "MultiPolygon"))
            area_geoms = _display_geoms(site_areas.geometry, gcj=gcj)
            data["siteAreas"] = raw_json("[" + ",".join(_geojson_texts(area_geoms)) + "]")

    bounds_geoms = comp_geoms
    if study_area is not None:
        if isinstance(study_area, gpd.GeoSeries):
            study_area = gpd.GeoDataFrame(geometry=study_area)
        study_area = _check_gdf(study_area, "study area", geom_types=("Polygon", "MultiPolygon"))
        st_geoms = _display_geoms(study_area.geometry, gcj=gcj, simplify_m=2 * SIMPLIFY_M)
        data["study"] = raw_json(
            '{"type":"FeatureCollection","features":['
            + ",".join(f'{{"type":"Feature","properties":{{}},"geometry":{g}}}' for g in _geojson_texts(st_geoms))
            + "]}"
        )
        groups["study"] = folium.FeatureGroup(name=html_text(label("layer_study_area", lang))).add_to(m)
        bounds_geoms = st_geoms

    allb = bounds_geoms if len(bounds_geoms) else svc_geoms
    allb = allb[~(shapely.is_missing(allb) | shapely.is_empty(allb))] if len(allb) else allb
    if len(allb):
        x0, y0, x1, y1 = shapely.total_bounds(allb)
        data["bounds"] = [[y0, x0], [y1, x1]]
        m.location = [(y0 + y1) / 2, (x0 + x1) / 2]

    data_js = safe_json(data)
    for key, text in raw.items():
        data_js = data_js.replace(key, text, 1)
    _Overlays(data_js, groups, cluster=any(cluster)).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    logger.debug("coverage map: %d compounds, %d services, %d bytes of data", len(ids), len(services), len(data_js))
    return m


def save_map(m: folium.Map, path: str | Path, *, offline: bool = False) -> Path:
    """Write a map to an HTML file atomically.

    Parameters
    ----------
    m
        A map from :func:`coverage_map` (any folium map works).
    path
        Output ``.html`` path; its folder must exist.
    offline
        Inline Leaflet (from ``xstatic-leaflet``) and, when installed, Leaflet.markercluster (from
        ``xstatic-leaflet-markercluster``; without it services are not clustered) and drop every other
        external script or stylesheet, so the file opens with no network. Only basemap tiles stay remote;
        overlays show without them.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"Cannot write the map to {path}: the folder {path.parent} does not exist.")
    text = m.get_root().render()
    if offline:
        text = _offline.inline_assets(text)
    _offline.write_atomic(path, text)
    logger.info("wrote map %s (%.1f kB%s)", path, path.stat().st_size / 1024, ", offline" if offline else "")
    return path
