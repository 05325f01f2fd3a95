"""Runtime JavaScript of the map's canvas renderer (part of :data:`lifecircle.maps._assets.RUNTIME_JS`).

Leaflet's canvas renderer redraws every path at the end of every pan: on a city-wide map (tens of thousands of street
points, thousands of compounds) that is a frame gap of 150–550 ms each time the mouse lets go. ``quickCanvas``
keeps Leaflet's drawing and hit-testing but

- draws a wider margin around the view (``padding`` 0.3; Leaflet's default is 0.1) and does not redraw after a
  pan that stays inside what is already drawn;
- when it must redraw, re-clips only the paths that were cut by the old edge or are cut by the new one (a path wholly
  inside both keeps its projected, simplified points);
- draws runs of consecutive lines of one style as one canvas path (one ``stroke`` for a road class, not one per
  street);
- finds what is under the mouse in a grid of 128 px cells (in layer pixels) rather than by testing every path: a
  cell lists, in draw order, the interactive paths whose hit box (``_pxBounds``, which Leaflet pads by the click
  tolerance; a circle's centre ± radius + tolerance) reaches into it, filled by one pass over the paths the first
  time the mouse is in it; later clicks and hovers there test only its few paths. Every cell is dropped when a path
  is added, removed, moved, restyled or reordered (``_initPath``, ``_removePath``, ``_requestRedraw``) and when the
  paths are re-projected (``_reset``, ``_onZoomEnd``); a pan's redraw only re-clips paths, which leaves hit boxes as
  they were. Leaflet 1.9.3's semantics are kept: the topmost (last drawn) path wins, a click ending a drag goes to
  no path, hovering is throttled to 32 ms with mouseover/mouseout and the ``leaflet-interactive`` cursor class;
- passes a click or hover that misses all its paths to the ``quickCanvas`` right beneath it (by pane z-index): a
  canvas takes the mouse over its whole area, so with thousands of compounds on a canvas the street canvas under it
  would otherwise never show a street name (an SVG layer lets a miss through the same way).
"""

from __future__ import annotations

__all__ = ["CANVAS_JS"]

