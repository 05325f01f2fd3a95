"""Everything a coverage map shows, prepared as one JSON-ready dict (no rendering here).

:func:`build_map_data` reads the layers and the coverage table and returns a :class:`MapData`: the data blob the
runtime draws from (user text escaped later by ``safe_json``; geometry as number-only JSON in ``raw``), and the
layers the layer control lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, POPULATION_COLUMNS, find_column
from lifecircle.geo.walk import Walk
from lifecircle.maps import _layers
from lifecircle.maps._geometry import display_geoms, geojson_texts, latlon, lonlat_bounds
from lifecircle.maps._json import RawJson, fmt_num, html_text, jsonable
from lifecircle.maps._style import CATEGORY_COLORS, STATUS_COLORS, STATUS_ORDER, UNREACHABLE
from lifecircle.maps._table import prepare_table, service_reach, statuses, within_counts
from lifecircle.maps.labels import category_label, label, labels_for

__all__ = ["CANVAS_MIN", "CLUSTER_MIN", "Categories", "MapData", "MapOptions", "build_map_data"]

CLUSTER_MIN = 150  # a service category with more points than this is clustered
CANVAS_MIN = 1500  # more compounds than this are drawn on a canvas rather than as SVG paths


@dataclass(frozen=True)
class MapOptions:
    """What to draw and how to label it (checked by :func:`lifecircle.maps.coverage_map.coverage_map`)."""

    walk: Walk
    lang: str
    gcj: bool = False
    data_date: str | None = None
    title: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Categories:
    """Service categories: every one (colours), those with popup rows, display names and walking limits."""

    all: list[str]
    popup: list[str]
    names: list[str]
    colors: list[str]
    minutes: dict[str, str]  # category (and "all") -> its limit as text

    @property
    def position(self) -> dict[str, int]:
        """Category -> its index in :attr:`all`."""
        return {c: k for k, c in enumerate(self.all)}


@dataclass
class MapData:
    """The data blob, its number-only JSON pieces, and the layers to list: kind -> {key: HTML-escaped name}."""

    data: dict
    raw: RawJson
    layers: dict[str, dict] = field(default_factory=dict)


def _categories(t: pd.DataFrame, services: gpd.GeoDataFrame, opts: MapOptions) -> Categories:
    table_cats = sorted(set(t["category"].unique()) - {"all"})
    all_cats = sorted(set(table_cats) | set(services["category"].unique()))
    if opts.category is not None:
        if opts.category not in all_cats:
            raise InputError(f"Category {opts.category!r} is in neither the services nor the coverage table.")
        popup = [opts.category] if opts.category in table_cats else []
    else:
        popup = (["all"] if (t["category"] == "all").any() else []) + table_cats
    walk = opts.walk
    return Categories(
        all=all_cats,
        popup=popup,
        names=[category_label(c, opts.lang) for c in all_cats],
        colors=[CATEGORY_COLORS[k % len(CATEGORY_COLORS)] for k in range(len(all_cats))],
        minutes={c: fmt_num(walk.max_walk_min if c == "all" else walk.limit_min_of(c)) for c in ["all", *all_cats]},
    )


def _matrix(values: np.ndarray, shape: tuple[int, int]) -> list:
    """A flat per (compound, category) array as nested lists with None for missing values."""
    out = np.asarray(values).astype(object)
    out[np.asarray(pd.isna(values), dtype=bool)] = None
    return out.reshape(shape).tolist()


def _within(column: pd.Series) -> pd.Series:
    """``services_within`` as whole counts (a count column as it is; lists of service ids counted)."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return pd.to_numeric(column).round().astype("Int64")  # counts: no cell can hold a list
    return within_counts(column.astype(object)).round().astype("Int64")


def _status_labels(opts: MapOptions, cats: Categories, branch_info: bool) -> dict[str, str]:
    lang = opts.lang
    if opts.category is None and branch_info:
        out = {s: label(f"status_{s}", lang, minutes=cats.minutes["all"]) for s in STATUS_ORDER[:4]}
    else:
        mins = cats.minutes[opts.category or "all"]
        out = {
            "covered": label("status_cat_covered", lang, minutes=mins),
            "no_service": label("status_cat_no_service", lang, minutes=mins),
            "no_branch": label("status_no_branch", lang),
            "neither": label("status_neither", lang),
        }
    out[UNREACHABLE] = label("status_unreachable", lang)
    out["unknown"] = label("status_unknown", lang)
    return out


def _weights(compounds: gpd.GeoDataFrame) -> dict[str, pd.Series]:
    """Households and population per compound (found under any of their usual names), indexed by id as text."""
    out = {}
    for key, names in (("households", HOUSEHOLD_COLUMNS), ("population", POPULATION_COLUMNS)):
        column = find_column(compounds, names)
        if column is not None:
            values = pd.to_numeric(compounds[column], errors="coerce")
            values.index = compounds.index.astype(str)
            out[key] = values
    return out


