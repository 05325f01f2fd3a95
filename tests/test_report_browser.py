"""report.html alone, offline, in a real Chromium (Debian's /usr/bin/chromium via Playwright): the map is inside.

The report is copied alone into an empty folder (as when e-mailed) and opened with every request that is not
a file, data or blob URL blocked. The map was written for the web (Leaflet from a CDN), so the report has to
carry Leaflet itself.
"""

from __future__ import annotations

import shutil

import pytest
from _browser import ARGS, ARTIFACTS, CHROMIUM, require_chromium
from conftest import make_graph, points, squares

from lifecircle.geo.walk import Walk
from lifecircle.maps import coverage_map, save_map
from lifecircle.planning.analysis import analyze
from lifecircle.planning.report import write_report

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="alert(1)">'

sync_api = require_chromium()


@pytest.fixture(scope="module")
def lone_report(tmp_path_factory):
    """A report.html copied alone into an empty folder, from an analysis whose map loads Leaflet from a CDN."""
    from lifecircle.planning.jobs.analyze import write_analysis

    G = make_graph({0: (0, 0), 1: (1000, 0), 2: (2000, 0)}, [(0, 1), (1, 2)])
    compounds = squares(
        [(100, 30), (1900, 30), (1000, 30), (500, 30)],
        ids=["A", "B", "C", "D"],
        half_m=20,
        households=[100, 300, 50, 200],
        街道=["学院路街道", "学院路街道", "清河街道", "清河街道"],
    )
    compounds.loc["C", "name"] = XSS
    services = points([(0, 5), (2000, 5)], ids=["s1", "s2"], category=["幼儿园", "卫生站"])
    analysis = analyze(G, compounds, services, max_walk_min=10)
    out = tmp_path_factory.mktemp("analysis")
    write_analysis(analysis, out, inputs={}, report=False)
    m = coverage_map(analysis.compounds, analysis.services, analysis.coverage.table, walk=Walk(limit_min=10), lang="zh")
    save_map(m, out / "map.html", online=True)
    assert "cdn.jsdelivr.net" in (out / "map.html").read_text(encoding="utf-8")
    html_path, _ = write_report(out, lang="zh")
    alone = tmp_path_factory.mktemp("mail") / "report.html"
    shutil.copy(html_path, alone)
    return alone, analysis


@pytest.mark.slow
def test_report_alone_shows_its_map_offline(lone_report):
    path, analysis = lone_report
    errors, blocked, dialogs = [], [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        def route(r):
            if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.context.route("**/*", route)
        page.goto(path.as_uri(), wait_until="load")  # the frame's map loaded too
        page.locator("#lc-map").scroll_into_view_if_needed()  # the map lies below the first screen
        inner = next(f for f in page.frames if f != page.main_frame)
        assert inner.evaluate("typeof L === 'object' && L.version")  # Leaflet came from the report itself
        drawn = "[...document.querySelectorAll('path.lc-compound')].filter(p => !/^M0 0L0 0/.test(p.getAttribute('d')))"
        inner.wait_for_function(f"window.LC && LC.last && {drawn}.length === {len(analysis.compounds)}", timeout=15000)
        assert inner.locator(".leaflet-container").count() == 1
        assert page.locator("h1").inner_text() == "十分钟生活服务圈评估报告"
        assert page.locator("img[alt]").count() == 2  # both charts
        assert errors == [] and dialogs == []
        assert all("tile" in u or "basemaps" in u or "autonavi" in u for u in blocked), blocked  # tiles at most
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report_alone_offline.png"))
        browser.close()
