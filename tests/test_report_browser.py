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
        assert page.locator("img[alt]:not(.lc-print-map)").count() == 2  # both charts (the map's still is for print)
        assert errors == [] and dialogs == []
        assert all("tile" in u or "basemaps" in u or "autonavi" in u for u in blocked), blocked  # tiles at most
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report_alone_offline.png"))
        browser.close()


@pytest.mark.slow
def test_report_map_frame_is_isolated_and_the_map_prints(lone_report, tmp_path):
    """The map frame runs scripts with no access to the report (no allow-same-origin), and printing to PDF in
    Chromium puts the map on paper: the still picture print shows in place of the frame."""
    import re

    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    from lifecircle.maps._style import STATUS_COLORS

    path, _ = lone_report
    text = path.read_text(encoding="utf-8")
    sandbox = re.findall(r'<iframe id="lc-map"[^>]*sandbox="([^"]*)"', text)
    assert sandbox and "allow-scripts" in sandbox[0].split() and "allow-same-origin" not in sandbox[0]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.context.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:", "about:")) else r.abort(),
        )
        page.goto(path.as_uri(), wait_until="load")
        page.locator("#lc-map").scroll_into_view_if_needed()  # a frame off screen is laid out once seen
        inner = next(f for f in page.frames if f != page.main_frame)
        fitted = "window.LC && LC.last && LC.last.map.getZoom() > 10"  # fitted to the data, not left at zoom 0
        inner.wait_for_function(fitted, timeout=15000)
        reach = "(() => { try { return parent.document.title, 'reached'; } catch (e) { return 'refused'; } })()"
        assert inner.evaluate(reach) == "refused"  # the frame cannot touch the report
        pdf = page.pdf(format="A4", print_background=True)
        browser.close()
    doc = pdfium.PdfDocument(pdf)
    pictures = []
    for page_no in range(len(doc)):
        for obj in doc[page_no].get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]):
            width_px, _ = obj.get_px_size()
            if width_px >= 1000:  # the map picture (the charts are narrower)
                pictures.append((page_no, obj.get_bounds()))
    assert len(pictures) == 1, pictures
    page_no, (left, bottom, right, top) = pictures[0]
    image = doc[page_no].render(scale=2).to_pil().convert("RGB")
    scale = image.width / doc[page_no].get_width()
    box = (left * scale, image.height - top * scale, right * scale, image.height - bottom * scale)
    pixels = np.asarray(image.crop(tuple(int(v) for v in box))).reshape(-1, 3).astype(int)
    green = np.array(Image.new("RGB", (1, 1), STATUS_COLORS["covered"]).getpixel((0, 0)))
    blend = 0.6 * green + 0.4 * np.array([246, 245, 241])  # compounds at 60 % on the map's ground
    assert (np.abs(pixels - blend).sum(axis=1) < 40).mean() > 0.001  # covered compounds on paper
    ground = np.abs(pixels - np.array([246, 245, 241])).sum(axis=1) < 30
    assert 0.5 < ground.mean() < 0.999  # a picture on the map's ground, not an empty one
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "report_printed_map_page.png")
