"""Runtime JavaScript of the map's canvas renderer (part of :data:`lifecircle.maps._assets.RUNTIME_JS`).

Leaflet's canvas renderer redraws every path at the end of every pan: on a city-wide map (tens of thousands of street
points, thousands of compounds) that is a frame gap of 150–550 ms each time the mouse lets go. ``quickCanvas``
keeps Leaflet's drawing and hit-testing but

- draws a wider margin around the view (``padding`` 0.3; Leaflet's default is 0.1) and does not redraw after a
  pan that stays inside what is already drawn;
- when it must redraw, re-clips only the paths that were cut by the old edge or are cut by the new one (a path wholly
  inside both keeps its projected, simplified points);
- draws runs of consecutive lines of one style as one canvas path (one ``stroke`` for a road class, not one per
  street).
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

  var QuickCanvas = L.Canvas.extend({
    options: { padding: 0.3 },

    _update: function () {
      var map = this._map;
      if (this._bounds && !this._lcStale && this._zoom === map.getZoom() && !map._animatingZoom) {
        var size = map.getSize();
        var view = L.bounds(map.containerPointToLayerPoint([0, 0]), map.containerPointToLayerPoint(size));
        if (inside(this._bounds, view)) { return; }  // the view is still within what is drawn
      }
      this._lcStale = false;
      L.Canvas.prototype._update.call(this);
    },

    _reset: function () {  // new pixel origin: every drawn point moved
      this._lcStale = true;
      this._lcEpoch = (this._lcEpoch || 0) + 1;
      L.Canvas.prototype._reset.call(this);
    },

    _onZoomEnd: function () {
      this._lcEpoch = (this._lcEpoch || 0) + 1;
      L.Canvas.prototype._onZoomEnd.call(this);
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
