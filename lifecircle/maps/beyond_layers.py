"""Map layers beyond "within N minutes": capacity (供需) and opening hours (三延), drawn on the coverage map.

- **Covered but crowded** (覆盖但供给不足): compounds with a service of a category within the limit whose access
  ratio (capacity per household within reach, 2SFCA/E2SFCA) is below the category's norm; the popup names each
  such category, its ratio and the norm.
- **Overloaded services** (超负荷服务点): services whose capacity per household within their catchment is below the
  norm; the popup gives capacity, households within and load (households per unit of capacity).
- **Opening-hours windows** (weekday daytime, weekday evening 18–21, weekend): each compound coloured by how many
  categories have a service open within the limit for the whole window (hours unknown counted open; a dashed
  purple outline where that needs a service whose hours are unknown); the popup gives hours covered per category.
- **Services with hours unknown** (营业时间不明): grey rings, their ledger text in the tooltip.

The planning side prepares a :class:`BeyondLayers` from its own tables (``adequacy.csv``, ``coverage_hours.csv``,
``services.gpkg``'s columns); this module turns it into the map's data blob. Every user string reaches the page
through the blob (``safe_json``) and DOM text nodes; layer names are HTML-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lifecircle.maps._json import html_text, jsonable

if TYPE_CHECKING:
    from lifecircle.maps._mapdata import Categories, MapData, MapOptions

__all__ = ["BEYOND_JS", "BEYOND_KINDS", "BEYOND_LABELS", "WINDOW_NAMES", "BeyondLayers", "add_beyond_layers"]

WINDOW_NAMES = ("weekday_day", "weekday_evening", "weekend")
BEYOND_KINDS = ("crowded", "overloaded", "hours", "hours_unknown")
"""The layer kinds this module adds (all hidden when the map opens)."""
_RAMP = ("#c92a2a", "#e8590c", "#f59f00", "#82c91e", "#2b8a3e")  # none ... every category throughout the window

BEYOND_LABELS: dict[str, dict[str, str]] = {
    "layer_crowded": {"zh": "供需：覆盖但供给不足的小区", "en": "Capacity: covered but crowded compounds"},
    "layer_overloaded": {"zh": "供需：超负荷服务点", "en": "Capacity: overloaded services"},
    "layer_weekday_day": {"zh": "营业时间：工作日白天（8–18 时）", "en": "Hours: weekday daytime (8–18)"},
    "layer_weekday_evening": {"zh": "营业时间：工作日晚间（18–21 时）", "en": "Hours: weekday evening (18–21)"},
    "layer_weekend": {"zh": "营业时间：周末（8–21 时）", "en": "Hours: weekend (8–21)"},
    "layer_hours_unknown": {"zh": "营业时间不明的服务点", "en": "Services with hours unknown"},
    "crowded_title": {"zh": "覆盖但供给不足", "en": "Covered but crowded"},
    "ratio_norm": {"zh": "可达比 {ratio}（标准 {norm}）", "en": "access ratio {ratio} (norm {norm})"},
    "overloaded_title": {"zh": "超负荷", "en": "Overloaded"},
    "capacity": {"zh": "供给能力", "en": "Capacity"},
    "demand_within": {"zh": "服务范围内需求", "en": "Demand within reach"},
    "load": {"zh": "负荷（每单位供给的需求）", "en": "Load (demand per unit of capacity)"},
    "norm": {"zh": "人均标准", "en": "Norm per household"},
    "hours_of": {"zh": "{h} / {n} 小时", "en": "{h} of {n} h"},
    "hours_known": {"zh": "（仅计营业时间已知：{h}）", "en": " (known hours only: {h})"},
    "legend_title": {"zh": "整段时间有服务的类别", "en": "Categories open within reach for the whole window"},
    "legend_k": {"zh": "{k} / {n} 类", "en": "{k} of {n}"},
    "legend_unknown": {"zh": "需计入营业时间不明的服务点", "en": "only counting services with hours unknown"},
    "hours_unknown": {"zh": "营业时间不明", "en": "hours unknown"},
}


def _labels(lang: str) -> dict[str, str]:
    return {k: v["zh" if lang == "zh" else "en"] for k, v in BEYOND_LABELS.items()}


@dataclass(frozen=True, eq=False)
class BeyondLayers:
    """What the capacity and opening-hours layers show (every part optional; ids as in the map's layers).

    Attributes
    ----------
    crowded
        ``compound_id, category, access_ratio, norm``: one row per compound and category that is covered but
        below the norm.
    overloaded
        Indexed by service id: ``capacity, demand_within, load, norm`` of the services below the norm.
    windows
        ``compound_id, category`` and per window of :data:`WINDOW_NAMES` ``<window>_h`` and ``<window>_h_known``:
        hours covered in the window (hours unknown counted open; known hours only).
    window_hours
        Window -> its length in hours.
    hours_unknown
        Service id -> its hours text (blank when none) for services whose hours are unknown.
    """

    crowded: pd.DataFrame | None = None
    overloaded: pd.DataFrame | None = None
    windows: pd.DataFrame | None = None
    window_hours: dict[str, int] = field(default_factory=dict)
    hours_unknown: pd.Series | None = None


def _positions(ids: list, wanted: pd.Index) -> np.ndarray:
    """Positions of ``wanted`` ids among the map's ids (as text); ids not on the map are dropped."""
    pos = pd.Index([str(i) for i in ids]).get_indexer(wanted.astype(str))
    return pos


def _crowded(frame: pd.DataFrame, cats: Categories, md: MapData) -> dict:
    """Per crowded compound (its position on the map): [category, access ratio, norm] of each crowded category."""
    pos = _positions(md.data["compounds"]["id"], pd.Index(frame["compound_id"]))
    frame = frame.assign(i=pos)[pos >= 0].sort_values("i", kind="stable")
    names = {c: _category_name(c, cats) for c in frame["category"].unique()}
    rows = [list(r) for r in zip(frame["category"].map(names), _sig(frame["access_ratio"]), _sig(frame["norm"]),
                                 strict=True)]  # fmt: skip
    at = frame["i"].to_numpy()
    starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]]) if len(at) else np.array([], dtype=int)
    ends = [*starts[1:].tolist(), len(at)][: len(starts)]
    return {"i": at[starts].tolist(), "rows": [rows[a:b] for a, b in zip(starts.tolist(), ends, strict=True)]}


