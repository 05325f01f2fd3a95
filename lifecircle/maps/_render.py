"""Rendering: a folium map with one feature group per layer, filled by the inlined runtime from the data blob."""

from __future__ import annotations

import json
from typing import cast

import folium
from branca.element import Element, Figure, MacroElement

from lifecircle.maps._assets import RUNTIME_CSS, RUNTIME_JS
from lifecircle.maps._json import html_text, safe_json
from lifecircle.maps._mapdata import MapData
from lifecircle.maps.basemaps import add_basemaps
from lifecircle.maps.beyond_layers import BEYOND_KINDS

__all__ = ["render_map"]

_CDN = "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.4.1/dist/"
_MARKERCLUSTER_JS = ("lc_markercluster_js", _CDN + "leaflet.markercluster.js")
_MARKERCLUSTER_CSS = [
    ("lc_markercluster_css", _CDN + "MarkerCluster.css"),
    ("lc_markercluster_default_css", _CDN + "MarkerCluster.Default.css"),
]
# overlay kind -> shown when the map opens
_SHOWN = {"streets": True, "compounds": True, "services": True, "branches": True, "served": False, "sites": True}
_SHOWN.update(dict.fromkeys(BEYOND_KINDS, False))  # capacity and opening-hours layers: chosen by the reader


class _Verbatim(Element):
    """Text put into the page as it is. branca compiles the text a macro renders into a new Jinja template before
    writing it: seconds for the megabytes of a large map's data, for the same text."""

    _template = folium.template.Template("{{ this.text }}")  # no autoescape: the text is written unchanged

    def __init__(self, text: str):
        super().__init__()
        self.text = text


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
        """The groups as a JS object literal of folium variable names (keys are fixed or numbers, no user text)."""

        def js(v: object) -> str:
            if isinstance(v, dict):
                return "{" + ",".join(f"{json.dumps(str(k))}:{js(x)}" for k, x in v.items()) + "}"
            if isinstance(v, list):
                return "[" + ",".join(js(x) for x in v) + "]"
            if v is None:
                return "null"
            return cast(Element, v).get_name()  # a folium element: its JS variable name

        return js(self._groups)

    def render(self, **kwargs):
        root = cast(Figure, self.get_root())
        if self.cluster:
            name, url = _MARKERCLUSTER_JS
            root.header.add_child(folium.JavascriptLink(url), name=name)
            for name, url in _MARKERCLUSTER_CSS:
                root.header.add_child(folium.CssLink(url), name=name)
        macros = self._template.module
        root.header.add_child(_Verbatim(macros.header(self, kwargs)), name=self.get_name())  # type: ignore[attr-defined]
        root.script.add_child(_Verbatim(macros.script(self, kwargs)), name=self.get_name())  # type: ignore[attr-defined]


def _groups(m: folium.Map, layers: dict) -> dict:
    """One feature group per listed layer, named (HTML-escaped) as the layer control shows it."""
    groups: dict = {}
    for kind in ("streets", "compounds", "services", "branches", "served", "sites", "study", *BEYOND_KINDS):
        spec = layers.get(kind)
        if spec is None:
            continue
        show = _SHOWN.get(kind, True)
        if isinstance(spec, dict):
            groups[kind] = {k: folium.FeatureGroup(name=name, show=show).add_to(m) for k, name in spec.items()}
        else:
            groups[kind] = folium.FeatureGroup(name=spec, show=show).add_to(m)
    return groups


def render_map(md: MapData, *, basemap: str, tianditu_key: str | None) -> folium.Map:
    """The folium map of prepared map data, with its basemaps, groups, runtime and layer control."""
    data = md.data
    bounds = data.get("bounds")
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] if bounds else [0, 0]
    m = folium.Map(location=center, zoom_start=2, tiles=None, control_scale=True)
    # only Leaflet itself: no jQuery, Bootstrap, Font Awesome or awesome-markers are used
    m.default_js = [js for js in m.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in m.default_css if css[0] == "leaflet_css"]
    cast(Figure, m.get_root()).title = html_text(data["title"])
    groups = {"basemaps": add_basemaps(m, basemap, data["lang"], tianditu_key), **_groups(m, md.layers)}
    data_js = md.raw.splice(safe_json(data))
    _Overlays(data_js, groups, cluster=any(data.get("cluster", []))).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return m
