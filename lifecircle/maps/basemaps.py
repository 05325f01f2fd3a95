"""Optional tile basemaps (OSM, light, Amap, Tianditu) for maps opened online; streets are drawn without them."""

from __future__ import annotations

import re

import folium

from lifecircle.errors import InputError
from lifecircle.maps._json import html_text
from lifecircle.maps.labels import label

__all__ = ["BASEMAPS", "add_basemaps", "check_basemap"]

BASEMAPS: tuple[str, ...] = ("osm", "light", "amap", "tianditu", "none")

_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
_TIANDITU_KEY = re.compile(r"[A-Za-z0-9]{8,64}")
_OSM = ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "basemap_osm", _OSM_ATTR, "abc")
_LIGHT = (
    "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
    "basemap_light",
    _OSM_ATTR + ' &copy; <a href="https://carto.com/attributions">CARTO</a>',
    "abcd",
)
_AMAP_ATTR = "&copy; 高德地图 AutoNavi"
_AMAP = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
    "basemap_amap",
    _AMAP_ATTR,
    "1234",
)
_AMAP_SATELLITE = (
    "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
    "basemap_amap_satellite",
    _AMAP_ATTR,
    "1234",
)
_TIANDITU_WMTS = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk="
)
_TIANDITU_ATTR = "&copy; 天地图 Tianditu"


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


def _tile(m: folium.Map, spec: tuple, lang: str, *, show: bool, max_zoom: int = 19) -> folium.TileLayer:
    url, key, attr, subdomains = spec
    return folium.TileLayer(
        tiles=url,
        name=html_text(label(key, lang)),
        attr=attr,
        show=show,
        overlay=False,
        control=True,
        subdomains=subdomains,
        max_zoom=max_zoom,
        max_native_zoom=min(max_zoom, 18),
    ).add_to(m)


def add_basemaps(m: folium.Map, basemap: str, lang: str, tianditu_key: str | None) -> dict[str, list]:
    """Add the tile layers of ``basemap`` (the first shown) and a "no tiles" choice to the layer control.

    Returns
    -------
    dict
        ``{"tiles": [tile layers], "blank": [the no-tiles layer]}``: the runtime switches to the blank
        layer when the shown tiles cannot load (no network), so the drawn streets stand on a clean ground.
    """
    check_basemap(basemap, tianditu_key)
    tiles: list = []
    if basemap == "osm":
        tiles = [_tile(m, _OSM, lang, show=True), _tile(m, _LIGHT, lang, show=False)]
    elif basemap == "light":
        tiles = [_tile(m, _LIGHT, lang, show=True), _tile(m, _OSM, lang, show=False)]
    elif basemap == "amap":
        tiles = [
            _tile(m, _AMAP, lang, show=True, max_zoom=18),
            _tile(m, _AMAP_SATELLITE, lang, show=False, max_zoom=18),
        ]
    elif basemap == "tianditu":
        wmts = _TIANDITU_WMTS + str(tianditu_key)
        vec = (wmts.format(s="{s}", layer="vec"), "basemap_tianditu", _TIANDITU_ATTR, "01234567")
        tiles = [_tile(m, vec, lang, show=True, max_zoom=18)]
        folium.TileLayer(
            tiles=wmts.format(s="{s}", layer="eva" if lang == "en" else "cva"),
            name="",
            attr=_TIANDITU_ATTR,
            overlay=True,
            control=False,
            subdomains="01234567",
            max_zoom=18,
        ).add_to(m)
        tiles.append(_tile(m, _OSM, lang, show=False))
    blank = folium.FeatureGroup(
        name=html_text(label("basemap_none", lang)), overlay=False, control=True, show=not tiles
    ).add_to(m)
    return {"tiles": tiles, "blank": [blank]}