CANVAS_JS = r"""
  function lineKey(layer) {  // lines (no fill) of one look share one canvas path; anything else draws alone
    var o = layer.options;
    if (o.fill || !o.stroke || o._dashArray || !layer._parts || layer instanceof L.Polygon ||
        layer._radius !== undefined) { return null; }
    return o.color + "|" + o.weight + "|" + o.opacity + "|" + o.lineCap + "|" + o.lineJoin;
  }

  function inside(outer, b) {
    return b.min.x >= outer.min.x && b.min.y >= outer.min.y && b.max.x <= outer.max.x && b.max.y <= outer.max.y;
  }

  var HIT_CELL = 128;  // px: a cell of the hit-test grid

  function reaches(layer, x0, y0, x1, y1) {  // may _containsPoint accept a point of this box?
    var p = layer._point, b = layer._pxBounds;
    if (p && layer._radius !== undefined) {  // circles: within radius + tolerance of the centre
      var r = layer._radius + layer._clickTolerance();
      return p.x + r >= x0 && p.x - r <= x1 && p.y + r >= y0 && p.y - r <= y1;
    }
    if (!b) { return true; }  // no bounds to go by (lines and polygons test their padded _pxBounds first)
    return b.max.x >= x0 && b.min.x <= x1 && b.max.y >= y0 && b.min.y <= y1;
  }

  var leafletCanvas = L.Canvas.prototype;

  var QuickCanvas = L.Canvas.extend({
    options: { padding: 0.3 },

    // ---- the hit-test grid: cells filled when first pointed at, all dropped when a path or the projection changes
    _initPath: function (layer) { this._lcCells = null; leafletCanvas._initPath.call(this, layer); },
    _removePath: function (layer) { this._lcCells = null; leafletCanvas._removePath.call(this, layer); },
    _requestRedraw: function (layer) { this._lcCells = null; leafletCanvas._requestRedraw.call(this, layer); },

    _lcCell: function (point) {  // the interactive paths that may hold point, bottom to top
      var i = Math.floor(point.x / HIT_CELL), j = Math.floor(point.y / HIT_CELL), key = i + ":" + j;
      var cells = this._lcCells || (this._lcCells = {}), cell = cells[key];
      if (cell) { return cell; }
      var x0 = i * HIT_CELL, y0 = j * HIT_CELL, x1 = x0 + HIT_CELL, y1 = y0 + HIT_CELL;
      cell = cells[key] = [];
      for (var order = this._drawFirst; order; order = order.next) {
        var layer = order.layer;
        if (layer.options.interactive && reaches(layer, x0, y0, x1, y1)) { cell.push(layer); }
      }
      return cell;
    },

    _lcHitAt: function (point, accept) {  // the topmost interactive path holding point that accept() takes
      var cell = this._lcCell(point);
      for (var k = cell.length - 1; k >= 0; k--) {  // top down: the first hit is the last one Leaflet's scan keeps
        var layer = cell[k];
        if (layer.options.interactive && layer._containsPoint(point) && accept(layer)) { return layer; }
      }
      return undefined;
    },

    // ---- a canvas takes every mouse event over its whole area: what misses its paths goes to the quickCanvas
    // beneath (the street canvas under the compounds'), as a miss on an SVG layer reaches what lies below
    onAdd: function () {
      (this._map._lcCanvases = this._map._lcCanvases || []).push(this);
      leafletCanvas.onAdd.call(this);
    },

    onRemove: function () {
      var all = this._map._lcCanvases || [], k = all.indexOf(this);
      if (k >= 0) { all.splice(k, 1); }
      leafletCanvas.onRemove.call(this);
    },

    _lcZ: function () {  // the stacking order of the canvas's pane (read once)
      if (this._lcZIndex === undefined) { this._lcZIndex = Number(getComputedStyle(this.getPane()).zIndex) || 0; }
      return this._lcZIndex;
    },

    _lcBelow: function () {  // the quickCanvas of this map right beneath this one, if any
      var all = (this._map && this._map._lcCanvases) || [], z = this._lcZ(), best = null;
      for (var k = 0; k < all.length; k++) {
        var c = all[k];
        if (c !== this && c._lcZ() < z && (!best || c._lcZ() > best._lcZ())) { best = c; }
      }
      return best;
    },

    _onClick: function (e) {  // Leaflet 1.9.3's, through the grid
      var map = this._map, afterDrag = e.type === "click" || e.type === "preclick", below;
      var layer = this._lcHitAt(map.mouseEventToLayerPoint(e), function (l) {
        return !afterDrag || !map._draggableMoved(l);
      });
      if (!layer && (below = this._lcBelow())) {
        below._onClick(e);
        return;
      }
      this._fireEvent(layer ? [layer] : false, e);
    },

    _handleMouseHover: function (e, point) {  // Leaflet 1.9.3's, through the grid
      if (this._mouseHoverThrottled) { return; }
      this._lcHover(e, point);
      this._mouseHoverThrottled = true;
      setTimeout(L.Util.bind(function () { this._mouseHoverThrottled = false; }, this), 32);
    },

    _lcHover: function (e, point) {  // Leaflet's hover step, unthrottled; a miss goes to the canvas beneath
      var layer = this._lcHitAt(point, function () { return true; }), below = this._lcBelow();
      if (layer !== this._hoveredLayer) {
        leafletCanvas._handleMouseOut.call(this, e);
        if (layer) {
          L.DomUtil.addClass(this._container, "leaflet-interactive");  // change cursor
          this._fireEvent([layer], e, "mouseover");
          this._hoveredLayer = layer;
        }
      }
      if (!layer && below) {
        below._lcHover(e, point);
        L.DomUtil[below._hoveredLayer ? "addClass" : "removeClass"](this._container, "leaflet-interactive");
        return;
      }
      if (below) { below._handleMouseOut(e); }
      this._fireEvent(this._hoveredLayer ? [this._hoveredLayer] : false, e);
    },

    _handleMouseOut: function (e) {  // the mouse left the canvas: out of its path and of the one beneath
      var below = this._lcBelow();
      leafletCanvas._handleMouseOut.call(this, e);
      if (below && below._hoveredLayer) {
        L.DomUtil.removeClass(this._container, "leaflet-interactive");
        below._handleMouseOut(e);
      }
    },

    _update: function () {
      var map = this._map;
      if (this._bounds && !this._lcStale && this._zoom === map.getZoom() && !map._animatingZoom) {
        var size = map.getSize();
        var view = L.bounds(map.containerPointToLayerPoint([0, 0]), map.containerPointToLayerPoint(size));
        if (inside(this._bounds, view)) { return; }  // the view is still within what is drawn
      }
      this._lcStale = false;
      leafletCanvas._update.call(this);
    },

    _reset: function () {  // new pixel origin: every drawn point moved
      this._lcStale = true;
      this._lcEpoch = (this._lcEpoch || 0) + 1;
      this._lcCells = null;  // every path re-projected
      leafletCanvas._reset.call(this);
    },

    _onZoomEnd: function () {
      this._lcEpoch = (this._lcEpoch || 0) + 1;
      this._lcCells = null;  // every path re-projected
      leafletCanvas._onZoomEnd.call(this);
    },

    _updatePaths: function () {
      if (this._postponeUpdatePaths) { return; }
      var epoch = this._lcEpoch || 0, bounds = this._bounds;
      this._redrawBounds = null;
      for (var id in this._layers) {
        var layer = this._layers[id], px = layer._pxBounds;
        if (layer._lcWhole === epoch && px && inside(bounds, px)) { continue; }  // unclipped then and now
        layer._update();
        layer._lcWhole = px && inside(bounds, px) ? epoch : -1;
      }
      this._redraw();
    },

    _draw: function () {
      var bounds = this._redrawBounds, ctx = this._ctx, key = null, first = null;
      ctx.save();
      if (bounds) {
        var size = bounds.getSize();
        ctx.beginPath();
        ctx.rect(bounds.min.x, bounds.min.y, size.x, size.y);
        ctx.clip();
      }
      var self = this;
      function flush() {
        if (first) { self._fillStroke(ctx, first); }
        first = null;
        key = null;
      }
      this._drawing = true;
      for (var order = this._drawFirst; order; order = order.next) {
        var layer = order.layer;
        if (bounds && !(layer._pxBounds && layer._pxBounds.intersects(bounds))) { continue; }
        var k = lineKey(layer);
        if (k === null) {
          flush();
          layer._updatePath();
          continue;
        }
        if (k !== key) {
          flush();
          ctx.beginPath();
          key = k;
          first = layer;
        }
        var parts = layer._parts;
        for (var i = 0; i < parts.length; i++) {
          var ring = parts[i];
          for (var j = 0; j < ring.length; j++) { ctx[j ? "lineTo" : "moveTo"](ring[j].x, ring[j].y); }
        }
      }
      flush();
      this._drawing = false;
      ctx.restore();
    }
  });

  function quickCanvas(options) { return new QuickCanvas(options); }
"""
