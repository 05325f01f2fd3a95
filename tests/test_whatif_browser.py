"""whatif.html in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), every non-file request
blocked: the page answers as ``lifecircle analyze`` does, before and after services are added, moved and removed,
on the Chinese demo and on a Chinese OSM extract; clicks, drags, downloads, projection and escaping."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pyproj
import pytest
from _browser import ARTIFACTS, require_chromium
from conftest import points, shared_file, squares

from lifecircle.geo.inputs.layers import read_services
from lifecircle.planning.cli import main
from lifecircle.planning.whatif_job import run_whatif

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="alert(1)">{{7*7}}</script>'

sync_api = require_chromium()


class Page:
    """A what-if page with the network blocked, recording errors, dialogs and blocked requests."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1200, "height": 800}, accept_downloads=True)
        self.errors, self.dialogs, self.blocked = [], [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.lifecircle !== undefined", timeout=60_000)

    def _dialog(self, d):
        self.dialogs.append(d.message)
        d.dismiss()

    def _route(self, route):
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def close(self):
        assert self.errors == [] and self.dialogs == [] and self.blocked == []
        self.page.close()


def assert_same_as_cli(page_coverage: dict, folder: Path) -> int:
    """Every compound and category: the page's covered flag and walk equal coverage.csv's (walk within 0.01 min)."""
    table = pd.read_csv(folder / "coverage.csv", encoding="utf-8-sig", dtype={"compound_id": str, "category": str})
    assert len(table) == sum(len(row) for row in page_coverage.values())
    for row in table.itertuples():
        minutes = page_coverage[row.compound_id][row.category]
        if row.covered:
            assert minutes is not None, (row.compound_id, row.category)
            assert abs(minutes - row.walk_min) <= 0.01, (row.compound_id, row.category, minutes, row.walk_min)
        else:
            assert minutes is None, (row.compound_id, row.category, minutes)
    return int(table["covered"].sum())


def rerun_scenario(page: Page, *, network: Path, compounds: Path, out: Path) -> Path:
    """The page's exported scenario through ``lifecircle analyze`` (GeoJSON), its CSV checked to read the same."""
    scenario = page.js("lifecircle.scenario()")
    out.mkdir(parents=True, exist_ok=True)
    geojson, csv = out / "scenario_services.geojson", out / "scenario_services.csv"
    geojson.write_text(json.dumps(scenario["geojson"]), encoding="utf-8")
    csv.write_text(scenario["csv"], encoding="utf-8")
    from_geojson, from_csv = read_services(geojson), read_services(csv)
    assert list(from_csv.index) == list(from_geojson.index)
    assert (from_csv["category"] == from_geojson["category"]).all()
    assert np.allclose(from_csv.geometry.x, from_geojson.geometry.x, atol=1e-12)
    folder = out / "analysis"
    argv = ["-q", "analyze", "--network", str(network), "--compounds", str(compounds), "--services", str(geojson)]
    assert main([*argv, "--out", str(folder)]) == 0
    return folder


def play_scenario(page: Page, compounds_path: Path) -> dict:
    """Add a service of each category at an uncovered compound, remove the busiest existing one, move one."""
    compounds = gpd.read_file(compounds_path).to_crs(4326)
    points = compounds.geometry.representative_point()
    coverage = page.js("lifecircle.coverage()")
    ids = list(coverage)
    categories = [c for c in next(iter(coverage.values())) if c != "all"]
    added = []
    for k, category in enumerate(categories):
        uncovered = [i for i, cid in enumerate(ids) if coverage[cid][category] is None]
        pick = uncovered[len(uncovered) // 2] if uncovered else k % len(ids)
        added.append(
            page.js(
                "([x, y, c]) => lifecircle.addService(x, y, c)", [points.iloc[pick].x, points.iloc[pick].y, category]
            )
        )
    existing = page.js("lifecircle.scenario().geojson.features.filter(f => f.properties.scenario === 'existing')")
    removed = existing[len(existing) // 3]["properties"]["service_id"]
    page.js("(id) => lifecircle.removeService(id)", removed)
    target = points.iloc[len(points) // 2]
    assert page.js("([id, x, y]) => lifecircle.moveService(id, x, y)", [added[0], target.x + 0.0004, target.y])
    summary = page.js("lifecircle.summary()")
    assert summary["added"] == len(categories) and summary["removed"] == 1
    return summary


# ---------------------------------------------------------------- the Chinese demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from lifecircle.data.demo import xueyuan_inputs

    files = xueyuan_inputs()
    folder = tmp_path_factory.mktemp("demo") / "out"
    assert main(["-q", "demo", "--out", str(folder)]) == 0
    run_whatif(folder, network=files.network)
    return {"folder": folder, "network": Path(files.network), "compounds": Path(files.compounds)}


@pytest.mark.slow
def test_demo_page_opens_offline_in_chinese_and_starts_as_the_analysis(browser, demo):
    page = Page(browser, demo["folder"] / "whatif.html")
    assert page.page.locator("html").get_attribute("lang") == "zh-CN"
    assert "导出方案" in page.page.inner_text(".lc-wi-panel")
    covered = assert_same_as_cli(page.js("lifecircle.coverage()"), demo["folder"])
    assert covered > 0
    summary = page.js("lifecircle.summary()")
    csv_all = pd.read_csv(demo["folder"] / "coverage.csv", encoding="utf-8-sig").query("category == 'all'")
    assert summary["categories"]["all"]["now"]["compounds_covered"] == int(csv_all["covered"].sum())
    analysis = json.loads((demo["folder"] / "summary.json").read_text(encoding="utf-8"))
    for category, counts in analysis["categories"].items():
        now = summary["categories"][category]["now"]
        assert now["households_covered"] == counts["households_covered"]
        assert now["compounds_share"] == pytest.approx(counts["compounds_share"], abs=1e-4)
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "whatif_demo.png"))
    page.close()


@pytest.mark.slow
def test_demo_scenario_answers_as_the_cli(browser, demo, tmp_path):
    page = Page(browser, demo["folder"] / "whatif.html")
    summary = play_scenario(page, demo["compounds"])
    assert summary["compounds_changed"] > 0
    # and one service dropped by a real click (the category chosen in the panel)
    page.page.select_option("#lc-wi-add-cat", index=1)
    centre = page.js(
        "(() => { const m = lifecircle.map; const p = m.latLngToContainerPoint(m.getCenter()); return [p.x, p.y]; })()"
    )
    page.page.mouse.click(*centre)
    assert page.js("lifecircle.summary().added") == summary["added"] + 1
    folder = rerun_scenario(page, network=demo["network"], compounds=demo["compounds"], out=tmp_path)
    assert_same_as_cli(page.js("lifecircle.coverage()"), folder)
    page.close()
    # the scenario's CSV is what `lifecircle site` plans from
    site = ["-q", "site", "--network", str(demo["network"]), "--compounds", str(demo["compounds"])]
    site += ["--services", str(tmp_path / "scenario_services.csv"), "--add", "1", "--out", str(tmp_path / "site")]
    assert main(site) == 0
    assert (tmp_path / "site" / "sites.csv").is_file()


def test_click_adds_a_snapped_service_and_a_far_click_is_refused(browser, demo):
    page = Page(browser, demo["folder"] / "whatif.html")
    on_street = page.js(
        """() => { const m = lifecircle.map, c = m.getCenter(), s = lifecircle.snap(c.lng, c.lat);
                   const p = m.latLngToContainerPoint([c.lat, c.lng]);
                   return {x: p.x, y: p.y, snapped: s !== null}; }"""
    )
    assert on_street["snapped"]
    page.page.mouse.click(on_street["x"], on_street["y"])
    assert page.js("lifecircle.summary().added") == 1
    assert page.page.inner_text("#lc-wi-message") == ""
    far = page.js(
        """() => { const m = lifecircle.map; m.setZoom(m.getZoom() - 4, {animate: false});
                   const ll = m.containerPointToLatLng([30, 780]);
                   return {far: lifecircle.snap(ll.lng, ll.lat) === null}; }"""
    )
    assert far["far"]
    page.page.mouse.click(30, 780)
    assert page.js("lifecircle.summary().added") == 1
    assert "300" in page.page.inner_text("#lc-wi-message")
    with pytest.raises(sync_api.Error, match="300"):
        page.js(
            "() => { const b = lifecircle.map.getBounds(); "
            "return lifecircle.addService(b.getWest(), b.getSouth(), null); }"
        )
    page.close()


def test_hover_names_a_compound_and_a_click_disables_a_service(browser, demo):
    page = Page(browser, demo["folder"] / "whatif.html")
    compounds = gpd.read_file(demo["folder"] / "compounds.gpkg").to_crs(4326)
    inside = compounds.geometry.representative_point().iloc[0]
    to_pixel = "([x, y]) => { const p = lifecircle.map.latLngToContainerPoint([y, x]); return [p.x, p.y]; }"
    page.page.mouse.move(*page.js(to_pixel, [inside.x, inside.y]))
    assert page.page.inner_text(".leaflet-tooltip") == compounds["name"].iloc[0]
    feature = page.js("lifecircle.scenario().geojson.features[0]")
    spot = page.js(to_pixel, feature["geometry"]["coordinates"])
    gone = {"state": "detached"}  # a closed popup fades out for 200 ms before it leaves the page
    page.page.mouse.click(*spot)
    page.page.click(".lc-wi-popup button")
    page.page.wait_for_selector(".lc-wi-popup", **gone)
    assert page.js("lifecircle.summary().removed") == 1
    changes = page.js("lifecircle.scenario().changes_csv").lstrip("\ufeff").splitlines()
    assert changes[1].startswith(feature["properties"]["service_id"] + ",") and ",removed," in changes[1]
    page.page.mouse.click(*spot)
    assert page.page.inner_text(".lc-wi-popup button") == "恢复"
    page.page.click(".lc-wi-popup button")
    page.page.wait_for_selector(".lc-wi-popup", **gone)
    assert page.js("lifecircle.summary().removed") == 0
    assert page.js("lifecircle.summary().added") == 0  # a click on a service never drops another one there
    # with adding off, a click on a compound shows its walks (before and now, every category)
    page.page.uncheck("#lc-wi-add-on")
    page.page.mouse.click(*page.js(to_pixel, [inside.x, inside.y]))
    popup = page.page.inner_text(".lc-wi-popup")
    assert compounds["name"].iloc[0] in popup and "原有" in popup
    assert page.js("lifecircle.summary().added") == 0
    page.close()


def test_drag_moves_a_service_and_its_coverage(browser, demo):
    page = Page(browser, demo["folder"] / "whatif.html")
    centre = page.js("(() => { const c = lifecircle.map.getCenter(); return [c.lng, c.lat]; })()")
    sid = page.js(
        "([x, y]) => lifecircle.addService(x, y, lifecircle.scenario().geojson.features[0].properties.category)", centre
    )
    box = page.page.locator(".lc-wi-new").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.page.mouse.move(x, y)
    page.page.mouse.down()
    page.page.mouse.move(x + 60, y + 40, steps=8)
    page.page.mouse.up()
    moved = page.js("(id) => lifecircle.scenario().geojson.features.find(f => f.properties.service_id === id)", sid)
    assert moved["geometry"]["coordinates"] != centre
    after = page.js("lifecircle.coverage()")
    # the same move made through the hook on a fresh page answers the same
    fresh = Page(page.page.context.browser, demo["folder"] / "whatif.html")
    lon, lat = moved["geometry"]["coordinates"]
    fresh.js("([x, y, c]) => lifecircle.addService(x, y, c)", [lon, lat, moved["properties"]["category"]])
    assert fresh.js("lifecircle.coverage()") == after
    fresh.close()
    # a move beyond the snap limit is refused: the service stays, and so does every walk
    far = [lon + 0.05, lat + 0.05]
    assert page.js("([id, x, y]) => lifecircle.moveService(id, x, y)", [sid, *far]) is False
    assert "300" in page.page.inner_text("#lc-wi-message")
    assert page.js("lifecircle.coverage()") == after
    # "undo all" returns to the analysis
    page.js("lifecircle.removeService(lifecircle.scenario().geojson.features[1].properties.service_id)")
    page.page.click("#lc-wi-reset")
    summary = page.js("lifecircle.summary()")
    assert summary["added"] == 0 and summary["removed"] == 0 and summary["compounds_changed"] == 0
    assert_same_as_cli(page.js("lifecircle.coverage()"), demo["folder"])
    page.close()


def test_export_button_downloads_the_scenario(browser, demo):
    page = Page(browser, demo["folder"] / "whatif.html")
    centre = page.js("(() => { const c = lifecircle.map.getCenter(); return [c.lng, c.lat]; })()")
    category = page.js("lifecircle.scenario().geojson.features[0].properties.category")
    page.js("([x, y, c]) => lifecircle.addService(x, y, c)", [*centre, category])
    downloads = []
    page.page.on("download", lambda d: downloads.append(d))
    page.page.click("#lc-wi-export")
    page.page.wait_for_timeout(100)
    for _ in range(50):
        if len(downloads) == 3:
            break
        page.page.wait_for_timeout(100)
    files = {d.suggested_filename: Path(d.path()).read_text(encoding="utf-8") for d in downloads}
    assert set(files) == {"scenario_services.geojson", "scenario_services.csv", "scenario_changes.csv"}
    scenario = page.js("lifecircle.scenario()")
    assert json.loads(files["scenario_services.geojson"]) == scenario["geojson"]
    assert files["scenario_changes.csv"].lstrip("\ufeff").splitlines()[1].startswith("new-1,,")
    page.close()


def test_a_browser_without_decompression_says_so(browser, demo):
    page = browser.new_page()
    page.add_init_script("delete window.DecompressionStream;")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((demo["folder"] / "whatif.html").as_uri())
    assert "Chrome" in page.inner_text(".lc-wi-loading") and errors == []
    assert page.evaluate("window.lifecircle === undefined")
    page.close()


def test_projection_is_pyproj_to_the_millimetre(browser, demo):
    page = Page(browser, demo["folder"] / "whatif.html")
    crs = pyproj.CRS.from_user_input(json.loads((demo["folder"] / "summary.json").read_text())["parameters"]["crs"])
    zone = crs.coordinate_operation.params[1].value  # central meridian
    rng = np.random.default_rng(3)
    lon = zone + rng.uniform(-3.5, 3.5, 200)
    lat = rng.uniform(-60, 70, 200)
    xy = np.array(
        page.js("(pts) => pts.map(([x, y]) => lifecircle.project(x, y))", np.column_stack([lon, lat]).tolist())
    )
    expect = np.column_stack(pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat))
    assert np.abs(xy - expect).max() < 1e-3
    back = np.array(page.js("(pts) => pts.map(([x, y]) => lifecircle.unproject(x, y))", expect.tolist()))
    assert np.abs(back - np.column_stack([lon, lat])).max() < 1e-9
    page.close()


def test_user_text_never_runs(browser, demo, tmp_path):
    folder = tmp_path / "xss"
    shutil.copytree(demo["folder"], folder)
    for layer, name in (("compounds.gpkg", "compounds"), ("services.gpkg", "services")):
        frame = gpd.read_file(folder / layer)
        frame.loc[0, "name"] = XSS
        frame.to_file(folder / layer, layer=name)
    (folder / "whatif.html").unlink()
    run_whatif(folder, network=demo["network"])
    html = (folder / "whatif.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "{{7*7}}" not in html
    page = Page(browser, folder / "whatif.html")
    page.js("() => { lifecircle.map.eachLayer(l => { if (l.getTooltip && l.getTooltip()) { l.openTooltip(); } }); }")
    assert XSS in page.page.inner_text("body")
    assert page.page.locator("img[src=x]").count() == 0
    page.close()


# ------------------------------------------------------- another Chinese OSM extract, through analyze --what-if


@pytest.fixture(scope="module")
def nanjing(tmp_path_factory):
    osm = shared_file("osm/nanjing_xinjiekou.osm.bz2")
    folder = tmp_path_factory.mktemp("nanjing_whatif")
    features = ox.features_from_xml(osm, tags={"landuse": "residential", "amenity": True, "shop": True})
    polygonal = features.geom_type.isin(["Polygon", "MultiPolygon"])
    homes = features[polygonal & (features.get("landuse") == "residential")].reset_index()
    compounds = gpd.GeoDataFrame(
        {"id": [f"c{i}" for i in range(len(homes))], "名称": homes["name"].fillna("无名小区"), "户数": 100},
        geometry=homes.geometry.to_numpy(),
        crs=4326,
    )
    compounds.to_file(folder / "compounds.gpkg")
    pts = features[features.geom_type == "Point"].reset_index()
    services = gpd.GeoDataFrame(
        {
            "id": [f"s{i}" for i in range(len(pts))],
            "名称": pts["name"].fillna("").to_numpy(),
            "类别": np.where(pts["amenity"].notna(), "公共服务", "商业"),
        },
        geometry=pts.geometry.to_numpy(),
        crs=4326,
    )
    services.to_file(folder / "services.gpkg")
    out = folder / "out"
    argv = ["-q", "analyze", "--network", str(osm), "--compounds", str(folder / "compounds.gpkg")]
    assert main([*argv, "--services", str(folder / "services.gpkg"), "--out", str(out), "--what-if"]) == 0
    return {"folder": out, "network": osm, "compounds": folder / "compounds.gpkg"}


@pytest.mark.slow
def test_chinese_extract_scenario_answers_as_the_cli(browser, nanjing, tmp_path):
    page = Page(browser, nanjing["folder"] / "whatif.html")
    assert page.page.locator("html").get_attribute("lang") == "zh-CN"
    assert_same_as_cli(page.js("lifecircle.coverage()"), nanjing["folder"])
    play_scenario(page, nanjing["compounds"])
    # and a spread of services added anywhere near the streets
    homes = gpd.read_file(nanjing["compounds"]).to_crs(4326).geometry.representative_point()
    rng = np.random.default_rng(5)
    added = 0
    for k in rng.choice(len(homes), 20):
        lon, lat = homes.iloc[k].x + rng.uniform(-0.003, 0.003), homes.iloc[k].y + rng.uniform(-0.003, 0.003)
        if page.js("([x, y]) => lifecircle.snap(x, y) !== null", [lon, lat]):
            page.js("([x, y]) => lifecircle.addService(x, y, '公共服务')", [lon, lat])
            added += 1
    assert added >= 10
    folder = rerun_scenario(page, network=nanjing["network"], compounds=nanjing["compounds"], out=tmp_path)
    assert_same_as_cli(page.js("lifecircle.coverage()"), folder)
    page.close()


STUDY = """[study]
name = "新街口"
network = "{network}"
[compounds]
path = "{compounds}"
[services]
path = "{services}"
category_column = "{category}"
[walk]
minutes = 8
[walking]
steps_factor = 3
[thresholds]
"商业" = 4
[output]
dir = "{out}"
served_area = false
"""


@pytest.mark.slow
def test_own_category_limits_and_priced_steps_answer_as_the_cli(browser, nanjing, tmp_path):
    folder = nanjing["compounds"].parent
    study = tmp_path / "study.toml"
    study.write_text(
        STUDY.format(
            network=nanjing["network"],
            compounds=nanjing["compounds"],
            services=folder / "services.gpkg",
            category="类别",
            out=tmp_path / "out",
        ),
        encoding="utf-8",
    )
    assert main(["-q", "analyze", "--study", str(study), "--what-if"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["walking"]["steps_factor"] == 3  # the page's network prices steps as the analysis did
    page = Page(browser, tmp_path / "out" / "whatif.html")
    limits = page.js("lifecircle.summary().category_max_walk_min")
    assert limits["商业"] == pytest.approx(4) and limits["公共服务"] == pytest.approx(8)
    assert_same_as_cli(page.js("lifecircle.coverage()"), tmp_path / "out")
    play_scenario(page, nanjing["compounds"])
    scenario = tmp_path / "scenario.geojson"
    scenario.write_text(json.dumps(page.js("lifecircle.scenario().geojson")), encoding="utf-8")
    rerun = tmp_path / "rerun.toml"
    rerun.write_text(
        STUDY.format(
            network=nanjing["network"],
            compounds=nanjing["compounds"],
            services=scenario,
            category="category",
            out=tmp_path / "rerun",
        ),
        encoding="utf-8",
    )
    assert main(["-q", "analyze", "--study", str(rerun)]) == 0
    assert_same_as_cli(page.js("lifecircle.coverage()"), tmp_path / "rerun")
    page.close()


def test_one_way_streets_loops_and_islands_answer_as_python(browser, tmp_path):
    """The page's search on an odd network (a one-way link, costs differing by direction, a loop on a junction, an
    island ring, points off the network) against lifecircle's Python coverage, itself checked against networkx."""
    from test_chains import _odd_network

    from lifecircle.geo.reach.coverage import compound_origins, coverage
    from lifecircle.geo.walk import Walk
    from lifecircle.maps.whatif import render_whatif
    from lifecircle.maps.whatif_data import WhatIfScene

    net = _odd_network()
    rng = np.random.default_rng(4)
    box = ([-40, -80], [1140, 180])
    compounds = squares([tuple(p) for p in rng.uniform(*box, (60, 2))], ids=[f"c{i}" for i in range(60)], half_m=5)
    services = points(rng.uniform(*box, (8, 2)).tolist(), ids=[f"s{i}" for i in range(8)], category=["a", "b"] * 4)
    origins = compound_origins(net, compounds, max_snap_m=60)
    scene = WhatIfScene(net, origins, compounds, services, walk=Walk(limit_dist_m=400.0), max_snap_m=60.0)
    html, _ = render_whatif(scene, lang="en")
    (tmp_path / "whatif.html").write_text(html, encoding="utf-8")
    page = Page(browser, tmp_path / "whatif.html")
    to_lonlat = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    added = []
    for k, (x, y) in enumerate(rng.uniform(*box, (40, 2))):
        lon, lat = to_lonlat.transform(x, y)
        if page.js("([x, y]) => lifecircle.snap(x, y) !== null", [lon, lat]):
            page.js("([x, y, c]) => lifecircle.addService(x, y, c)", [lon, lat, "ab"[k % 2]])
            added.append((x, y, "ab"[k % 2]))
    page.js("lifecircle.removeService('s1')")
    assert len(added) >= 10
    everything = pd.concat(
        [
            services.drop(index="s1"),
            points([a[:2] for a in added], ids=[f"n{i}" for i in range(len(added))], category=[a[2] for a in added]),
        ]
    )
    expected = coverage(net, compounds, everything, max_walk_min=400 / 75, max_snap_m=60, origins=origins).table
    got = page.js("lifecircle.coverage()")
    for row in expected.itertuples():
        minutes = got[str(row.compound_id)][row.category]
        assert (minutes is not None) == bool(row.covered), row
        if row.covered:
            assert minutes == pytest.approx(row.walk_min, abs=1e-6)
    assert expected["covered"].sum() > 20 and (expected["reach"] == "off_network").any()
    page.close()
