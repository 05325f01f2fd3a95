"""What is under the mouse on the map's canvases (``quickCanvas``'s hit grid) in a real headless Chromium, network
blocked: the same path as Leaflet 1.9.3's full scan at every point, popups and tooltips of the right feature, none on
an empty spot or after a drag, and paths added or removed since the last redraw hit (or missed) at once."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _browser import require_chromium
from _maps_fixtures import approx_coverage_table, synthetic_district, with_status

from lifecircle.geo.walk import Walk
from lifecircle.maps import coverage_map, save_map
from lifecircle.maps._mapdata import CANVAS_MIN

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()

# Leaflet 1.9.3's own hit test (L.Canvas.prototype._onClick) against quickCanvas's, at a grid of points over the view
PARITY_JS = """([pane, step]) => {
  const map = LC.last.map, size = map.getSize(), box = map.getContainer().getBoundingClientRect();
  let r = null;
  map.eachLayer(l => { if (l instanceof L.Canvas && l.options.pane === pane) { r = l; } });
  let got, hits = 0, bad = 0, n = 0;
  const fire = r._fireEvent;
  r._fireEvent = layers => { got = layers ? layers[0] : null; };
  try {
    for (let x = 1; x < size.x; x += step) {
      for (let y = 1; y < size.y; y += step) {
        for (const type of ["mousedown", "click"]) {
          const ev = new MouseEvent(type, { clientX: box.left + x, clientY: box.top + y });
          L.Canvas.prototype._onClick.call(r, ev);
          const want = got;
          r._onClick(ev);
          n++;
          if (got !== want) { bad++; }
          if (want) { hits++; }
        }
      }
    }
  } finally { r._fireEvent = fire; }
  return { n, hits, bad, paths: Object.keys(r._layers).length };
}"""

VIEW_JS = """([lat, lon, zoom]) => { const m = LC.last.map; m.setView([lat, lon], zoom, {animate: false});
  const p = m.latLngToContainerPoint([lat, lon]), r = m.getContainer().getBoundingClientRect();
  return [p.x + r.left, p.y + r.top]; }"""


class Page:
    """A page with every non-file request aborted, recording page errors."""

    def __init__(self, browser, path):
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.errors = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
        )  # fmt: skip
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.LC && window.LC.last && LC.last.streetsDone !== false")

    def centre_on(self, lonlat, zoom=18):
        """Centre the map on (lon, lat) at zoom; the point's position on the screen."""
        xy = self.page.evaluate(VIEW_JS, [lonlat[1], lonlat[0], zoom])
        self.page.wait_for_timeout(300)
        return xy

    def popup_text(self):
        popup = self.page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        return popup.inner_text()

    def close_popup(self):
        self.page.evaluate("void LC.last.map.closePopup()")
        self.page.wait_for_timeout(300)
        assert self.page.locator(".leaflet-popup").count() == 0


@pytest.fixture(scope="module")
def canvas_map(tmp_path_factory):
    """More compounds than CANVAS_MIN (drawn on a quickCanvas), services as SVG circle markers."""
    comp, svc = synthetic_district(CANVAS_MIN + 100, 60, seed=21, vertices=12)
    table = approx_coverage_table(comp, svc)
    comp = with_status(comp, table)
    path = save_map(coverage_map(comp, svc, table, walk=Walk(limit_min=10)), tmp_path_factory.mktemp("hits") / "m.html")
    return path, comp, svc


def _lonlat(geoms):
    return shapely.get_coordinates(geoms.to_crs(4326).to_numpy())


def _clear_compound(comp, svc):
    """A compound whose interior point is over 60 m from every service (a click there hits the compound)."""
    pts = comp.geometry.representative_point()
    d = shapely.distance(pts.to_numpy()[:, None], svc.geometry.to_numpy()[None, :]).min(axis=1)
    k = int(np.flatnonzero(d > 60)[0])
    return comp.index[k], _lonlat(pts.iloc[[k]])[0]


def _empty_spot(comp, svc):
    """A point inside the district over 25 m from every compound and over 40 m from every service."""
    lo = np.array(comp.total_bounds[:2]) + 200
    for dx in np.arange(0, 1000, 10.0):
        p = shapely.Point(lo[0] + dx, lo[1] + dx / 2)
        if comp.distance(p).min() > 25 and svc.distance(p).min() > 40:
            return _lonlat(gpd.GeoSeries([p], crs=comp.crs))[0]
    raise AssertionError("no empty spot found")


