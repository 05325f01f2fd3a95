"""Offline maps in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), with every
non-file request blocked. Screenshots go to tests/_artifacts/ for review."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from _browser import ARTIFACTS, require_chromium
from _maps_fixtures import XSS_NAME, approx_coverage_table, synthetic_district, with_status

from lifecircle.geo.walk import Walk
from lifecircle.maps import coverage_map, publish_site, save_map
from lifecircle.maps.coverage_map import CLUSTER_MIN

pytestmark = pytest.mark.browser


require_chromium()


class Page:
    """A page with the network blocked that records errors, dialogs and blocked requests."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.errors, self.dialogs, self.blocked = [], [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)

    def _dialog(self, d):
        self.dialogs.append(d.message)
        d.dismiss()

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: Path):
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.LC && window.LC.last && window.LC.last.index.length >= 0")
        return self.page


@pytest.fixture(scope="module")
def offline_map(tmp_path_factory):
    comp, svc = synthetic_district(36, 9, seed=11)
    comp.iloc[4, comp.columns.get_loc("name")] = XSS_NAME
    table = approx_coverage_table(comp, svc, minutes=5, speed_kmh=4.5)
    comp = with_status(comp, table)
    assert comp["status"].nunique() == 4  # every colour shows
    path = tmp_path_factory.mktemp("map") / "map.html"
    m = coverage_map(comp, svc, table, walk=Walk(limit_min=5), data_date="2026-02", title=XSS_NAME)
    save_map(m, path)
    return path, comp, svc, table


def _clear_compound(comp, svc):
    """A compound whose interior point has no service marker within 60 m (so a click hits it)."""
    crs = comp.estimate_utm_crs()
    pts = comp.geometry.to_crs(crs).centroid.to_numpy()
    d = shapely.distance(pts[:, None], svc.geometry.to_crs(crs).to_numpy()[None, :]).min(axis=1)
    ok = np.flatnonzero((d > 60) & (comp["name"] != XSS_NAME).to_numpy())
    assert len(ok)
    return comp.index[ok[0]]


def test_leaflet_loads_from_the_offline_file(browser, offline_map):
    path, _comp, *_ = offline_map
    p = Page(browser)
    page = p.open(path)
    assert page.evaluate("typeof L === 'object' && L.version") == "1.9.3"
    assert p.errors == []
    assert all("tile" in u or "basemaps" in u for u in p.blocked), p.blocked  # only tiles asked the network
    assert page.locator(".leaflet-control-layers").count() == 1
    assert page.locator(".leaflet-control-scale").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "coverage_map_offline.png"))
    page.close()


def test_tooltip_on_a_group_of_groups_raises_no_error(browser, offline_map):
    """Leaflet 1.9.3 threw "t.getElement is not a function" for a tooltip over nested groups (fixed in 1.9.4)."""
    path, *_ = offline_map
    p = Page(browser)
    page = p.open(path)
    thrown = page.evaluate(
        """() => {
          const map = LC.last.map, c = map.getCenter();
          try {
            L.featureGroup([L.layerGroup([L.circleMarker(c)])]).bindTooltip("x").addTo(map).openTooltip(c);
            return null;
          } catch (e) { return String(e); }
        }"""
    )
    assert thrown is None and p.errors == []
    page.close()


def test_every_compound_polygon_renders(browser, offline_map):
    path, comp, svc, _ = offline_map
    page = Page(browser).open(path)
    assert page.locator("path.lc-compound").count() == len(comp)
    assert page.locator("path.lc-service").count() == len(svc)
    for status, n in comp["status"].value_counts().items():
        assert page.locator(f"path.lc-status-{status}").count() == n
    legend = page.locator(".lc-legend").inner_text()
    assert f"小区（{len(comp)} 个）" in legend and "5 分钟" in legend
    for status, n in comp["status"].value_counts().items():
        assert f"({n})" in legend, status
    page.close()


