"""Runtime JavaScript of the map's controls: title block, legend, search (part of the inlined runtime)."""

from __future__ import annotations

__all__ = ["CONTROLS_JS"]

CONTROLS_JS = r"""
  function addTitle(ctx) {
    var D = ctx.D;
    control("topright", function () {
      var d = el("div", null, "lc-box lc-title");
      d.appendChild(el("h3", D.title));
      D.params.forEach(function (p) { d.appendChild(el("div", p)); });
      L.DomEvent.disableClickPropagation(d);
      return d;
    }).addTo(ctx.map);
  }

  function legendRow(d, symbol, text) {
    var r = el("div", null, "lc-row");
    var s = el("span", null, "lc-sym");
    s.appendChild(symbol);
    r.appendChild(s);
    r.appendChild(el("span", text));
    d.appendChild(r);
    return r;
  }

  function addLegend(ctx) {
    var D = ctx.D, Lb = ctx.Lb, C = D.compounds;
    control("bottomright", function () {
      var d = el("div", null, "lc-box lc-legend");
      d.appendChild(el("h4", fmt(Lb.legend_compounds, { n: C.geoms.length })));
      D.legendStatuses.forEach(function (st) {
        var sw = el("span", null, "lc-sw lc-status-sw" + (st === "unreachable" ? " lc-hatch" : ""));
        if (st !== "unreachable") { sw.style.background = D.statusColors[st]; }
        sw.style.borderColor = D.statusColors[st];
        legendRow(d, sw, D.statusLabels[st] + " (" + (D.statusCounts[st] || 0) + ")").setAttribute("data-status", st);
      });
      if (D.legendCats.length) {
        d.appendChild(el("h4", Lb.legend_services));
        D.legendCats.forEach(function (c) {
          var sw = el("span", null, "lc-sw lc-dot");
          sw.style.background = D.catColors[c];
          legendRow(d, sw, fmt(Lb.legend_category, { category: D.catLabels[c], minutes: D.catMinutes[c],
                                                      n: D.catCounts[c] || 0 })).setAttribute("data-category", c);
        });
      }
      if (D.branches) {
        legendRow(d, diamond(), Lb.legend_branch + " (" + D.branches.lat.length + ")");
      }
      if (D.sites) {
        legendRow(d, el("span", null, "lc-sw lc-dot lc-site-icon"), Lb.legend_site + " (" + D.sites.lat.length + ")");
      }
      if (D.streets) {
        var lines = el("span");
        STREET_STYLES.slice().reverse().forEach(function (st) {
          var ln = el("span", null, "lc-line");
          ln.style.borderTop = st.weight + "px solid " + st.color;
          ln.style.display = "block";
          ln.style.margin = "2px 0";
          lines.appendChild(ln);
        });
        legendRow(d, lines, Lb.legend_streets);
      }
      if (D.study) {
        legendRow(d, el("span", null, "lc-sw lc-dash"), Lb.legend_study_area);
      }
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    }).addTo(ctx.map);
  }

  function addSearch(ctx) {
    var map = ctx.map, index = ctx.index, Lb = ctx.Lb;
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
      var msg = el("span"), found = L.popup({ maxWidth: 460 });
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
        found.setLatLng(hit.layer.getBounds().getCenter()).setContent(ctx.popup.compound(hit.i)).openOn(map);
      }
      input.addEventListener("change", go);
      input.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { go(); } });
      d.appendChild(input);
      d.appendChild(dl);
      d.appendChild(msg);
      L.DomEvent.disableClickPropagation(d);
      return d;
    }).addTo(map);
  }
"""
