/* lifecircle what-if page: map, panels and the window.lifecircle hook over LCWhatIfEngine.
 *
 * Security rule (as in every lifecircle map): data strings reach the page only through textContent, element
 * values or attributes set from code; never innerHTML, never a Leaflet string content (Leaflet sets string
 * popups and tooltips as HTML).
 *
 * Hook (documented in README): window.lifecircle.addService(lon, lat, category) -> id;
 * removeService(id); restoreService(id); moveService(id, lon, lat) -> bool; coverage() ->
 * {compound_id: {category: walk_minutes or null}}; summary(); changes(); scenario() -> {geojson, csv, changes_csv}.
 */
(function () {
  "use strict";
  var PALETTE = ["#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e", "#7f7f7f"];
  var COLOURS = { covered: "#2e9d5b", uncovered: "#d9534f", off: "#9e9e9e", gained: "#1c4fa0", lost: "#f0a202" };
  var MAX_LISTED = 300;
  var ORIGINS_ZOOM = 16;  /* walk origins and their access walks drawn from this zoom on */

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
  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }

  /* ---- scenario export: the services of the scenario (GeoJSON, CSV) and what changed (CSV) ---- */
  function csvCell(v) {
    var s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s) && isNaN(Number(s))) { s = "'" + s; }  /* no spreadsheet formula from data */
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function csvText(table) {
    return "\ufeff" + table.map(function (r) { return r.map(csvCell).join(","); }).join("\r\n") + "\r\n";
  }
  function scenarioOf(services, cats) {
    var features = [], rows = [["service_id", "name", "category", "scenario", "lon", "lat"]];
    var changes = [["service_id", "name", "category", "change", "lon", "lat"]];
    services.forEach(function (svc) {
      var status = svc.added ? "added" : "existing";
      if (svc.added && !svc.active) { return; }
      if (!svc.added && !svc.active && svc.seg >= 0) {
        changes.push([svc.id, svc.name, cats[svc.cat], "removed", svc.lon, svc.lat]);
        return;
      }
      if (svc.added) { changes.push([svc.id, svc.name, cats[svc.cat], "added", svc.lon, svc.lat]); }
      features.push({ type: "Feature", geometry: { type: "Point", coordinates: [svc.lon, svc.lat] },
        properties: { service_id: svc.id, name: svc.name, category: cats[svc.cat], scenario: status } });
      rows.push([svc.id, svc.name, cats[svc.cat], status, svc.lon, svc.lat]);
    });
    return { geojson: { type: "FeatureCollection", features: features }, csv: csvText(rows), changes_csv: csvText(changes) };
  }
  function save(name, text, type) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var a = el("a"); a.href = url; a.download = name;
    document.body.appendChild(a); a.click(); document.body.removeChild(a);
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }
  function download(s) {
    save("scenario_services.geojson", JSON.stringify(s.geojson), "application/geo+json");
    save("scenario_services.csv", s.csv, "text/csv;charset=utf-8");
    save("scenario_changes.csv", s.changes_csv, "text/csv;charset=utf-8");
  }

  var payload = readJson("lc-whatif-data");
  var T = readJson("lc-whatif-text");
  var note = el("div", T.loading, "lc-wi-box lc-wi-loading");
  document.body.appendChild(note);
  var ready = window.LCWhatIfEngine(payload);
  if (ready === null) { note.textContent = T.old_browser; return; }
  ready.then(function (engine) { document.body.removeChild(note); start(engine); }, function (err) {
    note.textContent = T.old_browser + " (" + err + ")";
  });

  function start(engine) {
    var cats = engine.categories, nC = engine.nCompounds, limit = payload.max_walk_m, mpm = payload.m_per_min;
    var limitOf = function (k) { return k < 0 ? limit : payload.limits_m[k]; };  /* a category may have its own */
    var ids = payload.compound_ids, names = payload.compound_names, households = payload.households;
    var catName = function (k) { return k < 0 ? T.all : (T.category_names[cats[k]] || cats[k]); };
    var nf1 = function (v) { return (Math.round(v * 10) / 10).toFixed(1); };
    var pct = function (v) { return (v * 100).toFixed(1) + "%"; };

    /* compounds whose every origin is off the network */
    var offNetwork = new Uint8Array(nC).fill(1);
    var oComp = engine.originCompounds, oSnapped = engine.originSnapped;
    for (var o = 0; o < oComp.length; o++) { if (oSnapped[o]) { offNetwork[oComp[o]] = 0; } }

    /* ---- map ---- */
    /* the streets on a canvas of their own (not interactive: clicks pass through), so restyling a compound never
       repaints them; compounds and services share the interactive canvas above (one canvas takes the mouse) */
    var streetRenderer = L.canvas({ padding: 0.3 });
    var renderer = L.canvas({ padding: 0.3 });
    var serviceRenderer = renderer;
    var map = L.map("lc-map", { preferCanvas: true, renderer: renderer });
    var streets = L.polyline(engine.streetLines(), {
      color: "#8a9099", weight: 1, opacity: 0.9, interactive: false, renderer: streetRenderer
    });
    if (T.attribution) { map.attributionControl.addAttribution(T.attribution); }
    var view = -1;  /* category row coloured (-1: all) */

    var polygons = [];
    var rings = engine.compoundRings();
    for (var c = 0; c < nC; c++) {
      var poly = L.polygon(rings[c], { renderer: renderer, weight: 1, fillOpacity: 0.55 });
      poly.bindTooltip((function (k) { return function () { return el("span", names[k] || ids[k]); }; })(c), { sticky: true });
      /* in add mode a click on a compound adds a service there (the map's click); else it shows the compound */
      poly.on("click", (function (k) { return function (e) { if (!addOn.checked) { compoundPopup(k, e.latlng); } }; })(c));
      polygons.push(poly);
    }
    /* the view first (canvases measure themselves on it), then the layers */
    var homeBounds = polygons.length ? L.featureGroup(polygons).getBounds() : streets.getBounds();
    map.fitBounds(homeBounds.isValid() ? homeBounds : streets.getBounds(), { padding: [30, 30] });
    streets.addTo(map);
    polygons.forEach(function (p) { p.addTo(map); });
    /* close up, where each compound's walks start and the access walk to its street */
    var originLayer = null;  /* made on first need: a large district opens faster */
    function makeOriginLayer() {
      var group = L.layerGroup();
      for (var c = 0; c < nC; c++) {
        engine.originsOf(c).forEach(function (o) {
          var at = [o.at[1], o.at[0]];
          group.addLayer(L.circleMarker(at, { radius: 3, color: "#222", weight: 1, fillColor: "#fff", fillOpacity: 1,
            interactive: false, renderer: renderer }));
          if (o.join) {
            group.addLayer(L.polyline([at, [o.join[1], o.join[0]]], { color: "#222", weight: 1, dashArray: "2 3",
              interactive: false, renderer: renderer }));
          }
        });
      }
      return group;
    }
    function showOrigins() {
      if (map.getZoom() >= ORIGINS_ZOOM) {
        originLayer = originLayer || makeOriginLayer();
        originLayer.addTo(map);
      } else if (originLayer) { map.removeLayer(originLayer); }
    }
    map.on("zoomend", showOrigins);
    showOrigins();

    function covered(k, c, base) { return engine.walk(k, c, base) <= limitOf(k); }
    function styleOf(c) {
      if (offNetwork[c]) { return { color: "#666", fillColor: COLOURS.off, weight: 1 }; }
      var now = covered(view, c, false), before = covered(view, c, true);
      var fill = now ? COLOURS.covered : COLOURS.uncovered;
      if (now === before) { return { color: "#333", fillColor: fill, weight: 1 }; }
      return { color: now ? COLOURS.gained : COLOURS.lost, fillColor: fill, weight: 4 };
    }
    function recolour(list) { list.forEach(function (c) { polygons[c].setStyle(styleOf(c)); }); }

    function minutesText(m, k) { return m <= limitOf(k) ? nf1(m / mpm) + " " + T.min : T.beyond; }

    function compoundPopup(c, latlng) {
      var box = el("div", null, "lc-wi-popup");
      box.appendChild(el("h4", names[c] || ids[c]));
      var tbl = el("table"), head = el("tr");
      [T.category, T.before, T.now].forEach(function (h) { head.appendChild(el("th", h)); });
      tbl.appendChild(head);
      for (var k = -1; k < cats.length; k++) {
        var tr = el("tr");
        tr.appendChild(el("th", catName(k)));
        tr.appendChild(el("td", minutesText(engine.walk(k, c, true), k)));
        tr.appendChild(el("td", minutesText(engine.walk(k, c, false), k), covered(k, c, false) ? "lc-in" : "lc-out"));
        tbl.appendChild(tr);
      }
      box.appendChild(tbl);
      L.popup().setLatLng(latlng).setContent(box).openOn(map);
    }

    /* ---- services ---- */
    var markers = [];  /* per service index: {marker, line} */
    function serviceStyle(svc) {
      return svc.active ? { radius: 6, color: "#fff", weight: 1.5, fillColor: PALETTE[svc.cat % PALETTE.length], fillOpacity: 1 }
        : { radius: 6, color: "#555", weight: 2, fillColor: "#fff", fillOpacity: 0.6, dashArray: "2 2" };
    }
    function servicePopup(k) {
      var svc = engine.services[k], box = el("div", null, "lc-wi-popup");
      box.appendChild(el("h4", svc.added ? fmt(T.new_service, { id: svc.id }) : (svc.name || svc.id)));
      box.appendChild(el("div", T.category + ": " + catName(svc.cat)));
      box.appendChild(el("div", fmt(T.serves, { n: new Set(svc.origins.map(function (o) { return oComp[o]; })).size })));
      if (svc.seg < 0) { box.appendChild(el("div", T.off_network, "lc-out")); return box; }
      var btn = el("button", svc.added ? T.remove : (svc.active ? T.disable : T.enable));
      btn.type = "button";
      btn.addEventListener("click", function () {
        map.closePopup();
        if (svc.added) { api.removeService(svc.id); } else if (svc.active) { api.removeService(svc.id); } else { api.restoreService(svc.id); }
      });
      box.appendChild(btn);
      return box;
    }
    function drawService(k) {
      var svc = engine.services[k], item = markers[k], ll = [svc.lat, svc.lon];
      var join = engine.joinPoint(k);
      if (!item) {
        item = {};
        if (svc.added) {
          var icon = L.divIcon({ className: "lc-wi-new", iconSize: [16, 16] });
          item.marker = L.marker(ll, { icon: icon, draggable: true, keyboard: true }).addTo(map);
          item.marker.getElement().style.background = PALETTE[svc.cat % PALETTE.length];
          item.marker.on("dragend", function () {
            var p = item.marker.getLatLng();
            api.moveService(svc.id, p.lng, p.lat);
          });
        } else {
          item.marker = L.circleMarker(ll, Object.assign({ renderer: serviceRenderer, bubblingMouseEvents: false }, serviceStyle(svc))).addTo(map);
        }
        item.marker.bindPopup(function () { return servicePopup(k); });
        item.marker.bindTooltip(function () { return el("span", (svc.added ? svc.id : (svc.name || svc.id)) + " · " + catName(svc.cat)); });
        markers[k] = item;
      }
      item.marker.setLatLng(ll);
      if (!svc.added) { item.marker.setStyle(serviceStyle(svc)); }
      if (item.line) { map.removeLayer(item.line); item.line = null; }
      if (join && svc.active) {
        item.line = L.polyline([ll, [join[1], join[0]]], { color: "#222", weight: 1.5, dashArray: "3 3", interactive: false, renderer: serviceRenderer }).addTo(map);
      }
    }
    engine.services.forEach(function (svc, k) { drawService(k); });

    /* ---- panels ---- */
    var panel = el("div", null, "lc-wi-box lc-wi-panel");
    panel.appendChild(el("h3", T.title));
    panel.appendChild(el("div", fmt(T.params, { minutes: nf1(limit / mpm), speed: nf1(mpm * 60 / 1000), snap: Math.round(payload.max_snap_m) })));
    var addRow = el("div", null, "lc-wi-row");
    var addOn = el("input"); addOn.type = "checkbox"; addOn.checked = true; addOn.id = "lc-wi-add-on";
    var addLabel = el("label", T.click_to_add); addLabel.htmlFor = addOn.id;
    var addCat = el("select"); addCat.id = "lc-wi-add-cat";
    cats.forEach(function (name, k) { var op = el("option", catName(k)); op.value = name; addCat.appendChild(op); });
    addRow.appendChild(addOn); addRow.appendChild(addLabel); addRow.appendChild(addCat);
    panel.appendChild(addRow);
    var viewRow = el("div", null, "lc-wi-row");
    viewRow.appendChild(el("span", T.colour_by + " "));
    var viewSel = el("select"); viewSel.id = "lc-wi-view";
    for (var k = -1; k < cats.length; k++) { var op = el("option", catName(k)); op.value = String(k); viewSel.appendChild(op); }
    viewSel.addEventListener("change", function () { view = Number(viewSel.value); recolour(polygons.map(function (p, i) { return i; })); });
    viewRow.appendChild(viewSel);
    panel.appendChild(viewRow);
    var table = el("table", null, "lc-wi-table");
    panel.appendChild(table);
    var message = el("div", null, "lc-wi-message"); message.setAttribute("role", "status"); message.id = "lc-wi-message";
    panel.appendChild(message);
    var buttons = el("div", null, "lc-wi-row");
    var exportBtn = el("button", T.export); exportBtn.type = "button"; exportBtn.id = "lc-wi-export";
    exportBtn.addEventListener("click", function () { download(scenarioOf(engine.services, cats)); });
    var resetBtn = el("button", T.reset); resetBtn.type = "button"; resetBtn.id = "lc-wi-reset";
    resetBtn.addEventListener("click", function () { api.reset(); });
    buttons.appendChild(exportBtn); buttons.appendChild(resetBtn);
    panel.appendChild(buttons);
    panel.appendChild(el("div", T.legend, "lc-wi-note"));
    var changesBox = el("div", null, "lc-wi-box lc-wi-changes");
    var changesHead = el("h4"), changesList = el("ol");
    changesBox.appendChild(changesHead); changesBox.appendChild(changesList);

    function corner(position, node) {
      var ctl = L.control({ position: position });
      ctl.onAdd = function () { L.DomEvent.disableClickPropagation(node); L.DomEvent.disableScrollPropagation(node); return node; };
      ctl.addTo(map);
    }
    corner("topright", panel);
    corner("bottomleft", changesBox);

    function counts(k, base) {
      var n = 0, hh = 0, hhAll = 0, known = true;
      for (var c = 0; c < nC; c++) {
        var h = households[c];
        if (h === null) { known = false; } else { hhAll += h; }
        if (covered(k, c, base)) { n++; if (h !== null) { hh += h; } }
      }
      return { compounds_covered: n, compounds_share: nC ? n / nC : 0,
        households_covered: known ? hh : null, households_share: known && hhAll > 0 ? hh / hhAll : null };
    }
    function changeList() {
      var out = [];
      for (var c = 0; c < nC; c++) {
        for (var k = -1; k < cats.length; k++) {
          var before = covered(k, c, true), now = covered(k, c, false);
          if (before !== now) {
            out.push({ compound_id: ids[c], name: names[c], category: k < 0 ? "all" : cats[k], covered_before: before,
              covered_now: now, walk_min: now ? engine.walk(k, c, false) / mpm : null, index: c, row: k });
          }
        }
      }
      return out;
    }
    function renderTable() {
      while (table.firstChild) { table.removeChild(table.firstChild); }
      var head = el("tr");
      [T.category, T.before, T.now, T.share].forEach(function (h) { head.appendChild(el("th", h)); });
      table.appendChild(head);
      for (var k = -1; k < cats.length; k++) {
        var b = counts(k, true), n = counts(k, false), diff = n.compounds_covered - b.compounds_covered;
        var tr = el("tr");
        var own = k >= 0 && limitOf(k) !== limit ? " (" + nf1(limitOf(k) / mpm) + " " + T.min + ")" : "";
        var name = el("th", catName(k) + own);
        if (k >= 0) {
          var dot = el("span", null, "lc-wi-dot");
          dot.style.background = PALETTE[k % PALETTE.length];
          name.insertBefore(dot, name.firstChild);
        }
        tr.appendChild(name);
        tr.appendChild(el("td", b.compounds_covered));
        tr.appendChild(el("td", n.compounds_covered + (diff ? " (" + (diff > 0 ? "+" : "") + diff + ")" : ""), diff > 0 ? "lc-in" : (diff < 0 ? "lc-out" : null)));
        tr.appendChild(el("td", pct(n.compounds_share)));
        table.appendChild(tr);
      }
    }
    function renderChanges() {
      var list = changeList();
      changesHead.textContent = fmt(T.changed_head, { n: list.length });
      while (changesList.firstChild) { changesList.removeChild(changesList.firstChild); }
      list.slice(0, MAX_LISTED).forEach(function (ch) {
        var li = el("li", null, ch.covered_now ? "lc-in" : "lc-out");
        li.appendChild(el("b", ch.name || ch.compound_id));
        li.appendChild(el("span", " · " + catName(ch.row) + ": " + (ch.covered_now ? fmt(T.now_covered, { minutes: nf1(ch.walk_min) }) : T.now_uncovered)));
        li.addEventListener("click", function () { map.panTo(polygons[ch.index].getBounds().getCenter()); });
        changesList.appendChild(li);
      });
      if (list.length > MAX_LISTED) { changesList.appendChild(el("li", fmt(T.more, { n: list.length - MAX_LISTED }))); }
      changesBox.style.display = list.length ? "" : "none";
    }
    var lastMs = null;
    function refresh(t0) {
      recolour(engine.takeChanged());
      renderTable();
      renderChanges();
      lastMs = performance.now() - t0;
    }
    recolour(polygons.map(function (p, i) { return i; }));
    renderTable();
    renderChanges();

    /* ---- the hook ---- */
    function find(id) {
      var k = engine.index(id);
      if (k < 0) { throw new Error(fmt(T.no_such_service, { id: id })); }
      return k;
    }
    var api = {
      addService: function (lon, lat, category) {
        var t0 = performance.now();
        var k = engine.add(lon, lat, category === undefined || category === null ? addCat.value : category);
        if (k < 0) {
          message.textContent = fmt(T.too_far, { snap: Math.round(payload.max_snap_m) });
          throw new Error(message.textContent);
        }
        message.textContent = "";
        drawService(k);
        refresh(t0);
        return engine.services[k].id;
      },
      removeService: function (id) {
        var t0 = performance.now(), k = find(id), svc = engine.services[k];
        engine.remove(k);
        if (svc.added && markers[k]) {
          map.removeLayer(markers[k].marker);
          if (markers[k].line) { map.removeLayer(markers[k].line); }
          markers[k] = null;
        } else { drawService(k); }
        refresh(t0);
        return true;
      },
      restoreService: function (id) {
        var t0 = performance.now(), k = find(id);
        if (engine.services[k].added) { throw new Error(fmt(T.no_such_service, { id: id })); }
        engine.restore(k);
        drawService(k);
        refresh(t0);
        return true;
      },
      moveService: function (id, lon, lat) {
        var t0 = performance.now(), k = find(id), svc = engine.services[k];
        if (!svc.added || !svc.active) { throw new Error(fmt(T.no_such_service, { id: id })); }
        var ok = engine.move(k, lon, lat);
        message.textContent = ok ? "" : fmt(T.too_far, { snap: Math.round(payload.max_snap_m) });
        drawService(k);
        refresh(t0);
        return ok;
      },
      reset: function () {
        var t0 = performance.now();
        engine.services.forEach(function (svc, k) {
          if (svc.added && svc.active) { api.removeService(svc.id); } else if (!svc.added && !svc.active && svc.seg >= 0) { engine.restore(k); drawService(k); }
        });
        refresh(t0);
      },
      coverage: function () {
        var out = {};
        for (var c = 0; c < nC; c++) {
          var row = {};
          for (var k = -1; k < cats.length; k++) {
            var w = engine.walk(k, c, false);
            row[k < 0 ? "all" : cats[k]] = w <= limitOf(k) ? w / mpm : null;
          }
          out[ids[c]] = row;
        }
        return out;
      },
      summary: function () {
        var out = { categories: {}, added: 0, removed: 0, compounds_changed: 0, last_change_ms: lastMs,
          max_walk_min: limit / mpm, category_max_walk_min: {} };
        cats.forEach(function (name, k) { out.category_max_walk_min[name] = limitOf(k) / mpm; });
        for (var k = -1; k < cats.length; k++) {
          out.categories[k < 0 ? "all" : cats[k]] = { now: counts(k, false), before: counts(k, true) };
        }
        engine.services.forEach(function (svc) {
          if (svc.added && svc.active) { out.added++; }
          if (!svc.added && !svc.active && svc.seg >= 0) { out.removed++; }
        });
        out.compounds_changed = new Set(changeList().map(function (ch) { return ch.compound_id; })).size;
        return out;
      },
      changes: function () { return changeList().map(function (ch) { delete ch.index; delete ch.row; return ch; }); },
      scenario: function () { return scenarioOf(engine.services, cats); },
      exportScenario: function () { download(scenarioOf(engine.services, cats)); },
      snap: function (lon, lat) { return engine.snapLonLat(lon, lat); },
      project: function (lon, lat) { return engine.tm.forward(lon, lat); },
      unproject: function (x, y) { return engine.tm.inverse(x, y); },
      map: map
    };
    map.on("click", function (e) {
      if (!addOn.checked) { return; }
      try { api.addService(e.latlng.lng, e.latlng.lat, addCat.value); } catch (err) { /* said in the panel */ }
    });
    window.lifecircle = api;
  }
})();