def _screen_point(page, comp, cid):
    """Centre the map on a compound at zoom 18 and return its centroid's point on the screen."""
    pt = comp.geometry.to_crs(4326).loc[cid].centroid
    return page.evaluate(
        "([lat, lon]) => { const m = LC.last.map; m.setView([lat, lon], 18, {animate: false});"
        " const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [pt.y, pt.x],
    )


@pytest.mark.slow
def test_click_opens_popup_with_walking_time(browser, offline_map):
    path, comp, svc, table = offline_map
    cid = _clear_compound(comp, svc)
    page = Page(browser).open(path)
    xy = _screen_point(page, comp, cid)
    page.mouse.click(*xy)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert comp.loc[cid, "name"] in text
    rows = table[table["compound_id"] == cid].set_index("category")
    for cat in ("clinic", "grocery", "kindergarten"):
        assert f"{rows.loc[cat, 'walk_min']:.1f} 分钟" in text, cat
        nearest = svc.loc[rows.loc[cat, "nearest_service_id"], "name"]
        assert nearest in text
    assert f"{comp.loc[cid, 'population']:,}" in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)  # let the popup fade-in finish before the picture
    page.screenshot(path=str(ARTIFACTS / "coverage_map_popup.png"))
    page.close()


def test_xss_name_stays_text(browser, offline_map):
    path, _comp, *_ = offline_map
    p = Page(browser)
    page = p.open(path)
    # title block and page title show the hostile title as text
    assert XSS_NAME in page.locator(".lc-title").inner_text()
    assert page.title() == XSS_NAME
    # search for it: the popup opens and shows the name as text
    box = page.locator(".lc-search input")
    box.fill(XSS_NAME)
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert XSS_NAME in popup.inner_text()
    # hover shows the tooltip, also as text
    page.evaluate("LC.last.map.closePopup()")
    xy = page.evaluate(
        "(name) => { const e = LC.last.index.find(x => x.name === name); const m = LC.last.map;"
        " const p = m.latLngToContainerPoint(e.layer.getBounds().getCenter());"
        " const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }",
        XSS_NAME,
    )
    page.mouse.move(*xy)
    tip = page.locator(".leaflet-tooltip")
    tip.wait_for(timeout=5000)
    assert XSS_NAME in tip.inner_text()
    assert page.locator(".leaflet-container img[src='x']").count() == 0
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert p.dialogs == [] and p.errors == []
    page.close()


def test_search_finds_a_compound_by_partial_name(browser, offline_map):
    path, comp, *_ = offline_map
    name = comp["name"].iloc[7]
    page = Page(browser).open(path)
    box = page.locator(".lc-search input")
    box.fill(name[-3:])
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert name in popup.inner_text()
    box.fill("no such compound")
    box.press("Enter")
    assert page.locator(".lc-search span").inner_text() == "未找到"
    page.close()


def test_many_services_cluster_offline(browser, tmp_path):
    comp, svc = synthetic_district(16, 3 * (CLUSTER_MIN + 10), seed=4)
    table = approx_coverage_table(comp, svc)
    path = save_map(coverage_map(comp, svc, table, walk=Walk(limit_min=10), lang="en"), tmp_path / "cluster.html")
    p = Page(browser)
    page = p.open(path)
    assert p.errors == []
    if page.evaluate("typeof L.markerClusterGroup") == "function":
        assert page.locator(".marker-cluster").count() > 0
        assert page.locator("path.lc-service").count() < len(svc)
    else:  # plugin not installed: plain markers, still working
        assert page.locator("path.lc-service").count() == len(svc)
    page.close()


