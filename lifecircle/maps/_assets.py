"""JavaScript and CSS that every lifecircle map inlines (no external assets of its own).

Security rule for this code: data strings only ever reach the page through ``textContent``, element
values or DOM attributes set from code, never through ``innerHTML`` or a Leaflet string content
(Leaflet sets string popups, tooltips and control names as HTML).
"""

from __future__ import annotations

RUNTIME_CSS = """
.lc-box{background:rgba(255,255,255,.93);padding:6px 10px;border-radius:4px;
  box-shadow:0 1px 4px rgba(0,0,0,.35);
  font:13px/1.35 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
  color:#222;max-width:340px}
.lc-title h3{margin:0 0 3px 0;font-size:15px}
.lc-title div{font-size:12px;color:#444}
.lc-legend .lc-row{display:flex;align-items:center;margin:2px 0;font-size:12px}
.lc-legend .lc-sw{width:14px;height:12px;margin-right:6px;flex:none;border:1px solid rgba(0,0,0,.35)}
.lc-legend .lc-dot{border-radius:50%;width:11px;height:11px}
.lc-legend .lc-dash{height:0;border:none;border-top:2px dashed #222}
.lc-legend h4{margin:5px 0 2px 0;font-size:12px}
.lc-popup h4{margin:0 0 4px 0;font-size:14px}
.lc-popup table{border-collapse:collapse;font-size:12px}
.lc-popup th,.lc-popup td{padding:1px 6px 1px 0;text-align:left;vertical-align:top}
.lc-popup td.lc-out{color:#b02a2a}
.lc-popup td.lc-in{color:#22703a}
.lc-branch-icon{background:#1c4fa0;border:2px solid #fff;box-shadow:0 0 2px #000;transform:rotate(45deg)}
.lc-site-icon{background:#ffd43b;border:2px solid #222;border-radius:50%;text-align:center;
  font:bold 12px/20px sans-serif;color:#222}
.lc-search input{width:180px;padding:3px 5px;font-size:13px}
.lc-search span{margin-left:4px;font-size:12px;color:#b02a2a}
.lc-popup .lc-status{font-size:12px;margin-bottom:3px}
path.leaflet-interactive:focus{outline:none}
"""