def test_canvas_hits_match_leaflets_scan(browser, canvas_map):
    path, comp, _svc = canvas_map
    p = Page(browser, path)
    for zoom in (15, 17):
        p.page.evaluate(f"void LC.last.map.setZoom({zoom}, {{animate: false}})")
        p.page.wait_for_timeout(300)
        r = p.page.evaluate(PARITY_JS, ["overlayPane", 11])
        assert r["paths"] == len(comp)
        assert r["hits"] > 0.05 * r["n"], r  # the grid of points falls on compounds, not only between them
        assert r["bad"] == 0, r
    assert p.errors == []
    p.page.close()


def test_clicks_open_the_popup_of_what_is_under_the_mouse(browser, canvas_map):
    path, comp, svc = canvas_map
    p = Page(browser, path)
    cid, lonlat = _clear_compound(comp, svc)
    p.page.mouse.click(*p.centre_on(lonlat))
    assert comp.loc[cid, "name"] in p.popup_text()
    p.close_popup()
    p.page.mouse.click(*p.centre_on(_lonlat(svc.geometry.iloc[[7]])[0]))  # an SVG circle marker above the canvas
    assert svc["name"].iloc[7] in p.popup_text()
    p.close_popup()
    p.page.mouse.click(*p.centre_on(_empty_spot(comp, svc)))
    p.page.wait_for_timeout(500)
    assert p.page.locator(".leaflet-popup").count() == 0
    assert p.errors == []
    p.page.close()


def test_a_drag_ending_on_a_compound_opens_no_popup(browser, canvas_map):
    path, comp, svc = canvas_map
    p = Page(browser, path)
    _cid, lonlat = _clear_compound(comp, svc)
    x, y = p.centre_on(lonlat)
    p.page.mouse.move(x - 120, y)
    p.page.mouse.down()
    for k in range(1, 13):
        p.page.mouse.move(x - 120 + 10 * k, y)
        p.page.wait_for_timeout(20)
    p.page.mouse.up()  # over the compound (the map moved by 120 px under the mouse)
    p.page.wait_for_timeout(500)
    assert p.page.locator(".leaflet-popup").count() == 0
    p.page.close()


def test_hover_shows_the_compounds_tooltip(browser, canvas_map):
    path, comp, svc = canvas_map
    p = Page(browser, path)
    cid, lonlat = _clear_compound(comp, svc)
    x, y = p.centre_on(lonlat)
    p.page.mouse.move(x - 4, y - 4)
    p.page.mouse.move(x, y)
    tip = p.page.locator(".leaflet-tooltip")
    tip.wait_for(timeout=5000)
    assert tip.inner_text().startswith(comp.loc[cid, "name"] + " · ")
    assert p.page.evaluate(
        "document.querySelector('.leaflet-overlay-pane canvas').classList.contains('leaflet-interactive')"
    )
    p.page.mouse.move(*p.centre_on(_empty_spot(comp, svc)))
    p.page.wait_for_timeout(400)
    assert p.page.locator(".leaflet-tooltip").count() == 0  # mouseout closed it
    p.page.close()


# a path added (or removed) after the last redraw: a click before the next frame finds (or misses) it at once
ADDED_JS = """([x, y]) => {
  const map = LC.last.map, target = document.elementFromPoint(x, y);
  let canvas = null;
  map.eachLayer(l => { if (l instanceof L.Canvas && l.options.pane === "overlayPane") { canvas = l; } });
  const click = () => target.dispatchEvent(new MouseEvent("click", { clientX: x, clientY: y, bubbles: true }));
  const under = map.containerPointToLatLng(map.mouseEventToContainerPoint({ clientX: x, clientY: y }));
  const d = 0.0003, added = L.polygon([[under.lat - d, under.lng - d], [under.lat - d, under.lng + d],
                                       [under.lat + d, under.lng + d], [under.lat + d, under.lng - d]],
                                      { renderer: canvas }).bindPopup("added").addTo(map);
  const frame = canvas._redrawRequest;
  click();
  const first = [added.isPopupOpen(), Boolean(frame) && frame === canvas._redrawRequest];
  map.closePopup();
  const old = [];
  map.eachLayer(l => { if (l._renderer === canvas && l._containsPoint && l !== added && l._containsPoint(
    map.mouseEventToLayerPoint({ clientX: x, clientY: y }))) { old.push(l); } });
  old.forEach(l => l.remove());
  added.remove();
  click();
  return { first, removed: old.length, open: Boolean(map._popup && map.hasLayer(map._popup)) };
}"""


