"""JavaScript and CSS that every lifecircle map inlines (no external assets of its own).

The runtime is one script in pieces: helpers and popups here, layers in :mod:`lifecircle.maps._assets_layers`,
controls (title, legend, search) in :mod:`lifecircle.maps._assets_controls`, the canvas renderer in
:mod:`lifecircle.maps._assets_canvas`. Security rule for this code: data
strings only ever reach the page through ``textContent``, element values or DOM attributes set from code, never
through ``innerHTML`` or a Leaflet string content (Leaflet sets string popups, tooltips and control names as HTML).
"""

from __future__ import annotations

from lifecircle.maps._assets_canvas import CANVAS_JS
from lifecircle.maps._assets_controls import CONTROLS_JS
from lifecircle.maps._assets_layers import LAYERS_JS
from lifecircle.maps.beyond_layers import BEYOND_JS

__all__ = ["RUNTIME_CSS", "RUNTIME_JS"]

RUNTIME_CSS = """
.leaflet-container{background:#f6f5f1}
.leaflet-overlay-pane>svg{pointer-events:none}
.lc-box{background:rgba(255,255,255,.93);padding:6px 10px;border-radius:4px;
  box-shadow:0 1px 4px rgba(0,0,0,.35);
  font:13px/1.35 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
  color:#222;max-width:340px}
.lc-title h3{margin:0 0 3px 0;font-size:15px}
.lc-title div{font-size:12px;color:#444}
.lc-legend .lc-row{display:flex;align-items:center;margin:2px 0;font-size:12px}
.lc-legend .lc-sw{width:14px;height:12px;margin-right:6px;flex:none;border:1px solid rgba(0,0,0,.35)}
.lc-legend .lc-dot{border-radius:50%;width:11px;height:11px;border:1.5px solid #fff;box-shadow:0 0 0 1px #999}
.lc-legend .lc-dash{height:0;border:none;border-top:2px dashed #222}
.lc-legend .lc-line{height:0;border:none;margin-right:3px;width:14px}
.lc-legend .lc-hatch{background:repeating-linear-gradient(45deg,#6c757d 0 2px,#e9ecef 2px 5px)}
.lc-legend h4{margin:5px 0 2px 0;font-size:12px}
.lc-legend .lc-sym{width:14px;height:14px;margin-right:6px;flex:none;display:flex;align-items:center;
  justify-content:center}
.lc-popup h4{margin:0 0 4px 0;font-size:14px}
.lc-popup table{border-collapse:collapse;font-size:12px}
.lc-popup th,.lc-popup td{padding:1px 6px 1px 0;text-align:left;vertical-align:top}
.lc-popup td.lc-out{color:#b02a2a}
.lc-popup td.lc-in{color:#22703a}
.lc-branch-marker{background:none;border:none}
.lc-diamond{display:block;width:9px;height:9px;background:#1c4fa0;border:2px solid #fff;box-shadow:0 0 2px #000;
  transform:rotate(45deg)}
.lc-site-icon{background:#ffd43b;border:2px solid #222;border-radius:50%;text-align:center;
  font:bold 12px/20px sans-serif;color:#222}
.lc-legend .lc-site-icon{width:11px;height:11px;border-width:1.5px}
.lc-search input{width:180px;padding:3px 5px;font-size:13px}
.lc-search span{margin-left:4px;font-size:12px;color:#b02a2a}
.lc-popup .lc-status{font-size:12px;margin-bottom:3px}
.lc-popup-open .leaflet-tooltip-pane{display:none}
path.leaflet-interactive:focus{outline:none}
"""

_HELPERS_JS = r"""
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function fmt(tpl, vals) {
    return String(tpl).replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(vals, k) ? String(vals[k]) : m;
    });
  }
  function num(v) {
    if (v === null || v === undefined) { return "—"; }
    return Number(v).toLocaleString();
  }
  function row(tbl, cells, classes) {
    var tr = el("tr");
    cells.forEach(function (c, j) {
      tr.appendChild(el(j === 0 ? "th" : "td", c, classes ? classes[j] : null));
    });
    tbl.appendChild(tr);
    return tr;
  }
  function control(pos, build) {
    var C = L.Control.extend({ options: { position: pos }, onAdd: build });
    return new C();
  }
  function textTip(s) { return function () { return el("span", s); }; }
  function fitWhenSized(map, bounds) {
    // a frame not laid out yet (the report's sandboxed frame) gives the map no size: the fit above fell back to
    // zoom 0, so fit again once the container has a size
    var c = map.getContainer();
    if (c.clientWidth > 0 && c.clientHeight > 0) { return; }
    function refit() {
      if (!(c.clientWidth > 0 && c.clientHeight > 0)) { return false; }
      map.invalidateSize({ pan: false });
      map.fitBounds(bounds, { animate: false });
      return true;
    }
    if (typeof ResizeObserver === "function") {
      var ro = new ResizeObserver(function () { if (refit()) { ro.disconnect(); } });
      ro.observe(c);
    } else {
      map.on("resize", function once() { if (refit()) { map.off("resize", once); } });
    }
  }
"""