RUNTIME_JS = r"""
(function () {
  "use strict";
  if (window.LC) { return; }
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

  function build(map, G, D) {
    var Lb = D.labels, C = D.compounds, S = D.services;
    var sIdx = new Map();
    S.id.forEach(function (id, k) { sIdx.set(id, k); });
    var catNames = D.catLabels;

    function minutesText(v) {
      return (v === null || v === undefined) ? null : fmt(Lb.minutes_value, { value: Number(v).toFixed(1) });
    }
    function compoundPopup(i) {
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
        row(t2, [Lb.category, Lb.walk_to_nearest, Lb.nearest_service,
                 fmt(Lb.services_within, { minutes: D.minutes })]);
        C.cats.forEach(function (cat, c) {
          var m = C.min[i][c], sid = C.near[i][c], w = C.within[i][c];
          var txt = minutesText(m);
          if (txt === null) { txt = C.known[i] ? Lb.unreachable : Lb.no_data; }
          var k = (sid === null || sid === undefined) ? undefined : sIdx.get(sid);
          var sname = k === undefined ? (sid === null || sid === undefined ? "" : sid) : (S.name[k] || sid);
          var inside = C.cov[i][c] === true;
          row(t2, [C.catLabels[c], txt, sname, w === null || w === undefined ? "—" : num(w)],
              [null, inside ? "lc-in" : "lc-out", null, null]);
        });
        d.appendChild(t2);
      }
      return d;
    }
    function servicePopup(k) {
      var d = el("div", null, "lc-popup");
      d.appendChild(el("h4", S.name[k] || Lb.unnamed));
      var t = el("table");
      row(t, [Lb.category, catNames[S.cat[k]]]);
      row(t, [fmt(S.withinMode ? Lb.serves_compounds_within : Lb.serves_compounds, { minutes: D.minutes }),
              num(S.nComp[k])]);
      if (S.nPop) { row(t, [Lb.serves_residents, num(S.nPop[k])]); }
      if (S.nHh) { row(t, [Lb.serves_households, num(S.nHh[k])]); }
      d.appendChild(t);
      return d;
    }
    function textTip(s) { return function () { return el("span", s); }; }

    // compounds, one layer group per status
    var index = [];
    var byStatus = {};
    C.geoms.forEach(function (g, i) {
      var st = C.status[i];
      (byStatus[st] = byStatus[st] || []).push({ type: "Feature", geometry: g, properties: { i: i } });
    });
    Object.keys(byStatus).forEach(function (st) {
      var color = D.statusColors[st];
      var group = G.compounds[st];
      L.geoJSON({ type: "FeatureCollection", features: byStatus[st] }, {
        style: { color: color, weight: 1.2, opacity: 0.9, fillColor: color, fillOpacity: 0.45,
                 className: "lc-compound lc-status-" + st },
        onEachFeature: function (f, layer) {
          var i = f.properties.i;
          layer.bindPopup(function () { return compoundPopup(i); }, { maxWidth: 420 });
          layer.bindTooltip(textTip((C.name[i] || Lb.unnamed) + " · " + (D.statusLabels[st] || "")),
                            { sticky: true });
          index.push({ name: C.name[i] || "", layer: layer, group: group });
        }
      }).addTo(group);
    });

    // services
    S.id.forEach(function (id, k) {
      var c = S.cat[k];
      var tgt = G.services[c];
      if (!tgt) { return; }
      if (!tgt._lcTarget) {
        tgt._lcTarget = tgt;
        if (D.cluster[c] && typeof L.markerClusterGroup === "function") {
          tgt._lcTarget = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
          tgt.addLayer(tgt._lcTarget);
        }
      }
      var mk = L.circleMarker([S.lat[k], S.lon[k]], {
        radius: 6, color: "#ffffff", weight: 1.5, fillColor: D.catColors[c], fillOpacity: 0.95,
        className: "lc-service"
      });
      mk.bindPopup(function () { return servicePopup(k); });
      mk.bindTooltip(textTip((S.name[k] || Lb.unnamed) + " · " + catNames[c]));
      tgt._lcTarget.addLayer(mk);
    });

    // branches
    if (D.branches && G.branches) {
      var B = D.branches;
      B.lat.forEach(function (lat, k) {
        var mk = L.marker([lat, B.lon[k]], {
          icon: L.divIcon({ className: "lc-branch-icon", html: "", iconSize: [11, 11] }),
          keyboard: false
        });
        mk.bindTooltip(textTip(B.name[k] || Lb.branch));
        mk.addTo(G.branches);
      });
    }

    // served areas
    if (D.served && G.served) {
      D.served.forEach(function (s) {
        var grp = G.served[s.cat];
        if (!grp) { return; }
        L.geoJSON(s.geom, { interactive: false, style: {
          color: D.catColors[s.cat], weight: 1, opacity: 0.7,
          fillColor: D.catColors[s.cat], fillOpacity: 0.15,
          className: "lc-served"
        } }).addTo(grp);
      });
    }

    // recommended sites: what each newly covers (drawn under the markers)
    if (D.siteAreas && G.sites) {
      D.siteAreas.forEach(function (g) {
        L.geoJSON(g, { interactive: false, style: {
          color: "#212529", weight: 2, dashArray: "5 4", fillColor: "#212529", fillOpacity: 0.08,
          className: "lc-site-area"
        } }).addTo(G.sites);
      });
    }
    if (D.sites && G.sites) {
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

    // study area
    if (D.study && G.study) {
      L.geoJSON(D.study, { interactive: false, style: {
        color: "#222", weight: 2, dashArray: "6 4", fill: false, className: "lc-study"
      } }).addTo(G.study);
    }

    // title block
    control("topright", function () {
      var d = el("div", null, "lc-box lc-title");
      d.appendChild(el("h3", D.title));
      D.params.forEach(function (p) { d.appendChild(el("div", p)); });
      L.DomEvent.disableClickPropagation(d);
      return d;
    }).addTo(map);

    // legend
    control("bottomright", function () {
      var d = el("div", null, "lc-box lc-legend");
      d.appendChild(el("h4", fmt(Lb.legend_compounds, { n: C.geoms.length })));
      D.legendStatuses.forEach(function (st) {
        var r = el("div", null, "lc-row");
        var sw = el("span", null, "lc-sw");
        sw.style.background = D.statusColors[st];
        r.appendChild(sw);
        r.appendChild(el("span", D.statusLabels[st] + " (" + (D.statusCounts[st] || 0) + ")"));
        d.appendChild(r);
      });
      if (D.legendCats.length) {
        d.appendChild(el("h4", Lb.legend_services));
        D.legendCats.forEach(function (c) {
          var r = el("div", null, "lc-row");
          var sw = el("span", null, "lc-sw lc-dot");
          sw.style.background = D.catColors[c];
          r.appendChild(sw);
          r.appendChild(el("span", catNames[c] + " (" + (D.catCounts[c] || 0) + ")"));
          d.appendChild(r);
        });
      }
      if (D.branches) {
        var rb = el("div", null, "lc-row");
        rb.appendChild(el("span", null, "lc-sw lc-branch-icon"));
        rb.appendChild(el("span", Lb.legend_branch + " (" + D.branches.lat.length + ")"));
        d.appendChild(rb);
      }
      if (D.sites) {
        var rs = el("div", null, "lc-row");
        rs.appendChild(el("span", null, "lc-sw lc-dot lc-site-icon"));
        rs.appendChild(el("span", Lb.legend_site + " (" + D.sites.lat.length + ")"));
        d.appendChild(rs);
      }
      if (D.study) {
        var ra = el("div", null, "lc-row");
        ra.appendChild(el("span", null, "lc-sw lc-dash"));
        ra.appendChild(el("span", Lb.legend_study_area));
        d.appendChild(ra);
      }
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    }).addTo(map);

    // search by compound name (self-contained; works offline)
    control("topleft", function () {
      var d = el("div", null, "lc-box lc-search");
      var input = el("input");
      input.type = "search";
      input.placeholder = Lb.search_placeholder;
      var listId = "lc-names-" + Math.random().toString(36).slice(2);
      input.setAttribute("list", listId);
      var dl = el("datalist");
      dl.id = listId;
      var seen = new Set();
      index.forEach(function (e) {
        if (e.name && !seen.has(e.name)) {
          seen.add(e.name);
          var o = el("option");
          o.value = e.name;
          dl.appendChild(o);
        }
      });
      var msg = el("span");
      function go() {
        var q = input.value.trim();
        msg.textContent = "";
        if (!q) { return; }
        var ql = q.toLowerCase();
        var hit = index.find(function (e) { return e.name === q; }) ||
                  index.find(function (e) { return e.name.toLowerCase().indexOf(ql) >= 0; });
        if (!hit) { msg.textContent = Lb.search_none; return; }
        if (!map.hasLayer(hit.group)) { map.addLayer(hit.group); }
        map.fitBounds(hit.layer.getBounds(), { maxZoom: 17 });
        hit.layer.openPopup(hit.layer.getBounds().getCenter());
      }
      input.addEventListener("change", go);
      input.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { go(); } });
      d.appendChild(input);
      d.appendChild(dl);
      d.appendChild(msg);
      L.DomEvent.disableClickPropagation(d);
      return d;
    }).addTo(map);

    if (D.attribution) { map.attributionControl.addAttribution(D.attribution); }
    if (D.bounds) { map.fitBounds(D.bounds); }
    window.LC.last = { map: map, index: index, groups: G };
  }
  window.LC = { build: build, el: el, fmt: fmt };
})();
"""