@pytest.mark.slow
def test_published_site_works_from_file_urls(browser, tmp_path, offline_map):
    _path, comp, svc, table = offline_map
    src = tmp_path / "analysis"
    src.mkdir()
    comp.reset_index().to_file(src / "compounds.gpkg")
    svc.reset_index().to_file(src / "services.gpkg")
    table.to_csv(src / "coverage.csv", index=False)
    (src / "summary.json").write_text('{"max_walk_min": 5, "speed_kmh": 4.5}', encoding="utf-8")
    index = publish_site(src, tmp_path / "site")
    p = Page(browser)
    page = p.page
    page.goto(index.as_uri())
    page.locator("a[href$='map.html']").click()
    page.wait_for_function("window.LC && window.LC.last")
    assert page.locator("path.lc-compound").count() == len(comp)
    assert p.errors == [] and p.dialogs == []
    page.close()
    shutil.rmtree(tmp_path / "site")


# ------------------------------------------------------------------ streets, limits, statuses, symbols (real OSM)
@pytest.fixture(scope="module")
def street_map(tmp_path_factory):
    """The Beijing extract's compounds, services and walking network; one compound unreachable, two branches."""
    from _maps_fixtures import OSM_BEIJING, osm_beijing

    data = osm_beijing()
    if data is None:
        pytest.skip("shared OSM extract beijing_haidian_cau_xueyuanlu.osm.bz2 is absent")
    from lifecircle.geo.network.osm import network_from_osm
    from lifecircle.maps.streets import street_edges

    comp, svc = data
    svc = svc.assign(category=svc["category"].replace({"clinic": "医疗卫生"}))
    table = approx_coverage_table(comp, svc, minutes=10, speed_kmh=4.5)
    comp = with_status(comp, table)
    comp.iloc[0, comp.columns.get_loc("status")] = "unreachable"
    branches = svc.iloc[:2][["name", "geometry"]]
    streets = street_edges(network_from_osm(OSM_BEIJING))
    m = coverage_map(
        comp, svc, table, walk=Walk(limit_min=10, category_limit_min={"医疗卫生": 15}), streets=streets,
        branches=branches,
    )  # fmt: skip
    path = save_map(m, tmp_path_factory.mktemp("streets") / "map.html")
    return path, comp, svc, streets


def test_streets_are_drawn_with_no_network(browser, street_map):
    path, *_ = street_map
    p = Page(browser)
    page = p.open(path)
    assert p.errors == [] and all("tile" in u or "basemaps" in u for u in p.blocked), p.blocked
    page.wait_for_function("LC.last.streetsDone")  # drawn in short slices after the rest
    assert page.evaluate("LC.last.streets.length") > 10  # one line per road class and street name
    painted = page.evaluate(
        """() => { const c = document.querySelector('.leaflet-lc-streets-pane canvas');
                   const r = c.getBoundingClientRect(), v = LC.last.map.getContainer().getBoundingClientRect();
                   const x = Math.max(0, v.left - r.left), y = Math.max(0, v.top - r.top);
                   const d = c.getContext('2d').getImageData(x, y, v.width, v.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
                   return n / (d.length / 4); }"""
    )
    assert painted > 0.02  # a street grid in view, not an empty canvas (the canvas reaches past the view)
    # tiles could not load: the map falls back to "no tiles", streets on a clean ground
    page.wait_for_function("() => !document.querySelector('.leaflet-tile-pane img')", timeout=10000)
    assert page.evaluate("LC.last.map.hasLayer(LC.last.groups.basemaps.blank[0])")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "coverage_map_streets.png"))
    page.close()


def test_street_name_on_hover(browser, street_map):
    path, comp, svc, streets = street_map
    crs = streets.estimate_utm_crs()
    s = streets[streets["name"].notna()].to_crs(crs)
    others = np.concatenate([comp.to_crs(crs).geometry.to_numpy(), svc.to_crs(crs).geometry.to_numpy()])
    mids = s.geometry.interpolate(0.5, normalized=True)
    clear = mids.distance(shapely.union_all(others)) > 40
    row = s[clear & (s.length > 60)].iloc[0]
    lonlat = shapely.get_coordinates(mids.loc[[row.name]].to_crs(4326).to_numpy())[0]
    page = Page(browser).open(path)
    page.wait_for_function("LC.last.streetsDone")
    xy = page.evaluate(
        "([lat, lon]) => { const m = LC.last.map; m.setView([lat, lon], 18, {animate: false});"
        " const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lonlat[1], lonlat[0]],
    )
    page.wait_for_timeout(300)
    page.mouse.move(xy[0] - 3, xy[1] - 3)
    page.mouse.move(*xy)
    tip = page.locator(".lc-street-tip")
    tip.wait_for(timeout=5000)
    assert tip.inner_text() == row["name"]
    page.close()