_POPUPS_JS = r"""
  function popups(D) {
    var Lb = D.labels, C = D.compounds, S = D.services;
    var sIdx = new Map();
    S.id.forEach(function (id, k) { sIdx.set(id, k); });
    function minutesText(v) {
      return (v === null || v === undefined) ? null : fmt(Lb.minutes_value, { value: Number(v).toFixed(1) });
    }
    function compound(i) {
      var d = el("div", null, "lc-popup");
      d.appendChild(el("h4", C.name[i] || Lb.unnamed));
      d.appendChild(el("div", D.statusLabels[C.status[i]] || "", "lc-status"));
      var t = el("table");
      if (C.hh) { row(t, [Lb.households, num(C.hh[i])]); }
      if (C.pop) { row(t, [Lb.population, num(C.pop[i])]); }
      if (C.branch) {
        var b = C.branch[i];
        row(t, [Lb.branch, b === null ? "—" : (b ? Lb.yes : Lb.no)]);
      }
      d.appendChild(t);
      if (C.cats.length) {
        var t2 = el("table");
        row(t2, [Lb.category, Lb.walk_to_nearest, Lb.nearest_service, Lb.services_within]);
        C.cats.forEach(function (cat, c) {
          var m = C.min[i][c], sid = C.near[i][c], w = C.within[i][c];
          var txt = minutesText(m);
          if (txt === null) { txt = C.known[i] ? Lb.unreachable : Lb.no_data; }
          var k = (sid === null || sid === undefined) ? undefined : sIdx.get(sid);
          var sname = k === undefined ? (sid === null || sid === undefined ? "" : sid) : (S.name[k] || sid);
          var inside = C.cov[i][c] === true;
          row(t2, [fmt(Lb.category_limit, { category: C.catLabels[c], minutes: C.catMinutes[c] }), txt, sname,
                   w === null || w === undefined ? "—" : num(w)],
              [null, inside ? "lc-in" : "lc-out", null, null]);
        });
        d.appendChild(t2);
      }
      return d;
    }
    function service(k) {
      var c = S.cat[k], mins = D.catMinutes[c];
      var d = el("div", null, "lc-popup");
      d.appendChild(el("h4", S.name[k] || Lb.unnamed));
      var t = el("table");
      row(t, [Lb.category, fmt(Lb.category_limit, { category: D.catLabels[c], minutes: mins })]);
      row(t, [fmt(S.withinMode ? Lb.serves_compounds_within : Lb.serves_compounds, { minutes: mins }),
              num(S.nComp[k])]);
      if (S.nHh) { row(t, [Lb.serves_households, num(S.nHh[k])]); }
      if (S.nPop) { row(t, [Lb.serves_residents, num(S.nPop[k])]); }
      d.appendChild(t);
      return d;
    }
    return { compound: compound, service: service };
  }
"""

_BUILD_JS = r"""
  function build(map, G, D) {
    var ctx = { map: map, G: G, D: D, Lb: D.labels, index: [], popup: popups(D) };
    var t1 = performance.now();
    if (D.bounds) {  // first: every layer is then drawn once, at its final view
      map.invalidateSize({ pan: false });  // the size Leaflet measured when the map was made may be stale (a frame)
      map.fitBounds(D.bounds, { animate: false });  // an animation left pending would swallow a later fit
      fitWhenSized(map, D.bounds);
    }
    var timing = { fitBounds: Math.round(performance.now() - t1) };
    var steps = [basemapFallback, drawStreets, drawCompounds, drawServices, drawBranches, drawServed, drawSites,
                 drawStudy, drawBeyond, addTitle, addLegend, addSearch];
    steps.forEach(function (step) {  // each step timed (ms), for the benchmark in benchmarks/bench_map.py
      var t0 = performance.now();
      step(ctx);
      timing[step.name] = Math.round(performance.now() - t0);
    });
    map.on("popupopen", function () {
      L.DomUtil.addClass(map.getContainer(), "lc-popup-open");
    });
    map.on("popupclose", function () {
      L.DomUtil.removeClass(map.getContainer(), "lc-popup-open");
    });
    if (D.attribution) { map.attributionControl.addAttribution(D.attribution); }
    window.LC.last = { map: map, index: ctx.index, groups: G, streets: ctx.streets || [], timing: timing,
                       streetsDone: !D.streets || ctx.streetsDone === true };
  }
"""

# Leaflet 1.9.3 (the version XStatic ships) calls getElement() on every layer of a group that has a tooltip, and a
# nested group has none: "t.getElement is not a function" while panning a map with clustered services. Leaflet 1.9.4
# guards both calls; this applies the same guard.
_LEAFLET_TOOLTIP_FIX_JS = r"""
  ["_addFocusListenersOnLayer", "_setAriaDescribedByOnLayer"].forEach(function (name) {
    var original = L.Layer.prototype[name];
    if (typeof original !== "function") { return; }
    L.Layer.prototype[name] = function (layer) {
      if (!layer || typeof layer.getElement !== "function") { return undefined; }
      return original.call(this, layer);
    };
  });
"""

RUNTIME_JS = (
    '\n(function () {\n  "use strict";\n  if (window.LC) { return; }\n'
    + _LEAFLET_TOOLTIP_FIX_JS
    + _HELPERS_JS
    + _POPUPS_JS
    + CANVAS_JS
    + LAYERS_JS
    + BEYOND_JS
    + CONTROLS_JS
    + _BUILD_JS
    + "  window.LC = { build: build, el: el, fmt: fmt };\n})();\n"
)