def _compound_data(
    compounds: gpd.GeoDataFrame, t: pd.DataFrame, cats: Categories, opts: MapOptions, md: MapData
) -> np.ndarray:
    """Fill ``compounds``, status labels, counts and legend; return the display geometries."""
    ids = pd.Index(compounds.index.astype(str))
    names = compounds["name"] if "name" in compounds.columns else None
    full = pd.MultiIndex.from_product([ids, cats.popup], names=["compound_id", "category"])
    tt = t.set_index(["compound_id", "category"]).reindex(full)
    shape = (len(ids), len(cats.popup))
    near = tt["nearest_service_id"].astype(object).where(tt["nearest_service_id"].notna(), None)
    within = _within(tt["services_within"])
    status, legend, branch_info = statuses(compounds, t, ids, opts.category)
    labels = _status_labels(opts, cats, branch_info)
    weights = _weights(compounds)
    geoms = display_geoms(compounds.geometry, gcj=opts.gcj)
    md.data.update(
        statusColors=STATUS_COLORS,
        statusLabels=labels,
        statusCounts={k: int(v) for k, v in pd.Series(status).value_counts().items()},
        legendStatuses=list(legend),
    )
    md.data["compounds"] = {
        "geoms": md.raw.key("[" + ",".join(geojson_texts(geoms)) + "]"),
        "id": ids.tolist(),
        "name": jsonable(names) if names is not None else [None] * len(ids),
        "status": status.tolist(),
        "hh": jsonable(weights["households"], decimals=0) if "households" in weights else None,
        "pop": jsonable(weights["population"], decimals=0) if "population" in weights else None,
        "branch": (
            jsonable(compounds["has_branch"].astype("boolean"))
            if "has_branch" in compounds and opts.category is None
            else None
        ),
        "cats": cats.popup,
        "catLabels": [category_label(c, opts.lang) for c in cats.popup],
        "catMinutes": [cats.minutes[c] for c in cats.popup],
        "min": _matrix(tt["walk_min"].to_numpy(float).round(1), shape),
        "near": _matrix(near.to_numpy(object), shape),
        "within": _matrix(within.to_numpy(object), shape),
        "cov": _matrix(tt["covered"].astype("boolean").to_numpy(object), shape),
        "known": (pd.Index(t["compound_id"].unique()).get_indexer(ids) >= 0).tolist(),  # Index.isin: slow on str
    }
    present = [s for s in (*STATUS_ORDER, "unknown") if (status == s).any()]
    md.layers["compounds"] = {s: html_text(f"{label('layer_compounds', opts.lang)}: {labels[s]}") for s in present}
    return geoms


def _service_data(
    services: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, t: pd.DataFrame, cats: Categories, opts: MapOptions,
    md: MapData,
) -> np.ndarray:  # fmt: skip
    """Fill ``services`` and the category legend; return the display geometries."""
    reach, within_mode = service_reach(t, services, _weights(compounds))
    geoms = display_geoms(services.geometry, gcj=opts.gcj)
    lat, lon = latlon(geoms)
    cat_idx = services["category"].map(cats.position).to_numpy(int)
    counts = np.bincount(cat_idx, minlength=len(cats.all))
    md.data.update(
        catLabels=cats.names,
        catColors=cats.colors,
        catMinutes=[cats.minutes[c] for c in cats.all],
        catCounts=counts.tolist(),
        legendCats=sorted(set(cat_idx.tolist())),
        cluster=[bool(n > CLUSTER_MIN) for n in counts],
    )
    md.data["services"] = {
        "id": services.index.tolist(),
        "name": jsonable(services["name"]) if "name" in services else [None] * len(services),
        "cat": cat_idx.tolist(),
        "lat": lat,
        "lon": lon,
        "nComp": jsonable(reach["n_comp"], decimals=0),
        "nPop": jsonable(reach["population"], decimals=0) if "population" in reach else None,
        "nHh": jsonable(reach["households"], decimals=0) if "households" in reach else None,
        "withinMode": within_mode,
    }
    md.layers["services"] = {
        k: html_text(label("layer_services", opts.lang, category=cats.names[k])) for k in sorted(set(cat_idx.tolist()))
    }
    return geoms


def _title_block(opts: MapOptions, cats: Categories) -> dict:
    lang = opts.lang
    own = [c for c in cats.all if cats.minutes[c] != cats.minutes["all"]]
    if opts.category is not None:
        own = []
    by_category = [
        label("param_category_threshold", lang, category=cats.names[cats.position[c]], minutes=cats.minutes[c])
        for c in own
    ]
    mins = cats.minutes[opts.category or "all"]
    own_line = label("param_thresholds_by_category", lang, items=label("list_sep", lang).join(by_category))
    title = opts.title
    if title is None:
        title = (
            label("title_category", lang, category=category_label(opts.category, lang))
            if opts.category
            else label("title", lang)
        )
    return {
        "title": title,
        "params": [
            label("param_threshold", lang, minutes=mins),
            *([own_line] if own else []),
            label("param_speed", lang, speed=fmt_num(float(opts.walk.speed_kmh))),
            *([label("param_date", lang, date=str(opts.data_date))] if opts.data_date else []),
        ],
    }


def build_map_data(
    compounds: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    coverage_table: pd.DataFrame,
    opts: MapOptions,
    extra: _layers.ExtraLayers,
) -> MapData:
    """The data blob and layer list of a coverage map (inputs already type-checked)."""
    t = prepare_table(coverage_table, walk=opts.walk)
    services = services.copy()
    services.index = services.index.astype(str)
    services["category"] = services["category"].astype(str)
    cats = _categories(t, services, opts)
    if opts.category is not None:
        services = services[services["category"] == opts.category]
    md = MapData(
        data={
            "lang": opts.lang,
            "labels": labels_for(opts.lang),
            "minutes": cats.minutes[opts.category or "all"],
            "minutesValue": float(opts.walk.max_walk_min),
            "canvasMin": CANVAS_MIN,
            **_title_block(opts, cats),
            "attribution": html_text(label("attribution_data", opts.lang)),
        },
        raw=RawJson(),
    )
    comp_geoms = _compound_data(compounds, t, cats, opts, md)
    svc_geoms = _service_data(services, compounds, t, cats, opts, md)
    bounds_geoms = _layers.add_extra_layers(extra, cats, opts, md)
    bounds = lonlat_bounds(bounds_geoms) if bounds_geoms is not None else None
    bounds = bounds or lonlat_bounds(comp_geoms) or lonlat_bounds(svc_geoms)
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        md.data["bounds"] = [[y0, x0], [y1, x1]]
    return md