def _overloaded(frame: pd.DataFrame, md: MapData) -> dict:
    pos = _positions(md.data["services"]["id"], frame.index)
    frame = frame[pos >= 0]
    return {
        "k": pos[pos >= 0].tolist(),
        "capacity": jsonable(frame["capacity"], decimals=2),
        "demand": jsonable(frame["demand_within"], decimals=1),
        "load": jsonable(frame["load"], decimals=3),
        "norm": _sig(frame["norm"]),
    }


def _windows(frame: pd.DataFrame, hours: dict[str, int], cats: Categories, md: MapData) -> dict:
    """Per window: each compound's count of categories covered throughout, and per-category hours."""
    ids = [str(i) for i in md.data["compounds"]["id"]]
    real = [c for c in dict.fromkeys(frame["category"].astype(str)) if c != "all"] or ["all"]
    columns = [f"{w}_h{known}" for w in hours for known in ("", "_known")]
    keys = pd.MultiIndex.from_arrays([frame["compound_id"].astype(str), frame["category"].astype(str)])
    table = pd.DataFrame(frame[columns].to_numpy(), index=keys, columns=columns)
    values = table.reindex(pd.MultiIndex.from_product([ids, real])).fillna(0).to_numpy(int)
    values = values.reshape(len(ids), len(real), len(columns))  # compounds x categories x (window, known)
    out: dict = {"cats": [_category_name(c, cats) for c in real], "n": len(real), "windows": {}}
    for k, (window, length) in enumerate(hours.items()):
        anyhow, known = values[:, :, 2 * k], values[:, :, 2 * k + 1]
        full, full_known = (anyhow >= length).sum(axis=1), (known >= length).sum(axis=1)
        out["windows"][window] = {
            "length": int(length),
            "full": full.tolist(),
            "needsUnknown": (full_known < full).tolist(),
            "h": anyhow.tolist(),
            "hKnown": known.tolist(),
        }
    out["colors"] = [_RAMP[round(k * (len(_RAMP) - 1) / max(1, len(real)))] for k in range(len(real) + 1)]
    return out


def _category_name(category: object, cats: Categories) -> str:
    k = cats.position.get(str(category))
    return cats.names[k] if k is not None else str(category)


