"""Runtime JavaScript that draws the map's layers (part of :data:`lifecircle.maps._assets.RUNTIME_JS`).

Streets go on a canvas in a pane under the compounds; compounds are SVG paths (the unreachable ones hatched);
services are circle markers, clustered per category when many; branches are diamonds.
"""

from __future__ import annotations

__all__ = ["LAYERS_JS", "STREET_STYLES"]

#: Street line style per road class (path, minor, major), shared by the canvas and the legend.
STREET_STYLES = '[{ color: "#c5c9ce", weight: 1 }, { color: "#a3a8b0", weight: 2 }, { color: "#80858d", weight: 3.5 }]'

LAYERS_JS = (
    r"""
  var STREET_STYLES = """
    + STREET_STYLES
    + r""";
  var HATCH_ID = "lc-hatch";
  var PATHS_MIN_ZOOM = 15;

  function basemapFallback(ctx) {
    var B = ctx.G.basemaps;
    if (!B || !B.blank || !B.blank.length) { return; }
    B.tiles.forEach(function (tl) {
      var loaded = 0, failed = 0;
      tl.on("tileload", function () { loaded += 1; });
      tl.on("tileerror", function () {
        failed += 1;
        if (loaded === 0 && failed === 4 && ctx.map.hasLayer(tl)) {
          ctx.map.removeLayer(tl);  // no tile server reachable: the drawn streets stand on a clean ground
          ctx.map.addLayer(B.blank[0]);
        }
      });
    });
  }

  function drawStreets(ctx) {
    var D = ctx.D, G = ctx.G;
    if (!D.streets || !G.streets) { return; }
    var pane = ctx.map.createPane("lc-streets");
    pane.style.zIndex = 350;
    var renderer = quickCanvas({ pane: "lc-streets", tolerance: 4 });
    var scale = D.streets.scale, names = D.streets.names;
    // footways and paths only from zoom 15: a city-wide view stays light to draw and to pan
    var paths = L.layerGroup(), map = ctx.map;
    function showPaths() {
      var want = map.getZoom() >= PATHS_MIN_ZOOM && map.hasLayer(G.streets);
      if (want && !G.streets.hasLayer(paths)) { G.streets.addLayer(paths); }
      if (!want && G.streets.hasLayer(paths)) { G.streets.removeLayer(paths); }
    }
    ctx.streets = [];
    function addRow(r) {
      var parts = [];
      for (var j = 2; j < r.length; j++) {
        var a = r[j], x = a[0], y = a[1], ll = [[y / scale, x / scale]];
        for (var q = 2; q < a.length; q += 2) {
          x += a[q];
          y += a[q + 1];
          ll.push([y / scale, x / scale]);
        }
        parts.push(ll);
      }
      var st = STREET_STYLES[r[0]], named = r[1] >= 0;
      var line = L.polyline(parts, {
        renderer: renderer, color: st.color, weight: st.weight, opacity: 1, interactive: named,
        smoothFactor: 1.5, lineCap: "round", lineJoin: "round"
      });
      if (named) { line.bindTooltip(textTip(names[r[1]]), { sticky: true, className: "lc-street-tip" }); }
      line.addTo(r[0] === 0 ? paths : others);
      ctx.streets.push({ name: named ? names[r[1]] : null, cls: r[0], layer: line });
    }
    // lines are made in slices of ~25 ms (rows hold a few thousand points at most), the page answering input
    // meanwhile, off the map: added at the end, so the canvas is drawn once rather than once per slice
    var rows = D.streets.lines, k = 0, others = L.layerGroup();
    function slice() {
      var t0 = performance.now();
      while (k < rows.length && performance.now() - t0 < 25) { addRow(rows[k++]); }
      if (k < rows.length) { setTimeout(slice, 0); return; }
      G.streets.addLayer(others);
      map.on("zoomend", showPaths);
      showPaths();
      ctx.streetsDone = true;
      if (window.LC.last && window.LC.last.map === map) { window.LC.last.streetsDone = true; }
    }
    slice();
  }

  function hatchPattern(color) {
    if (document.getElementById(HATCH_ID)) { return; }
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("width", "0");
    svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true");
    svg.style.position = "absolute";
    var pat = document.createElementNS(NS, "pattern");
    pat.setAttribute("id", HATCH_ID);
    pat.setAttribute("patternUnits", "userSpaceOnUse");
    pat.setAttribute("width", "7");
    pat.setAttribute("height", "7");
    pat.setAttribute("patternTransform", "rotate(45)");
    var bg = document.createElementNS(NS, "rect");
    bg.setAttribute("width", "7");
    bg.setAttribute("height", "7");
    bg.setAttribute("fill", "#e9ecef");
    var ln = document.createElementNS(NS, "rect");
    ln.setAttribute("width", "2.5");
    ln.setAttribute("height", "7");
    ln.setAttribute("fill", color);
    pat.appendChild(bg);
    pat.appendChild(ln);
    var defs = document.createElementNS(NS, "defs");
    defs.appendChild(pat);
    svg.appendChild(defs);
    document.body.appendChild(svg);
  }

  function hatchCanvas(color) {  // the same hatching as a canvas fill (compounds drawn on a canvas)
    var c = document.createElement("canvas");
    c.width = 7;
    c.height = 7;
    var g = c.getContext("2d");
    g.fillStyle = "#e9ecef";
    g.fillRect(0, 0, 7, 7);
    g.strokeStyle = color;
    g.lineWidth = 2.5;
    g.beginPath();
    g.moveTo(-1, 8);
    g.lineTo(8, -1);
    g.moveTo(-1, 1);
    g.lineTo(1, -1);
    g.moveTo(6, 8);
    g.lineTo(8, 6);
    g.stroke();
    return g.createPattern(c, "repeat");
  }

  function drawCompounds(ctx) {
    var D = ctx.D, C = D.compounds, Lb = ctx.Lb;
    // many compounds: one canvas instead of thousands of SVG paths (interactive within seconds)
    var canvas = C.geoms.length > D.canvasMin ? quickCanvas({ tolerance: 0 }) : null;
    var byStatus = {};
    C.geoms.forEach(function (g, i) {
      var st = C.status[i];
      (byStatus[st] = byStatus[st] || []).push({ type: "Feature", geometry: g, properties: { i: i } });
    });
    Object.keys(byStatus).forEach(function (st) {
      var color = D.statusColors[st], group = ctx.G.compounds[st];
      var hatched = st === "unreachable", fill = color;
      if (hatched && canvas) {
        fill = hatchCanvas(color);
      } else if (hatched) {
        hatchPattern(color);
        fill = "url(#" + HATCH_ID + ")";
      }
      var style = { color: color, weight: 1.2, opacity: 0.9, fillColor: fill, fillOpacity: hatched ? 0.8 : 0.45,
                    className: "lc-compound lc-status-" + st };
      if (canvas) { style.renderer = canvas; }
      var gj = L.geoJSON({ type: "FeatureCollection", features: byStatus[st] }, {
        style: style,
        onEachFeature: function (f, layer) {
          ctx.index.push({ name: C.name[f.properties.i] || "", i: f.properties.i, layer: layer, group: group });
        }
      });
      // one popup and one tooltip for the whole group (binding thousands of layers one by one is slow)
      gj.bindPopup(function (layer) { return ctx.popup.compound(layer.feature.properties.i); }, { maxWidth: 460 });
      gj.bindTooltip(function (layer) {
        return el("span", (C.name[layer.feature.properties.i] || Lb.unnamed) + " · " + (D.statusLabels[st] || ""));
      }, { sticky: true });
      gj.addTo(group);
    });
  }

  function drawServices(ctx) {
    var D = ctx.D, S = D.services, Lb = ctx.Lb, byCat = {};
    S.id.forEach(function (id, k) {
      var c = S.cat[k];
      if (!ctx.G.services[c]) { return; }
      var mk = L.circleMarker([S.lat[k], S.lon[k]], {
        radius: 6, color: "#ffffff", weight: 1.5, fillColor: D.catColors[c], fillOpacity: 0.95,
        className: "lc-service"
      });
      mk._lcK = k;
      (byCat[c] = byCat[c] || []).push(mk);
    });
    Object.keys(byCat).forEach(function (c) {  // in bulk: one cluster computation per category
      var group = ctx.G.services[c];
      group.bindPopup(function (mk) { return ctx.popup.service(mk._lcK); });
      group.bindTooltip(function (mk) {
        return el("span", mk._lcK === undefined ? "" : (S.name[mk._lcK] || Lb.unnamed) + " · " + D.catLabels[c]);
      });
      if (D.cluster[c] && typeof L.markerClusterGroup === "function") {
        // the plugin's default radius (80 px): a city-wide view keeps a few hundred cluster icons, not thousands,
        // and each drag restyles every icon in the page (Leaflet toggles "leaflet-dragging" on <body>)
        var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 80, chunkedLoading: true,
                                                  chunkInterval: 40, chunkDelay: 10 });
        cluster.addLayers(byCat[c]);
        group.addLayer(cluster);
      } else {
        byCat[c].forEach(function (mk) { group.addLayer(mk); });
      }
    });
  }

  function diamond() { return el("span", null, "lc-diamond"); }

  function drawBranches(ctx) {
    var B = ctx.D.branches;
    if (!B || !ctx.G.branches) { return; }
    B.lat.forEach(function (lat, k) {
      var mk = L.marker([lat, B.lon[k]], {
        icon: L.divIcon({ className: "lc-branch-marker", html: diamond(), iconSize: [13, 13] }),
        keyboard: false
      });
      mk.bindTooltip(textTip(B.name[k] || ctx.Lb.branch));
      mk.addTo(ctx.G.branches);
    });
  }

  function drawServed(ctx) {
    var D = ctx.D, G = ctx.G;
    if (!D.served || !G.served) { return; }
    D.served.forEach(function (s) {
      var grp = G.served[s.cat];
      if (!grp) { return; }
      L.geoJSON(s.geom, { interactive: false, style: {
        color: D.catColors[s.cat], weight: 1, opacity: 0.7,
        fillColor: D.catColors[s.cat], fillOpacity: 0.15, className: "lc-served"
      } }).addTo(grp);
    });
  }

  function drawSites(ctx) {
    var D = ctx.D, G = ctx.G, Lb = ctx.Lb;
    if (D.siteAreas && G.sites) {  // what each site newly covers, under the markers
      D.siteAreas.forEach(function (g) {
        L.geoJSON(g, { interactive: false, style: {
          color: "#212529", weight: 2, dashArray: "5 4", fillColor: "#212529", fillOpacity: 0.08,
          className: "lc-site-area"
        } }).addTo(G.sites);
      });
    }
    if (!D.sites || !G.sites) { return; }
    var T = D.sites;
    T.lat.forEach(function (lat, k) {
      var icon = el("div", T.rank[k] === null ? "" : T.rank[k]);
      var mk = L.marker([lat, T.lon[k]], {
        icon: L.divIcon({ className: "lc-site-icon", html: icon, iconSize: [24, 24] }), keyboard: false
      });
      mk.bindPopup(function () {
        var d = el("div", null, "lc-popup");
        d.appendChild(el("h4", Lb.legend_site + (T.rank[k] === null ? "" : " #" + T.rank[k])));
        var t = el("table");
        T.fields.forEach(function (f, j) { row(t, [f, T.values[k][j] === null ? "—" : T.values[k][j]]); });
        d.appendChild(t);
        return d;
      });
      mk.addTo(G.sites);
    });
  }

  function drawStudy(ctx) {
    if (!ctx.D.study || !ctx.G.study) { return; }
    L.geoJSON(ctx.D.study, { interactive: false, style: {
      color: "#222", weight: 2, dashArray: "6 4", fill: false, className: "lc-study"
    } }).addTo(ctx.G.study);
  }
"""
)