def test_legend_says_each_category_limit_and_symbols_match_markers(browser, street_map):
    path, _comp, svc, _ = street_map
    page = Page(browser).open(path)
    legend = page.locator(".lc-legend").inner_text()
    n_clinic = int((svc["category"] == "医疗卫生").sum())
    assert f"医疗卫生 15 分钟（{n_clinic}）" in legend
    assert "grocery 10 分钟" in legend and "无法步行到达 (1)" in legend
    assert "分类阈值：医疗卫生 15 分钟" in page.locator(".lc-title").inner_text()
    # unreachable: hatched on the map and in the legend
    assert page.locator("path.lc-status-unreachable").get_attribute("fill") == "url(#lc-hatch)"
    assert page.locator("pattern#lc-hatch").count() == 1
    assert "repeating-linear-gradient" in page.evaluate(
        "getComputedStyle(document.querySelector('[data-status=unreachable] .lc-sw')).backgroundImage"
    )
    # branches: the same rotated square (a diamond) on the map and in the legend
    rotation = (
        "(sel) => { const t = getComputedStyle(document.querySelector(sel)).transform;"
        " const m = t.match(/matrix\\(([^)]*)\\)/); if (!m) return null;"
        " const [a, b] = m[1].split(',').map(Number); return Math.round(Math.atan2(b, a) * 180 / Math.PI); }"
    )
    assert page.evaluate(rotation, ".leaflet-marker-pane .lc-branch-marker .lc-diamond") == 45
    assert page.evaluate(rotation, ".lc-legend .lc-diamond") == 45
    # the legend's service dots have the markers' colours
    marker_fill = page.evaluate("[...document.querySelectorAll('path.lc-service')].map(p => p.getAttribute('fill'))")
    dots = page.evaluate(
        "[...document.querySelectorAll('[data-category] .lc-dot')].map(e => getComputedStyle(e).backgroundColor)"
    )
    assert len(set(marker_fill)) == len(dots)
    page.close()


@pytest.mark.slow
def test_tooltips_hide_while_a_popup_is_open(browser, offline_map):
    path, comp, svc, _ = offline_map
    cid = _clear_compound(comp, svc)
    page = Page(browser).open(path)
    xy = _screen_point(page, comp, cid)
    page.mouse.move(*xy)
    page.locator(".leaflet-tooltip").wait_for(timeout=5000)
    page.mouse.click(*xy)
    page.locator(".leaflet-popup-content").wait_for(timeout=5000)
    page.mouse.move(xy[0] + 5, xy[1] + 40)  # still over the compound, below the popup
    page.wait_for_timeout(200)
    pane_display = "getComputedStyle(document.querySelector('.leaflet-tooltip-pane')).display"
    assert page.evaluate(pane_display) == "none"
    assert f"{comp.loc[cid, 'households']:,}" in page.locator(".leaflet-popup-content").inner_text()
    page.evaluate("LC.last.map.closePopup()")
    page.mouse.move(xy[0] + 2, xy[1] + 2)
    page.mouse.move(*xy)
    assert page.evaluate(pane_display) != "none"
    page.locator(".leaflet-tooltip").wait_for(timeout=5000)
    page.close()