def _sig(values: pd.Series) -> list:
    """Numbers to four significant digits (None where missing), as the popups show them."""
    return [None if not np.isfinite(v) else float(f"{v:.4g}") for v in pd.to_numeric(values).to_numpy(float)]


def add_beyond_layers(beyond: BeyondLayers, cats: Categories, opts: MapOptions, md: MapData) -> None:
    """Add the capacity and opening-hours layers given (nothing for an empty part)."""
    lang, labels = opts.lang, _labels(opts.lang)
    data: dict = {"labels": labels}
    if beyond.crowded is not None and len(beyond.crowded):
        data["crowded"] = _crowded(beyond.crowded, cats, md)
        md.layers["crowded"] = html_text(labels["layer_crowded"])
    if beyond.overloaded is not None and len(beyond.overloaded):
        data["overloaded"] = _overloaded(beyond.overloaded, md)
        if data["overloaded"]["k"]:
            md.layers["overloaded"] = html_text(labels["layer_overloaded"])
    if beyond.windows is not None and beyond.window_hours:
        data["hours"] = _windows(beyond.windows, beyond.window_hours, cats, md)
        md.layers["hours"] = {w: html_text(labels[f"layer_{w}"]) for w in beyond.window_hours}
    if beyond.hours_unknown is not None and len(beyond.hours_unknown):
        pos = _positions(md.data["services"]["id"], beyond.hours_unknown.index)
        texts = beyond.hours_unknown[pos >= 0]
        data["hoursUnknown"] = {"k": pos[pos >= 0].tolist(), "text": jsonable(texts.fillna("").astype(str))}
        md.layers["hours_unknown"] = html_text(labels["layer_hours_unknown"])
    if len(data) > 1:
        data["lang"] = lang
        md.data["beyond"] = data


