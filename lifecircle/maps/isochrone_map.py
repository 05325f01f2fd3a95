"""The map of an ``isochrones`` folder: each category's served area per time break, and the services.

One layer per category and break (the shortest break drawn darkest, on top), one per category of services; every
text from the data is HTML-escaped before it reaches the page. Drawn by ``lifecircle isochrones`` into its folder
and by ``lifecircle publish`` for isochrone folders written before the map existed.
"""

from __future__ import annotations

import html
from typing import cast

import folium
import geopandas as gpd
from branca.element import Figure

from lifecircle.maps.labels import category_label, label

__all__ = ["isochrone_map"]

_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
_TITLE = {"zh": "步行等时圈", "en": "Walking isochrones"}
_BREAK = {"zh": "{category}：{minutes:g} 分钟", "en": "{category}: {minutes:g} min"}


def _style(colour: str, opacity: float) -> dict:
    return {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": opacity}


def isochrone_map(
    served_area: gpd.GeoDataFrame, services: gpd.GeoDataFrame | None = None, *, lang: str = "zh"
) -> folium.Map:
    """A Leaflet map of served areas (``category``, ``break_min``, polygons) and service points.

    Parameters
    ----------
    served_area
        The ``served_area`` layer of :func:`lifecircle.geo.reach.isochrones.isochrones` (any CRS).
    services
        Service points with ``category`` (and ``name``), drawn on top; optional.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    folium.Map
        Save it with :func:`lifecircle.maps.save_map`.
    """
    served = served_area.to_crs(4326)
    served = served[~served.geometry.is_empty & served.geometry.notna()]
    west, south, east, north = served.total_bounds if len(served) else (-180.0, -85.0, 180.0, 85.0)
    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True)
    fmap.fit_bounds([[south, west], [north, east]])
    categories = list(dict.fromkeys(served["category"].astype(str)))
    colour = {c: _COLOURS[i % len(_COLOURS)] for i, c in enumerate(categories)}
    breaks = sorted(set(served["break_min"].astype(float)), reverse=True)
    for minutes in breaks:  # the longest break first, so the shorter ones lie on top
        strength = 0.15 + 0.35 * (1 - breaks.index(minutes) / max(len(breaks), 1))
        for category in categories:
            rows = served[(served["category"].astype(str) == category) & (served["break_min"] == minutes)]
            if rows.empty:
                continue
            name = _BREAK[lang].format(category=category_label(category, lang), minutes=minutes)
            layer = folium.FeatureGroup(name=html.escape(name), show=True)
            folium.GeoJson(
                rows[["geometry"]].to_json(),
                style_function=lambda _, c=colour[category], s=strength: _style(c, s),
                tooltip=html.escape(name),
            ).add_to(layer)
            layer.add_to(fmap)
    if services is not None and len(services):
        points = services.to_crs(4326)
        for category, group in points.groupby(points["category"].astype(str), sort=False):
            layer = folium.FeatureGroup(name=html.escape(label("layer_services", lang, category=category)))
            for name, point in zip(group.get("name", group.index).astype(str), group.geometry, strict=True):
                fill = colour.get(category, "#222")
                folium.CircleMarker(
                    [point.y, point.x],
                    radius=5,
                    color="#222",
                    weight=1,
                    fill=True,
                    fill_color=fill,
                    fill_opacity=1,
                    tooltip=html.escape(name),
                ).add_to(layer)
            layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    cast(Figure, fmap.get_root()).header.add_child(folium.Element(f"<title>{html.escape(_TITLE[lang])}</title>"))
    return fmap
