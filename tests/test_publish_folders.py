"""publish takes the folders of analyze, site and isochrones (as `lifecircle run` makes them), each with its page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import pytest
import shapely

from lifecircle import folder
from lifecircle.maps.isochrone_map import isochrone_map
from lifecircle.planning.cli import main

STEPS_OSM = Path(__file__).resolve().parent / "input_data" / "steps_flight.osm"
XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> dict:
    """An analysis, a siting plan and isochrones of one compound below a flight of steps and one service above."""
    where = tmp_path_factory.mktemp("three")
    below = shapely.box(116.30095, 39.89985, 116.30105, 39.89993)
    gpd.GeoDataFrame({"id": ["c1"], "name": ["坡下小区"], "households": [120]}, geometry=[below], crs=4326).to_file(
        where / "compounds.geojson"
    )
    gpd.GeoDataFrame(
        {"id": ["s1"], "name": [XSS], "category": ["医疗"]}, geometry=[shapely.Point(116.3010, 39.90278)], crs=4326
    ).to_file(where / "services.geojson")
    common = ["--network", str(STEPS_OSM), "--services", str(where / "services.geojson")]
    compounds = ["--compounds", str(where / "compounds.geojson")]
    out = {"analyze": where / "分析", "site": where / "选址", "isochrones": where / "等时圈"}
    assert main(["-q", "analyze", *common, *compounds, "--minutes", "3", "--out", str(out["analyze"])]) == 0
    assert main(["-q", "site", *common, *compounds, "--minutes", "3", "--add", "1", "--out", str(out["site"])]) == 0
    assert main(["-q", "isochrones", *common, "--minutes", "3,6", "--out", str(out["isochrones"])]) == 0
    return {"where": where, **out}


@pytest.mark.slow
def test_the_three_kinds_are_told_apart(three):
    assert [folder.folder_kind(three[k]) for k in ("analyze", "site", "isochrones")] == [
        "analyze",
        "site",
        "isochrones",
    ]
    assert folder.folder_kind(three["where"]) is None


def test_publish_gives_each_folder_its_page(three, tmp_path):
    site = tmp_path / "site"
    dirs = [three["analyze"], three["site"], three["isochrones"]]
    assert main(["-q", "publish", *map(str, dirs), "--out", str(site), "--lang", "zh"]) == 0
    index = (site / "index.html").read_text(encoding="utf-8")
    for link in re.findall(r'href="([^"#][^"]*)"', index):  # every link resolves, relative only
        assert not link.startswith(("http:", "https:", "/")) and (site / unquote(link)).is_file(), link
    assert "选址方案：选址" in index and "步行等时圈：等时圈" in index
    assert XSS not in index and XSS not in (site / "等时圈" / "map.html").read_text(encoding="utf-8")
    for name in ("sites.csv", "siting.json", "before_after.csv"):
        assert (site / "选址" / "data" / name).read_bytes() == (three["site"] / name).read_bytes()
    assert (site / "等时圈" / "data" / "isochrones.gpkg").is_file()
    assert '<script src="http' not in (site / "选址" / "map.html").read_text(encoding="utf-8")


def test_an_isochrone_folder_without_its_map_gets_one_drawn(three, tmp_path):
    import shutil

    old = tmp_path / "old-iso"
    shutil.copytree(three["isochrones"], old)
    (old / "map.html").unlink()
    manifest = json.loads((old / folder.MANIFEST).read_text(encoding="utf-8"))
    del manifest["jobs"]["isochrones"]["map.html"]
    (old / folder.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert main(["-q", "publish", str(old), "--out", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "old-iso" / "map.html").read_text(encoding="utf-8")
    assert "医疗" in page or json.dumps("医疗")[1:-1] in page


def test_a_link_in_a_site_folder_is_not_published(three, tmp_path):
    import shutil

    plan = tmp_path / "plan"
    shutil.copytree(three["site"], plan)
    secret = tmp_path / "secret.csv"
    secret.write_text("password")
    (plan / "before_after.csv").unlink()
    (plan / "before_after.csv").symlink_to(secret)
    assert main(["-q", "publish", str(plan), "--out", str(tmp_path / "site")]) == 0
    assert not [p for p in (tmp_path / "site").rglob("*") if p.is_file() and b"password" in p.read_bytes()]


def test_isochrone_map_escapes_names():
    served = gpd.GeoDataFrame(
        {"category": [XSS], "break_min": [5.0]}, geometry=[shapely.box(116.3, 39.9, 116.31, 39.91)], crs=4326
    )
    page = isochrone_map(served, lang="en").get_root().render()
    assert XSS not in page and "&lt;img src=x" in page.replace("\\u0026", "&")


@pytest.mark.slow
@pytest.mark.browser
def test_isochrone_map_and_site_open_offline_in_chromium(three, tmp_path):
    """The isochrone folder's map and the published site open in Chromium with every non-file request blocked:
    no page error, no dialog, Leaflet drawn, one layer per category and break."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    site = tmp_path / "site"
    assert main(["-q", "publish", str(three["analyze"]), str(three["isochrones"]), "--out", str(site)]) == 0
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
        try:
            for path in (three["isochrones"] / "map.html", site / "index.html", site / "等时圈" / "map.html"):
                page = browser.new_page()
                errors, dialogs = [], []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.on("dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message), d.dismiss()))
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                assert errors == [] and dialogs == [], (path, errors, dialogs)
                if path.name == "map.html":
                    assert page.locator(".leaflet-container").count() == 1
                    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
                    assert sum("医疗" in text for text in overlays) == 3, overlays  # 3 and 6 min, and the services
                page.close()
        finally:
            browser.close()