@pytest.mark.slow
def test_many_compounds_draw_on_a_canvas(browser, tmp_path):
    from lifecircle.maps._mapdata import CANVAS_MIN

    comp, svc = synthetic_district(CANVAS_MIN + 100, 30, seed=9, vertices=12)
    table = approx_coverage_table(comp, svc)
    comp = with_status(comp, table)
    comp.iloc[:3, comp.columns.get_loc("status")] = "unreachable"
    p = Page(browser)
    page = p.open(save_map(coverage_map(comp, svc, table, walk=Walk(limit_min=10)), tmp_path / "many.html"))
    assert p.errors == []
    assert page.locator("path.lc-compound").count() == 0 and page.evaluate("LC.last.index.length") == len(comp)
    box = page.locator(".lc-search input")
    box.fill(comp["name"].iloc[0])
    box.press("Enter")
    page.locator(".leaflet-popup-content").wait_for(timeout=5000)
    assert "无法步行到达" in page.locator(".leaflet-popup-content").inner_text()
    page.close()


# --------------------------------------------------------------------------------- the demo, as users run it
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """``lifecircle demo`` with no flags, its terminal output piped (stdout and stderr together)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("demo") / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "lifecircle", "demo", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout
    return out, proc.stdout


@pytest.mark.slow
def test_demo_map_opens_offline_with_streets_and_no_flags(browser, demo_run):
    out, _ = demo_run
    path = out / "map.html"
    assert path.stat().st_size < 3_000_000
    text = path.read_text(encoding="utf-8")
    assert '<script src="http' not in text and 'rel="stylesheet" href="http' not in text
    p = Page(browser)
    page = p.open(path)
    page.wait_for_function("LC.last.streetsDone")
    assert p.errors == [] and p.dialogs == []
    assert all("tile" in u or "basemaps" in u for u in p.blocked), p.blocked
    assert page.evaluate("LC.last.streets.length") > 10 and page.evaluate("LC.last.index.length") > 0
    legend = page.locator(".lc-legend").inner_text()
    assert "分钟（" in legend and "主要道路" in legend  # each category with its limit; the street layer
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo_map_offline.png"))
    page.close()


def test_piped_progress_ends_before_the_summary(demo_run):
    _, output = demo_run
    assert "\r" not in output
    lines = output.splitlines()
    steps = [k for k, line in enumerate(lines) if line.startswith("lifecircle: [")]
    numbers = [re.match(r"lifecircle: \[(\d+)/(\d+)\]", lines[k]).groups() for k in steps]
    total = int(numbers[0][1])
    assert [(int(i), int(n)) for i, n in numbers] == [(i, total) for i in range(1, total + 1)]  # each step once
    assert total >= 4 and all(lines[k].endswith("done") for k in steps)
    summary = next(k for k, line in enumerate(lines) if "个小区" in line or "compounds, threshold" in line)
    assert summary > steps[-1]


@pytest.mark.slow
def test_published_category_maps_draw_the_analysis_streets(browser, demo_run, tmp_path):
    """The analysis folder keeps its street layer (streets.gpkg, in the manifest): publish draws it on every map."""
    import geopandas as gpd

    from lifecircle.folder import STREETS, read_manifest
    from lifecircle.maps.streets import ROAD_CLASSES

    out, _ = demo_run
    streets = gpd.read_file(out / STREETS.name)
    assert set(streets["road_class"]) <= set(ROAD_CLASSES) and streets.crs.equals(4326) and len(streets) > 10
    assert STREETS.name in read_manifest(out).jobs["analyze"]
    page = Page(browser).open(out / "map.html")
    page.wait_for_function("LC.last.streetsDone")
    drawn = page.evaluate("LC.last.streets.length")  # the analysis's own map
    page.close()
    index = publish_site(out, tmp_path / "site")
    maps = sorted(index.parent.glob("*/map-*.html"))
    assert maps
    for path in maps[:2]:
        p = Page(browser)
        page = p.open(path)
        page.wait_for_function("LC.last.streetsDone")
        assert p.errors == [] and all("tile" in u or "basemaps" in u for u in p.blocked), p.blocked
        assert page.evaluate("LC.last.streets.length") == drawn  # the same street layer as the analysis's map
        assert "主要道路" in page.locator(".lc-legend").inner_text()
        page.close()