BEYOND_JS = r"""
  function beyondKit(ctx) {  // what the capacity and hours layers share: data, labels, shapes and rings
    var D = ctx.D, C = D.compounds, S = D.services;
    var canvas = C.geoms.length > D.canvasMin ? L.canvas({ tolerance: 0 }) : null;
    var K = { B: D.beyond, T: D.beyond.labels, C: C, S: S, Lb: ctx.Lb, G: ctx.G, map: ctx.map, cats: D.catLabels };
    K.short = function (v) { return v === null || v === undefined ? "—" : Number(v).toPrecision(3); };
    K.name = function (i) { return C.name[i] || ctx.Lb.unnamed; };
    K.lazy = function (group, fill) { group.once("add", fill); };  // drawn when first shown: the map opens as fast
    K.shapes = function (list, style, group, popup, tip) {  // one GeoJSON layer, one popup and tooltip binding
      var features = list.map(function (i, n) {
        return { type: "Feature", geometry: C.geoms[i], properties: { id: C.id[i], i: i, n: n } };
      });
      var gj = L.geoJSON({ type: "FeatureCollection", features: features }, { style: function (f) {
        var st = style(f.properties.i, f.properties.n);
        if (canvas) { st.renderer = canvas; }
        return st;
      } });
      gj.bindPopup(function (layer) { var q = layer.feature.properties; return popup(q.i, q.n); }, { maxWidth: 420 });
      gj.bindTooltip(function (layer) { var q = layer.feature.properties; return el("span", tip(q.i, q.n)); },
                     { sticky: true });
      gj.addTo(group);
    };
    K.ring = function (k, color, group, radius) {
      var mk = L.circleMarker([S.lat[k], S.lon[k]], { radius: radius, color: color, weight: 3, fill: false,
                                                      className: "lc-beyond-ring" });
      mk._lcId = S.id[k];
      mk.addTo(group);
      return mk;
    };
    K.popup = function (title, status, rows) {
      var d = el("div", null, "lc-popup"), t = el("table");
      d.appendChild(el("h4", title));
      d.appendChild(el("div", status, "lc-status"));
      rows.forEach(function (r) { row(t, r[0], r[1]); });
      d.appendChild(t);
      return d;
    };
    return K;
  }

  function drawCrowded(K) {
    var B = K.B, T = K.T;
    K.lazy(K.G.crowded, function () {
      K.shapes(B.crowded.i, function () {
        return { color: "#c92a2a", weight: 2.5, dashArray: "6 3", fillColor: "#e03131", fillOpacity: 0.35,
                 className: "lc-crowded" };
      }, K.G.crowded, function (i, n) {
        return K.popup(K.name(i), T.crowded_title, B.crowded.rows[n].map(function (r) {
          return [[r[0], fmt(T.ratio_norm, { ratio: K.short(r[1]), norm: K.short(r[2]) })], [null, "lc-out"]];
        }));
      }, function (i) { return K.name(i) + " · " + T.crowded_title; });
    });
  }

  function drawOverloaded(K) {
    var O = K.B.overloaded, T = K.T, S = K.S;
    O.k.forEach(function (k, n) {
      var mk = K.ring(k, "#c92a2a", K.G.overloaded, 11), name = S.name[k] || K.Lb.unnamed;
      mk.bindTooltip(function () { return el("span", name + " · " + T.overloaded_title); });
      mk.bindPopup(function () {
        return K.popup(name, K.cats[S.cat[k]] + " · " + T.overloaded_title, [
          [[T.capacity, num(O.capacity[n])]], [[T.demand_within, num(O.demand[n])]],
          [[T.load, K.short(O.load[n])], [null, "lc-out"]], [[T.norm, K.short(O.norm[n])]]
        ]);
      });
    });
  }

  function drawHoursUnknown(K) {
    var U = K.B.hoursUnknown, S = K.S;
    U.k.forEach(function (k, n) {
      var text = U.text[n];
      K.ring(k, "#868e96", K.G.hours_unknown, 9).bindTooltip(function () {
        return el("span", (S.name[k] || K.Lb.unnamed) + " · " + K.T.hours_unknown + (text ? " · " + text : ""));
      });
    });
  }

  function drawWindow(K, w) {
    var H = K.B.hours, W = H.windows[w], T = K.T, group = K.G.hours[w];
    function label(i) { return fmt(T.legend_k, { k: W.full[i], n: H.n }); }
    K.lazy(group, function () {
      K.shapes(K.C.geoms.map(function (g, i) { return i; }), function (i) {
        var dashed = W.needsUnknown[i];
        return { color: dashed ? "#7048e8" : H.colors[W.full[i]], weight: dashed ? 2.5 : 1.2,
                 dashArray: dashed ? "5 3" : null, fillColor: H.colors[W.full[i]], fillOpacity: 0.55,
                 className: "lc-hours lc-hours-" + w };
      }, group, function (i) {
        return K.popup(K.name(i), label(i) + " · " + T.legend_title, H.cats.map(function (c, j) {
          var h = W.h[i][j], hk = W.hKnown[i][j];
          return [[c, fmt(T.hours_of, { h: h, n: W.length }) + (hk < h ? fmt(T.hours_known, { h: hk }) : "")],
                  [null, h >= W.length ? "lc-in" : "lc-out"]];
        }));
      }, function (i) { return K.name(i) + " · " + label(i); });
    });
  }

  function hoursLegend(K) {  // shown while any window is on the map
    var H = K.B.hours, T = K.T, shown = 0;
    var legend = control("bottomleft", function () {
      var d = el("div", null, "lc-box lc-legend lc-hours-legend");
      d.appendChild(el("h4", T.legend_title));
      for (var k = H.n; k >= 0; k--) {
        var sw = el("span", null, "lc-sw");
        sw.style.background = H.colors[k];
        legendRow(d, sw, fmt(T.legend_k, { k: k, n: H.n }));
      }
      var u = el("span", null, "lc-sw");
      u.style.border = "2px dashed #7048e8";
      legendRow(d, u, T.legend_unknown);
      return d;
    });
    Object.keys(K.G.hours).forEach(function (w) {
      K.G.hours[w].on("add", function () { shown += 1; legend.addTo(K.map); });
      K.G.hours[w].on("remove", function () { shown -= 1; if (shown <= 0) { legend.remove(); } });
    });
  }

  function drawBeyond(ctx) {
    var B = ctx.D.beyond, G = ctx.G;
    if (!B) { return; }
    var K = beyondKit(ctx);
    if (B.crowded && G.crowded) { drawCrowded(K); }
    if (B.overloaded && G.overloaded) { drawOverloaded(K); }
    if (B.hoursUnknown && G.hours_unknown) { drawHoursUnknown(K); }
    if (B.hours && G.hours) {
      Object.keys(B.hours.windows).forEach(function (w) { if (G.hours[w]) { drawWindow(K, w); } });
      hoursLegend(K);
    }
  }
"""