def test_paths_added_or_removed_since_the_last_redraw_are_hit_at_once(browser, canvas_map):
    """Fails if the grid kept its cells when a path came or went (the cell under the mouse was filled just before)."""
    path, comp, svc = canvas_map
    p = Page(browser, path)
    cid, lonlat = _clear_compound(comp, svc)
    x, y = p.centre_on(lonlat)
    p.page.mouse.click(x, y)  # fills the grid cell under the mouse
    assert comp.loc[cid, "name"] in p.popup_text()
    p.close_popup()
    r = p.page.evaluate(ADDED_JS, [x, y])
    assert r["first"] == [True, True]  # the added square's popup, before the frame that draws it
    assert r["removed"] == 1  # the compound under the mouse, removed with the square
    assert r["open"] is False  # then nothing there: no popup
    assert p.errors == []
    p.page.close()


@pytest.fixture(scope="module")
def street_map(tmp_path_factory):
    """The Beijing extract's walking network as the street layer (its own quickCanvas), few compounds (SVG)."""
    from _maps_fixtures import OSM_BEIJING, osm_beijing

    data = osm_beijing()
    if data is None:
        pytest.skip("shared OSM extract beijing_haidian_cau_xueyuanlu.osm.bz2 is absent")
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.maps.streets import street_edges

    comp, svc = data
    table = approx_coverage_table(comp, svc)
    comp = with_status(comp, table)
    streets = street_edges(network_from_osm(OSM_BEIJING))
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=10), streets=streets)
    return save_map(m, tmp_path_factory.mktemp("hits_streets") / "map.html")


def test_street_hits_match_leaflets_scan(browser, street_map):
    p = Page(browser, street_map)
    for zoom in (15, 18):
        p.page.evaluate(f"void LC.last.map.setZoom({zoom}, {{animate: false}})")
        p.page.wait_for_timeout(300)
        r = p.page.evaluate(PARITY_JS, ["lc-streets", 9])
        assert r["hits"] >= 50, r  # named streets (thin lines) under some of the points
        assert r["bad"] == 0, r
    assert p.errors == []
    p.page.close()


@pytest.fixture(scope="module")
def layered_map(tmp_path_factory):
    """Compounds on a canvas over the Beijing extract's streets on a canvas of their own (the Phoenix case)."""
    from _maps_fixtures import OSM_BEIJING

    if not OSM_BEIJING.is_file():
        pytest.skip("shared OSM extract beijing_haidian_cau_xueyuanlu.osm.bz2 is absent")
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.maps.streets import street_edges

    comp, svc = synthetic_district(CANVAS_MIN + 100, 60, seed=21, vertices=12)  # over the extract's north-west
    table = approx_coverage_table(comp, svc)
    comp = with_status(comp, table)
    streets = street_edges(network_from_osm(OSM_BEIJING))
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=10), streets=streets)
    return save_map(m, tmp_path_factory.mktemp("hits_layered") / "map.html"), comp, svc, streets


def test_street_names_show_through_the_compounds_canvas(browser, layered_map):
    """The compounds' canvas takes the mouse over the whole map: what misses its paths goes to the street canvas."""
    path, comp, svc, streets = layered_map
    crs = comp.crs
    s = streets[streets["name"].notna()].to_crs(crs)
    mids = s.geometry.interpolate(0.5, normalized=True)
    others = shapely.union_all(np.concatenate([comp.geometry.to_numpy(), svc.geometry.to_numpy()]))
    row = s[(mids.distance(others) > 40).to_numpy() & (s.length > 60).to_numpy()].iloc[0]
    p = Page(browser, path)
    x, y = p.centre_on(_lonlat(mids.loc[[row.name]])[0])
    assert p.page.evaluate(f"document.elementFromPoint({x}, {y}).parentNode.classList.contains('leaflet-overlay-pane')")
    p.page.mouse.move(x - 3, y - 3)
    p.page.mouse.move(x, y)
    tip = p.page.locator(".lc-street-tip")
    tip.wait_for(timeout=5000)
    assert tip.inner_text() == row["name"]
    p.page.mouse.click(x, y)  # a street has no popup: nothing opens, nothing breaks
    p.page.wait_for_timeout(400)
    assert p.page.locator(".leaflet-popup").count() == 0
    cid, lonlat = _clear_compound(comp, svc)
    x, y = p.centre_on(lonlat)
    p.page.mouse.move(x - 3, y - 3)
    p.page.mouse.move(x, y)
    p.page.locator(".leaflet-tooltip:not(.lc-street-tip)").wait_for(timeout=5000)
    p.page.locator(".lc-street-tip").wait_for(state="detached", timeout=2000)  # closed on the compound (a fade)
    assert p.page.locator(".leaflet-tooltip").inner_text().startswith(comp.loc[cid, "name"])
    assert p.errors == []
    p.page.close()
